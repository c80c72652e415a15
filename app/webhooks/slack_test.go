package webhooks_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/slack-go/slack"
	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/app/webhooks"
	"github.com/hotlinedesk/hotline/notifications"
	"github.com/hotlinedesk/hotline/notifications/slackfake"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/outbox"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

const slackSecret = "8f742231b10e8888abcd99yyyzzz85a5"

type slackDesk struct {
	svc                *tickets.Service
	box                *outbox.Service
	app                *fiber.App
	chen               tickets.Actor
	liNa, zhang, wang  *tickets.Agent
	notice, announced  int64 // zhang's assignment notice; the urgent ticket's announcement
	urgent, unassigned *tickets.Ticket
	fake               *slackfake.FakeSlack
	postTS             string // the posted message the clicks come from, in channel C1
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
	d := &slackDesk{svc: svc, box: outbox.New(svc)}
	d.liNa, d.zhang = mk("li.na@example.com", tickets.RoleAgent, claims), mk("zhang.wei@example.com", tickets.RoleAgent, claims)
	d.chen = tickets.AgentActor(mk("chen@example.com", tickets.RoleSupervisor, claims))
	d.wang = mk("wang@example.com", tickets.RoleAgent, complaints)

	fake := slackfake.NewFakeSlack()
	t.Cleanup(fake.Close)
	fake.AddUser("U1", "li.na@example.com")
	fake.AddUser("U2", "Zhang.Wei@example.com")
	fake.AddUser("U3", "wang@example.com")
	fake.AddUser("U9", "visitor@example.com")
	fake.AddUser("U4", "chen@example.com")
	fake.AddUser("U5", "admin@example.com")
	fake.AddChannel("C1")
	d.fake = fake
	client := notifications.NewSlack(notifications.SlackConfig{Token: "xoxb-test", APIURL: fake.URL()})
	log := tickettest.Logger()
	d.app = api.New(api.Config{Service: svc, Log: log, Webhooks: []interface{ Register(*fiber.App) }{webhooks.NewSlack(svc, d.box, slackSecret, client, log)}})

	if _, err := d.box.CollectAnnouncements(ctx); err != nil {
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
	if _, err := d.box.CollectAnnouncements(ctx); err != nil {
		t.Fatal(err)
	}
	ps, err := d.box.PendingNotices(ctx, 0)
	if err != nil || len(ps) != 2 {
		t.Fatalf("pending = %+v, %v", ps, err)
	}
	d.notice, d.announced = ps[0].ID, ps[1].ID
	if d.postTS, err = client.Post(ctx, "C1", notifications.Message{Text: "New urgent ticket", TicketRef: d.unassigned.Ref(),
		AckValue: notifications.AckValue(outbox.Announcements, d.announced), Take: true}); err != nil {
		t.Fatal(err)
	}
	return d
}

// payload is a block_actions interaction as Slack sends it for a click on the posted
// message: with the message, its container and a response_url of its own.
func (d *slackDesk) payload(t *testing.T, user, actionID, value string) (body, responseURL string) {
	t.Helper()
	post := d.post(t)
	responseURL = d.fake.ResponseURL("C1", d.postTS)
	b, err := json.Marshal(map[string]any{
		"type": "block_actions", "user": map[string]any{"id": user, "username": "someone"},
		"team":         map[string]any{"id": "T1"},
		"channel":      map[string]any{"id": "C1"},
		"container":    map[string]any{"type": "message", "message_ts": d.postTS, "channel_id": "C1"},
		"message":      map[string]any{"type": "message", "ts": d.postTS, "text": post.Text, "blocks": post.Blocks.BlockSet},
		"response_url": responseURL,
		"actions":      []map[string]any{{"type": "button", "action_id": actionID, "block_id": "hotline.actions", "value": value}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return url.Values{"payload": {string(b)}}.Encode(), responseURL
}

// post is the clicked message as the channel sees it now.
func (d *slackDesk) post(t *testing.T) slackfake.FakePost {
	t.Helper()
	for _, p := range d.fake.Posts() {
		if p.Channel == "C1" && p.TS == d.postTS {
			return p
		}
	}
	t.Fatalf("no post %s in C1", d.postTS)
	return slackfake.FakePost{}
}

// hasButtons reports whether a message still offers Hotline's buttons.
func hasButtons(p slackfake.FakePost) bool {
	for _, b := range p.Blocks.BlockSet {
		if b.BlockType() == slack.MBTAction {
			return true
		}
	}
	return false
}

// told waits for what Slack was told through a response_url after a click.
func (d *slackDesk) told(t *testing.T, responseURL string) (slackfake.FakeResponse, bool) {
	t.Helper()
	rs := d.fake.AwaitResponses(responseURL, 1, 5*time.Second)
	if len(rs) == 0 {
		return slackfake.FakeResponse{}, false
	}
	return rs[0], true
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
		// Slack ignores the body of the answer to a click: feedback goes to response_url.
		t.Errorf("answer to a click has a body Slack ignores: %s", b)
	}
	return res.StatusCode, string(b)
}

func (d *slackDesk) acknowledgedBy(t *testing.T, box outbox.Box, id int64) *int64 {
	t.Helper()
	r, err := d.box.SlackDelivery(context.Background(), box, id)
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
		ack := payload("U2", notifications.ActionAcknowledge, notifications.AckValue(outbox.Notices, d.notice))
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
		if by := d.acknowledgedBy(t, outbox.Notices, d.notice); by != nil {
			t.Error("a refused request acknowledged the notice")
		}
		if a := d.assignee(t, d.unassigned); a != nil {
			t.Error("a refused request assigned the ticket")
		}
		// The same request signed properly, 4 minutes old, is accepted.
		valid, hook := d.payload(t, "U2", notifications.ActionAcknowledge, notifications.AckValue(outbox.Notices, d.notice))
		if status, _ := d.send(t, valid, now.Add(-4*time.Minute), ""); status != 200 {
			t.Errorf("valid: %d", status)
		}
		if r, ok := d.told(t, hook); !ok || !strings.Contains(r.Text, "Acknowledged") {
			t.Errorf("valid: told %+v (%v)", r, ok)
		}
	})
}

func TestSlackNoSecretRefusesAll(t *testing.T) {
	db := tickettest.SQLite(t)
	svc := tickettest.Service(db, tickets.SystemClock{})
	log := tickettest.Logger()
	app := api.New(api.Config{Service: svc, Log: log, Webhooks: []interface{ Register(*fiber.App) }{webhooks.NewSlack(svc, outbox.New(svc), "", nil, log)}})
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

// Each click is answered 200 at once with no body (Slack ignores it); what it did is told
// through the interaction's response_url: a change rewrites the message for the whole
// channel ("taken by …", buttons removed), a refusal is told to the clicker alone.
func TestSlackActions(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newSlackDesk(t, db)
		now := time.Now()
		notice := notifications.AckValue(outbox.Notices, d.notice)
		announced := notifications.AckValue(outbox.Announcements, d.announced)
		type click struct{ user, action, value string }
		tests := []struct {
			name   string
			click  click  // a click on the posted message, or
			raw    string // a raw body
			status int
			text   string // what Slack is told (raw: the answer's body)
			public bool   // told to the whole channel, replacing the message and its buttons
			check  func(t *testing.T)
		}{
			{name: "someone else acknowledges zhang's notice", click: click{"U1", notifications.ActionAcknowledge, notice}, status: 200,
				text: "Refused: this notice was for someone else"},
			{name: "zhang acknowledges his notice", click: click{"U2", notifications.ActionAcknowledge, notice}, status: 200, text: "Acknowledged by zhang.wei@example.com at <!date^", public: true,
				check: func(t *testing.T) {
					if by := d.acknowledgedBy(t, outbox.Notices, d.notice); by == nil || *by != d.zhang.ID {
						t.Errorf("acknowledged by %v, want zhang", by)
					}
				}},
			{name: "and again", click: click{"U2", notifications.ActionAcknowledge, notice}, status: 200, text: "Already acknowledged by zhang.wei@example.com"},
			{name: "wang acknowledges the team announcement", click: click{"U3", notifications.ActionAcknowledge, announced}, status: 200, text: "Acknowledged by wang@example.com", public: true,
				check: func(t *testing.T) {
					if by := d.acknowledgedBy(t, outbox.Announcements, d.announced); by == nil || *by != d.wang.ID {
						t.Errorf("acknowledged by %v, want wang", by)
					}
				}},
			{name: "wang (Complaints) may not take a Claims ticket", click: click{"U3", notifications.ActionTake, d.unassigned.Ref()}, status: 200,
				text: "Refused: only the assignee, their supervisor or an admin can change " + d.unassigned.Ref(),
				check: func(t *testing.T) {
					if a := d.assignee(t, d.unassigned); a != nil {
						t.Errorf("assigned to %d after a refusal", *a)
					}
				}},
			{name: "li.na takes it", click: click{"U1", notifications.ActionTake, d.unassigned.Ref()}, status: 200, text: d.unassigned.Ref() + " taken by li.na@example.com at <!date^", public: true,
				check: func(t *testing.T) {
					if a := d.assignee(t, d.unassigned); a == nil || *a != d.liNa.ID {
						t.Errorf("assignee %v, want li.na", a)
					}
					td, _ := d.svc.Ticket(context.Background(), d.unassigned.Ref())
					last := td.Events[len(td.Events)-1]
					if last.Kind != "ticket.assigned" || last.Actor != "li.na@example.com" || !strings.Contains(last.Data, "taken in Slack") {
						t.Errorf("last event %+v", last)
					}
					// The time is the assignment's, shown in each reader's zone (UTC fallback).
					if p := d.post(t); !strings.Contains(slackText(p), last.CreatedAt.UTC().Format("15:04 UTC")) {
						t.Errorf("the channel's message does not say when: %s", slackText(p))
					}
				}},
			{name: "li.na takes it again", click: click{"U1", notifications.ActionTake, d.unassigned.Ref()}, status: 200, text: "already yours"},
			{name: "zhang may not take li.na's ticket", click: click{"U2", notifications.ActionTake, d.unassigned.Ref()}, status: 200, text: "Refused:",
				check: func(t *testing.T) {
					if a := d.assignee(t, d.unassigned); a == nil || *a != d.liNa.ID {
						t.Errorf("assignee %v, want li.na still", a)
					}
				}},
			{name: "no such ticket", click: click{"U1", notifications.ActionTake, "HL-999999"}, status: 200, text: "Refused: ticket HL-999999 not found"},
			{name: "not a notice", click: click{"U1", notifications.ActionAcknowledge, "bogus"}, status: 200, text: "Refused:"},
			{name: "a Slack user who is not an agent", click: click{"U9", notifications.ActionTake, d.urgent.Ref()}, status: 200, text: "No Hotline agent has the address visitor@example.com"},
			{name: "a Slack user Slack does not know", click: click{"U404", notifications.ActionTake, d.urgent.Ref()}, status: 200, text: "nothing was done"},
			{name: "no payload", raw: "foo=bar", status: 400, text: "no payload"},
			{name: "payload not JSON", raw: url.Values{"payload": {"{"}}.Encode(), status: 400, text: "not Slack's interaction JSON"},
			{name: "another interaction type", raw: url.Values{"payload": {`{"type":"view_closed","user":{"id":"U1"}}`}}.Encode(), status: 200},
		}
		for _, tc := range tests {
			before := d.post(t)
			if tc.raw != "" {
				status, text := d.send(t, tc.raw, now, "")
				if status != tc.status || !strings.Contains(text, tc.text) {
					t.Errorf("%s: %d %q, want %d with %q", tc.name, status, text, tc.status, tc.text)
				}
				continue
			}
			body, hook := d.payload(t, tc.click.user, tc.click.action, tc.click.value)
			if status, _ := d.send(t, body, now, ""); status != tc.status {
				t.Errorf("%s: %d, want %d", tc.name, status, tc.status)
			}
			r, ok := d.told(t, hook)
			switch {
			case !ok:
				t.Errorf("%s: the clicker was told nothing", tc.name)
			case tc.public && (r.ResponseType == "ephemeral" || !r.ReplaceOriginal):
				t.Errorf("%s: told %+v, want the message replaced for the channel", tc.name, r)
			case !tc.public && (r.ResponseType != "ephemeral" || r.ReplaceOriginal):
				t.Errorf("%s: told %+v, want the clicker alone told", tc.name, r)
			case !strings.Contains(r.Text, tc.text):
				t.Errorf("%s: told %q, want %q", tc.name, r.Text, tc.text)
			}
			after := d.post(t)
			if tc.public {
				if hasButtons(after) || after.Edits != before.Edits+1 || !strings.Contains(slackText(after), tc.text) || !strings.Contains(slackText(after), "New urgent ticket") {
					t.Errorf("%s: the channel sees %q (buttons %v, edits %d)", tc.name, slackText(after), hasButtons(after), after.Edits)
				}
			} else if after.Edits != before.Edits {
				t.Errorf("%s: a private answer changed the channel's message: %q", tc.name, slackText(after))
			}
			if tc.check != nil {
				tc.check(t)
			}
		}
	})
}

// slackText is a message's text as its readers see it: its blocks' texts, in order.
func slackText(p slackfake.FakePost) string {
	var out []string
	for _, b := range p.Blocks.BlockSet {
		switch b := b.(type) {
		case *slack.SectionBlock:
			if b.Text != nil {
				out = append(out, b.Text.Text)
			}
		case *slack.ContextBlock:
			for _, e := range b.ContextElements.Elements {
				if t, ok := e.(*slack.TextBlockObject); ok {
					out = append(out, t.Text)
				}
			}
		}
	}
	return strings.Join(out, "\n")
}

// The click is answered (200, within Slack's 3 s) once its change is committed, whatever
// Slack's response_url does meanwhile; the channel's message is rewritten when Slack takes
// the post. Without a response_url the message is rewritten with chat.update.
func TestSlackFeedbackAfterCommit(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newSlackDesk(t, db)
		tests := []struct {
			name        string
			user        string
			ack         string
			noHook      bool // the payload has no response_url
			slowHook    bool // Slack's response_url takes its time
			wantUpdates int  // chat.update calls
		}{
			{name: "response_url slow", user: "U3", ack: notifications.AckValue(outbox.Announcements, d.announced), slowHook: true},
			{name: "no response_url: chat.update", user: "U2", ack: notifications.AckValue(outbox.Notices, d.notice), noHook: true, wantUpdates: 1},
		}
		for _, tc := range tests {
			edits := d.post(t).Edits
			updates := d.fake.Calls("chat.update")
			ack := tc.ack
			body, hook := d.payload(t, tc.user, notifications.ActionAcknowledge, ack)
			if tc.noHook {
				body = strings.Replace(body, url.QueryEscape(`"response_url":"`+hook+`",`), "", 1)
				if strings.Contains(body, "response_url") {
					t.Fatalf("%s: payload still has a response_url", tc.name)
				}
			}
			release := func() {}
			if tc.slowHook {
				release = d.fake.HoldResponses()
			}
			start := time.Now()
			status, _ := d.send(t, body, time.Now(), "")
			took := time.Since(start)
			if status != 200 || took > 3*time.Second {
				t.Errorf("%s: answered %d after %v, want 200 within Slack's 3 s", tc.name, status, took)
			}
			// Committed before the answer, whatever Slack does.
			box, id, _ := notifications.ParseAckValue(ack)
			if by := d.acknowledgedBy(t, box, id); by == nil {
				t.Errorf("%s: not acknowledged when the click was answered", tc.name)
			}
			release()
			p, ok := d.fake.AwaitEdit("C1", d.postTS, edits+1, 5*time.Second)
			if !ok || hasButtons(p) || !strings.Contains(slackText(p), "Acknowledged by") {
				t.Errorf("%s: the channel sees %q (buttons %v, rewritten %v)", tc.name, slackText(p), hasButtons(p), ok)
			}
			if got := d.fake.Calls("chat.update") - updates; got != tc.wantUpdates {
				t.Errorf("%s: %d chat.update calls, want %d", tc.name, got, tc.wantUpdates)
			}
		}
	})
}

// "Take it" takes a ticket once: when several people click it at once (a supervisor and
// an admin may reassign, so only the database can say who was first), one takes it and
// the channel is told once; the others are told, alone, that it is already taken. A
// supervisor clicking after someone took it does not take it from them.
func TestSlackTakeItOnce(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newSlackDesk(t, db)
		clickers := []string{"U1", "U4", "U5"} // li.na (agent), chen (supervisor), admin
		type click struct{ hook, body string }
		clicks := make([]click, len(clickers))
		for i, u := range clickers {
			clicks[i].body, clicks[i].hook = d.payload(t, u, notifications.ActionTake, d.unassigned.Ref())
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		status := make([]int, len(clicks))
		for i := range clicks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				status[i], _ = d.send(t, clicks[i].body, time.Now(), "")
			}()
		}
		close(start)
		wg.Wait()
		taken, refused := 0, 0
		for i, c := range clicks {
			r, ok := d.told(t, c.hook)
			switch {
			case status[i] != 200 || !ok:
				t.Errorf("click %d: %d, told %v", i, status[i], ok)
			case r.ReplaceOriginal && strings.Contains(r.Text, "taken by"):
				taken++
			case r.ResponseType == "ephemeral" && strings.Contains(r.Text, "Refused:"):
				refused++
			default:
				t.Errorf("click %d told %+v", i, r)
			}
		}
		if taken != 1 || refused != len(clicks)-1 {
			t.Errorf("%d took it and %d were refused, want 1 and %d", taken, refused, len(clicks)-1)
		}
		td, err := d.svc.Ticket(context.Background(), d.unassigned.Ref())
		if err != nil {
			t.Fatal(err)
		}
		assigned := 0
		for _, ev := range td.Events {
			if ev.Kind == "ticket.assigned" && strings.Contains(ev.Data, "taken in Slack") {
				assigned++
			}
		}
		if assigned != 1 || d.post(t).Edits != 1 {
			t.Errorf("%d assignments recorded and the message rewritten %d times, want 1 and 1", assigned, d.post(t).Edits)
		}
		// Afterwards, a supervisor's or admin's click is refused and the holder keeps it.
		holder := d.assignee(t, d.unassigned)
		late := "U4" // chen, unless he holds it: then the admin
		if holder != nil && *holder == d.chen.Agent.ID {
			late = "U5"
		}
		body, hook := d.payload(t, late, notifications.ActionTake, d.unassigned.Ref())
		d.send(t, body, time.Now(), "")
		if r, ok := d.told(t, hook); !ok || r.ResponseType != "ephemeral" || !strings.Contains(r.Text, "Refused:") {
			t.Errorf("late supervisor told %+v (%v)", r, ok)
		}
		if now := d.assignee(t, d.unassigned); now == nil || holder == nil || *now != *holder {
			t.Errorf("assignee %v after the late click, want %v", now, holder)
		}
	})
}
