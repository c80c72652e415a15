package aftercare_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// A resolution and what follows it commit together: when the survey cannot be stored,
// the resolution fails, and the follow-up calls scheduled before it and the survey's
// message are undone with it. Once the survey can be stored, resolving does it all.
func TestResolutionAndItsAftercareCommitTogether(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := surveyDesk(t, db)
		tk := d.Ticket(t, "+8613800000301")
		before := mustDetail(t, d.Svc, tk.Ref())

		lift := tickettest.FailInserts(t, db, "surveys", fmt.Sprintf("NEW.ticket_id = %d", tk.ID))
		if _, err := d.Svc.SetStatus(ctx, d.Admin, tk.Ref(), tickets.StatusResolved, "answered"); err == nil {
			t.Fatal("resolved although its survey could not be stored")
		}
		after := mustDetail(t, d.Svc, tk.Ref())
		if after.Status != before.Status || after.ResolvedAt != nil || len(after.Messages) != len(before.Messages) ||
			!slices.Equal(eventKinds(after.Events), eventKinds(before.Events)) {
			t.Errorf("a failed resolution left %s, %d messages (was %d), events %v", after.Status, len(after.Messages), len(before.Messages), eventKinds(after.Events))
		}
		assertCount(t, db, "followups", 0)
		assertCount(t, db, "surveys", 0)

		lift()
		d.Resolve(t, tk)
		calls, err := d.care.FollowUps(ctx, aftercare.FollowUpFilter{TicketID: tk.ID})
		if err != nil || len(calls) != 3 {
			t.Errorf("follow-ups after resolving: %d %v", len(calls), err)
		}
		if sv, err := d.care.TicketSurvey(ctx, tk.ID); err != nil || sv == nil || len(outbound(t, d.Svc, tk.Ref())) != 1 {
			t.Errorf("survey after resolving: %+v %v", sv, err)
		}
	})
}
