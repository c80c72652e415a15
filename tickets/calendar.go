package tickets

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // the calendar's zone must load on machines without a zoneinfo database

	"github.com/uptrace/bun"
)

// DayKind overrides the weekday rule for one date.
type DayKind string

const (
	DayHoliday DayKind = "holiday" // off, though a weekday (statutory holiday)
	DayWorkday DayKind = "workday" // worked, though a weekend (调休 make-up day)
	DayNormal  DayKind = "normal"  // an admin's correction: the weekday rule applies
)

// CalendarDay is a stored exception to the weekday rule.
type CalendarDay struct {
	bun.BaseModel `bun:"table:calendar_days"`

	Day       string    `bun:",pk"` // YYYY-MM-DD in the calendar's time zone
	Kind      DayKind   `bun:",notnull"`
	Name      string    `bun:",notnull"`
	Source    string    `bun:",notnull"` // "seed" (statutory schedule) or "admin"
	UpdatedAt time.Time `bun:",notnull"`
}

// Calendar knows which days are worked: Monday to Friday, except statutory holidays, plus
// make-up working days; and the working hours of a working day.
type Calendar struct {
	loc        *time.Location
	open, shut time.Duration // working hours, as times of day on the wall clock
	log        *slog.Logger

	mu     sync.RWMutex
	days   map[string]DayKind
	years  map[int]bool // years with holiday data
	warned map[int]bool
	loaded time.Time
}

// NewCalendar makes a calendar in loc with working hours [open, shut), given as times of
// day on the local wall clock (9*time.Hour is 09:00, also on a day of 23 or 25 hours).
func NewCalendar(loc *time.Location, open, shut time.Duration, log *slog.Logger) *Calendar {
	if log == nil {
		log = slog.Default()
	}
	return &Calendar{loc: loc, open: open, shut: shut, log: log, days: map[string]DayKind{}, years: map[int]bool{}, warned: map[int]bool{}}
}

// Location is the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

func (c *Calendar) set(days []*CalendarDay) {
	m, years := make(map[string]DayKind, len(days)), map[int]bool{}
	for _, d := range days {
		m[d.Day] = d.Kind
		var y int
		fmt.Sscanf(d.Day, "%d", &y)
		years[y] = true
	}
	c.mu.Lock()
	c.days, c.years, c.loaded = m, years, time.Now()
	c.mu.Unlock()
}

// dayStart is local midnight of t's day.
func (c *Calendar) dayStart(t time.Time) time.Time {
	return c.at(t, 0)
}

// at is the wall-clock time tod (hours, minutes and seconds after 00:00) on t's local day.
// It is built with time.Date, not added to midnight: on a daylight-saving day the hours
// since midnight and the time on the clock differ by the hour the clocks moved.
func (c *Calendar) at(t time.Time, tod time.Duration) time.Time {
	y, m, d := t.In(c.loc).Date()
	return time.Date(y, m, d, int(tod/time.Hour), int(tod%time.Hour/time.Minute), int(tod%time.Minute/time.Second), int(tod%time.Second), c.loc)
}

// timeOfDay is t's local wall-clock time as a duration after 00:00.
func (c *Calendar) timeOfDay(t time.Time) time.Duration {
	h, m, sec := t.In(c.loc).Clock()
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec)*time.Second + time.Duration(t.Nanosecond())
}

// NightEnd says whether now falls in the nightly window [start, end) of wall-clock times
// (across midnight when start > end; equal means none), and if so when the window ends.
func (c *Calendar) NightEnd(now time.Time, start, end time.Duration) (time.Time, bool) {
	if start == end {
		return time.Time{}, false
	}
	tod := c.timeOfDay(now)
	var in bool
	if start < end {
		in = tod >= start && tod < end
	} else {
		in = tod >= start || tod < end
	}
	if !in {
		return time.Time{}, false
	}
	until := c.at(now, end)
	if !until.After(now) {
		until = c.at(c.dayStart(now).AddDate(0, 0, 1), end)
	}
	return until, true
}

// IsWorkingDay reports whether the local day containing t is worked.
func (c *Calendar) IsWorkingDay(t time.Time) bool {
	day := c.dayStart(t)
	c.mu.RLock()
	kind, ok := c.days[day.Format(time.DateOnly)]
	known := c.years[day.Year()]
	c.mu.RUnlock()
	if !known {
		c.warnMissing(day.Year())
	}
	if ok && kind != DayNormal {
		return kind == DayWorkday
	}
	wd := day.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

func (c *Calendar) warnMissing(year int) {
	c.mu.Lock()
	first := !c.warned[year]
	c.warned[year] = true
	c.mu.Unlock()
	if first {
		c.log.Warn("NO HOLIDAY DATA for this year: deadlines count weekends only until an admin adds its holidays and make-up days", "year", year)
	}
}

// MissingYears lists the years between from and to that have no holiday data.
func (c *Calendar) MissingYears(from, to time.Time) []int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []int
	for y := from.In(c.loc).Year(); y <= to.In(c.loc).Year(); y++ {
		if !c.years[y] {
			out = append(out, y)
		}
	}
	return out
}

// EndOfDay is the last second of t's local day, the time a deadline "by the end of the
// day" falls due (a complaint's tenth working day, a follow-up call's day).
func (c *Calendar) EndOfDay(t time.Time) time.Time {
	return c.dayStart(t).AddDate(0, 0, 1).Add(-time.Second)
}

// AddWorkingDays is the end of the n-th working day after the day of from: the day itself
// is not counted, as for a complaint received that day.
func (c *Calendar) AddWorkingDays(from time.Time, n int) time.Time {
	day := c.dayStart(from)
	for n > 0 {
		day = day.AddDate(0, 0, 1)
		if c.IsWorkingDay(day) {
			n--
		}
	}
	return c.EndOfDay(day)
}

// WorkingDaysBefore is the end of the working day n working days before the day of t.
func (c *Calendar) WorkingDaysBefore(t time.Time, n int) time.Time {
	day := c.dayStart(t)
	for n > 0 {
		day = day.AddDate(0, 0, -1)
		if c.IsWorkingDay(day) {
			n--
		}
	}
	return c.EndOfDay(day)
}

// AddWorkingTime moves d of working time forward from from, counting only working hours of
// working days.
func (c *Calendar) AddWorkingTime(from time.Time, d time.Duration) time.Time {
	t := from.In(c.loc)
	for guard := 0; guard < 3660; guard++ { // ten years of days
		day := c.dayStart(t)
		if c.IsWorkingDay(day) {
			open, shut := c.at(day, c.open), c.at(day, c.shut)
			if t.Before(open) {
				t = open
			}
			if t.Before(shut) {
				if left := shut.Sub(t); d <= left {
					return t.Add(d)
				} else {
					d -= left
				}
			}
		}
		t = day.AddDate(0, 0, 1)
	}
	return t
}

// WorkingTimeBetween is how much working time passes from a to b.
func (c *Calendar) WorkingTimeBetween(a, b time.Time) time.Duration {
	var total time.Duration
	for day := c.dayStart(a); day.Before(b); day = day.AddDate(0, 0, 1) {
		if !c.IsWorkingDay(day) {
			continue
		}
		open, shut := c.at(day, c.open), c.at(day, c.shut)
		if a.After(open) {
			open = a
		}
		if b.Before(shut) {
			shut = b
		}
		if shut.After(open) {
			total += shut.Sub(open)
		}
	}
	return total
}

// maxCalendarDays bounds the day-by-day walks below: ten years.
const maxCalendarDays = 3660

// WorkingDaysLeft counts the working days from now to a deadline on the calendar, the way
// an officer says it: the working days after today up to and including the deadline's
// day, so 0 on the day a complaint falls due. Once the deadline's day is over it is the
// negative count of working days since then: -1 on the first working day after it.
// Statutory holidays do not count and make-up working days do.
func (c *Calendar) WorkingDaysLeft(now, deadline time.Time) int {
	today, last := c.dayStart(now), c.dayStart(deadline)
	sign, from, to := 1, today, last
	if today.After(last) {
		sign, from, to = -1, last, today
	}
	n := 0
	for day, guard := from.AddDate(0, 0, 1), 0; !day.After(to) && guard < maxCalendarDays; day, guard = day.AddDate(0, 0, 1), guard+1 {
		if c.IsWorkingDay(day) {
			n++
		}
	}
	return sign * n
}

// EndOfWorkingDay is the last second of a date written like 2026-12-18 in the calendar's
// zone, the moment a deadline set to that day falls, as AddWorkingDays gives it. A date
// that is not a working day is refused: a deadline falls on a working day.
func (c *Calendar) EndOfWorkingDay(date string) (time.Time, error) {
	day, err := time.ParseInLocation(time.DateOnly, strings.TrimSpace(date), c.loc)
	if err != nil {
		return time.Time{}, invalidf("%q is not a date like 2026-12-18", date)
	}
	if !c.IsWorkingDay(day) {
		return time.Time{}, invalidf("%s is not a working day (weekend or public holiday); choose a working day", day.Format(time.DateOnly))
	}
	return c.EndOfDay(day), nil
}

// LoadCalendar reads the stored days into the calendar.
func (s *Service) LoadCalendar(ctx context.Context) error {
	var days []*CalendarDay
	if err := s.db.NewSelect().Model(&days).Scan(ctx); err != nil {
		return fmt.Errorf("load calendar: %w", err)
	}
	s.cal.set(days)
	return nil
}

// Calendar is the working-day calendar deadlines are counted on.
func (s *Service) Calendar() *Calendar { return s.cal }

// refreshCalendarIfStale reloads the calendar when another process may have changed it.
func (s *Service) refreshCalendarIfStale(ctx context.Context, maxAge time.Duration) error {
	s.cal.mu.RLock()
	stale := time.Since(s.cal.loaded) > maxAge
	s.cal.mu.RUnlock()
	if !stale {
		return nil
	}
	return s.LoadCalendar(ctx)
}
