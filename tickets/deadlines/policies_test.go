package deadlines_test

import (
	"context"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// Editing policies re-times open tickets; changing a ticket's category applies the policy
// that matches it now.
func TestPolicyChangesRetimeOpenTickets(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		open := d.Ticket(t, "+8613800000001")
		done := d.Ticket(t, "+8613800000002")
		mustDo(t)(d.Svc.SetStatus(ctx, d.Admin, done.Ref(), tickets.StatusResolved, ""))

		d.Clock.Advance(time.Hour)
		p := mustPolicy(t, d, &tickets.Policy{Name: "faster", FirstResponseSeconds: 4 * 3600, ResolutionSeconds: 12 * 3600})
		got := d.Detail(t, open.Ref())
		if !got.FirstResponseDueAt.Equal(tickettest.T0.Add(4*time.Hour)) || !got.ResolutionDueAt.Equal(tickettest.T0.Add(12*time.Hour)) || got.PolicyID == nil || *got.PolicyID != p.ID {
			t.Errorf("after a new policy: due %v / %v policy %v", got.FirstResponseDueAt, got.ResolutionDueAt, got.PolicyID)
		}
		if r := d.Detail(t, done.Ref()); r.PolicyID != nil {
			t.Error("a resolved ticket was re-timed")
		}
		if err := d.dl.DeletePolicy(ctx, d.Admin, p.ID); err != nil {
			t.Fatal(err)
		}
		if got := d.Detail(t, open.Ref()); !got.FirstResponseDueAt.Equal(tickettest.T0.Add(24 * time.Hour)) {
			t.Errorf("after deleting the policy: first response due %v, want the default again", got.FirstResponseDueAt)
		}

		mustPolicy(t, d, &tickets.Policy{Name: "claims", Category: "claim", FirstResponseSeconds: 2 * 3600, ResolutionSeconds: 8 * 3600})
		moved := mustDo(t)(d.Svc.SetCategory(ctx, d.Admin, open.Ref(), "claim", "it is a claim"))
		if !moved.FirstResponseDueAt.Equal(tickettest.T0.Add(2 * time.Hour)) {
			t.Errorf("after the category change: first response due %v, want +2h", moved.FirstResponseDueAt)
		}
		if _, err := d.Svc.SetCategory(ctx, d.Admin, open.Ref(), "claim", ""); err == nil {
			t.Error("setting the same category again was accepted")
		}
	})
}
