package notifications_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/hotlinedesk/hotline/notifications"
	"github.com/hotlinedesk/hotline/notifications/slackfake"
	"github.com/hotlinedesk/hotline/tickets/outbox"
)

func newSlack(t *testing.T) (*notifications.Slack, *slackfake.FakeSlack) {
	t.Helper()
	fake := slackfake.NewFakeSlack()
	t.Cleanup(fake.Close)
	fake.AddUser("U1", "li.na@example.com")
	fake.AddChannel("C0123")
	s := notifications.NewSlack(notifications.SlackConfig{
		Token: "xoxb-test", APIURL: strings.TrimSuffix(fake.URL(), "/"), PublicBaseURL: "https://desk.example.com/",
		TeamChannels: map[string]string{"Claims": "C0123", "7": "C0777"},
	})
	return s, fake
}

func TestParseTeamChannels(t *testing.T) {
	tests := []struct {
		in      string
		want    map[string]string
		wantErr bool
	}{
		{"", map[string]string{}, false},
		{"Claims=C0123, Complaints=C0456 ,", map[string]string{"Claims": "C0123", "Complaints": "C0456"}, false},
		{"3=C0789", map[string]string{"3": "C0789"}, false},
		{"Claims", nil, true},
		{"=C01", nil, true},
		{"Claims=", nil, true},
	}
	for _, tc := range tests {
		got, err := notifications.ParseTeamChannels(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("%q: err = %v", tc.in, err)
			continue
		}
		if !tc.wantErr && (len(got) != len(tc.want) || func() bool {
			for k, v := range tc.want {
				if got[k] != v {
					return true
				}
			}
			return false
		}()) {
			t.Errorf("%q = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestTeamChannel(t *testing.T) {
	s, _ := newSlack(t)
	seven, eight := int64(7), int64(8)
	tests := []struct {
		id   *int64
		name string
		want string
		ok   bool
	}{
		{nil, "Claims", "C0123", true},
		{nil, "claims", "C0123", true},
		{&seven, "Renamed", "C0777", true},
		{&eight, "Sales", "", false},
		{nil, "", "", false},
	}
	for _, tc := range tests {
		got, ok := s.TeamChannel(tc.id, tc.name)
		if got != tc.want || ok != tc.ok {
			t.Errorf("TeamChannel(%v, %q) = %q, %v", tc.id, tc.name, got, ok)
		}
	}
}

func TestAckValue(t *testing.T) {
	for _, tc := range []struct {
		box outbox.Box
		id  int64
	}{{outbox.Notices, 12}, {outbox.Announcements, 5}} {
		box, id, ok := notifications.ParseAckValue(notifications.AckValue(tc.box, tc.id))
		if !ok || box != tc.box || id != tc.id {
			t.Errorf("round trip of %s %d = %s %d %v", tc.box, tc.id, box, id, ok)
		}
	}
	for _, bad := range []string{"", "notice", "notice:x", "notice:-1", "ticket:3", "HL-000001"} {
		if _, _, ok := notifications.ParseAckValue(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

// buttons returns the posted message's section text and its buttons (action id → value).
func parts(t *testing.T, p slackfake.FakePost) (string, []string, map[string]string) {
	t.Helper()
	var section string
	var context []string
	buttons := map[string]string{}
	for _, b := range p.Blocks.BlockSet {
		switch b := b.(type) {
		case *slack.SectionBlock:
			section = b.Text.Text
		case *slack.ContextBlock:
			for _, e := range b.ContextElements.Elements {
				if o, ok := e.(*slack.TextBlockObject); ok {
					context = append(context, o.Text)
				}
			}
		case *slack.ActionBlock:
			for _, e := range b.Elements.ElementSet {
				if btn, ok := e.(*slack.ButtonBlockElement); ok {
					buttons[btn.ActionID] = btn.Value
					if btn.Text.Text != map[string]string{notifications.ActionAcknowledge: "Acknowledge", notifications.ActionTake: "Take it"}[btn.ActionID] {
						t.Errorf("button %s says %q", btn.ActionID, btn.Text.Text)
					}
				}
			}
		}
	}
	return section, context, buttons
}

func TestPostAndDM(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name        string
		dm          string // an email: direct message; else post to channel
		channel     string
		msg         notifications.Message
		wantChannel string
		wantCode    string
		wantText    []string
		wantButtons map[string]string
	}{
		{
			name: "team channel, with both buttons", channel: "C0123",
			msg:         notifications.Message{Text: "紧急工单 Urgent ticket HL-000123: burst pipe <script>", TicketRef: "HL-000123", Details: "优先级 Priority: urgent", AckValue: "announcement:5", Take: true},
			wantChannel: "C0123",
			wantText:    []string{"紧急工单 Urgent ticket HL-000123: burst pipe &lt;script&gt;", "<https://desk.example.com/tickets/HL-000123|HL-000123 打开工单 Open ticket>"},
			wantButtons: map[string]string{notifications.ActionAcknowledge: "announcement:5", notifications.ActionTake: "HL-000123"},
		},
		{
			name: "direct message by email, acknowledge only", dm: "Li.Na@example.com",
			msg:         notifications.Message{Text: "HL-000007 is yours now", TicketRef: "HL-000007", AckValue: "notice:9"},
			wantChannel: "DU1",
			wantText:    []string{"HL-000007 is yours now", "https://desk.example.com/tickets/HL-000007"},
			wantButtons: map[string]string{notifications.ActionAcknowledge: "notice:9"},
		},
		{
			name: "complaint notice without a ticket", dm: "li.na@example.com",
			msg:         notifications.Message{Text: "Complaint CP-000042 is yours", Complaint: "CP-000042", AckValue: "notice:10"},
			wantChannel: "DU1", wantText: []string{"Complaint CP-000042 is yours"},
			wantButtons: map[string]string{notifications.ActionAcknowledge: "notice:10"},
		},
		{
			name: "customers' numbers masked", channel: "C0123",
			msg:         notifications.Message{Text: "紧急工单 Urgent ticket HL-000124: 客户 13800138000 身份证 310101199001011234", TicketRef: "HL-000124", Details: "邮箱 zhang.wei@example.com"},
			wantChannel: "C0123",
			wantText:    []string{"客户 138****8000 身份证 3101**********1234", "HL-000124"},
		},
		{name: "unknown agent", dm: "nobody@example.com", msg: notifications.Message{Text: "x"}, wantCode: "users_not_found"},
		{name: "unknown channel", channel: "C0999", msg: notifications.Message{Text: "x"}, wantCode: "channel_not_found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, fake := newSlack(t)
			var channel, ts string
			var err error
			if tc.dm != "" {
				channel, ts, err = s.DM(ctx, tc.dm, tc.msg)
			} else {
				channel = tc.channel
				ts, err = s.Post(ctx, tc.channel, tc.msg)
			}
			if tc.wantCode != "" {
				if notifications.SlackCode(err) != tc.wantCode {
					t.Fatalf("err = %v, want %s", err, tc.wantCode)
				}
				if kind, _ := notifications.Classify(err); kind != notifications.Permanent {
					t.Errorf("%s classified as retry", tc.wantCode)
				}
				if n := len(fake.Posts()); n != 0 {
					t.Errorf("%d posts", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			posts := fake.Posts()
			if len(posts) != 1 {
				t.Fatalf("%d posts", len(posts))
			}
			p := posts[0]
			if p.Channel != tc.wantChannel || channel != tc.wantChannel || ts != p.TS || ts == "" {
				t.Errorf("posted to %s (returned %s, ts %q/%q), want %s", p.Channel, channel, ts, p.TS, tc.wantChannel)
			}
			section, _, buttons := parts(t, p)
			for _, w := range tc.wantText {
				if !strings.Contains(section, w) {
					t.Errorf("section %q lacks %q", section, w)
				}
			}
			if len(buttons) != len(tc.wantButtons) {
				t.Errorf("buttons = %v, want %v", buttons, tc.wantButtons)
			}
			for id, v := range tc.wantButtons {
				if buttons[id] != v {
					t.Errorf("button %s = %q, want %q", id, buttons[id], v)
				}
			}
			if p.Text == "" {
				t.Error("no fallback text")
			}
			for _, raw := range []string{"13800138000", "310101199001011234", "zhang.wei"} {
				if all := p.Text + section + fmt.Sprint(p.Blocks); strings.Contains(all, raw) {
					t.Errorf("Slack was sent %q in full", raw)
				}
			}
		})
	}
}

func TestLookupsAreCached(t *testing.T) {
	ctx := context.Background()
	s, fake := newSlack(t)
	for range 3 {
		if _, _, err := s.DM(ctx, "li.na@example.com", notifications.Message{Text: "hello"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := fake.Calls("users.lookupByEmail"); n != 1 {
		t.Errorf("users.lookupByEmail called %d times, want 1", n)
	}
	if n := fake.Calls("conversations.open"); n != 1 {
		t.Errorf("conversations.open called %d times, want 1", n)
	}
	// The email of a user found by email is known; another user's is asked once.
	if email, err := s.UserEmail(ctx, "U1"); err != nil || email != "li.na@example.com" {
		t.Errorf("UserEmail(U1) = %q, %v", email, err)
	}
	fake.AddUser("U2", "Wang@Example.com")
	for range 2 {
		if email, err := s.UserEmail(ctx, "U2"); err != nil || email != "wang@example.com" {
			t.Errorf("UserEmail(U2) = %q, %v", email, err)
		}
	}
	if n := fake.Calls("users.info"); n != 1 {
		t.Errorf("users.info called %d times, want 1", n)
	}
	if _, err := s.UserEmail(ctx, "U404"); notifications.SlackCode(err) != "user_not_found" {
		t.Errorf("unknown user: %v", err)
	}
}

func TestErrorsClassified(t *testing.T) {
	ctx := context.Background()
	s, fake := newSlack(t)
	fake.Fail("chat.postMessage", "ratelimited")
	_, err := s.Post(ctx, "C0123", notifications.Message{Text: "x"})
	if kind, wait := notifications.Classify(err); kind != notifications.Retry || wait <= 0 {
		t.Errorf("rate limit: %v classified %v, %v", err, kind, wait)
	}
	fake.Fail("chat.postMessage", "internal_error")
	_, err = s.Post(ctx, "C0123", notifications.Message{Text: "x"})
	if kind, _ := notifications.Classify(err); kind != notifications.Retry {
		t.Errorf("internal_error: %v classified permanent", err)
	}
	down := notifications.NewSlack(notifications.SlackConfig{Token: "xoxb-test", APIURL: "http://127.0.0.1:1/"})
	_, err = down.Post(ctx, "C0123", notifications.Message{Text: "x"})
	if kind, _ := notifications.Classify(err); err == nil || kind != notifications.Retry {
		t.Errorf("network: %v classified permanent", err)
	}
}

func TestDisabled(t *testing.T) {
	var nilSlack *notifications.Slack
	off := notifications.NewSlack(notifications.SlackConfig{})
	for _, s := range []*notifications.Slack{nilSlack, off} {
		if s.Enabled() {
			t.Error("enabled without a token")
		}
	}
	if _, err := off.Post(context.Background(), "C1", notifications.Message{Text: "x"}); err != notifications.ErrSlackDisabled {
		t.Errorf("post without a token: %v", err)
	}
	if u := off.TicketURL("HL-000001"); u != "" {
		t.Errorf("link without a base URL: %q", u)
	}
}

// A click's outcome rewrites the message for the channel through its response_url, or
// with chat.update; a response_url that is not Slack's is never posted to, and errors never
// carry the URL (it is a credential for the message).
func TestRespondAndUpdate(t *testing.T) {
	s, fake := newSlack(t)
	ctx := context.Background()
	ts, err := s.Post(ctx, "C0123", notifications.Message{Text: "New urgent ticket", TicketRef: "HL-000001", AckValue: "announcement:1", Take: true})
	if err != nil {
		t.Fatal(err)
	}
	hook := fake.ResponseURL("C0123", ts)
	settled := notifications.Settled(fake.Posts()[0].Blocks.BlockSet, notifications.Outcome("已接手 Taken", "Li Na", time.Date(2026, 12, 3, 2, 2, 0, 0, time.UTC)))
	tests := []struct {
		name    string
		call    func() error
		wantErr string // "" for success
		edits   int    // the post's edits after the call
	}{
		{"replace through response_url", func() error {
			return s.Respond(ctx, hook, &slack.WebhookMessage{ResponseType: slack.ResponseTypeInChannel, ReplaceOriginal: true, Text: "taken", Blocks: &slack.Blocks{BlockSet: settled}})
		}, "", 1},
		{"ephemeral answer leaves the message", func() error {
			return s.Respond(ctx, hook, &slack.WebhookMessage{ResponseType: slack.ResponseTypeEphemeral, Text: "Refused: not yours"})
		}, "", 1},
		{"chat.update", func() error { return s.Update(ctx, "C0123", ts, "taken", settled) }, "", 2},
		{"chat.update of an unknown message", func() error { return s.Update(ctx, "C0123", "1.2", "taken", settled) }, "message_not_found", 2},
		{"a response_url elsewhere", func() error {
			return s.Respond(ctx, "https://attacker.example/response/T1/B1/x", &slack.WebhookMessage{Text: "x"})
		}, "is not Slack's", 2},
		{"Slack's hooks host without TLS", func() error {
			return s.Respond(ctx, "http://hooks.slack.com/actions/T1/B1/x", &slack.WebhookMessage{Text: "x"})
		}, "is not Slack's", 2},
		{"an expired response_url", func() error {
			return s.Respond(ctx, strings.Replace(hook, "/response/", "/response/expired-", 1), &slack.WebhookMessage{Text: "x"})
		}, "404", 2},
	}
	for _, tc := range tests {
		err := tc.call()
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.wantErr)
		case err != nil && strings.Contains(err.Error(), "/response/"):
			t.Errorf("%s: the error carries the response_url: %v", tc.name, err)
		}
		p := fake.Posts()[0]
		if p.Edits != tc.edits {
			t.Errorf("%s: post edited %d times, want %d", tc.name, p.Edits, tc.edits)
		}
		for _, b := range p.Blocks.BlockSet {
			if tc.edits > 0 && b.BlockType() == slack.MBTAction {
				t.Errorf("%s: the settled message still has buttons", tc.name)
			}
		}
	}
	if rs := fake.Responses(hook); len(rs) != 2 || rs[1].ResponseType != "ephemeral" {
		t.Errorf("responses = %+v", rs)
	}
}
