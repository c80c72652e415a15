package console_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// TestLiveNoticesGoToTheirAgent: the live feed writes the notice of a ticket given to an
// agent as soon as it sees the assignment, and streams it to that agent's pages only; an
// agent taking a ticket themselves is not told of it.
func TestLiveNoticesGoToTheirAgent(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := consoletest.NewDesk(t, db)
		ctx := context.Background()
		given, taken := d.SMS("+8613800138000", "理赔进度"), d.SMS("+8613800138001", "报案")
		li, zhang := d.SignIn(d.Agent), d.SignIn(d.Agent2)
		var wg sync.WaitGroup
		streams := make([]consoletest.Response, 2)
		for i, b := range []*consoletest.Browser{li, zhang} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				streams[i] = b.Get("/live")
			}()
		}
		time.Sleep(200 * time.Millisecond) // both streams are open
		if _, err := d.Service.Assign(ctx, tickets.AgentActor(d.Super), given.Ref(), tickets.Assignment{AssigneeID: &d.Agent.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Service.Assign(ctx, tickets.AgentActor(d.Agent2), taken.Ref(), tickets.Assignment{AssigneeID: &d.Agent2.ID}); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		consoletest.WantContains(t, streams[0], "event: notice", `"kind":"ticket.assigned"`, `"label":"工单分配给您"`,
			`"ticket":"`+given.Ref()+`"`)
		consoletest.WantContains(t, streams[1], "event: change", `"kind":"ticket.assigned"`) // zhang sees the queues change...
		consoletest.WantLacks(t, streams[1], "event: notice")                                // ...but is told nothing
		if n, err := d.Service.UnreadNotices(ctx, d.Agent.ID); err != nil || n != 1 {
			t.Errorf("li has %d unread notices (%v), want the one written by the feed", n, err)
		}
	})
}
