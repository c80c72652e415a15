package complaints_test

import (
	"context"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/deadlines"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// desk is the tests' call centre (tickettest.Desk) with complaints plugged into the
// Service as app plugs them: intake and the sweep open complaints through the seam, staff
// through cps.
type desk struct {
	*tickettest.Desk
	cps *complaints.Service
}

func newDesk(t *testing.T, db *bun.DB) *desk {
	t.Helper()
	clock := tickettest.NewClock(tickettest.T0)
	return plugged(tickettest.NewDesk(t, tickettest.Service(db, clock), clock))
}

// receiptDesk is newDesk with customer notices on, so that complaint receipts are queued,
// and only Li Na at the desk.
func receiptDesk(t *testing.T, db *bun.DB) *desk {
	t.Helper()
	clock := tickettest.NewClock(tickettest.T0)
	svc := tickets.NewService(db, clock, tickets.Config{DefaultCountry: "86", PasswordCost: 4, Notices: true}, tickettest.Logger())
	d := plugged(tickettest.BareDesk(t, svc, clock))
	d.LiNa = d.Agent(t, "li.na@example.com", tickets.RoleAgent, d.Claims)
	return d
}

// plugged plugs complaints into the desk's Service.
func plugged(base *tickettest.Desk) *desk {
	d := &desk{Desk: base, cps: complaints.New(base.Svc)}
	d.Svc.SetComplaints(d.cps)
	return d
}

// sweep runs both sweeps as the deadline jobs do: the tickets', then the complaints'.
func (d *desk) sweep(t *testing.T) (deadlines.SweepResult, complaints.SweepResult) {
	t.Helper()
	ctx := context.Background()
	r, err := deadlines.New(d.Svc).Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.cps.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return r, c
}

func seededCalendar(t *testing.T) *tickets.Calendar {
	t.Helper()
	svc := tickettest.Service(tickettest.SQLite(t), tickettest.NewClock(tickettest.T0))
	if err := deadlines.New(svc).SeedHolidays(context.Background()); err != nil {
		t.Fatal(err)
	}
	return svc.Calendar()
}

func mustDetail(t *testing.T, svc *tickets.Service, ref string) *tickets.TicketDetail {
	t.Helper()
	d, err := svc.Ticket(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func eventKinds(evs []*tickets.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Kind)
	}
	return out
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

func fmtList(xs []string) string { return strings.Join(xs, " ") }
