package channelsettings_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/app/channelsettings"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// t0 is when every test's clock starts.
var t0 = time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)

const (
	smtpPassword = "smtp-pass-Zq81"
	authToken    = "0123456789abcdef0123456789abcdef"
)

func adminActor(t *testing.T, svc *tickets.Service) tickets.Actor {
	t.Helper()
	a, err := svc.CreateAgent(context.Background(), tickets.Actor{Kind: "system"}, tickets.NewAgent{Email: "admin@example.com", Role: tickets.RoleAdmin, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	return tickets.AgentActor(a)
}

// Channel settings saved by an admin are stored, listed without their secrets, and
// audited without their values; an empty value removes one, settings not given stay.
func TestChannelSettings(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		clock := tickettest.NewClock(t0)
		svc := tickettest.Service(db, clock)
		settings := channelsettings.New(svc)
		admin := adminActor(t, svc)

		list, err := settings.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != len(channelsettings.Fields()) {
			t.Fatalf("%d settings listed, %d fields", len(list), len(channelsettings.Fields()))
		}
		for _, s := range list {
			if s.Stored {
				t.Errorf("%s stored in a fresh database", s.Key)
			}
		}

		changed, err := settings.Save(ctx, admin, map[string]string{
			channelsettings.TwilioAccountSID: " AC0123456789abcdef0123456789abcdef ",
			channelsettings.TwilioAuthToken:  authToken,
			channelsettings.EmailSMTPURL:     "smtps://mailer:" + smtpPassword + "@smtp.example.com:465",
			channelsettings.SlackBotToken:    "", // nothing stored: nothing to clear
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{channelsettings.EmailSMTPURL, channelsettings.TwilioAccountSID, channelsettings.TwilioAuthToken}; !slices.Equal(changed, want) {
			t.Errorf("changed %v, want %v", changed, want)
		}

		values, err := settings.Values(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if values[channelsettings.TwilioAuthToken] != authToken || values[channelsettings.TwilioAccountSID] != "AC0123456789abcdef0123456789abcdef" || len(values) != 3 {
			t.Errorf("stored values %v", values)
		}

		list, _ = settings.List(ctx)
		byKey := map[string]channelsettings.Setting{}
		for _, s := range list {
			byKey[s.Key] = s
		}
		tok := byKey[channelsettings.TwilioAuthToken]
		if !tok.Stored || tok.Shown != "" || tok.UpdatedBy != "admin@example.com" || !tok.UpdatedAt.Equal(t0) {
			t.Errorf("auth token listed as %+v", tok)
		}
		if got := byKey[channelsettings.TwilioAccountSID].Shown; got != "AC0123456789abcdef0123456789abcdef" {
			t.Errorf("account SID shown as %q", got)
		}
		if got := byKey[channelsettings.EmailSMTPURL].Shown; got != "smtps://mailer:xxxxx@smtp.example.com:465" {
			t.Errorf("SMTP URL shown as %q", got)
		}

		// Saving the same value again changes nothing and records nothing.
		events := tickettest.CountEvents(t, db, "channel.settings_changed")
		if changed, err := settings.Save(ctx, admin, map[string]string{channelsettings.TwilioAuthToken: authToken}); err != nil || len(changed) != 0 {
			t.Errorf("same value again: %v %v", changed, err)
		}
		if n := tickettest.CountEvents(t, db, "channel.settings_changed"); n != events {
			t.Errorf("%d change events after saving nothing new, had %d", n, events)
		}

		// Clearing one keeps the others.
		clock.Advance(time.Hour)
		if changed, err := settings.Save(ctx, admin, map[string]string{channelsettings.TwilioAuthToken: ""}); err != nil || !slices.Equal(changed, []string{channelsettings.TwilioAuthToken}) {
			t.Errorf("clear: %v %v", changed, err)
		}
		values, _ = settings.Values(ctx)
		if _, ok := values[channelsettings.TwilioAuthToken]; ok || values[channelsettings.TwilioAccountSID] == "" {
			t.Errorf("after clearing the token: %v", values)
		}

		// The audit trail names the settings, never a secret.
		var data []string
		if err := db.NewSelect().Table("events").Column("data").Where("kind = ?", "channel.settings_changed").OrderExpr("id").Scan(ctx, &data); err != nil {
			t.Fatal(err)
		}
		if len(data) != 2 || !strings.Contains(data[0], channelsettings.TwilioAuthToken) || !strings.Contains(data[1], `"cleared":["twilio.auth_token"]`) {
			t.Errorf("events %q", data)
		}
		for _, d := range data {
			if strings.Contains(d, authToken) || strings.Contains(d, smtpPassword) {
				t.Errorf("a secret in the audit trail: %s", d)
			}
		}
	})
}

// Bad values are refused with a reason that never repeats a secret, and nothing of the
// save is stored; only admins save.
func TestChannelSettingsRefused(t *testing.T) {
	ctx := context.Background()
	db := tickettest.SQLite(t)
	svc := tickettest.Service(db, tickettest.NewClock(t0))
	settings := channelsettings.New(svc)
	admin := adminActor(t, svc)
	for _, c := range []struct {
		key, value, reason string
	}{
		{channelsettings.TwilioAccountSID, "SK123", "AC followed by 32"},
		{channelsettings.TwilioService, "AC0123456789abcdef0123456789abcdef", "MG followed by 32"},
		{channelsettings.TwilioFrom, "010-9550", "international form"},
		{channelsettings.TwilioAuthToken, "short", "at least 16"},
		{channelsettings.WeChatToken, "has spaces in it", "3 to 32 letters"},
		{channelsettings.WeChatAppID, "12345", "wx"},
		{channelsettings.WeChatAESKey, "tooshort", "43"},
		{channelsettings.EmailSMTPURL, "http://u:" + smtpPassword + "@smtp.example.com", "smtps://"},
		{channelsettings.EmailIMAPURL, "imaps://imap.example.com/INBOX", "user and password"},
		{channelsettings.EmailFrom, "not an address", "email address"},
		{channelsettings.SlackBotToken, "xoxp-user-token", "xoxb-"},
		{channelsettings.SlackTeamChannels, "Claims", "team=channel"},
		{channelsettings.TwilioAuthToken, "line\nbreak-0123456789", "one line"},
		{"twilio.nonsense", "x", "unknown channel setting"},
	} {
		_, err := settings.Save(ctx, admin, map[string]string{c.key: c.value, channelsettings.EmailFrom: "Support <support@example.com>"})
		if !errors.Is(err, tickets.ErrInvalid) || !strings.Contains(tickets.Reason(err), c.reason) {
			t.Errorf("%s=%q: %v, want a reason with %q", c.key, c.value, err, c.reason)
		}
		if strings.Contains(tickets.Reason(err), smtpPassword) {
			t.Errorf("the reason repeats the password: %v", err)
		}
	}
	if values, _ := settings.Values(ctx); len(values) != 0 {
		t.Errorf("refused saves stored %v", values)
	}

	agent, err := svc.CreateAgent(ctx, tickets.Actor{Kind: "system"}, tickets.NewAgent{Email: "li@example.com", Role: tickets.RoleSupervisor, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := settings.Save(ctx, tickets.AgentActor(agent), map[string]string{channelsettings.EmailFrom: "a@example.com"}); !errors.Is(err, tickets.ErrForbidden) {
		t.Errorf("a supervisor saved a channel setting: %v", err)
	}
}

// On a desk with a year of audit trail, the channel settings page finds the settings
// changes without reading other events: PostgreSQL plans no sequential scan of events and
// does not read events to drop them by kind.
func TestChannelSettingsPlanUsesIndex(t *testing.T) {
	db := tickettest.Postgres(t)
	ctx := context.Background()
	now := t0
	// An event a ticket every ~26 minutes for a year, a settings change among each thousand.
	seed := []string{
		`INSERT INTO events (entity, entity_id, kind, actor_kind, actor, data, created_at)
SELECT CASE WHEN i % 1000 = 0 THEN 'channel' ELSE 'ticket' END, CASE WHEN i % 1000 = 0 THEN 0 ELSE i END,
  CASE WHEN i % 1000 = 0 THEN 'channel.settings_changed' ELSE 'ticket.created' END, 'system', 'load',
  CASE WHEN i % 1000 = 0 THEN '{"set":["email.from"]}' ELSE '{}' END, ?0::timestamptz - (20001 - i) * interval '1577 seconds'
FROM generate_series(1, 20000) AS i ORDER BY i`,
		`ANALYZE events`,
	}
	for _, q := range seed {
		if _, err := db.ExecContext(ctx, q, now); err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
	settings := channelsettings.New(tickettest.Service(db, tickettest.NewClock(now)))
	rec := tickettest.RecordQueries(db)
	if _, err := settings.List(ctx); err != nil {
		t.Fatal(err)
	}
	seen := false
	for _, q := range rec.Take() {
		if !strings.HasPrefix(strings.TrimSpace(q), "SELECT") {
			continue
		}
		nodes := tickettest.Explain(t, db, q)
		for _, n := range nodes {
			switch {
			case n.Relation != "events":
			case n.NodeType == "Seq Scan":
				t.Errorf("a sequential scan of events in\n%s\nplan: %q", q, tickettest.Scans(nodes))
			case strings.Contains(n.Filter, "kind"):
				t.Errorf("events read and dropped by kind in\n%s\nplan: %q", q, tickettest.Scans(nodes))
			}
		}
		if strings.Contains(q, "channel.settings_changed") {
			seen = true
			t.Logf("channel.settings_changed…: %q", tickettest.Scans(nodes))
		}
	}
	if !seen {
		t.Error("no query with \"channel.settings_changed\" was planned")
	}
}
