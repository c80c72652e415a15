package api_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// TestReplyWithStatus: POST /tickets/{ref}/replies with a status answers and resolves (or
// parks) the ticket in one step; a status the ticket may not take is refused with a reason
// and the reply is not sent either.
func TestReplyWithStatus(t *testing.T) {
	// The reply, new → open, the three follow-up calls the resolution schedules, then the
	// resolution itself: one transaction's trail.
	resolvedWithReply := []string{"reply.queued", "status.changed",
		"followup.scheduled", "followup.scheduled", "followup.scheduled", "status.changed"}
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		cases := []struct {
			name    string
			who     string
			owner   string // who has the ticket before the reply ("" nobody)
			body    any
			want    int
			status  string   // the ticket's status after
			events  []string // the events the request added
			replied bool
		}{
			{name: "reply and resolve", who: "agent1", body: map[string]string{"body": "已为您办理退款", "status": "resolved"},
				want: 201, status: "resolved", events: resolvedWithReply, replied: true},
			{name: "reply and wait on the customer", who: "agent1", body: map[string]string{"body": "请补充发票照片", "status": "pending"},
				want: 201, status: "pending", events: []string{"reply.queued", "status.changed", "status.changed"}, replied: true},
			{name: "no status is a plain reply", who: "agent1", body: map[string]string{"body": "我们在处理"},
				want: 201, status: "open", events: []string{"reply.queued", "status.changed"}, replied: true},
			{name: "closing takes a resolution first", who: "agent1", body: map[string]string{"body": "再见", "status": "closed"},
				want: 409, status: "new"},
			{name: "unknown status", who: "agent1", body: map[string]string{"body": "hi", "status": "done"}, want: 400, status: "new"},
			{name: "status of the wrong type", who: "agent1", body: map[string]any{"body": "hi", "status": 3}, want: 400, status: "new"},
			{name: "someone else's ticket", who: "agent1", owner: "agent2", body: map[string]string{"body": "hi", "status": "resolved"},
				want: 403, status: "new"},
			{name: "their supervisor may", who: "sup1", owner: "agent2", body: map[string]string{"body": "已解决", "status": "resolved"},
				want: 201, status: "resolved", events: resolvedWithReply, replied: true},
		}
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				ref := e.intake(t, sms(fmt.Sprintf("139000001%02d", i), "退款什么时候到账？")).Ref()
				if tc.owner != "" {
					e.mustAct(t, "admin", ref, "assign", map[string]any{"assignee_id": e.id(tc.owner)})
				}
				before := e.detail(t, ref)
				status, js := e.act(t, tc.who, ref, "replies", tc.body)
				wantStatus(t, status, js, tc.want)
				after := e.detail(t, ref)
				if got := getS(after, "status"); got != tc.status {
					t.Errorf("status %q, want %q", got, tc.status)
				}
				added := eventKinds(after)[len(eventKinds(before)):]
				if !slices.Equal(added, tc.events) {
					t.Errorf("events added %v, want %v", added, tc.events)
				}
				if got, want := len(getA(after, "messages")), len(getA(before, "messages"))+map[bool]int{true: 1}[tc.replied]; got != want {
					t.Errorf("%d messages, want %d", got, want)
				}
				if tc.replied && getS(js, "direction") != "outbound" {
					t.Errorf("answered %v, want the reply", js)
				}
			})
		}
	})
}
