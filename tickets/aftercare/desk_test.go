package aftercare_test

import (
	"context"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// desk is the tests' call centre (tickettest.Desk): tickets are resolved through the
// core's Service, with the aftercare plugged in as app plugs it.
type desk struct {
	*tickettest.Desk
	care *aftercare.Service
}

// newDesk is a desk whose resolutions are followed by calls (the default offsets) and no
// survey, as the aftercare's zero Config says.
func newDesk(t *testing.T, db *bun.DB) *desk {
	t.Helper()
	clock := tickettest.NewClock(tickettest.T0)
	d := &desk{Desk: tickettest.NewDesk(t, tickettest.Service(db, clock), clock)}
	d.configure(aftercare.Config{})
	return d
}

// configure plugs in an aftercare with cfg, as app does at start.
func (d *desk) configure(cfg aftercare.Config) {
	d.care = aftercare.New(d.Svc, cfg)
	d.Svc.SetAftercare(d.care)
}

// surveyDesk is a desk that sends satisfaction surveys.
func surveyDesk(t *testing.T, db *bun.DB) *desk {
	d := newDesk(t, db)
	d.configure(aftercare.Config{Surveys: true})
	return d
}

func mustDetail(t *testing.T, svc *tickets.Service, ref string) *tickets.TicketDetail {
	t.Helper()
	d, err := svc.Ticket(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func outbound(t *testing.T, svc *tickets.Service, ref string) []*tickets.Message {
	t.Helper()
	var out []*tickets.Message
	for _, m := range mustDetail(t, svc, ref).Messages {
		if m.Direction == tickets.DirectionOutbound {
			out = append(out, m)
		}
	}
	return out
}

func eventKinds(evs []*tickets.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Kind)
	}
	return out
}

func assertCount(t *testing.T, db *bun.DB, table string, want int) {
	t.Helper()
	n, err := db.NewSelect().Table(table).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n != want {
		t.Errorf("%s: %d rows, want %d", table, n, want)
	}
}

func ptr[T any](v T) *T { return &v }
