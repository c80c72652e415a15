package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hotlinedesk/hotline/app/channelsettings"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// Channel settings saved in the console override the environment's, one by one; what
// nothing overrides keeps the environment's value.
func TestApplyChannelSettings(t *testing.T) {
	t.Setenv("TWILIO_ACCOUNT_SID", "AC00000000000000000000000000000000")
	t.Setenv("TWILIO_AUTH_TOKEN", "env-auth-token-0123456789")
	t.Setenv("TWILIO_FROM_NUMBER", "+15550000000")
	t.Setenv("WECHAT_TOKEN", "envtoken")
	t.Setenv("SMTP_URL", "")
	t.Setenv("EMAIL_FROM", "")
	t.Setenv("IMAP_URL", "")
	t.Setenv("SLACK_TEAM_CHANNELS", "Claims=C1")
	ctx := context.Background()
	svc := tickettest.Service(tickettest.SQLite(t), tickettest.NewClock(time.Date(2026, 11, 25, 1, 0, 0, 0, time.UTC)))
	settings := channelsettings.New(svc)
	admin, err := svc.CreateAgent(ctx, tickets.Actor{Kind: "system"}, tickets.NewAgent{Email: "admin@example.com", Role: tickets.RoleAdmin, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}

	// Nothing stored: the environment's values stand.
	cfg, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if err := applyChannelSettings(ctx, settings, &cfg, discardLog); err != nil {
		t.Fatal(err)
	}
	if cfg.Twilio.AuthToken != "env-auth-token-0123456789" || cfg.TwilioFrom != "+15550000000" || cfg.WeChat.Token != "envtoken" ||
		cfg.Slack.TeamChannels["Claims"] != "C1" || cfg.SMTPURL != "" || cfg.IMAP != nil {
		t.Errorf("with nothing stored the config changed: %+v", cfg)
	}

	if _, err := settings.Save(ctx, tickets.AgentActor(admin), map[string]string{
		channelsettings.TwilioAuthToken:    "stored-auth-token-0123456789",
		channelsettings.TwilioService:      "MG0123456789abcdef0123456789abcdef",
		channelsettings.WeChatAppID:        "wx1234567890abcdef",
		channelsettings.WeChatAppSecret:    "stored-app-secret-0123",
		channelsettings.WeChatAESKey:       "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
		channelsettings.EmailSMTPURL:       "smtps://mailer:pw@smtp.example.com",
		channelsettings.EmailFrom:          "客服 Support <support@example.com>",
		channelsettings.EmailIMAPURL:       "imaps://desk:pw@imap.example.com/INBOX?move=Done",
		channelsettings.EmailWebhookSecret: "stored-webhook-secret-0123",
		channelsettings.SlackBotToken:      "xoxb-stored",
		channelsettings.SlackSigningSecret: "stored-signing-secret-0123",
		channelsettings.SlackTeamChannels:  "Claims=C9,Motor=C8",
	}); err != nil {
		t.Fatal(err)
	}
	cfg, _ = loadConfig()
	if err := applyChannelSettings(ctx, settings, &cfg, discardLog); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct{ got, want string }{
		"account SID (env only)": {cfg.Twilio.AccountSID, "AC00000000000000000000000000000000"},
		"auth token (stored)":    {cfg.Twilio.AuthToken, "stored-auth-token-0123456789"},
		"from number (env only)": {cfg.TwilioFrom, "+15550000000"},
		"messaging service":      {cfg.TwilioService, "MG0123456789abcdef0123456789abcdef"},
		"WeChat token (env)":     {cfg.WeChat.Token, "envtoken"},
		"WeChat AppID":           {cfg.WeChat.AppID, "wx1234567890abcdef"},
		"WeChat AppSecret":       {cfg.WeChatSecret, "stored-app-secret-0123"},
		"WeChat AES key":         {cfg.WeChat.EncodingAESKey, "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"},
		"SMTP URL":               {cfg.SMTPURL, "smtps://mailer:pw@smtp.example.com"},
		"email from":             {cfg.EmailFrom, "客服 Support <support@example.com>"},
		"webhook secret":         {cfg.EmailSecret, "stored-webhook-secret-0123"},
		"Slack token":            {cfg.Slack.Token, "xoxb-stored"},
		"Slack signing secret":   {cfg.SlackSigningSecret, "stored-signing-secret-0123"},
		"Slack Motor channel":    {cfg.Slack.TeamChannels["Motor"], "C8"},
		"Slack Claims channel":   {cfg.Slack.TeamChannels["Claims"], "C9"},
	} {
		if c.got != c.want {
			t.Errorf("%s: %q, want %q", name, c.got, c.want)
		}
	}
	if cfg.IMAP == nil || cfg.IMAP.Addr != "imap.example.com:993" || cfg.IMAP.Username != "desk" || cfg.IMAP.MoveTo != "Done" || !cfg.IMAP.TLS {
		t.Errorf("IMAP %+v", cfg.IMAP)
	}

	// Clearing a stored value falls back to the environment again.
	if _, err := settings.Save(ctx, tickets.AgentActor(admin), map[string]string{channelsettings.TwilioAuthToken: ""}); err != nil {
		t.Fatal(err)
	}
	cfg, _ = loadConfig()
	if err := applyChannelSettings(ctx, settings, &cfg, discardLog); err != nil || cfg.Twilio.AuthToken != "env-auth-token-0123456789" {
		t.Errorf("after clearing: %q %v", cfg.Twilio.AuthToken, err)
	}

	// Saved email settings the sender cannot use never stop the desk from starting (the
	// console to correct them would be down too): the environment's are kept, and it says so.
	for name, saved := range map[string]map[string]string{
		"no from address":      {channelsettings.EmailFrom: ""},
		"an unknown parameter": {channelsettings.EmailSMTPURL: "smtps://u:pw@smtp.example.com/?starttls=true", channelsettings.EmailFrom: "Desk <desk@example.com>"},
	} {
		if _, err := settings.Save(ctx, tickets.AgentActor(admin), saved); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		cfg, _ = loadConfig()
		var logged strings.Builder
		if err := applyChannelSettings(ctx, settings, &cfg, slog.New(slog.NewTextHandler(&logged, nil))); err != nil {
			t.Errorf("%s: the desk would not start: %v", name, err)
		}
		if _, err := emailSender(cfg); cfg.SMTPURL != "" && err != nil {
			t.Errorf("%s: the configuration started with is not usable: %v", name, err)
		}
		if !strings.Contains(logged.String(), "level=ERROR") || !strings.Contains(logged.String(), "Admin → Channels") {
			t.Errorf("%s: nothing said why the saved settings are not used: %q", name, logged.String())
		}
	}
}

// Every channel setting the console offers has its place in the configuration.
func TestEveryChannelSettingApplies(t *testing.T) {
	for _, f := range channelsettings.Fields() {
		if _, ok := channelSetters[f.Key]; !ok {
			t.Errorf("%s (%s) is saved by the console but never applied", f.Key, f.Env)
		}
	}
	if len(channelSetters) != len(channelsettings.Fields()) {
		t.Errorf("%d setters for %d settings", len(channelSetters), len(channelsettings.Fields()))
	}
}
