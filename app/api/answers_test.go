package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/access"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// raw sends a request with a bearer token and returns the status and the body as sent.
func raw(t *testing.T, e *env, method, path, token string, body any) (int, []byte) {
	t.Helper()
	req := newRequest(t, method, path, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := e.app.Test(req, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return res.StatusCode, b
}

// sameJSON fails unless the answer to a write is, byte for byte, what a GET of the same
// thing answers afterwards.
func sameJSON(t *testing.T, what string, answer, got []byte) {
	t.Helper()
	if !bytes.Equal(answer, got) {
		t.Errorf("%s: the answer differs from a GET afterwards\nanswer: %s\nGET:    %s", what, answer, got)
	}
}

// The 201 of POST /api/v1/tickets is built from what the transaction wrote, not read back:
// it must be exactly what GET /api/v1/tickets/:ref answers next, for every shape of create
// (new and returning callers, names, a second address given or already someone's, a
// caller known on other channels, no description, a key whose ticket a routing rule sends
// to a team and auto-assigns, an agent without a team).
func TestCreateAnswerIsWhatGetReads(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		// A caller known by WeChat and SMS, and an email address someone else has.
		e.intake(t, tickets.Inbound{Channel: tickets.ChannelWeChat, From: tickets.IdentityWeChat, Address: "oWeChatKnown01", Body: "你好"})
		e.intake(t, sms("13900000077", "还在吗"))
		e.intake(t, tickets.Inbound{Channel: tickets.ChannelEmail, From: tickets.IdentityEmail, Address: "taken@example.com", Subject: "x", Body: "x"})
		// A rule that sends "理赔" tickets to Billing, where agent3 is online to take them.
		if _, err := e.svc.SaveRoutingRule(ctx, tickets.AgentActor(e.agents["admin"]), &tickets.RoutingRule{
			Name: "claims to billing", Keywords: "理赔", TeamID: e.team("Billing"), SetPriority: tickets.PriorityHigh}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.SetOnline(ctx, tickets.AgentActor(e.agents["agent3"]), true); err != nil {
			t.Fatal(err)
		}
		key := e.newKey(t, "crm", access.ScopeTicketsWrite, access.ScopeTicketsRead)

		cases := []struct {
			name, token string
			body        map[string]any
			events      int
		}{
			{"new caller with a name and both addresses", e.tok["agent1"], map[string]any{"channel": "phone",
				"customer": map[string]string{"name": "王芳", "phone": "138 0013 8000", "email": "Wang.Fang@Example.com"},
				"subject":  "保单问题 13800138000", "body": "客户问保单 wang.fang@example.com 覆盖范围", "category": "policy", "priority": "high"}, 1},
			{"the same caller again, by another agent, no name", e.tok["agent2"], map[string]any{
				"customer": map[string]string{"phone": "+8613800138000"}, "subject": "又来电"}, 1},
			{"a caller known by SMS, named now, with an address someone has", e.tok["sup1"], map[string]any{"channel": "walk_in",
				"customer": map[string]string{"name": "陈杰", "phone": "13900000077", "email": "taken@example.com"}, "body": "到柜台咨询\n关于退款"}, 1},
			{"a caller known by WeChat, by email only", e.tok["agent3"], map[string]any{
				"customer": map[string]string{"email": "new@example.com"}, "subject": "只有邮箱"}, 1},
			{"an admin, who has no team", e.tok["admin"], map[string]any{
				"customer": map[string]string{"phone": "13700000001"}, "subject": "管理员记录", "body": "说明"}, 1},
			{"a key: routed by a rule and auto-assigned", key, map[string]any{
				"customer": map[string]string{"name": "李娜", "phone": "13700000002"}, "subject": "理赔进度", "body": "客户问理赔进度"}, 2},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e.clock.Advance(time.Minute)
				status, answer := raw(t, e, "POST", "/api/v1/tickets", tc.token, tc.body)
				if status != http.StatusCreated {
					t.Fatalf("status %d: %s", status, answer)
				}
				var created struct {
					Ref    string
					Events []json.RawMessage
				}
				if err := json.Unmarshal(answer, &created); err != nil {
					t.Fatal(err)
				}
				if len(created.Events) != tc.events {
					t.Errorf("%d events, want %d: %s", len(created.Events), tc.events, answer)
				}
				e.clock.Advance(time.Second) // nothing a GET shows may depend on when it reads
				status, got := raw(t, e, "GET", "/api/v1/tickets/"+created.Ref, tc.token, nil)
				if status != http.StatusOK {
					t.Fatalf("GET status %d: %s", status, got)
				}
				sameJSON(t, "POST /api/v1/tickets", answer, got)
			})
		}
	})
}

// A change answers with what it wrote too: a reply's or a note's 201 is that message as a
// GET of the ticket then lists it, and a change of status, assignment, priority or
// category answers with exactly the ticket a GET then reads.
func TestChangeAnswersAreWhatGetReads(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ref := e.intake(t, tickets.Inbound{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: "13900000001", Name: "Chen Jie",
			Body: "My claim is stuck", ProviderMessageID: "SM1",
			Attachments: []tickets.NewAttachment{{Filename: "photo.jpg", ContentType: "image/jpeg", SizeBytes: 1234, URL: "https://files.example/photo.jpg"}}}).Ref()
		get := func(t *testing.T) []byte {
			t.Helper()
			e.clock.Advance(time.Second)
			status, got := raw(t, e, "GET", "/api/v1/tickets/"+ref, e.tok["sup1"], nil)
			if status != http.StatusOK {
				t.Fatalf("GET status %d: %s", status, got)
			}
			return got
		}
		lastMessage := func(t *testing.T, detail []byte) []byte {
			t.Helper()
			var d struct{ Messages []json.RawMessage }
			if err := json.Unmarshal(detail, &d); err != nil || len(d.Messages) == 0 {
				t.Fatalf("no messages in %s (%v)", detail, err)
			}
			return d.Messages[len(d.Messages)-1]
		}
		steps := []struct {
			name, who, action string
			body              any
			want              int
		}{
			{"take it", "agent1", "assign", map[string]any{"assignee_id": e.id("agent1")}, 200},
			{"reply", "agent1", "replies", map[string]string{"body": "We are on it: call 13800138000"}, 201},
			{"note", "agent1", "notes", map[string]string{"body": "Called the garage"}, 201},
			{"priority", "agent1", "priority", map[string]string{"priority": "urgent", "reason": "hospital"}, 200},
			{"category", "agent1", "category", map[string]string{"category": "claims"}, 200},
			{"pending", "agent1", "status", map[string]string{"status": "pending", "reason": "waiting for the invoice"}, 200},
			{"reply and resolve", "agent1", "replies", map[string]string{"body": "Paid", "status": "resolved"}, 201},
			{"move to another team by a supervisor", "sup1", "assign", map[string]any{"team_id": e.team("Billing")}, 200},
			{"reopen", "sup2", "status", map[string]string{"status": "open"}, 200},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				e.clock.Advance(time.Minute)
				status, answer := raw(t, e, "POST", "/api/v1/tickets/"+ref+"/"+st.action, e.tok[st.who], st.body)
				if status != st.want {
					t.Fatalf("status %d, want %d: %s", status, st.want, answer)
				}
				got := get(t)
				if st.want == 201 {
					sameJSON(t, st.action, answer, lastMessage(t, got))
					return
				}
				sameJSON(t, st.action, answer, got)
			})
		}
	})
}
