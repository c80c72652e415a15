package webhooks_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/app/webhooks"
	"github.com/hotlinedesk/hotline/notifications"
	"github.com/hotlinedesk/hotline/notifications/slackfake"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

const slackSecret = "8f742231b10e8888abcd99yyyzzz85a5"

type slackDesk struct {
	svc                *tickets.Service
	app                *fiber.App
	chen               tickets.Actor
	liNa, zhang, wang  *tickets.Agent
	notice, announced  int64 // zhang's assignment notice; the urgent ticket's announcement
	urgent, unassigned *tickets.Ticket
}

func newSlackDesk(t *testing.T, db *bun.DB) *slackDesk {
	t.Helper()
	ctx := context.Background()
	svc := tickettest.Service(db, tickets.SystemClock{})
	admin, err := svc.CreateAgent(ctx, tickets.Actor{Kind: "system"}, tickets.NewAgent{Email: "admin@example.com", Role: tickets.RoleAdmin, Password: "long enough password"})
	if err != nil {
		t.Fatal(err)
	}
	adm := tickets.AgentActor(admin)
	claims, _ := svc.CreateTeam(ctx, adm, "Claims")
	complaints, _ := svc.CreateTeam(ctx, adm, "Complaints")
	mk := func(email string, role tickets.Role, team *tickets.Team) *tickets.Agent {
		a, err := svc.CreateAgent(ctx, adm, tickets.NewAgent{Email: email, Role: role, TeamID: &team.ID, Password: "long enough password"})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	d := &slackDesk{svc: svc}
	d.liNa, d.zhang = mk("li.na@example.com", tickets.RoleAgent, claims), mk("zhang.wei@example.com", tickets.RoleAgent, claims)
	d.chen = tickets.AgentActor(mk("chen@example.com", tickets.RoleSupervisor, claims))
	d.wang = mk("wang@example.com", tickets.RoleAgent, complaints)

	fake := slackfake.NewFakeSlack()
	t.Cleanup(fake.Close)
	fake.AddUser("U1", "li.na@example.com")
	fake.AddUser("U2", "Zhang.Wei@example.com")
	fake.AddUser("U3", "wang@example.com")
	fake.AddUser("U9", "visitor@example.com")
	client := notifications.NewSlack(notifications.SlackConfig{Token: "xoxb-test", APIURL: fake.URL()})
	log := slog.New(slog.DiscardHandler)
	d.app = api.New(api.Config{Service: svc, Log: log, Webhooks: []interface{ Register(*fiber.App) }{webhooks.NewSlack(svc, slackSecret, client, log)}})

	if _, err := svc.CollectAnnouncements(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: "+8613900139000", Body: "where is my claim?"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Assign(ctx, d.chen, res.Ticket.Ref(), tickets.Assignment{AssigneeID: &d.zhang.ID}); err != nil {
		t.Fatal(err)
	}
	if d.urgent, err = svc.CreateTicket(ctx, d.chen, tickets.NewTicket{Phone: "+8613800138000", Subject: "burst pipe", Priority: tickets.PriorityUrgent}); err != nil {
		t.Fatal(err)
	}
	res, err = svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: "+8613700137000", Body: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	d.unassigned = res.Ticket
	// Give the unassigned ticket to the Claims queue.
	if _, err := svc.Assign(ctx, d.chen, d.unassigned.Ref(), tickets.Assignment{TeamID: &claims.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CollectAnnouncements(ctx); err != nil {
		t.Fatal(err)
	}
	ps, err := svc.PendingNotices(ctx, 0)
	if err != nil || len(ps) != 2 {
		t.Fatalf("pending = %+v, %v", ps, err)
	}
	d.notice, d.announced = ps[0].ID, ps[1].ID
	return d
}

// payload is a block_actions interaction: Slack user clicks one button.
func payload(user, actionID, value string) string {
	b, _ := json.Marshal(map[string]any{
		"type": "block_actions", "user": map[string]any{"id": user, "username": "someone"},
		"team":    map[string]any{"id": "T1"},
		"actions": []map[string]any{{"type": "button", "action_id": actionID, "block_id": "hotline.actions", "value": value}},
	})
	return url.Values{"payload": {string(b)}}.Encode()
}

func slackSign(secret, ts, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:%s", ts, body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// send posts an interaction; sig "" signs it properly, "-" sends no signature headers.
func (d *slackDesk) send(t *testing.T, body string, at time.Time, sig string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/webhooks/slack/interactions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	ts := strconv.FormatInt(at.Unix(), 10)
	switch sig {
	case "":
		sig = slackSign(slackSecret, ts, body)
		fallthrough
	default:
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", sig)
	case "-":
	}
	res, err := d.app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode == 200 && len(b) > 0 {
		var r struct {
			Text         string `json:"text"`
			ResponseType string `json:"response_type"`
		}
		if err := json.Unmarshal(b, &r); err != nil || r.ResponseType != "ephemeral" {
			t.Errorf("answer %s is not an ephemeral message", b)
		}
		return res.StatusCode, r.Text
	}
	return res.StatusCode, string(b)
}

func (d *slackDesk) acknowledgedBy(t *testing.T, box tickets.Outbox, id int64) *int64 {
	t.Helper()
	r, err := d.svc.SlackDelivery(context.Background(), box, id)
	if err != nil {
		t.Fatal(err)
	}
	return r.AcknowledgedBy
}

func (d *slackDesk) assignee(t *testing.T, tk *tickets.Ticket) *int64 {
	t.Helper()
	td, err := d.svc.Ticket(context.Background(), tk.Ref())
	if err != nil {
		t.Fatal(err)
	}
	return td.AssigneeID
}

func TestSlackSignatures(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newSlackDesk(t, db)
		ack := payload("U2", notifications.ActionAcknowledge, notifications.AckValue(tickets.NoticeOutbox, d.notice))
		take := payload("U1", notifications.ActionTake, d.unassigned.Ref())
		now := time.Now()
		tests := []struct {
			name string
			body string
			at   time.Time
			sig  string
		}{
			{"stale: 6 minutes old", ack, now.Add(-6 * time.Minute), ""},
			{"from the future", ack, now.Add(6 * time.Minute), ""},
			{"forged", ack, now, slackSign("not-the-secret", strconv.FormatInt(now.Unix(), 10), ack)},
			{"signed over another body", take, now, slackSign(slackSecret, strconv.FormatInt(now.Unix(), 10), ack)},
			{"not hex", ack, now, "v0=zz"},
			{"no signature headers", take, now, "-"},
		}
		for _, tc := range tests {
			status, body := d.send(t, tc.body, tc.at, tc.sig)
			if status != 403 {
				t.Errorf("%s: %d %s, want 403", tc.name, status, body)
			}
		}
		if by := d.acknowledgedBy(t, tickets.NoticeOutbox, d.notice); by != nil {
			t.Error("a refused request acknowledged the notice")
		}
		if a := d.assignee(t, d.unassigned); a != nil {
			t.Error("a refused request assigned the ticket")
		}
		// The same request signed properly, 4 minutes old, is accepted.
		if status, text := d.send(t, ack, now.Add(-4*time.Minute), ""); status != 200 || !strings.Contains(text, "Acknowledged") {
			t.Errorf("valid: %d %q", status, text)
		}
	})
}

func TestSlackNoSecretRefusesAll(t *testing.T) {
	db := tickettest.SQLite(t)
	svc := tickettest.Service(db, tickets.SystemClock{})
	log := slog.New(slog.DiscardHandler)
	app := api.New(api.Config{Service: svc, Log: log, Webhooks: []interface{ Register(*fiber.App) }{webhooks.NewSlack(svc, "", nil, log)}})
	body := payload("U1", notifications.ActionTake, "HL-000001")
	req := httptest.NewRequest(http.MethodPost, "/webhooks/slack/interactions", strings.NewReader(body))
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", slackSign("", ts, body))
	res, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 403 {
		t.Errorf("no signing secret: %d, want 403", res.StatusCode)
	}
}

func TestSlackActions(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newSlackDesk(t, db)
		now := time.Now()
		notice := notifications.AckValue(tickets.NoticeOutbox, d.notice)
		announced := notifications.AckValue(tickets.AnnouncementOutbox, d.announced)
		tests := []struct {
			name     string
			body     string
			status   int
			text     string
			check    func(t *testing.T)
			noChange bool
		}{
			{name: "someone else acknowledges zhang's notice", body: payload("U1", notifications.ActionAcknowledge, notice), status: 200,
				text: "Refused: this notice was for someone else"},
			{name: "zhang acknowledges his notice", body: payload("U2", notifications.ActionAcknowledge, notice), status: 200, text: "Acknowledged",
				check: func(t *testing.T) {
					if by := d.acknowledgedBy(t, tickets.NoticeOutbox, d.notice); by == nil || *by != d.zhang.ID {
						t.Errorf("acknowledged by %v, want zhang", by)
					}
				}},
			{name: "and again", body: payload("U2", notifications.ActionAcknowledge, notice), status: 200, text: "Already acknowledged by zhang.wei@example.com"},
			{name: "wang acknowledges the team announcement", body: payload("U3", notifications.ActionAcknowledge, announced), status: 200, text: "Acknowledged",
				check: func(t *testing.T) {
					if by := d.acknowledgedBy(t, tickets.AnnouncementOutbox, d.announced); by == nil || *by != d.wang.ID {
						t.Errorf("acknowledged by %v, want wang", by)
					}
				}},
			{name: "wang (Complaints) may not take a Claims ticket", body: payload("U3", notifications.ActionTake, d.unassigned.Ref()), status: 200,
				text: "Refused: only the assignee, their supervisor or an admin can change " + d.unassigned.Ref(),
				check: func(t *testing.T) {
					if a := d.assignee(t, d.unassigned); a != nil {
						t.Errorf("assigned to %d after a refusal", *a)
					}
				}},
			{name: "li.na takes it", body: payload("U1", notifications.ActionTake, d.unassigned.Ref()), status: 200, text: d.unassigned.Ref() + " is yours now",
				check: func(t *testing.T) {
					if a := d.assignee(t, d.unassigned); a == nil || *a != d.liNa.ID {
						t.Errorf("assignee %v, want li.na", a)
					}
					td, _ := d.svc.Ticket(context.Background(), d.unassigned.Ref())
					last := td.Events[len(td.Events)-1]
					if last.Kind != "ticket.assigned" || last.Actor != "li.na@example.com" || !strings.Contains(last.Data, "taken in Slack") {
						t.Errorf("last event %+v", last)
					}
				}},
			{name: "li.na takes it again", body: payload("U1", notifications.ActionTake, d.unassigned.Ref()), status: 200, text: "already yours"},
			{name: "zhang may not take li.na's ticket", body: payload("U2", notifications.ActionTake, d.unassigned.Ref()), status: 200, text: "Refused:",
				check: func(t *testing.T) {
					if a := d.assignee(t, d.unassigned); a == nil || *a != d.liNa.ID {
						t.Errorf("assignee %v, want li.na still", a)
					}
				}},
			{name: "no such ticket", body: payload("U1", notifications.ActionTake, "HL-999999"), status: 200, text: "Refused: ticket HL-999999 not found"},
			{name: "not a notice", body: payload("U1", notifications.ActionAcknowledge, "bogus"), status: 200, text: "Refused:"},
			{name: "a Slack user who is not an agent", body: payload("U9", notifications.ActionTake, d.urgent.Ref()), status: 200, text: "No Hotline agent has the address visitor@example.com"},
			{name: "a Slack user Slack does not know", body: payload("U404", notifications.ActionTake, d.urgent.Ref()), status: 200, text: "nothing was done"},
			{name: "no payload", body: "foo=bar", status: 400, text: "no payload"},
			{name: "payload not JSON", body: url.Values{"payload": {"{"}}.Encode(), status: 400, text: "not Slack's interaction JSON"},
			{name: "another interaction type", body: url.Values{"payload": {`{"type":"view_closed","user":{"id":"U1"}}`}}.Encode(), status: 200},
		}
		for _, tc := range tests {
			status, text := d.send(t, tc.body, now, "")
			if status != tc.status || !strings.Contains(text, tc.text) {
				t.Errorf("%s: %d %q, want %d with %q", tc.name, status, text, tc.status, tc.text)
			}
			if tc.check != nil {
				tc.check(t)
			}
		}
	})
}
