// Package channelsettings holds the channel settings: the addresses and credentials
// Hotline uses to talk to its providers (Twilio, WeChat, email, Slack). They come from the
// environment; an admin may also save them in the web console (Admin → Channels), and a
// saved value wins over the environment's. The package holds their keys, how each value
// is checked and shown, and their rows in the settings table (under "channel." + key).
//
// It lives under app, beside the configuration the settings are part of: the wiring
// (package main) overlays them on the environment's configuration at start, which is
// where they are applied, and the console's admin page saves them. They are not the
// domain: no ticket, customer or deadline depends on them, and nothing in tickets imports
// this package. It is named for what it holds, the channel settings alone; the settings
// table also keeps values Hotline keeps for itself (an IMAP cursor, a webhook token),
// which stay with tickets.Service.Setting.
//
// Secrets are write-only: once saved, nothing here but Store.Values (for the wiring, at
// start) returns them, and the audit trail records which settings changed, never their
// values.
package channelsettings

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
)

// Keys of the channel settings.
const (
	TwilioAccountSID   = "twilio.account_sid"
	TwilioAuthToken    = "twilio.auth_token"
	TwilioFrom         = "twilio.from_number"
	TwilioService      = "twilio.messaging_service_sid"
	WeChatToken        = "wechat.token"
	WeChatAppID        = "wechat.app_id"
	WeChatAppSecret    = "wechat.app_secret"
	WeChatAESKey       = "wechat.encoding_aes_key"
	EmailSMTPURL       = "email.smtp_url"
	EmailFrom          = "email.from"
	EmailIMAPURL       = "email.imap_url"
	EmailWebhookSecret = "email.webhook_secret"
	SlackBotToken      = "slack.bot_token"
	SlackSigningSecret = "slack.signing_secret"
	SlackTeamChannels  = "slack.team_channels"
)

const (
	keyPrefix   = "channel."                 // a setting's row in the settings table is keyPrefix + key
	changedKind = "channel.settings_changed" // the audit event of a save
)

// Field describes one channel setting.
type Field struct {
	Key     string // e.g. "twilio.auth_token"
	Channel string // "twilio", "wechat", "email" or "slack"
	Env     string // the environment variable it overrides, e.g. TWILIO_AUTH_TOKEN
	// Secret settings are write-only. A secret URL (SMTP, IMAP) is shown with its
	// password masked; any other secret is never shown at all.
	Secret bool
	URL    bool
	check  func(string) error
}

// Show is what may be shown of a value of the field: a plain value as it is, a URL with
// its password masked, and nothing of any other secret.
func (f Field) Show(value string) string {
	switch {
	case value == "" || !f.Secret:
		return value
	case f.URL:
		return redactURL(value)
	}
	return ""
}

// redactURL masks a URL's password; a URL that does not parse is not shown at all, as it
// may be a password typed in the wrong field.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	return u.String()
}

var (
	twilioSID    = regexp.MustCompile(`^(AC|MG)[0-9a-fA-F]{32}$`)
	e164         = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	alphaSender  = regexp.MustCompile(`^[A-Za-z0-9 ]{1,11}$`)
	wechatToken  = regexp.MustCompile(`^[A-Za-z0-9]{3,32}$`)
	wechatAppID  = regexp.MustCompile(`^wx[0-9A-Za-z]{6,30}$`)
	slackChannel = regexp.MustCompile(`^[A-Za-z0-9#_.-]+$`)
)

func sidCheck(prefix, what string) func(string) error {
	return func(v string) error {
		if !strings.HasPrefix(v, prefix) || !twilioSID.MatchString(v) {
			return tickets.Invalidf("a Twilio %s looks like %s followed by 32 hexadecimal digits", what, prefix)
		}
		return nil
	}
}

func tokenCheck(what string, minLen int) func(string) error {
	return func(v string) error {
		if len(v) < minLen || strings.ContainsFunc(v, unicode.IsSpace) {
			return tickets.Invalidf("%s must be at least %d characters without spaces", what, minLen)
		}
		return nil
	}
}

func urlCheck(what string, schemes ...string) func(string) error {
	return func(v string) error {
		u, err := url.Parse(v)
		if err != nil || u.Host == "" || !contains(schemes, strings.ToLower(u.Scheme)) {
			// The URL may hold a password: the reason never repeats it.
			return tickets.Invalidf("%s must look like %s://user:password@host (schemes: %s)", what, schemes[0], strings.Join(schemes, ", "))
		}
		return nil
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

var fields = []Field{
	{Key: TwilioAccountSID, Channel: "twilio", Env: "TWILIO_ACCOUNT_SID", check: sidCheck("AC", "account SID")},
	{Key: TwilioAuthToken, Channel: "twilio", Env: "TWILIO_AUTH_TOKEN", Secret: true, check: tokenCheck("the auth token", 16)},
	{Key: TwilioFrom, Channel: "twilio", Env: "TWILIO_FROM_NUMBER", check: func(v string) error {
		if e164.MatchString(v) || !strings.HasPrefix(v, "+") && alphaSender.MatchString(v) && strings.ContainsFunc(v, unicode.IsLetter) {
			return nil
		}
		return tickets.Invalidf("the sending number must be in international form like +8610095500 (or an alphanumeric sender id of up to 11 letters and digits)")
	}},
	{Key: TwilioService, Channel: "twilio", Env: "TWILIO_MESSAGING_SERVICE_SID", check: sidCheck("MG", "messaging service SID")},
	{Key: WeChatToken, Channel: "wechat", Env: "WECHAT_TOKEN", Secret: true, check: func(v string) error {
		if !wechatToken.MatchString(v) {
			return tickets.Invalidf("a WeChat token has 3 to 32 letters and digits")
		}
		return nil
	}},
	{Key: WeChatAppID, Channel: "wechat", Env: "WECHAT_APP_ID", check: func(v string) error {
		if !wechatAppID.MatchString(v) {
			return tickets.Invalidf("a WeChat AppID looks like wx followed by letters and digits, e.g. wx1234567890abcdef")
		}
		return nil
	}},
	{Key: WeChatAppSecret, Channel: "wechat", Env: "WECHAT_APP_SECRET", Secret: true, check: tokenCheck("the AppSecret", 16)},
	{Key: WeChatAESKey, Channel: "wechat", Env: "WECHAT_ENCODING_AES_KEY", Secret: true, check: func(v string) error {
		key, err := base64.StdEncoding.DecodeString(v + "=")
		if len(v) != 43 || err != nil || len(key) != 32 {
			return tickets.Invalidf("an EncodingAESKey has exactly 43 letters and digits, as the WeChat console generates it")
		}
		return nil
	}},
	{Key: EmailSMTPURL, Channel: "email", Env: "SMTP_URL", Secret: true, URL: true,
		check: urlCheck("the SMTP URL", "smtps", "smtp", "smtps+insecure", "smtp+insecure")},
	{Key: EmailFrom, Channel: "email", Env: "EMAIL_FROM", check: func(v string) error {
		if _, err := mail.ParseAddress(v); err != nil {
			return tickets.Invalidf("the from address must be an email address, e.g. 客服 Support <support@example.com>")
		}
		return nil
	}},
	{Key: EmailIMAPURL, Channel: "email", Env: "IMAP_URL", Secret: true, URL: true, check: func(v string) error {
		if err := urlCheck("the IMAP URL", "imaps", "imap", "imaps+insecure", "imap+insecure")(v); err != nil {
			return err
		}
		if u, _ := url.Parse(v); u.User == nil || u.User.Username() == "" {
			return tickets.Invalidf("the IMAP URL needs the mailbox's user and password: imaps://user:password@imap.example.com/INBOX")
		}
		return nil
	}},
	{Key: EmailWebhookSecret, Channel: "email", Env: "EMAIL_WEBHOOK_SECRET", Secret: true, check: tokenCheck("the webhook secret", 16)},
	{Key: SlackBotToken, Channel: "slack", Env: "SLACK_BOT_TOKEN", Secret: true, check: func(v string) error {
		if !strings.HasPrefix(v, "xoxb-") || strings.ContainsFunc(v, unicode.IsSpace) {
			return tickets.Invalidf("a Slack bot token starts with xoxb-")
		}
		return nil
	}},
	{Key: SlackSigningSecret, Channel: "slack", Env: "SLACK_SIGNING_SECRET", Secret: true, check: tokenCheck("the signing secret", 16)},
	{Key: SlackTeamChannels, Channel: "slack", Env: "SLACK_TEAM_CHANNELS", check: func(v string) error {
		for _, pair := range strings.Split(v, ",") {
			if pair = strings.TrimSpace(pair); pair == "" {
				continue
			}
			team, channel, ok := strings.Cut(pair, "=")
			if !ok || strings.TrimSpace(team) == "" || !slackChannel.MatchString(strings.TrimSpace(channel)) {
				return tickets.Invalidf("team channels are team=channel pairs separated by commas, e.g. Claims=C0123,Motor=C0456; %q is not one", pair)
			}
		}
		return nil
	}},
}

// Fields lists the channel settings in the order the console shows them.
func Fields() []Field { return append([]Field(nil), fields...) }

func field(key string) (Field, bool) {
	for _, f := range fields {
		if f.Key == key {
			return f, true
		}
	}
	return Field{}, false
}

// Setting is how one setting stands in the database. It never carries a secret.
type Setting struct {
	Field
	Stored    bool      // a value is saved here, and wins over the environment
	Shown     string    // what may be shown of the saved value (see Field.Show)
	UpdatedAt time.Time // when it was saved
	UpdatedBy string    // who saved it, as the audit trail names them; "" when unknown
}

type settingRow struct {
	bun.BaseModel `bun:"table:settings"`

	Key       string    `bun:",pk"`
	Value     string    `bun:",notnull"`
	UpdatedAt time.Time `bun:",notnull"`
}

// Store reads and saves the channel settings. It holds no state of its own and is safe
// for concurrent use.
type Store struct {
	svc *tickets.Service
}

// New builds the store over the database svc writes to. It takes the Service because a
// save is stamped with the service's time and audited through it in the save's own
// transaction, as the service audits its own changes, and because the service decides who
// is an admin.
func New(svc *tickets.Service) *Store { return &Store{svc: svc} }

func (s *Store) rows(ctx context.Context, db bun.IDB) (map[string]*settingRow, error) {
	var rows []*settingRow
	if err := db.NewSelect().Model(&rows).Where("key LIKE ?", keyPrefix+"%").Scan(ctx); err != nil {
		return nil, fmt.Errorf("load channel settings: %w", err)
	}
	out := make(map[string]*settingRow, len(rows))
	for _, r := range rows {
		out[strings.TrimPrefix(r.Key, keyPrefix)] = r
	}
	return out, nil
}

// Values returns the saved channel settings, secrets included, by key. It is for the
// wiring, which overlays them on the environment's configuration at start; nothing shown
// to a person may use it.
func (s *Store) Values(ctx context.Context) (map[string]string, error) {
	rows, err := s.rows(ctx, s.svc.DB())
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for key, r := range rows {
		if _, ok := field(key); ok {
			out[key] = r.Value
		}
	}
	return out, nil
}

// change is the audit record of one save: which settings were set and cleared.
type change struct {
	Set     []string `json:"set,omitempty"`
	Cleared []string `json:"cleared,omitempty"`
}

// List lists every channel setting with whether it is saved here, when and by whom, in
// the order of Fields. Secrets' values are never included.
func (s *Store) List(ctx context.Context) ([]Setting, error) {
	db := s.svc.DB()
	rows, err := s.rows(ctx, db)
	if err != nil {
		return nil, err
	}
	// Who saved each setting last: the newest change that names it. The audit trail holds
	// millions of events; these few are read through events_channel_settings_idx (migration
	// 0011), a partial index of this kind alone. The planner uses it because the kind is in
	// the SQL as a literal (bun inlines arguments): keep "kind = <the kind>" as it is.
	var evs []*tickets.Event
	if err := db.NewSelect().Model(&evs).Where("kind = ?", changedKind).
		OrderExpr("id DESC").Limit(500).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load channel setting changes: %w", err)
	}
	by := map[string]string{}
	for _, ev := range evs {
		var ch change
		if json.Unmarshal([]byte(ev.Data), &ch) != nil {
			continue
		}
		for _, k := range append(ch.Set, ch.Cleared...) {
			if _, seen := by[k]; !seen {
				by[k] = ev.Actor
			}
		}
	}
	out := make([]Setting, 0, len(fields))
	for _, f := range fields {
		cs := Setting{Field: f}
		if r, ok := rows[f.Key]; ok {
			cs.Stored, cs.Shown, cs.UpdatedAt, cs.UpdatedBy = true, f.Show(r.Value), r.UpdatedAt, by[f.Key]
		}
		out = append(out, cs)
	}
	return out, nil
}

// Save saves channel settings: each value given replaces the saved one, an empty value
// removes it (the environment's applies again), and settings not given stay as they are.
// Every value is checked first; nothing is saved when one is refused. It returns the keys
// that changed, sorted, and records one audit event naming them, without their values, in
// the same transaction. The running processes keep their settings until they restart.
// Admins only.
func (s *Store) Save(ctx context.Context, actor tickets.Actor, values map[string]string) ([]string, error) {
	if err := tickets.RequireAdmin(actor); err != nil {
		return nil, err
	}
	clean := make(map[string]string, len(values))
	for key, v := range values {
		f, ok := field(key)
		if !ok {
			return nil, tickets.Invalidf("unknown channel setting %q", key)
		}
		v = strings.TrimSpace(v)
		if v != "" {
			if len(v) > 4000 || strings.ContainsFunc(v, unicode.IsControl) {
				return nil, tickets.Invalidf("%s must be one line of at most 4000 characters", f.Env)
			}
			if err := f.check(v); err != nil {
				return nil, err
			}
		}
		clean[key] = v
	}
	var changed change
	err := s.svc.InTx(ctx, func(tx tickets.Tx) error {
		changed = change{} // the transaction may be retried
		rows, err := s.rows(ctx, tx)
		if err != nil {
			return err
		}
		now := s.svc.Now()
		for key, v := range clean {
			old, had := rows[key]
			switch {
			case v == "" && had:
				if _, err := tx.NewDelete().Model((*settingRow)(nil)).Where("key = ?", keyPrefix+key).Exec(ctx); err != nil {
					return fmt.Errorf("clear channel setting %s: %w", key, err)
				}
				changed.Cleared = append(changed.Cleared, key)
			case v != "" && (!had || old.Value != v):
				row := &settingRow{Key: keyPrefix + key, Value: v, UpdatedAt: now}
				if _, err := tx.NewInsert().Model(row).On("CONFLICT (key) DO UPDATE").
					Set("value = EXCLUDED.value, updated_at = EXCLUDED.updated_at").Exec(ctx); err != nil {
					return fmt.Errorf("save channel setting %s: %w", key, err)
				}
				changed.Set = append(changed.Set, key)
			}
		}
		if len(changed.Set)+len(changed.Cleared) == 0 {
			return nil
		}
		sort.Strings(changed.Set)
		sort.Strings(changed.Cleared)
		return tx.Record(ctx, tx.Event(actor, "channel", 0, changedKind, map[string]any{"set": changed.Set, "cleared": changed.Cleared}))
	})
	if err != nil {
		return nil, err
	}
	keys := append(changed.Set, changed.Cleared...)
	sort.Strings(keys)
	return keys, nil
}
