package admin

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/console/ui"
	"github.com/hotlinedesk/hotline/tickets"
)

// dayCell is one day of the year view; Day 0 is a blank before the first of a month.
type dayCell struct {
	Day   int
	Date  string // YYYY-MM-DD
	Class string // "weekend", "holiday", "workday" (a make-up day), plus " today"
	Name  string // the holiday's or make-up day's name
}

type monthView struct {
	Month int
	Name  string
	Weeks [][]dayCell // Monday first, as Chinese calendars are
}

// dayForm is the form that sets one day.
type dayForm struct {
	Day, Kind, Name string
}

type calendarData struct {
	adminPage
	Year, Prev, Next int
	Missing          bool // the viewed year has no holiday data
	NextMissing      int  // the following year, when it has none and this is the current year
	Days             []dayRow
	Months           []monthView
	Form             dayForm
	Zone             string
	Kinds            []tickets.DayKind
	Weekdays         []string // Monday first
}

// dayRow is a stored exception with its weekday, for the list.
type dayRow struct {
	*tickets.CalendarDay
	Weekday string
}

// adminCalendar serves GET /admin/calendar?year=2026[&day=2026-10-01]: the year's
// holidays and make-up working days, a month-by-month view, and the form that sets a day
// (filled in for ?day=).
func (h *Handler) adminCalendar(ctx *fiber.Ctx, a *tickets.Agent) error {
	loc := h.svc.Calendar().Location()
	year := h.kit.Now().In(loc).Year()
	if v := ctx.Query("year"); v != "" {
		y, err := strconv.Atoi(v)
		if err != nil || !calendarYear(y) {
			return badInput(ctx, a, "admin.cal.bad_year")
		}
		year = y
	}
	var form dayForm
	if day := ctx.Query("day"); day != "" {
		if t, err := time.ParseInLocation(time.DateOnly, day, loc); err == nil && calendarYear(t.Year()) {
			form.Day, year = day, t.Year()
		}
	}
	return h.showCalendar(ctx, a, nil, year, form)
}

func (h *Handler) showCalendar(ctx *fiber.Ctx, a *tickets.Agent, r *refused, year int, form dayForm) error {
	cal := h.svc.Calendar()
	loc := cal.Location()
	d := calendarData{adminPage: newAdminPage("calendar"), Year: year, Prev: year - 1, Next: year + 1, Zone: loc.String(),
		Kinds: []tickets.DayKind{tickets.DayHoliday, tickets.DayWorkday, tickets.DayNormal}}
	status := r.set(&d.adminPage)
	lang := ui.Lang(ctx, a)
	d.Weekdays = strings.Fields(ui.T(lang, "admin.cal.weekdays"))
	days, err := h.deadlines.CalendarDays(ctx.UserContext(), year)
	if err != nil {
		return err
	}
	jan1 := time.Date(year, 1, 1, 12, 0, 0, 0, loc)
	d.Missing = len(cal.MissingYears(jan1, jan1)) > 0
	now := h.kit.Now().In(loc)
	if now.Year() == year {
		next := jan1.AddDate(1, 0, 0)
		if len(cal.MissingYears(next, next)) > 0 {
			d.NextMissing = year + 1
		}
	}
	byDay := map[string]*tickets.CalendarDay{}
	for _, day := range days {
		byDay[day.Day] = day
		if t, err := time.ParseInLocation(time.DateOnly, day.Day, loc); err == nil {
			row := dayRow{CalendarDay: day}
			if wd := (int(t.Weekday()) + 6) % 7; wd < len(d.Weekdays) {
				row.Weekday = d.Weekdays[wd]
			}
			d.Days = append(d.Days, row)
		}
	}
	// The form: a day picked from the view shows what it is now and suggests the change
	// an admin most likely wants: a weekday off, or a weekend worked.
	if form.Day != "" && form.Kind == "" {
		if stored, ok := byDay[form.Day]; ok {
			form.Kind, form.Name = string(stored.Kind), stored.Name
		} else if t, err := time.ParseInLocation(time.DateOnly, form.Day, loc); err == nil {
			form.Kind = string(tickets.DayHoliday)
			if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
				form.Kind = string(tickets.DayWorkday)
			}
		}
	}
	d.Form = form
	today := now.Format(time.DateOnly)
	for m := time.January; m <= time.December; m++ {
		mv := monthView{Month: int(m), Name: ui.T(lang, "admin.cal.month", int(m))}
		if lang == "en" {
			mv.Name = m.String()
		}
		first := time.Date(year, m, 1, 12, 0, 0, 0, loc)
		week := make([]dayCell, (int(first.Weekday())+6)%7) // blanks before the 1st, Monday first
		for t := first; t.Month() == m; t = t.AddDate(0, 0, 1) {
			date := t.Format(time.DateOnly)
			cell := dayCell{Day: t.Day(), Date: date}
			if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
				cell.Class = "weekend"
			}
			if stored, ok := byDay[date]; ok {
				cell.Name = stored.Name
				switch stored.Kind {
				case tickets.DayHoliday:
					cell.Class = "holiday"
				case tickets.DayWorkday:
					cell.Class = "workday"
				}
			}
			if date == today {
				cell.Class = strings.TrimSpace(cell.Class + " today")
			}
			week = append(week, cell)
			if len(week) == 7 {
				mv.Weeks = append(mv.Weeks, week)
				week = nil
			}
		}
		if len(week) > 0 {
			for len(week) < 7 {
				week = append(week, dayCell{})
			}
			mv.Weeks = append(mv.Weeks, week)
		}
		d.Months = append(d.Months, mv)
	}
	v := h.adminView(ctx, a, "admin.calendar", d)
	v.Title = strconv.Itoa(year) + " · " + v.T("admin.calendar") + " · " + v.T("nav.admin")
	return h.kit.RenderStatus(ctx, status, "admin_calendar", v)
}

// setCalendarDay serves POST /admin/calendar (day, kind, name).
func (h *Handler) setCalendarDay(ctx *fiber.Ctx, a *tickets.Agent) error {
	form := dayForm{Day: strings.TrimSpace(ctx.FormValue("day")), Kind: ctx.FormValue("kind"), Name: strings.TrimSpace(ctx.FormValue("name"))}
	loc := h.svc.Calendar().Location()
	year := h.kit.Now().In(loc).Year()
	if t, err := time.ParseInLocation(time.DateOnly, form.Day, loc); err == nil && calendarYear(t.Year()) {
		year = t.Year()
	}
	if _, err := h.deadlines.SetCalendarDay(ctx.UserContext(), tickets.AgentActor(a), form.Day, tickets.DayKind(form.Kind), form.Name); err != nil {
		if r, ok := refusal("day", err); ok {
			return h.showCalendar(ctx, a, r, year, form)
		}
		return err
	}
	lang := ui.Lang(ctx, a)
	return ui.Redirect(ctx, "/admin/calendar?year="+strconv.Itoa(year),
		ui.T(lang, "admin.cal.saved", form.Day, ui.T(lang, "admin.cal.kind."+form.Kind)))
}

// calendarYear reports whether the calendar keeps year y.
func calendarYear(y int) bool { return y >= 2000 && y <= 2100 }
