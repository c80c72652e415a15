package admin_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/deadlines"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// The calendar shows a year's holidays and make-up days (the current year in the desk's
// zone by default), warns loudly about a year without data, and sets days that deadlines
// then count on.
func TestAdminCalendar(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	b := d.SignIn(d.Admin)

	r := b.Get("/admin/calendar")
	consoletest.WantStatus(t, r, 200)
	consoletest.WantContains(t, r, "2026 年", "2026-10-01", "国庆节", "2026-02-14", "调休上班", `class="d holiday" title="国庆节">1</a>`,
		`class="d today">25</a>`, `href="/admin/calendar?year=2027"`)
	consoletest.WantLacks(t, r, `id="no-data"`)
	// The seed (lunar-go) stops at 2027: 2028 has no data, and says so.
	r = b.Get("/admin/calendar?year=2028")
	consoletest.WantStatus(t, r, 200)
	consoletest.WantContains(t, r, `id="no-data"`, "2028 年没有节假日数据", "只会跳过周末")
	for _, bad := range []string{"abc", "1999", "20260"} {
		r := b.Get("/admin/calendar?year=" + bad)
		consoletest.WantStatus(t, r, 400)
		consoletest.WantContains(t, r, "年份须是 2000 到 2100 之间的整数")
	}
	// A day picked in the view fills the form with what it is now, or the likely change.
	consoletest.WantContains(t, b.Get("/admin/calendar?day=2026-10-01"), `value="2026-10-01"`, `value="holiday" checked`, `value="国庆节"`)
	consoletest.WantContains(t, b.Get("/admin/calendar?day=2028-03-04"), "2028 年", `value="workday" checked`)

	// Setting a day changes the deadlines counted on it.
	ctx := context.Background()
	cal := d.Service.Calendar()
	dec := time.Date(2026, 12, 31, 12, 0, 0, 0, cal.Location())
	if !cal.IsWorkingDay(dec) {
		t.Fatal("2026-12-31 is a Thursday")
	}
	r = b.Post("/admin/calendar", url.Values{"day": {"2026-12-31"}, "kind": {"holiday"}, "name": {"年终盘点"}})
	consoletest.WantStatus(t, r, 303)
	if r.Location != "/admin/calendar?year=2026" {
		t.Errorf("after saving: %s", r.Location)
	}
	consoletest.WantContains(t, b.Get(r.Location), "已将 2026-12-31 设为“放假”", "年终盘点")
	if cal.IsWorkingDay(dec) {
		t.Error("the new holiday is still a working day")
	}
	days, _ := deadlines.New(d.Service).CalendarDays(ctx, 2026)
	if last := days[len(days)-1]; last.Day != "2026-12-31" || last.Kind != tickets.DayHoliday || last.Source != "admin" {
		t.Errorf("stored %+v", last)
	}
	r = b.Post("/admin/calendar", url.Values{"day": {"2026-12-31"}, "kind": {"normal"}})
	consoletest.WantStatus(t, r, 303)
	if !cal.IsWorkingDay(dec) {
		t.Error("back to normal, the day is still off")
	}

	before := admEvents(t, d)
	for _, c := range []struct {
		name string
		form url.Values
		want string
	}{
		{"bad date", url.Values{"day": {"2026-13-01"}, "kind": {"holiday"}, "name": {"typed name"}}, "is not a date"},
		{"no date", url.Values{"kind": {"holiday"}, "name": {"typed name"}}, "is not a date"},
		{"bad kind", url.Values{"day": {"2026-05-06"}, "kind": {"party"}, "name": {"typed name"}}, "holiday, workday or normal"},
	} {
		r := b.Post("/admin/calendar", c.form)
		consoletest.WantStatus(t, r, 400)
		consoletest.WantContains(t, r, c.want, `value="typed name"`, `role="alert"`)
	}
	if n := admEvents(t, d); n != before {
		t.Errorf("refused days recorded %d events", n-before)
	}
}

func TestCalendarRefusesYearsItDoesNotKeep(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	b := d.SignIn(d.Admin)
	b.Get("/admin/calendar")
	r := b.Post("/admin/calendar", url.Values{"day": {"0000-01-01"}, "kind": {"holiday"}, "name": {"x"}})
	consoletest.WantStatus(t, r, 400)
	consoletest.WantContains(t, r, "2000 to 2100")
	days, err := deadlines.New(d.Service).CalendarDays(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, day := range days {
		if day.Day == "0000-01-01" {
			t.Fatal("a day in year 0 was stored")
		}
	}
	consoletest.WantStatus(t, b.Get("/admin/calendar?day=0000-01-01"), 200)
}
