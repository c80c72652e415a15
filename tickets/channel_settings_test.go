package tickets_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

const (
	smtpPassword = "smtp-pass-Zq81"
	authToken    = "0123456789abcdef0123456789abcdef"
)

// Channel settings saved by an admin are stored, listed without their secrets, and
// audited without their values; an empty value removes one, settings not given stay.
func TestChannelSettings(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		clock := tickettest.NewClock(t0)
		svc := tickettest.Service(db, clock)
		admin := adminActor(t, svc)

		list, err := svc.ChannelSettings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != len(tickets.ChannelFields()) {
			t.Fatalf("%d settings listed, %d fields", len(list), len(tickets.ChannelFields()))
		}
		for _, s := range list {
			if s.Stored {
				t.Errorf("%s stored in a fresh database", s.Key)
			}
		}

		changed, err := svc.SaveChannelSettings(ctx, admin, map[string]string{
			tickets.SettingTwilioAccountSID: " AC0123456789abcdef0123456789abcdef ",
			tickets.SettingTwilioAuthToken:  authToken,
			tickets.SettingEmailSMTPURL:     "smtps://mailer:" + smtpPassword + "@smtp.example.com:465",
			tickets.SettingSlackBotToken:    "", // nothing stored: nothing to clear
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{tickets.SettingEmailSMTPURL, tickets.SettingTwilioAccountSID, tickets.SettingTwilioAuthToken}; !slices.Equal(changed, want) {
			t.Errorf("changed %v, want %v", changed, want)
		}

		values, err := svc.ChannelSettingValues(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if values[tickets.SettingTwilioAuthToken] != authToken || values[tickets.SettingTwilioAccountSID] != "AC0123456789abcdef0123456789abcdef" || len(values) != 3 {
			t.Errorf("stored values %v", values)
		}

		list, _ = svc.ChannelSettings(ctx)
		byKey := map[string]tickets.ChannelSetting{}
		for _, s := range list {
			byKey[s.Key] = s
		}
		tok := byKey[tickets.SettingTwilioAuthToken]
		if !tok.Stored || tok.Shown != "" || tok.UpdatedBy != "admin@example.com" || !tok.UpdatedAt.Equal(t0) {
			t.Errorf("auth token listed as %+v", tok)
		}
		if got := byKey[tickets.SettingTwilioAccountSID].Shown; got != "AC0123456789abcdef0123456789abcdef" {
			t.Errorf("account SID shown as %q", got)
		}
		if got := byKey[tickets.SettingEmailSMTPURL].Shown; got != "smtps://mailer:xxxxx@smtp.example.com:465" {
			t.Errorf("SMTP URL shown as %q", got)
		}

		// Saving the same value again changes nothing and records nothing.
		events := countEvents(t, db, "channel.settings_changed")
		if changed, err := svc.SaveChannelSettings(ctx, admin, map[string]string{tickets.SettingTwilioAuthToken: authToken}); err != nil || len(changed) != 0 {
			t.Errorf("same value again: %v %v", changed, err)
		}
		if n := countEvents(t, db, "channel.settings_changed"); n != events {
			t.Errorf("%d change events after saving nothing new, had %d", n, events)
		}

		// Clearing one keeps the others.
		clock.Advance(time.Hour)
		if changed, err := svc.SaveChannelSettings(ctx, admin, map[string]string{tickets.SettingTwilioAuthToken: ""}); err != nil || !slices.Equal(changed, []string{tickets.SettingTwilioAuthToken}) {
			t.Errorf("clear: %v %v", changed, err)
		}
		values, _ = svc.ChannelSettingValues(ctx)
		if _, ok := values[tickets.SettingTwilioAuthToken]; ok || values[tickets.SettingTwilioAccountSID] == "" {
			t.Errorf("after clearing the token: %v", values)
		}

		// The audit trail names the settings, never a secret.
		var data []string
		if err := db.NewSelect().Table("events").Column("data").Where("kind = ?", "channel.settings_changed").OrderExpr("id").Scan(ctx, &data); err != nil {
			t.Fatal(err)
		}
		if len(data) != 2 || !strings.Contains(data[0], tickets.SettingTwilioAuthToken) || !strings.Contains(data[1], `"cleared":["twilio.auth_token"]`) {
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
	admin := adminActor(t, svc)
	for _, c := range []struct {
		key, value, reason string
	}{
		{tickets.SettingTwilioAccountSID, "SK123", "AC followed by 32"},
		{tickets.SettingTwilioService, "AC0123456789abcdef0123456789abcdef", "MG followed by 32"},
		{tickets.SettingTwilioFrom, "010-9550", "international form"},
		{tickets.SettingTwilioAuthToken, "short", "at least 16"},
		{tickets.SettingWeChatToken, "has spaces in it", "3 to 32 letters"},
		{tickets.SettingWeChatAppID, "12345", "wx"},
		{tickets.SettingWeChatAESKey, "tooshort", "43"},
		{tickets.SettingEmailSMTPURL, "http://u:" + smtpPassword + "@smtp.example.com", "smtps://"},
		{tickets.SettingEmailIMAPURL, "imaps://imap.example.com/INBOX", "user and password"},
		{tickets.SettingEmailFrom, "not an address", "email address"},
		{tickets.SettingSlackBotToken, "xoxp-user-token", "xoxb-"},
		{tickets.SettingSlackTeamChannels, "Claims", "team=channel"},
		{tickets.SettingTwilioAuthToken, "line\nbreak-0123456789", "one line"},
		{"twilio.nonsense", "x", "unknown channel setting"},
	} {
		_, err := svc.SaveChannelSettings(ctx, admin, map[string]string{c.key: c.value, tickets.SettingEmailFrom: "Support <support@example.com>"})
		if !errors.Is(err, tickets.ErrInvalid) || !strings.Contains(tickets.Reason(err), c.reason) {
			t.Errorf("%s=%q: %v, want a reason with %q", c.key, c.value, err, c.reason)
		}
		if strings.Contains(tickets.Reason(err), smtpPassword) {
			t.Errorf("the reason repeats the password: %v", err)
		}
	}
	if values, _ := svc.ChannelSettingValues(ctx); len(values) != 0 {
		t.Errorf("refused saves stored %v", values)
	}

	agent, err := svc.CreateAgent(ctx, tickets.Actor{Kind: "system"}, tickets.NewAgent{Email: "li@example.com", Role: tickets.RoleSupervisor, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SaveChannelSettings(ctx, tickets.AgentActor(agent), map[string]string{tickets.SettingEmailFrom: "a@example.com"}); !errors.Is(err, tickets.ErrForbidden) {
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
	svc := tickettest.Service(db, tickettest.NewClock(now))
	rec := tickettest.RecordQueries(db)
	if _, err := svc.ChannelSettings(ctx); err != nil {
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
