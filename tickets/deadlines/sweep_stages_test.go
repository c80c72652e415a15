package deadlines_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// failBreaches makes the database refuse to record one clock's breach on one ticket, as a
// row the sweep cannot handle would, until the returned function lifts it.
func failBreaches(t *testing.T, db *bun.DB, ticketID int64, column string) (lift func()) {
	return tickettest.FailUpdates(t, db, "tickets", fmt.Sprintf("NEW.id = %d AND NEW.%s IS NOT NULL", ticketID, column))
}

// A sweep stage that keeps failing (here one ticket whose breach the database refuses)
// does not keep the other stages from their work: the other clock's breaches are recorded
// and escalated all the same, and the sweep still reports the failure so that its job is
// retried. Once the ticket can be handled, the next sweep catches up. (The complaints'
// stages, swept after these, are tested in package complaints and jobs.)
func TestSweepStageFailsAlone(t *testing.T) {
	cases := []struct {
		name       string
		failing    string // the clock whose breach stage fails
		failColumn string
		other      string // the clock whose breaches must still be recorded
	}{
		{"first response breaches fail", "first_response", "first_response_breached_at", "resolution"},
		{"resolution breaches fail", "resolution", "resolution_breached_at", "first_response"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
				ctx := context.Background()
				d := newDesk(t, db)
				stuck := d.Ticket(t, "+8613800138001")
				other := d.Ticket(t, "+8613800138002")
				lift := failBreaches(t, db, stuck.ID, tc.failColumn)

				// Three weeks on, both tickets' deadlines have passed.
				d.Clock.Advance(21 * 24 * time.Hour)
				r, err := d.dl.Sweep(ctx)
				if err == nil || !strings.Contains(err.Error(), "injected failure") {
					t.Errorf("sweep with a stuck ticket returned %v, want the failure (so the job retries)", err)
				}
				if r.Breaches != 2 {
					t.Errorf("sweep reported %+v, want the two breaches it could record (the other clock's)", r)
				}
				for _, tk := range []*tickets.Ticket{stuck, other} {
					if tl := slaTimeline(t, db, tk.ID, tc.other); tl.breaches != 1 {
						t.Errorf("%s: %d %s breaches recorded, want 1", tk.Ref(), tl.breaches, tc.other)
					}
				}

				// The ticket can be handled again: the next sweep records what was left.
				lift()
				if _, err := d.dl.Sweep(ctx); err != nil {
					t.Fatal(err)
				}
				for _, tk := range []*tickets.Ticket{stuck, other} {
					for _, clock := range []string{tc.failing, tc.other} {
						if tl := slaTimeline(t, db, tk.ID, clock); tl.breaches != 1 {
							t.Errorf("after the fix, %s: %d %s breaches, want 1", tk.Ref(), tl.breaches, clock)
						}
					}
				}
			})
		})
	}
}
