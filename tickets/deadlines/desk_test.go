package deadlines_test

import (
	"context"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/deadlines"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// desk is the tests' call centre (tickettest.Desk) with its deadlines chapter, as app and
// jobs build it.
type desk struct {
	*tickettest.Desk
	dl *deadlines.Service
}

func newDesk(t *testing.T, db *bun.DB) *desk {
	t.Helper()
	clock := tickettest.NewClock(tickettest.T0)
	base := tickettest.NewDesk(t, tickettest.Service(db, clock), clock)
	return &desk{Desk: base, dl: deadlines.New(base.Svc)}
}

func mustPolicy(t *testing.T, d *desk, p *tickets.Policy) *tickets.Policy {
	t.Helper()
	p, err := d.dl.SavePolicy(context.Background(), d.Admin, p)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustDo(t *testing.T) func(*tickets.Ticket, error) *tickets.Ticket {
	return func(tk *tickets.Ticket, err error) *tickets.Ticket {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
}
