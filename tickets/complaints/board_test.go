package complaints_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/deadlines"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// A complaint received on any day has exactly its 10 working days left that day, as the
// board counts them on the State Council schedule.
func TestReceivedComplaintHasItsWorkingDaysLeft(t *testing.T) {
	cal := seededCalendar(t)
	loc := tickettest.Shanghai(t)
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, loc) }
	for _, received := range []time.Time{at(2026, 9, 28, 15, 0), at(2027, 1, 29, 9, 0), at(2027, 2, 8, 9, 0), at(2026, 11, 27, 23, 30)} {
		if got := cal.WorkingDaysLeft(received, cal.AddWorkingDays(received, complaints.WorkingDays)); got != complaints.WorkingDays {
			t.Errorf("received %s: %d working days left, want %d", received.Format(time.RFC3339), got, complaints.WorkingDays)
		}
	}
}

func TestComplaintBoard(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		if err := deadlines.New(d.Svc).SeedHolidays(ctx); err != nil {
			t.Fatal(err)
		}
		loc := tickettest.Shanghai(t)
		officer := tickets.AgentActor(d.Officer(t, "officer@example.com"))
		other := d.Officer(t, "other@example.com")
		open := func(name, phone string, received time.Time, to *tickets.Agent) *complaints.Complaint {
			t.Helper()
			c, err := d.cps.Open(ctx, d.LiNa, complaints.NewComplaint{Summary: "about " + name, ReceivedAt: received,
				Customer: tickets.NewTicket{Name: name, Phone: phone}})
			if err != nil {
				t.Fatal(err)
			}
			if c, err = d.cps.Assign(ctx, officer, c.Ref(), to.ID); err != nil {
				t.Fatal(err)
			}
			return c
		}
		// tickettest.T0 is Wednesday 2026-11-25, 17:30 in Shanghai.
		fresh := open("周敏", "+8613600000001", tickettest.T0, officer.Agent)                            // due 12-09: 10 left
		late := open("赵磊", "+8613600000002", time.Date(2026, 11, 2, 10, 0, 0, 0, loc), other)          // due 11-16: 7 working days late
		soon := open("钱芳", "+8613600000003", time.Date(2026, 11, 12, 10, 0, 0, 0, loc), officer.Agent) // due 11-26: 1 left
		busy := open("孙强", "+8613600000004", time.Date(2026, 11, 20, 10, 0, 0, 0, loc), other)         // due 12-04
		done := open("李雷", "+8613600000005", time.Date(2026, 11, 24, 10, 0, 0, 0, loc), officer.Agent)
		if _, err := d.cps.SetStatus(ctx, officer, busy.Ref(), tickets.ComplaintInvestigating, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := d.cps.Decide(ctx, officer, done.Ref(), "The fee is refunded.", "upheld"); err != nil {
			t.Fatal(err)
		}

		b, err := d.cps.Board(ctx, complaints.BoardFilter{})
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
		for _, k := range append(append([]*complaints.Card{}, b.Received...), b.Investigating...) {
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
		mine, err := d.cps.Board(ctx, complaints.BoardFilter{OfficerID: &other.ID})
		if err != nil {
			t.Fatal(err)
		}
		if got := append(cardRefs(mine.Received), cardRefs(mine.Investigating)...); !equalStrings(got, []string{late.Ref(), busy.Ref()}) || len(mine.Decided) != 0 {
			t.Errorf("the other officer's board: %v and %d decided", got, len(mine.Decided))
		}

		// A month later (Saturday 12-26) the decision has left the board and the fresh
		// complaint is 12 working days late.
		d.Clock.Advance(31 * 24 * time.Hour)
		if b, err = d.cps.Board(ctx, complaints.BoardFilter{}); err != nil {
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
		if b, err = d.cps.Board(ctx, complaints.BoardFilter{DecidedDays: 60}); err != nil {
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
		if err := deadlines.New(d.Svc).SeedHolidays(ctx); err != nil {
			t.Fatal(err)
		}
		officer := d.Officer(t, "officer@example.com")
		gone := d.Officer(t, "gone@example.com")
		off := false
		if _, err := d.Svc.UpdateAgent(ctx, d.Admin, gone.ID, tickets.AgentUpdate{Active: &off}); err != nil {
			t.Fatal(err)
		}
		by := tickets.AgentActor(officer)
		tk := d.Ticket(t, "+8613800138000")

		// A first complaint on the ticket, decided and closed; then a second one.
		first, err := d.cps.Open(ctx, d.LiNa, complaints.NewComplaint{TicketRef: tk.Ref(), Summary: "nobody called back"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.cps.SetStatus(ctx, by, first.Ref(), tickets.ComplaintInvestigating, "called the branch"); err != nil {
			t.Fatal(err)
		}
		if _, err := d.cps.Decide(ctx, by, first.Ref(), "We apologise; a manager will call.", "partly_upheld"); err != nil {
			t.Fatal(err)
		}
		dec, err := d.cps.Detail(ctx, first.Ref())
		if err != nil {
			t.Fatal(err)
		}
		if got := moves(dec.Moves); !equalStrings(got, []string{"closed", "investigating"}) {
			t.Errorf("a decided complaint may move to %v", got)
		}
		if _, err := d.cps.SetStatus(ctx, by, first.Ref(), tickets.ComplaintClosed, "archived"); err != nil {
			t.Fatal(err)
		}
		second, err := d.cps.Open(ctx, d.LiNa, complaints.NewComplaint{TicketRef: tk.Ref(), Summary: "still waiting for the money"})
		if err != nil {
			t.Fatal(err)
		}

		one, err := d.cps.Detail(ctx, first.Ref())
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

		two, err := d.cps.Detail(ctx, " "+strings.ToLower(second.Ref()))
		if err != nil {
			t.Fatal(err)
		}
		if got := eventKinds(two.Events); !equalStrings(got, []string{"complaint.opened"}) {
			t.Errorf("second complaint's events %v", got)
		}
		if got := moves(two.Moves); !equalStrings(got, []string{"investigating"}) {
			t.Errorf("a received complaint may move to %v", got)
		}
		if two.DaysLeft != complaints.WorkingDays || two.Overdue {
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
			if _, err := d.cps.Detail(ctx, ref); !errors.Is(err, tickets.ErrNotFound) {
				t.Errorf("Detail(%q): %v, want not found", ref, err)
			}
		}
	})
}

// The console hides the complaint forms from people the service would refuse.
func TestCanHandleAgreesWithService(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t, tickettest.SQLite(t))
	c, err := d.cps.Open(ctx, d.LiNa, complaints.NewComplaint{Summary: "rude on the phone", Customer: tickets.NewTicket{Phone: "+8613700000000"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range []tickets.Role{tickets.RoleAgent, tickets.RoleSupervisor, tickets.RoleComplaintOfficer, tickets.RoleAdmin} {
		a, err := d.Svc.CreateAgent(ctx, d.Admin, tickets.NewAgent{Email: string(role) + "@roles.test", Role: role, Password: "long enough password"})
		if err != nil {
			t.Fatal(err)
		}
		// Closing a received complaint is refused either way; the question is why.
		_, err = d.cps.SetStatus(ctx, tickets.AgentActor(a), c.Ref(), tickets.ComplaintClosed, "")
		if serviceAllows := !errors.Is(err, tickets.ErrForbidden); complaints.CanHandle(a) != serviceAllows {
			t.Errorf("%s: CanHandle %v, but the service answers %v", role, complaints.CanHandle(a), err)
		}
	}
	if complaints.CanHandle(nil) {
		t.Error("nobody signed in may handle complaints")
	}
}

func TestComplaintOutcomes(t *testing.T) {
	for _, o := range []string{"upheld", "partly_upheld", "not_upheld"} {
		if !complaints.ValidOutcome(o) {
			t.Errorf("%q refused", o)
		}
	}
	for _, o := range []string{"", "Upheld", "maybe"} {
		if complaints.ValidOutcome(o) {
			t.Errorf("%q accepted", o)
		}
	}
}

func cardRefs(ks []*complaints.Card) []string {
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
