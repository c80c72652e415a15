package admin_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"

	"github.com/hotlinedesk/hotline/app/channelsettings"
	"github.com/hotlinedesk/hotline/app/console"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

const (
	envToken    = "env-auth-token-5b1f0c9e"
	envIMAPPass = "env-imap-pass-77"
	savedToken  = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
	newerToken  = "ffeeddccbbaa99887766554433221100"
	smtpPass    = "smtp-pass-c4f1"
)

// admSecrets collects every response a test sees, to prove no secret is ever in one.
type admSecrets struct {
	t    *testing.T
	seen []consoletest.Response
}

func (s *admSecrets) keep(r consoletest.Response) consoletest.Response {
	s.seen = append(s.seen, r)
	return r
}

func (s *admSecrets) neverShown(secrets ...string) {
	s.t.Helper()
	for _, r := range s.seen {
		for _, secret := range secrets {
			if strings.Contains(r.Body, secret) {
				s.t.Errorf("a page shows the secret %q", secret)
			}
			for name, vs := range r.Header {
				for _, v := range vs {
					if strings.Contains(v, secret) || strings.Contains(v, url.QueryEscape(secret)) {
						s.t.Errorf("header %s carries the secret %q", name, secret)
					}
				}
			}
		}
	}
}

// admEnv empties every channel variable, so the test sees only what it sets.
func admEnv(t *testing.T, set map[string]string) {
	for _, f := range channelsettings.Fields() {
		t.Setenv(f.Env, set[f.Env])
	}
}

// The channel page says where each setting comes from and never shows a secret, from
// the database or the environment; secrets left empty are kept, "clear" removes them;
// the webhook addresses are under PUBLIC_BASE_URL; and it says a restart is needed.
func TestAdminChannelSettings(t *testing.T) {
	admEnv(t, map[string]string{"TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000000", "TWILIO_AUTH_TOKEN": envToken,
		"IMAP_URL": "imaps://desk:" + envIMAPPass + "@imap.example.com/INBOX"})
	d := consoletest.NewDesk(t, tickettest.SQLite(t), func(c *console.Config) { c.PublicBaseURL = "https://hotline.example.com/" })
	ctx := context.Background()
	b := d.SignIn(d.Admin)
	s := &admSecrets{t: t}

	r := s.keep(b.Get("/admin/channels"))
	consoletest.WantStatus(t, r, 200)
	consoletest.WantContains(t, r, "重启", "TWILIO_AUTH_TOKEN", "来自环境变量", `placeholder="AC00000000000000000000000000000000"`,
		"imaps://desk:xxxxx@imap.example.com/INBOX",
		"https://hotline.example.com/webhooks/twilio/sms", "https://hotline.example.com/webhooks/twilio/voice",
		"https://hotline.example.com/webhooks/wechat", "https://hotline.example.com/webhooks/email",
		"https://hotline.example.com/webhooks/slack/interactions")
	consoletest.WantLacks(t, r, "未设置 PUBLIC_BASE_URL")
	if !admInOrder(r.Body, `id="field-twilio.auth_token"`, "来自环境变量", `id="field-twilio.from_number"`, "未设置") {
		t.Error("the auth token is not reported as from the environment, or the from number as not set")
	}

	// Saving: a secret and a plain value.
	r = s.keep(b.Post("/admin/channels/twilio", url.Values{"twilio.auth_token": {savedToken}, "twilio.from_number": {" +8610095500 "},
		"twilio.account_sid": {""}, "twilio.messaging_service_sid": {""}}))
	consoletest.WantStatus(t, r, 303)
	if r.Location != "/admin/channels#ch-twilio" {
		t.Errorf("after saving: %s", r.Location)
	}
	r = s.keep(b.Get("/admin/channels"))
	consoletest.WantContains(t, r, "已保存：Auth Token、发送号码。重启 Hotline 进程后生效。", `value="&#43;8610095500"`,
		"于 2026-11-25 在此设置", "（admin@desk.test）", "覆盖环境变量", `name="clear.twilio.auth_token"`)
	values, _ := channelsettings.New(d.Service).Values(ctx)
	if values[channelsettings.TwilioAuthToken] != savedToken || values[channelsettings.TwilioFrom] != "+8610095500" || len(values) != 2 {
		t.Fatalf("stored %v", values)
	}

	// A secret left empty stays; a plain field emptied falls back to the environment.
	r = s.keep(b.Post("/admin/channels/twilio", url.Values{"twilio.auth_token": {""}, "twilio.from_number": {""}}))
	consoletest.WantStatus(t, r, 303)
	values, _ = channelsettings.New(d.Service).Values(ctx)
	if values[channelsettings.TwilioAuthToken] != savedToken || values[channelsettings.TwilioFrom] != "" {
		t.Errorf("after an empty save: %v", values)
	}
	r = s.keep(b.Post("/admin/channels/twilio", url.Values{"twilio.auth_token": {""}}))
	consoletest.WantContains(t, s.keep(b.Get(r.Location)), "没有改动")

	// A URL with a password is shown without it.
	r = s.keep(b.Post("/admin/channels/email", url.Values{"email.smtp_url": {"smtps://mailer:" + smtpPass + "@smtp.example.com:465"},
		"email.from": {"客服 <support@example.com>"}}))
	consoletest.WantStatus(t, r, 303)
	consoletest.WantContains(t, s.keep(b.Get("/admin/channels")), "smtps://mailer:xxxxx@smtp.example.com:465", `value="客服 &lt;support@example.com&gt;"`)

	// A refused save stores nothing, says why, and does not echo the secret typed.
	before := admEvents(t, d)
	r = s.keep(b.Post("/admin/channels/twilio", url.Values{"twilio.auth_token": {newerToken}, "twilio.account_sid": {"SK-not-an-account"}}))
	consoletest.WantStatus(t, r, 400)
	consoletest.WantContains(t, r, "AC followed by 32 hexadecimal digits", "输入的密钥没有保存，请重新输入。", `value="SK-not-an-account"`, `role="alert"`)
	r = s.keep(b.Post("/admin/channels/email", url.Values{"email.imap_url": {"http://u:" + smtpPass + "@imap.example.com"}}))
	consoletest.WantStatus(t, r, 400)
	consoletest.WantContains(t, r, "imaps://user:password@host")
	if values, _ = channelsettings.New(d.Service).Values(ctx); values[channelsettings.TwilioAuthToken] != savedToken {
		t.Errorf("a refused save changed the token")
	}
	if n := admEvents(t, d); n != before {
		t.Errorf("refused saves recorded %d events", n-before)
	}

	// Clearing brings the environment's value back.
	r = s.keep(b.Post("/admin/channels/twilio", url.Values{"twilio.auth_token": {newerToken}, "clear.twilio.auth_token": {"on"}}))
	consoletest.WantStatus(t, r, 303)
	if values, _ = channelsettings.New(d.Service).Values(ctx); values[channelsettings.TwilioAuthToken] != "" {
		t.Errorf("cleared, the token is still %q", values[channelsettings.TwilioAuthToken])
	}
	r = s.keep(b.Get("/admin/channels"))
	if !admInOrder(r.Body, `id="field-twilio.auth_token"`, "来自环境变量", `id="field-twilio.from_number"`) {
		t.Error("after clearing, the token is not from the environment again")
	}

	if r := s.keep(b.Post("/admin/channels/fax", url.Values{"x": {"y"}})); r.Status == 200 || r.Status >= 500 {
		t.Errorf("an unknown channel: %d", r.Status)
	}
	s.keep(b.Get("/admin/channels"))
	s.neverShown(envToken, envIMAPPass, savedToken, newerToken, smtpPass)

	// The audit trail names what changed, never a value of a secret.
	var data []string
	if err := d.Service.DB().NewSelect().Table("events").Column("data").Where("kind = 'channel.settings_changed'").Scan(ctx, &data); err != nil {
		t.Fatal(err)
	}
	if len(data) != 4 {
		t.Errorf("%d change events, want 4: %q", len(data), data)
	}
	for _, ev := range data {
		for _, secret := range []string{savedToken, newerToken, smtpPass} {
			if strings.Contains(ev, secret) {
				t.Errorf("the audit trail has a secret: %s", ev)
			}
		}
	}
}

// Without PUBLIC_BASE_URL the page shows the addresses under the one it was opened at,
// and says to set it.
func TestAdminChannelsWithoutBaseURL(t *testing.T) {
	admEnv(t, nil)
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	r := d.SignIn(d.Admin).Get("/admin/channels")
	consoletest.WantStatus(t, r, 200)
	consoletest.WantContains(t, r, "http://example.com/webhooks/twilio/sms", "未设置 PUBLIC_BASE_URL")
	if strings.Count(r.Body, `class="src none"`) != len(channelsettings.Fields()) {
		t.Errorf("%d settings shown as not set, want all %d", strings.Count(r.Body, `class="src none"`), len(channelsettings.Fields()))
	}
}
