package tickets

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
)

// Channel settings are the addresses and credentials Hotline uses to talk to its
// providers (Twilio, WeChat, email, Slack). They come from the environment; an admin may
// also save them in the web console, and a saved value wins over the environment's. They
// live in the settings table under "channel." + key. Secrets are write-only: once saved,
// no method of the service but ChannelSettingValues (for the wiring, at start) returns
// them, and the audit trail records which settings changed, never their values.

// Channel setting keys.
const (
	SettingTwilioAccountSID    = "twilio.account_sid"
	SettingTwilioAuthToken     = "twilio.auth_token"
	SettingTwilioFrom          = "twilio.from_number"
	SettingTwilioService       = "twilio.messaging_service_sid"
	SettingWeChatToken         = "wechat.token"
	SettingWeChatAppID         = "wechat.app_id"
	SettingWeChatAppSecret     = "wechat.app_secret"
	SettingWeChatAESKey        = "wechat.encoding_aes_key"
	SettingEmailSMTPURL        = "email.smtp_url"
	SettingEmailFrom           = "email.from"
	SettingEmailIMAPURL        = "email.imap_url"
	SettingEmailWebhookSecret  = "email.webhook_secret"
	SettingSlackBotToken       = "slack.bot_token"
	SettingSlackSigningSecret  = "slack.signing_secret"
	SettingSlackTeamChannels   = "slack.team_channels"
	channelSettingPrefix       = "channel."
	channelSettingsChangedKind = "channel.settings_changed"
)

// ChannelField describes one channel setting.
type ChannelField struct {
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
func (f ChannelField) Show(value string) string {
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
			return invalidf("a Twilio %s looks like %s followed by 32 hexadecimal digits", what, prefix)
		}
		return nil
	}
}

func tokenCheck(what string, minLen int) func(string) error {
	return func(v string) error {
		if len(v) < minLen || strings.ContainsFunc(v, unicode.IsSpace) {
			return invalidf("%s must be at least %d characters without spaces", what, minLen)
		}
		return nil
	}
}

func urlCheck(what string, schemes ...string) func(string) error {
	return func(v string) error {
		u, err := url.Parse(v)
		if err != nil || u.Host == "" || !contains(schemes, strings.ToLower(u.Scheme)) {
			// The URL may hold a password: the reason never repeats it.
			return invalidf("%s must look like %s://user:password@host (schemes: %s)", what, schemes[0], strings.Join(schemes, ", "))
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

var channelFields = []ChannelField{
	{Key: SettingTwilioAccountSID, Channel: "twilio", Env: "TWILIO_ACCOUNT_SID", check: sidCheck("AC", "account SID")},
	{Key: SettingTwilioAuthToken, Channel: "twilio", Env: "TWILIO_AUTH_TOKEN", Secret: true, check: tokenCheck("the auth token", 16)},
	{Key: SettingTwilioFrom, Channel: "twilio", Env: "TWILIO_FROM_NUMBER", check: func(v string) error {
		if e164.MatchString(v) || !strings.HasPrefix(v, "+") && alphaSender.MatchString(v) && strings.ContainsFunc(v, unicode.IsLetter) {
			return nil
		}
		return invalidf("the sending number must be in international form like +8610095500 (or an alphanumeric sender id of up to 11 letters and digits)")
	}},
	{Key: SettingTwilioService, Channel: "twilio", Env: "TWILIO_MESSAGING_SERVICE_SID", check: sidCheck("MG", "messaging service SID")},
	{Key: SettingWeChatToken, Channel: "wechat", Env: "WECHAT_TOKEN", Secret: true, check: func(v string) error {
		if !wechatToken.MatchString(v) {
			return invalidf("a WeChat token has 3 to 32 letters and digits")
		}
		return nil
	}},
	{Key: SettingWeChatAppID, Channel: "wechat", Env: "WECHAT_APP_ID", check: func(v string) error {
		if !wechatAppID.MatchString(v) {
			return invalidf("a WeChat AppID looks like wx followed by letters and digits, e.g. wx1234567890abcdef")
		}
		return nil
	}},
	{Key: SettingWeChatAppSecret, Channel: "wechat", Env: "WECHAT_APP_SECRET", Secret: true, check: tokenCheck("the AppSecret", 16)},
	{Key: SettingWeChatAESKey, Channel: "wechat", Env: "WECHAT_ENCODING_AES_KEY", Secret: true, check: func(v string) error {
		key, err := base64.StdEncoding.DecodeString(v + "=")
		if len(v) != 43 || err != nil || len(key) != 32 {
			return invalidf("an EncodingAESKey has exactly 43 letters and digits, as the WeChat console generates it")
		}
		return nil
	}},
	{Key: SettingEmailSMTPURL, Channel: "email", Env: "SMTP_URL", Secret: true, URL: true,
		check: urlCheck("the SMTP URL", "smtps", "smtp", "smtps+insecure", "smtp+insecure")},
	{Key: SettingEmailFrom, Channel: "email", Env: "EMAIL_FROM", check: func(v string) error {
		if _, err := mail.ParseAddress(v); err != nil {
			return invalidf("the from address must be an email address, e.g. 客服 Support <support@example.com>")
		}
		return nil
	}},
	{Key: SettingEmailIMAPURL, Channel: "email", Env: "IMAP_URL", Secret: true, URL: true, check: func(v string) error {
		if err := urlCheck("the IMAP URL", "imaps", "imap", "imaps+insecure", "imap+insecure")(v); err != nil {
			return err
		}
		if u, _ := url.Parse(v); u.User == nil || u.User.Username() == "" {
			return invalidf("the IMAP URL needs the mailbox's user and password: imaps://user:password@imap.example.com/INBOX")
		}
		return nil
	}},
	{Key: SettingEmailWebhookSecret, Channel: "email", Env: "EMAIL_WEBHOOK_SECRET", Secret: true, check: tokenCheck("the webhook secret", 16)},
	{Key: SettingSlackBotToken, Channel: "slack", Env: "SLACK_BOT_TOKEN", Secret: true, check: func(v string) error {
		if !strings.HasPrefix(v, "xoxb-") || strings.ContainsFunc(v, unicode.IsSpace) {
			return invalidf("a Slack bot token starts with xoxb-")
		}
		return nil
	}},
	{Key: SettingSlackSigningSecret, Channel: "slack", Env: "SLACK_SIGNING_SECRET", Secret: true, check: tokenCheck("the signing secret", 16)},
	{Key: SettingSlackTeamChannels, Channel: "slack", Env: "SLACK_TEAM_CHANNELS", check: func(v string) error {
		for _, pair := range strings.Split(v, ",") {
			if pair = strings.TrimSpace(pair); pair == "" {
				continue
			}
			team, channel, ok := strings.Cut(pair, "=")
			if !ok || strings.TrimSpace(team) == "" || !slackChannel.MatchString(strings.TrimSpace(channel)) {
				return invalidf("team channels are team=channel pairs separated by commas, e.g. Claims=C0123,Motor=C0456; %q is not one", pair)
			}
		}
		return nil
	}},
}

// ChannelFields lists the channel settings in the order the console shows them.
func ChannelFields() []ChannelField { return append([]ChannelField(nil), channelFields...) }

func channelField(key string) (ChannelField, bool) {
	for _, f := range channelFields {
		if f.Key == key {
			return f, true
		}
	}
	return ChannelField{}, false
}

// ChannelSetting is how one setting stands in the database. It never carries a secret.
type ChannelSetting struct {
	ChannelField
	Stored    bool      // a value is saved here, and wins over the environment
	Shown     string    // what may be shown of the saved value (see ChannelField.Show)
	UpdatedAt time.Time // when it was saved
	UpdatedBy string    // who saved it, as the audit trail names them; "" when unknown
}

type settingRow struct {
	bun.BaseModel `bun:"table:settings"`

	Key       string    `bun:",pk"`
	Value     string    `bun:",notnull"`
	UpdatedAt time.Time `bun:",notnull"`
}

func (s *Service) channelRows(ctx context.Context, db bun.IDB) (map[string]*settingRow, error) {
	var rows []*settingRow
	if err := db.NewSelect().Model(&rows).Where("key LIKE ?", channelSettingPrefix+"%").Scan(ctx); err != nil {
		return nil, fmt.Errorf("load channel settings: %w", err)
	}
	out := make(map[string]*settingRow, len(rows))
	for _, r := range rows {
		out[strings.TrimPrefix(r.Key, channelSettingPrefix)] = r
	}
	return out, nil
}

// ChannelSettingValues returns the saved channel settings, secrets included, by key. It
// is for the wiring, which overlays them on the environment's configuration at start;
// nothing shown to a person may use it.
func (s *Service) ChannelSettingValues(ctx context.Context) (map[string]string, error) {
	rows, err := s.channelRows(ctx, s.db)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for key, r := range rows {
		if _, ok := channelField(key); ok {
			out[key] = r.Value
		}
	}
	return out, nil
}

// channelChange is the audit record of one save: which settings were set and cleared.
type channelChange struct {
	Set     []string `json:"set,omitempty"`
	Cleared []string `json:"cleared,omitempty"`
}

// ChannelSettings lists every channel setting with whether it is saved here, when and by
// whom, in the order of ChannelFields. Secrets' values are never included.
func (s *Service) ChannelSettings(ctx context.Context) ([]ChannelSetting, error) {
	rows, err := s.channelRows(ctx, s.db)
	if err != nil {
		return nil, err
	}
	// Who saved each setting last: the newest change that names it. The audit trail holds
	// millions of events; these few are read through events_channel_settings_idx (migration
	// 0011), a partial index of this kind alone. The planner uses it because the kind is in
	// the SQL as a literal (bun inlines arguments): keep "kind = <the kind>" as it is.
	var evs []*Event
	if err := s.db.NewSelect().Model(&evs).Where("kind = ?", channelSettingsChangedKind).
		OrderExpr("id DESC").Limit(500).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load channel setting changes: %w", err)
	}
	by := map[string]string{}
	for _, ev := range evs {
		var ch channelChange
		if json.Unmarshal([]byte(ev.Data), &ch) != nil {
			continue
		}
		for _, k := range append(ch.Set, ch.Cleared...) {
			if _, seen := by[k]; !seen {
				by[k] = ev.Actor
			}
		}
	}
	out := make([]ChannelSetting, 0, len(channelFields))
	for _, f := range channelFields {
		cs := ChannelSetting{ChannelField: f}
		if r, ok := rows[f.Key]; ok {
			cs.Stored, cs.Shown, cs.UpdatedAt, cs.UpdatedBy = true, f.Show(r.Value), r.UpdatedAt, by[f.Key]
		}
		out = append(out, cs)
	}
	return out, nil
}

// SaveChannelSettings saves channel settings: each value given replaces the saved one,
// an empty value removes it (the environment's applies again), and settings not given
// stay as they are. Every value is checked first; nothing is saved when one is refused.
// It returns the keys that changed, sorted, and records one audit event naming them,
// without their values. The running processes keep their settings until they restart.
// Admins only.
func (s *Service) SaveChannelSettings(ctx context.Context, actor Actor, values map[string]string) ([]string, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	clean := make(map[string]string, len(values))
	for key, v := range values {
		f, ok := channelField(key)
		if !ok {
			return nil, invalidf("unknown channel setting %q", key)
		}
		v = strings.TrimSpace(v)
		if v != "" {
			if len(v) > 4000 || strings.ContainsFunc(v, unicode.IsControl) {
				return nil, invalidf("%s must be one line of at most 4000 characters", f.Env)
			}
			if err := f.check(v); err != nil {
				return nil, err
			}
		}
		clean[key] = v
	}
	var changed channelChange
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		rows, err := s.channelRows(ctx, tx)
		if err != nil {
			return err
		}
		now := s.now()
		for key, v := range clean {
			old, had := rows[key]
			switch {
			case v == "" && had:
				if _, err := tx.NewDelete().Model((*settingRow)(nil)).Where("key = ?", channelSettingPrefix+key).Exec(ctx); err != nil {
					return fmt.Errorf("clear channel setting %s: %w", key, err)
				}
				changed.Cleared = append(changed.Cleared, key)
			case v != "" && (!had || old.Value != v):
				row := &settingRow{Key: channelSettingPrefix + key, Value: v, UpdatedAt: now}
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
		return s.record(ctx, tx, actor, "channel", 0, channelSettingsChangedKind, map[string]any{"set": changed.Set, "cleared": changed.Cleared})
	})
	if err != nil {
		return nil, err
	}
	keys := append(changed.Set, changed.Cleared...)
	sort.Strings(keys)
	return keys, nil
}
