package reports_test

import (
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
	"github.com/hotlinedesk/hotline/tickets/reports"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// desk is the tests' call centre (tickettest.Desk): the work is done through the
// Service, the figures read through a Reader over it.
type desk struct {
	*tickettest.Desk
	rep *reports.Reader
}

func newDesk(t *testing.T, db *bun.DB) *desk {
	t.Helper()
	clock := tickettest.NewClock(tickettest.T0)
	d := &desk{Desk: tickettest.NewDesk(t, tickettest.Service(db, clock), clock)}
	d.rep = reports.New(d.Svc)
	return d
}

// surveyDesk is a desk that sends satisfaction surveys (the aftercare plugged in as app
// plugs it: the surveys the reports count are started and answered through it).
func surveyDesk(t *testing.T, db *bun.DB) *desk {
	d := newDesk(t, db)
	d.Svc.SetAftercare(aftercare.New(d.Svc, aftercare.Config{Surveys: true}))
	return d
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
