package tickets_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// An officer reads "working days left" off the board; it follows the State Council
// schedule: holidays do not count, make-up weekend days do.
func TestWorkingDaysLeft(t *testing.T) {
	cal := seededCalendar(t)
	loc := shanghai(t)
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, loc) }
	end := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 23, 59, 59, 0, loc) }
	cases := []struct {
		name          string
		now, deadline time.Time
		want          int
	}{
		{"due today", at(2026, 11, 25, 10, 0), end(2026, 11, 25), 0},
		{"a week ahead", at(2026, 11, 25, 10, 0), end(2026, 12, 2), 5},
		// 10/1–10/7 off; 10/8, 10/9, Saturday 10/10 worked, Sunday 10/11 off, 10/12.
		{"across national day 2026", at(2026, 9, 30, 10, 0), end(2026, 10, 12), 4},
		// Sunday 1/31 worked, 2/1–2/4, Spring Festival 2/5–2/13 off, Sunday 2/14 worked, 2/15, 2/16.
		// Counting weekends only would say 12.
		{"across spring festival 2027", at(2027, 1, 29, 15, 0), end(2027, 2, 16), 8},
		// Due Thursday 2/4; since then Sunday 2/14 (make-up) and Monday 2/15 were worked.
		{"overdue across spring festival 2027", at(2027, 2, 15, 10, 0), end(2027, 2, 4), -2},
		{"overdue by a weekend only", at(2026, 11, 28, 10, 0), end(2026, 11, 27), 0},
		{"overdue by one working day", at(2026, 11, 30, 10, 0), end(2026, 11, 27), -1},
		// 16:30 UTC is already Thursday 00:30 in Shanghai: the deadline is today.
		{"utc crosses midnight", time.Date(2026, 11, 25, 16, 30, 0, 0, time.UTC), end(2026, 11, 26), 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := cal.WorkingDaysLeft(c.now, c.deadline); got != c.want {
				t.Errorf("working days from %s to %s = %d, want %d", c.now.Format(time.RFC3339), c.deadline.Format(time.RFC3339), got, c.want)
			}
		})
	}
	// A complaint received on any day has exactly its 10 working days left that day.
	for _, received := range []time.Time{at(2026, 9, 28, 15, 0), at(2027, 1, 29, 9, 0), at(2027, 2, 8, 9, 0), at(2026, 11, 27, 23, 30)} {
		if got := cal.WorkingDaysLeft(received, cal.AddWorkingDays(received, tickets.ComplaintWorkingDays)); got != tickets.ComplaintWorkingDays {
			t.Errorf("received %s: %d working days left, want %d", received.Format(time.RFC3339), got, tickets.ComplaintWorkingDays)
		}
	}
}

// A date picked for an extension means the end of that working day, in the desk's zone.
func TestEndOfWorkingDay(t *testing.T) {
	cal := seededCalendar(t)
	for _, c := range []struct{ date, want string }{
		{"2026-12-18", "2026-12-18T23:59:59+08:00"},
		{" 2026-10-10 ", "2026-10-10T23:59:59+08:00"}, // a make-up Saturday is worked
		{"2027-02-14", "2027-02-14T23:59:59+08:00"},   // and so is a make-up Sunday
		{"2026-10-01", ""},                            // National Day
		{"2027-02-08", ""},                            // Spring Festival
		{"2026-12-19", ""},                            // a Saturday
		{"18/12/2026", ""},
		{"2026-02-30", ""},
		{"", ""},
	} {
		got, err := cal.EndOfWorkingDay(c.date)
		switch {
		case c.want == "" && !errors.Is(err, tickets.ErrInvalid):
			t.Errorf("%q: %v, %v; want refused as invalid", c.date, got, err)
		case c.want != "" && (err != nil || got.Format(time.RFC3339) != c.want):
			t.Errorf("%q: %v, %v; want %s", c.date, got, err, c.want)
		}
	}
}

func TestComplaintBoard(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		if err := d.svc.SeedHolidays(ctx); err != nil {
			t.Fatal(err)
		}
		loc := shanghai(t)
		officer := tickets.AgentActor(mkOfficer(t, d, "officer@example.com"))
		other := mkOfficer(t, d, "other@example.com")
		open := func(name, phone string, received time.Time, to *tickets.Agent) *tickets.Complaint {
			t.Helper()
			c, err := d.svc.OpenComplaint(ctx, d.liNa, tickets.NewComplaint{Summary: "about " + name, ReceivedAt: received,
				Customer: tickets.NewTicket{Name: name, Phone: phone}})
			if err != nil {
				t.Fatal(err)
			}
			if c, err = d.svc.AssignComplaint(ctx, officer, c.Ref(), to.ID); err != nil {
				t.Fatal(err)
			}
			return c
		}
		// t0 is Wednesday 2026-11-25, 17:30 in Shanghai.
		fresh := open("周敏", "+8613600000001", t0, officer.Agent)                                       // due 12-09: 10 left
		late := open("赵磊", "+8613600000002", time.Date(2026, 11, 2, 10, 0, 0, 0, loc), other)          // due 11-16: 7 working days late
		soon := open("钱芳", "+8613600000003", time.Date(2026, 11, 12, 10, 0, 0, 0, loc), officer.Agent) // due 11-26: 1 left
		busy := open("孙强", "+8613600000004", time.Date(2026, 11, 20, 10, 0, 0, 0, loc), other)         // due 12-04
		done := open("李雷", "+8613600000005", time.Date(2026, 11, 24, 10, 0, 0, 0, loc), officer.Agent)
		if _, err := d.svc.SetComplaintStatus(ctx, officer, busy.Ref(), tickets.ComplaintInvestigating, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := d.svc.DecideComplaint(ctx, officer, done.Ref(), "The fee is refunded.", "upheld"); err != nil {
			t.Fatal(err)
		}

		b, err := d.svc.ComplaintBoard(ctx, tickets.BoardFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := cardRefs(b.Received), []string{late.Ref(), soon.Ref(), fresh.Ref()}; !equalStrings(got, want) {
			t.Errorf("received column %v, want overdue first then nearest deadline %v", got, want)
		}
		if got := cardRefs(b.Investigating); !equalStrings(got, []string{busy.Ref()}) {
			t.Errorf("investigating column %v", got)
		}
		if got := cardRefs(b.Decided); !equalStrings(got, []string{done.Ref()}) {
			t.Errorf("decided column %v", got)
		}
		if b.Overdue != 1 || b.DueSoon != 1 || b.More {
			t.Errorf("overdue %d, due soon %d, more %v; want 1, 1, false", b.Overdue, b.DueSoon, b.More)
		}
		want := map[string]struct {
			left           int
			overdue, soon  bool
			customer, cell string
		}{
			late.Ref():  {-7, true, false, "赵磊", "+8613600000002"},
			soon.Ref():  {1, false, true, "钱芳", "+8613600000003"},
			fresh.Ref(): {10, false, false, "周敏", "+8613600000001"},
			busy.Ref():  {7, false, false, "孙强", "+8613600000004"},
		}
		for _, k := range append(append([]*tickets.ComplaintCard{}, b.Received...), b.Investigating...) {
			w := want[k.Ref()]
			if k.DaysLeft != w.left || k.Overdue != w.overdue || k.DueSoon != w.soon {
				t.Errorf("%s: %d working days left, overdue %v, due soon %v; want %d, %v, %v", k.Ref(), k.DaysLeft, k.Overdue, k.DueSoon, w.left, w.overdue, w.soon)
			}
			if k.Ticket == nil || k.Ticket.Customer == nil || k.Ticket.Customer.Name != w.customer || k.Ticket.Customer.Identity(tickets.IdentityPhone) != w.cell {
				t.Errorf("%s: ticket and customer not loaded: %+v", k.Ref(), k.Ticket)
			}
			if k.Officer == nil {
				t.Errorf("%s: officer not loaded", k.Ref())
			}
		}
		if k := b.Decided[0]; !k.OnTime || k.Outcome != "upheld" || k.Overdue {
			t.Errorf("decided card: on time %v, outcome %q, overdue %v", k.OnTime, k.Outcome, k.Overdue)
		}

		// One officer's board.
		mine, err := d.svc.ComplaintBoard(ctx, tickets.BoardFilter{OfficerID: &other.ID})
		if err != nil {
			t.Fatal(err)
		}
		if got := append(cardRefs(mine.Received), cardRefs(mine.Investigating)...); !equalStrings(got, []string{late.Ref(), busy.Ref()}) || len(mine.Decided) != 0 {
			t.Errorf("the other officer's board: %v and %d decided", got, len(mine.Decided))
		}

		// A month later (Saturday 12-26) the decision has left the board and the fresh
		// complaint is 12 working days late.
		d.clock.Advance(31 * 24 * time.Hour)
		if b, err = d.svc.ComplaintBoard(ctx, tickets.BoardFilter{}); err != nil {
			t.Fatal(err)
		}
		if len(b.Decided) != 0 || b.Overdue != 4 {
			t.Errorf("a month later: %d decided shown, %d overdue", len(b.Decided), b.Overdue)
		}
		for _, k := range b.Received {
			if k.Ref() == fresh.Ref() && (k.DaysLeft != -12 || !k.Overdue) {
				t.Errorf("a month later %s has %d working days left, overdue %v; want -12", k.Ref(), k.DaysLeft, k.Overdue)
			}
		}
		if b, err = d.svc.ComplaintBoard(ctx, tickets.BoardFilter{DecidedDays: 60}); err != nil {
			t.Fatal(err)
		}
		if len(b.Decided) != 1 {
			t.Errorf("decided in the last 60 days: %d shown", len(b.Decided))
		}
	})
}

func TestComplaintDetail(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		if err := d.svc.SeedHolidays(ctx); err != nil {
			t.Fatal(err)
		}
		officer := mkOfficer(t, d, "officer@example.com")
		gone := mkOfficer(t, d, "gone@example.com")
		off := false
		if _, err := d.svc.UpdateAgent(ctx, d.admin, gone.ID, tickets.AgentUpdate{Active: &off}); err != nil {
			t.Fatal(err)
		}
		by := tickets.AgentActor(officer)
		tk := d.ticket(t, "+8613800138000")

		// A first complaint on the ticket, decided and closed; then a second one.
		first, err := d.svc.OpenComplaint(ctx, d.liNa, tickets.NewComplaint{TicketRef: tk.Ref(), Summary: "nobody called back"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.svc.SetComplaintStatus(ctx, by, first.Ref(), tickets.ComplaintInvestigating, "called the branch"); err != nil {
			t.Fatal(err)
		}
		if _, err := d.svc.DecideComplaint(ctx, by, first.Ref(), "We apologise; a manager will call.", "partly_upheld"); err != nil {
			t.Fatal(err)
		}
		dec, err := d.svc.ComplaintDetail(ctx, first.Ref())
		if err != nil {
			t.Fatal(err)
		}
		if got := moves(dec.Moves); !equalStrings(got, []string{"closed", "investigating"}) {
			t.Errorf("a decided complaint may move to %v", got)
		}
		if _, err := d.svc.SetComplaintStatus(ctx, by, first.Ref(), tickets.ComplaintClosed, "archived"); err != nil {
			t.Fatal(err)
		}
		second, err := d.svc.OpenComplaint(ctx, d.liNa, tickets.NewComplaint{TicketRef: tk.Ref(), Summary: "still waiting for the money"})
		if err != nil {
			t.Fatal(err)
		}

		one, err := d.svc.ComplaintDetail(ctx, first.Ref())
		if err != nil {
			t.Fatal(err)
		}
		if got := eventKinds(one.Events); !equalStrings(got, []string{"complaint.opened", "complaint.status_changed", "complaint.decided", "complaint.status_changed"}) {
			t.Errorf("first complaint's events %v", got)
		}
		if len(one.Moves) != 0 || one.Status != tickets.ComplaintClosed || !one.OnTime || one.Outcome != "partly_upheld" {
			t.Errorf("closed complaint: moves %v status %s on time %v outcome %q", one.Moves, one.Status, one.OnTime, one.Outcome)
		}
		if one.Ticket == nil || one.Ticket.Customer == nil || one.Ticket.Customer.Identity(tickets.IdentityPhone) != "+8613800138000" {
			t.Errorf("ticket and customer not loaded: %+v", one.Ticket)
		}

		two, err := d.svc.ComplaintDetail(ctx, " "+strings.ToLower(second.Ref()))
		if err != nil {
			t.Fatal(err)
		}
		if got := eventKinds(two.Events); !equalStrings(got, []string{"complaint.opened"}) {
			t.Errorf("second complaint's events %v", got)
		}
		if got := moves(two.Moves); !equalStrings(got, []string{"investigating"}) {
			t.Errorf("a received complaint may move to %v", got)
		}
		if two.DaysLeft != tickets.ComplaintWorkingDays || two.Overdue {
			t.Errorf("new complaint: %d working days left, overdue %v", two.DaysLeft, two.Overdue)
		}

		// Who may be given it: active officers first, then supervisors and admins; never
		// plain agents or people who left.
		var names []string
		for _, h := range two.Handlers {
			names = append(names, h.Email)
			if h.Email == "officer@example.com" && h.Load != 1 {
				t.Errorf("the officer has %d open complaints, want 1", h.Load)
			}
		}
		if !equalStrings(names, []string{"officer@example.com", "admin@example.com", "chen@example.com"}) {
			t.Errorf("handlers %v", names)
		}

		for _, ref := range []string{"CP-999999", "HL-000001", "nonsense", ""} {
			if _, err := d.svc.ComplaintDetail(ctx, ref); !errors.Is(err, tickets.ErrNotFound) {
				t.Errorf("ComplaintDetail(%q): %v, want not found", ref, err)
			}
		}
	})
}

// The console hides the complaint forms from people the service would refuse.
func TestCanHandleComplaintsAgreesWithService(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t, tickettest.SQLite(t))
	c, err := d.svc.OpenComplaint(ctx, d.liNa, tickets.NewComplaint{Summary: "rude on the phone", Customer: tickets.NewTicket{Phone: "+8613700000000"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range []tickets.Role{tickets.RoleAgent, tickets.RoleSupervisor, tickets.RoleComplaintOfficer, tickets.RoleAdmin} {
		a, err := d.svc.CreateAgent(ctx, d.admin, tickets.NewAgent{Email: string(role) + "@roles.test", Role: role, Password: "long enough password"})
		if err != nil {
			t.Fatal(err)
		}
		// Closing a received complaint is refused either way; the question is why.
		_, err = d.svc.SetComplaintStatus(ctx, tickets.AgentActor(a), c.Ref(), tickets.ComplaintClosed, "")
		if serviceAllows := !errors.Is(err, tickets.ErrForbidden); a.CanHandleComplaints() != serviceAllows {
			t.Errorf("%s: CanHandleComplaints %v, but the service answers %v", role, a.CanHandleComplaints(), err)
		}
	}
	if (*tickets.Agent)(nil).CanHandleComplaints() {
		t.Error("nobody signed in may handle complaints")
	}
}

func TestComplaintOutcomes(t *testing.T) {
	for _, o := range []string{"upheld", "partly_upheld", "not_upheld"} {
		if !tickets.ValidComplaintOutcome(o) {
			t.Errorf("%q refused", o)
		}
	}
	for _, o := range []string{"", "Upheld", "maybe"} {
		if tickets.ValidComplaintOutcome(o) {
			t.Errorf("%q accepted", o)
		}
	}
}

func cardRefs(ks []*tickets.ComplaintCard) []string {
	out := []string{}
	for _, k := range ks {
		out = append(out, k.Ref())
	}
	return out
}

func moves(ms []tickets.ComplaintStatus) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, string(m))
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
