package tickets_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// stubAftercare stands in for package aftercare: it writes in the core's transaction what
// a real one would (an audit event, a message queued to the customer) and fails when told.
type stubAftercare struct {
	fail     error
	resolved []int64 // the tickets it was told were resolved
	reopened []string
}

var errAftercare = errors.New("aftercare failed")

func (a *stubAftercare) Resolved(ctx context.Context, tx tickets.Tx, t *tickets.Ticket) ([]int64, error) {
	a.resolved = append(a.resolved, t.ID)
	ch, err := tx.NoticeChannel(ctx, t)
	if err != nil {
		return nil, err
	}
	m := &tickets.Message{TicketID: t.ID, Direction: tickets.DirectionOutbound, Channel: ch, Body: "how did we do? [link]",
		DeliveryStatus: tickets.DeliveryQueued, CreatedAt: t.UpdatedAt}
	if err := tx.AddMessage(ctx, m); err != nil {
		return nil, err
	}
	if err := tx.Record(ctx, tx.Event(tickets.Actor{Kind: "system"}, "ticket", t.ID, "stub.resolved", map[string]any{"message_id": m.ID})); err != nil {
		return nil, err
	}
	return []int64{m.ID}, a.fail
}

func (a *stubAftercare) Reopened(ctx context.Context, tx tickets.Tx, t *tickets.Ticket, actor tickets.Actor) error {
	a.reopened = append(a.reopened, actor.Kind)
	if err := tx.Record(ctx, tx.Event(actor, "ticket", t.ID, "stub.reopened", nil)); err != nil {
		return err
	}
	return a.fail
}

func (a *stubAftercare) Answer(context.Context, tickets.Tx, tickets.Inbound) (*tickets.IntakeResult, error) {
	return nil, nil
}

func (a *stubAftercare) Text(_ context.Context, m *tickets.Message) (string, error) {
	return m.Body + " https://desk.example.com/x", nil
}

// What follows a resolution happens in the resolution's transaction: the customer's
// message it queues is sent after the commit, and when it fails, the resolution fails
// with it and nothing of either is stored. Reopening is undone the same way.
func TestAftercareCommitsWithTheResolution(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		spy := &tickettest.Scheduler{}
		d.svc.SetScheduler(spy)
		care := &stubAftercare{}
		d.svc.SetAftercare(care)

		tk := d.ticket(t, "+8613800000401")
		resolved, err := d.svc.SetStatus(ctx, d.admin, tk.Ref(), tickets.StatusResolved, "answered")
		if err != nil || resolved.Status != tickets.StatusResolved || !slices.Equal(care.resolved, []int64{tk.ID}) {
			t.Fatalf("resolve: %+v %v; aftercare told of %v", resolved, err, care.resolved)
		}
		detail := mustDetail(t, d.svc, tk.Ref())
		kinds := eventKinds(detail.Events)
		if i := slices.Index(kinds, "stub.resolved"); i < 0 || kinds[len(kinds)-1] != "status.changed" {
			t.Errorf("events %v: the aftercare's come before the change itself", kinds)
		}
		var queued *tickets.Message
		for _, m := range detail.Messages {
			if m.Direction == tickets.DirectionOutbound {
				queued = m
			}
		}
		if queued == nil || !slices.Contains(spy.Delivered(), queued.ID) {
			t.Fatalf("the aftercare's message %+v was not handed to the senders (%v)", queued, spy.Delivered())
		}
		if sent, err := d.svc.OutgoingText(ctx, queued); err != nil || sent != "how did we do? [link] https://desk.example.com/x" {
			t.Errorf("sent as %q %v; want the aftercare's text", sent, err)
		}

		// Reopening fails with its aftercare: still resolved, nothing recorded.
		care.fail = errAftercare
		if _, err := d.svc.SetStatus(ctx, d.liNa, tk.Ref(), tickets.StatusOpen, "one more thing"); !errors.Is(err, errAftercare) {
			t.Fatalf("reopen with a failing aftercare: %v", err)
		}
		detail = mustDetail(t, d.svc, tk.Ref())
		if detail.Status != tickets.StatusResolved || slices.Contains(eventKinds(detail.Events), "stub.reopened") ||
			slices.Contains(eventKinds(detail.Events), "ticket.reopened") {
			t.Errorf("after a failed reopening: %s %v", detail.Status, eventKinds(detail.Events))
		}

		// Resolving fails with its aftercare: the ticket stays as it was, and neither the
		// aftercare's message nor its event is kept.
		other := d.ticket(t, "+8613800000402")
		before := mustDetail(t, d.svc, other.Ref())
		if _, err := d.svc.SetStatus(ctx, d.admin, other.Ref(), tickets.StatusResolved, "answered"); !errors.Is(err, errAftercare) {
			t.Fatalf("resolve with a failing aftercare: %v", err)
		}
		after := mustDetail(t, d.svc, other.Ref())
		if after.Status != before.Status || after.ResolvedAt != nil || len(after.Messages) != len(before.Messages) || len(after.Events) != len(before.Events) {
			t.Errorf("a failed resolution left %s, %d messages (was %d), events %v", after.Status, len(after.Messages), len(before.Messages), eventKinds(after.Events))
		}
		if n := tickettest.CountEvents(t, db, "stub.resolved"); n != 1 {
			t.Errorf("%d stub.resolved events, want the committed one only", n)
		}
	})
}

// Without an aftercare plugged in, nothing follows a resolution: no follow-up calls, no
// survey, no message to the customer; a texted score is a message like any other, and
// outbound text is sent as stored.
func TestNothingFollowsWithoutAftercare(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		phone := "+8613800000403"
		tk := d.ticket(t, phone)
		if _, err := d.svc.SetStatus(ctx, d.admin, tk.Ref(), tickets.StatusResolved, "answered"); err != nil {
			t.Fatal(err)
		}
		assertCount(t, db, "followups", 0)
		assertCount(t, db, "surveys", 0)
		for _, m := range mustDetail(t, d.svc, tk.Ref()).Messages {
			if m.Direction == tickets.DirectionOutbound {
				t.Errorf("a message to the customer: %+v", m)
			}
		}
		res, err := d.svc.Intake(ctx, sms(phone, "5", "SM-403"))
		if err != nil || res.Answered || res.Ticket.ID != tk.ID || res.Ticket.Status != tickets.StatusOpen {
			t.Errorf("a 5 without aftercare: %+v %v", res, err)
		}
		reply, err := d.svc.Reply(ctx, d.admin, tk.Ref(), "[评分链接仅发给客户 / link sent to the customer only]")
		if err != nil {
			t.Fatal(err)
		}
		if sent, err := d.svc.OutgoingText(ctx, reply); err != nil || sent != reply.Body {
			t.Errorf("sent as %q %v, stored as %q", sent, err, reply.Body)
		}
	})
}
