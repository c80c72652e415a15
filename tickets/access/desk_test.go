package access_test

import (
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/access"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// desk is the tests' call centre (tickettest.Desk) with its doors: svc signs its staff in
// and answers its customers, core changes its tickets and agents.
type desk struct {
	*tickettest.Desk
	svc                   *access.Service
	core                  *tickets.Service
	clock                 *tickettest.Clock
	admin, liNa, zhangWei tickets.Actor
}

func newDesk(t *testing.T, db *bun.DB) *desk {
	t.Helper()
	return newDeskWith(t, db, access.Config{})
}

// newDeskWith is newDesk with doors of cfg.
func newDeskWith(t *testing.T, db *bun.DB, cfg access.Config) *desk {
	t.Helper()
	clock := tickettest.NewClock(tickettest.T0)
	td := tickettest.NewDesk(t, tickettest.Service(db, clock), clock)
	return &desk{Desk: td, svc: access.New(td.Svc, cfg), core: td.Svc, clock: clock,
		admin: td.Admin, liNa: td.LiNa, zhangWei: td.ZhangWei}
}

// ticket opens a ticket for phone by a text, as a customer would.
func (d *desk) ticket(t *testing.T, phone string) *tickets.Ticket { return d.Ticket(t, phone) }
