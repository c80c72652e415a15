package main

import (
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hotlinedesk/hotline/app/webhooks"
	"github.com/hotlinedesk/hotline/channels/email/transport"
	"github.com/hotlinedesk/hotline/channels/twilio"
	"github.com/hotlinedesk/hotline/channels/voice"
	"github.com/hotlinedesk/hotline/channels/voice/stt"
	"github.com/hotlinedesk/hotline/notifications"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
	"github.com/hotlinedesk/hotline/tickets/privacy"
	outhooks "github.com/hotlinedesk/hotline/tickets/webhooks"
)

// config is everything Hotline reads from its environment.
type config struct {
	Addr           string   // HOTLINE_ADDR
	DatabaseURL    string   // DATABASE_URL; empty: SQLite file hotline.db
	RedisURL       string   // REDIS_URL; empty: embedded broker
	AdminEmail     string   // HOTLINE_ADMIN_EMAIL
	AdminPassword  string   // HOTLINE_ADMIN_PASSWORD
	DefaultCountry string   // HOTLINE_DEFAULT_COUNTRY
	TrustedProxies []string // HOTLINE_TRUSTED_PROXIES
	LogLevel       slog.Level
	Concurrency    int           // HOTLINE_WORKER_CONCURRENCY
	Role           role          // HOTLINE_ROLE, or serve --role
	MetricsToken   string        // HOTLINE_METRICS_TOKEN
	DBWait         time.Duration // HOTLINE_DB_WAIT: how long start-up waits for PostgreSQL to answer
	// FilesURL is where files' bytes are kept (FILES_URL): a directory or an S3 bucket;
	// empty: a "files" directory beside the SQLite file, or PostgreSQL itself.
	FilesURL string

	SLA          tickets.SLADefaults // HOTLINE_SLA_FIRST_RESPONSE, HOTLINE_SLA_EMAIL_FIRST_RESPONSE, HOTLINE_SLA_RESOLUTION
	CalendarZone *time.Location      // HOTLINE_CALENDAR_TZ
	WorkOpen     time.Duration       // HOTLINE_WORKING_HOURS, e.g. 09:00-18:00
	WorkShut     time.Duration
	Reconcile    time.Duration // HOTLINE_RECONCILE_EVERY
	ReopenWindow time.Duration // HOTLINE_REOPEN_WINDOW

	Twilio           twilio.Config         // TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_API_URL
	TwilioFrom       string                // TWILIO_FROM_NUMBER
	TwilioService    string                // TWILIO_MESSAGING_SERVICE_SID
	PublicBaseURL    string                // PUBLIC_BASE_URL
	CompanyName      string                // HOTLINE_COMPANY_NAME: named on the public pages
	SMSAck           bool                  // HOTLINE_SMS_ACK
	CallCentreNumber string                // HOTLINE_CALL_CENTRE_NUMBER
	IVRLanguage      voice.Lang            // HOTLINE_IVR_LANGUAGE
	IVRByNumber      map[string]voice.Lang // HOTLINE_IVR_LANGUAGE_BY_NUMBER
	IVRVoices        map[voice.Lang]string // HOTLINE_IVR_VOICE_ZH, HOTLINE_IVR_VOICE_EN
	STT              stt.Config            // HOTLINE_STT_URL, HOTLINE_STT_API_KEY, HOTLINE_STT_MODEL; URL empty: none

	WeChat       webhooks.WeChatConfig // WECHAT_TOKEN, WECHAT_APP_ID, WECHAT_ENCODING_AES_KEY, WECHAT_WELCOME, WECHAT_MENU
	WeChatSecret string                // WECHAT_APP_SECRET
	WeChatAPIURL string                // WECHAT_API_URL

	EmailSecret string                // EMAIL_WEBHOOK_SECRET
	EmailFrom   string                // EMAIL_FROM, e.g. "客服 Support <support@example.com>"
	SMTPURL     string                // SMTP_URL, for sending replies
	IMAP        *transport.IMAPConfig // IMAP_URL, e.g. imaps://user:pass@imap.example.com/INBOX?move=Processed
	EmailPoll   time.Duration         // EMAIL_POLL_EVERY
	SMTPListen  transport.SMTPConfig  // SMTP_LISTEN_ADDR, SMTP_ACCEPT_DOMAINS, SMTP_MAX_BYTES, SMTP_HOSTNAME

	Slack              notifications.SlackConfig // SLACK_BOT_TOKEN, SLACK_API_URL, SLACK_TEAM_CHANNELS
	SlackSigningSecret string                    // SLACK_SIGNING_SECRET

	AfterCare aftercare.Config // HOTLINE_SURVEYS, HOTLINE_SURVEY_TTL, HOTLINE_FOLLOWUP_OFFSETS
	Notices   bool             // HOTLINE_CUSTOMER_NOTICES
	Quiet     [2]time.Duration // HOTLINE_QUIET_HOURS

	CallCategories []string // HOTLINE_CALL_CATEGORIES: what an agent files a logged call under

	// Privacy: the retention policy until an admin saves one (HOTLINE_RETENTION_*_DAYS),
	// the retention period, one run each (HOTLINE_RETENTION_EVERY), and which customer
	// fields each role may reveal in full (HOTLINE_REVEAL).
	Privacy privacy.Config

	// Outbound webhooks: whether receivers on private networks may be called
	// (HOTLINE_WEBHOOKS_ALLOW_PRIVATE); the signing secrets are sealed with
	// HOTLINE_SECRET_KEY, as the TOTP secrets are.
	Webhooks outhooks.Config
}

func loadConfig() (config, error) {
	c := config{
		Addr:           env("HOTLINE_ADDR", ":8080"),
		DatabaseURL:    env("DATABASE_URL", "sqlite:hotline.db"),
		RedisURL:       os.Getenv("REDIS_URL"),
		FilesURL:       strings.TrimSpace(os.Getenv("FILES_URL")),
		AdminEmail:     env("HOTLINE_ADMIN_EMAIL", "admin@hotline.local"),
		AdminPassword:  os.Getenv("HOTLINE_ADMIN_PASSWORD"),
		MetricsToken:   os.Getenv("HOTLINE_METRICS_TOKEN"),
		DefaultCountry: env("HOTLINE_DEFAULT_COUNTRY", "86"),
		Concurrency:    20,
	}
	var err error
	if c.Role, err = parseRole(env("HOTLINE_ROLE", string(roleAll))); err != nil {
		return c, fmt.Errorf("HOTLINE_ROLE: %w", err)
	}
	if v := os.Getenv("HOTLINE_TRUSTED_PROXIES"); v != "" {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				c.TrustedProxies = append(c.TrustedProxies, p)
			}
		}
	}
	if err := c.LogLevel.UnmarshalText([]byte(env("HOTLINE_LOG_LEVEL", "info"))); err != nil {
		return c, fmt.Errorf("HOTLINE_LOG_LEVEL: %w", err)
	}
	if v := os.Getenv("HOTLINE_WORKER_CONCURRENCY"); v != "" {
		if _, err := fmt.Sscan(v, &c.Concurrency); err != nil || c.Concurrency < 1 {
			return c, fmt.Errorf("HOTLINE_WORKER_CONCURRENCY must be a positive number, not %q", v)
		}
	}
	if c.SLA.FirstResponse, err = durationEnv("HOTLINE_SLA_FIRST_RESPONSE", 24*time.Hour); err != nil {
		return c, err
	}
	if c.SLA.EmailFirstResponse, err = durationEnv("HOTLINE_SLA_EMAIL_FIRST_RESPONSE", max(48*time.Hour, c.SLA.FirstResponse)); err != nil {
		return c, err
	}
	if os.Getenv("HOTLINE_SLA_EMAIL_FIRST_RESPONSE") == "" && os.Getenv("HOTLINE_SLA_FIRST_RESPONSE") != "" {
		c.SLA.EmailFirstResponse = c.SLA.FirstResponse // one setting for all channels when only one is given
	}
	if c.SLA.Resolution, err = durationEnv("HOTLINE_SLA_RESOLUTION", 48*time.Hour); err != nil {
		return c, err
	}
	if v := os.Getenv("HOTLINE_SLA_WARN_AT"); v != "" {
		c.SLA.WarnAt = []float64{}
		for _, f := range strings.Split(v, ",") {
			var x float64
			if _, err := fmt.Sscan(strings.TrimSpace(f), &x); err != nil || x <= 0 || x >= 1 {
				return c, fmt.Errorf("HOTLINE_SLA_WARN_AT must list fractions between 0 and 1 such as 0.75,0.9, not %q", v)
			}
			c.SLA.WarnAt = append(c.SLA.WarnAt, x)
		}
	}
	if c.ReopenWindow, err = durationEnv("HOTLINE_REOPEN_WINDOW", 7*24*time.Hour); err != nil {
		return c, err
	}
	switch v := os.Getenv("HOTLINE_WEBHOOKS_ALLOW_PRIVATE"); v {
	case "", "off":
	case "on":
		c.Webhooks.AllowPrivate = true
	default:
		return c, fmt.Errorf("HOTLINE_WEBHOOKS_ALLOW_PRIVATE is on or off, not %q", v)
	}
	if c.Privacy, err = privacyEnv(); err != nil {
		return c, err
	}
	c.DBWait = 60 * time.Second
	if v := os.Getenv("HOTLINE_DB_WAIT"); v != "" {
		if c.DBWait, err = time.ParseDuration(v); err != nil || c.DBWait < 0 {
			return c, fmt.Errorf("HOTLINE_DB_WAIT must be a duration such as 60s (0: do not wait), not %q", v)
		}
	}
	c.Twilio = twilio.Config{AccountSID: os.Getenv("TWILIO_ACCOUNT_SID"), AuthToken: os.Getenv("TWILIO_AUTH_TOKEN"), APIURL: os.Getenv("TWILIO_API_URL")}
	c.TwilioFrom, c.TwilioService = os.Getenv("TWILIO_FROM_NUMBER"), os.Getenv("TWILIO_MESSAGING_SERVICE_SID")
	c.PublicBaseURL = strings.TrimRight(os.Getenv("PUBLIC_BASE_URL"), "/")
	c.CompanyName = strings.TrimSpace(env("HOTLINE_COMPANY_NAME", "Hotline"))
	c.SMSAck = env("HOTLINE_SMS_ACK", "on") != "off"
	c.CallCentreNumber = os.Getenv("HOTLINE_CALL_CENTRE_NUMBER")
	c.IVRLanguage = voice.Lang(env("HOTLINE_IVR_LANGUAGE", "zh"))
	if c.IVRLanguage != voice.Chinese && c.IVRLanguage != voice.English {
		return c, fmt.Errorf("HOTLINE_IVR_LANGUAGE must be zh or en, not %q", c.IVRLanguage)
	}
	c.IVRByNumber = map[string]voice.Lang{}
	for _, pair := range strings.Split(os.Getenv("HOTLINE_IVR_LANGUAGE_BY_NUMBER"), ",") {
		number, lang, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		if !ok || (lang != "zh" && lang != "en") {
			return c, fmt.Errorf("HOTLINE_IVR_LANGUAGE_BY_NUMBER lists number=zh|en pairs, not %q", pair)
		}
		c.IVRByNumber[strings.TrimSpace(number)] = voice.Lang(lang)
	}
	c.IVRVoices = map[voice.Lang]string{}
	for _, lv := range []struct {
		lang voice.Lang
		key  string
	}{{voice.Chinese, "HOTLINE_IVR_VOICE_ZH"}, {voice.English, "HOTLINE_IVR_VOICE_EN"}} {
		v := strings.TrimSpace(env(lv.key, voice.DefaultVoice(lv.lang)))
		if err := voice.CheckVoice(lv.lang, v); err != nil {
			return c, fmt.Errorf("%s: %w", lv.key, err)
		}
		c.IVRVoices[lv.lang] = v
	}
	c.STT = stt.Config{URL: strings.TrimSpace(os.Getenv("HOTLINE_STT_URL")), APIKey: os.Getenv("HOTLINE_STT_API_KEY"), Model: os.Getenv("HOTLINE_STT_MODEL")}
	if c.STT.URL != "" {
		if _, err := stt.New(c.STT); err != nil {
			return c, fmt.Errorf("HOTLINE_STT_URL: %w", err)
		}
	}
	c.WeChat = webhooks.WeChatConfig{Token: os.Getenv("WECHAT_TOKEN"), AppID: os.Getenv("WECHAT_APP_ID"),
		EncodingAESKey: os.Getenv("WECHAT_ENCODING_AES_KEY"), Welcome: os.Getenv("WECHAT_WELCOME"), Menu: map[string]string{}}
	c.WeChatSecret, c.WeChatAPIURL = os.Getenv("WECHAT_APP_SECRET"), os.Getenv("WECHAT_API_URL")
	for _, pair := range strings.Split(os.Getenv("WECHAT_MENU"), ",") {
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		key, action, ok := strings.Cut(pair, "=")
		if !ok || action != "complaint" {
			return c, fmt.Errorf("WECHAT_MENU lists KEY=complaint pairs, not %q", pair)
		}
		c.WeChat.Menu[strings.TrimSpace(key)] = action
	}
	c.EmailSecret, c.EmailFrom, c.SMTPURL = os.Getenv("EMAIL_WEBHOOK_SECRET"), os.Getenv("EMAIL_FROM"), os.Getenv("SMTP_URL")
	if c.SMTPURL != "" && c.EmailFrom == "" {
		return c, fmt.Errorf("SMTP_URL needs EMAIL_FROM, the address replies come from")
	}
	if v := os.Getenv("IMAP_URL"); v != "" {
		if c.IMAP, err = parseIMAPURL(v); err != nil {
			return c, err
		}
	}
	if c.EmailPoll, err = durationEnv("EMAIL_POLL_EVERY", 30*time.Second); err != nil {
		return c, err
	}
	c.SMTPListen = transport.SMTPConfig{Addr: os.Getenv("SMTP_LISTEN_ADDR"), Domain: env("SMTP_HOSTNAME", "localhost")}
	for _, d := range strings.Split(os.Getenv("SMTP_ACCEPT_DOMAINS"), ",") {
		if d = strings.TrimSpace(d); d != "" {
			c.SMTPListen.AcceptDomains = append(c.SMTPListen.AcceptDomains, d)
		}
	}
	if c.SMTPListen.Addr != "" && len(c.SMTPListen.AcceptDomains) == 0 {
		return c, fmt.Errorf("SMTP_LISTEN_ADDR needs SMTP_ACCEPT_DOMAINS, the domains whose mail Hotline accepts")
	}
	if v := os.Getenv("SMTP_MAX_BYTES"); v != "" {
		if _, err := fmt.Sscan(v, &c.SMTPListen.MaxMessageBytes); err != nil || c.SMTPListen.MaxMessageBytes <= 0 {
			return c, fmt.Errorf("SMTP_MAX_BYTES must be a positive number of bytes, not %q", v)
		}
	}
	c.Slack = notifications.SlackConfig{Token: os.Getenv("SLACK_BOT_TOKEN"), APIURL: os.Getenv("SLACK_API_URL"), PublicBaseURL: c.PublicBaseURL}
	if c.Slack.TeamChannels, err = notifications.ParseTeamChannels(os.Getenv("SLACK_TEAM_CHANNELS")); err != nil {
		return c, fmt.Errorf("SLACK_TEAM_CHANNELS: %w", err)
	}
	c.SlackSigningSecret = os.Getenv("SLACK_SIGNING_SECRET")
	c.Notices = env("HOTLINE_CUSTOMER_NOTICES", "on") != "off"
	if q := env("HOTLINE_QUIET_HOURS", "21:00-08:00"); q != "off" {
		if c.Quiet, err = clockRange("HOTLINE_QUIET_HOURS", q); err != nil {
			return c, err
		}
	} else {
		c.Quiet = [2]time.Duration{time.Hour, time.Hour} // equal: off
	}
	c.AfterCare = aftercare.Config{Surveys: env("HOTLINE_SURVEYS", "on") != "off", PublicBaseURL: c.PublicBaseURL}
	if c.AfterCare.SurveyTTL, err = durationEnv("HOTLINE_SURVEY_TTL", 7*24*time.Hour); err != nil {
		return c, err
	}
	if v, ok := os.LookupEnv("HOTLINE_FOLLOWUP_OFFSETS"); ok {
		c.AfterCare.FollowUpOffsets = []time.Duration{}
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f == "" {
				continue
			}
			d, err := time.ParseDuration(f)
			if err != nil || d < 0 {
				return c, fmt.Errorf("HOTLINE_FOLLOWUP_OFFSETS lists durations after resolution such as 0,168h,720h, not %q", v)
			}
			c.AfterCare.FollowUpOffsets = append(c.AfterCare.FollowUpOffsets, d)
		}
	}
	for _, cat := range strings.Split(os.Getenv("HOTLINE_CALL_CATEGORIES"), ",") {
		if cat = strings.TrimSpace(cat); cat != "" && !slices.Contains(c.CallCategories, cat) {
			c.CallCategories = append(c.CallCategories, cat)
		}
	}
	if c.Privacy.Reveal, err = privacy.ParseRules(os.Getenv("HOTLINE_REVEAL")); err != nil {
		return c, fmt.Errorf("HOTLINE_REVEAL: %w", err)
	}
	if c.Reconcile, err = durationEnv("HOTLINE_RECONCILE_EVERY", 30*time.Second); err != nil {
		return c, err
	}
	if c.CalendarZone, err = time.LoadLocation(env("HOTLINE_CALENDAR_TZ", "Asia/Shanghai")); err != nil {
		return c, fmt.Errorf("HOTLINE_CALENDAR_TZ: %w", err)
	}
	hours, err := clockRange("HOTLINE_WORKING_HOURS", env("HOTLINE_WORKING_HOURS", "09:00-18:00"))
	if err != nil {
		return c, err
	}
	if hours[1] <= hours[0] {
		return c, fmt.Errorf("HOTLINE_WORKING_HOURS must end after it starts")
	}
	c.WorkOpen, c.WorkShut = hours[0], hours[1]
	for _, d := range c.DefaultCountry {
		if d < '0' || d > '9' {
			return c, fmt.Errorf("HOTLINE_DEFAULT_COUNTRY must be a calling code such as 86, not %q", c.DefaultCountry)
		}
	}
	return c, nil
}

// role is what a serving process does: everything, or one half of it, so that API and
// worker processes can be added separately over one database and one Redis.
type role string

const (
	roleAll    role = "all"    // the HTTP server, the SMTP listener and the job worker
	roleAPI    role = "api"    // the HTTP server (API, webhooks, public pages) and the SMTP listener
	roleWorker role = "worker" // the job worker: timers, reconciler, notices, mail polling
)

// api reports whether the process answers the API, webhooks and public pages.
func (r role) api() bool { return r != roleWorker }

// worker reports whether the process runs background jobs.
func (r role) worker() bool { return r != roleAPI }

func parseRole(v string) (role, error) {
	switch r := role(strings.ToLower(strings.TrimSpace(v))); r {
	case roleAll, roleAPI, roleWorker:
		return r, nil
	}
	return "", fmt.Errorf("the role must be api, worker or all, not %q", v)
}

// parseIMAPURL reads imaps://user:pass@host[:993]/MAILBOX?move=FOLDER (implicit TLS),
// imap://…?starttls=true, or imap+insecure:// / imaps+insecure:// (tests only).
func parseIMAPURL(raw string) (*transport.IMAPConfig, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User == nil {
		return nil, fmt.Errorf("IMAP_URL must look like imaps://user:password@imap.example.com/INBOX")
	}
	cfg := &transport.IMAPConfig{Addr: u.Host, Username: u.User.Username(), Mailbox: strings.TrimPrefix(u.Path, "/"), MoveTo: u.Query().Get("move")}
	cfg.Password, _ = u.User.Password()
	scheme, insecure := strings.CutSuffix(u.Scheme, "+insecure")
	cfg.InsecureSkipVerify = insecure
	switch scheme {
	case "imaps":
		cfg.TLS = true
		if u.Port() == "" {
			cfg.Addr += ":993"
		}
	case "imap":
		cfg.StartTLS = u.Query().Get("starttls") == "true"
		if u.Port() == "" {
			cfg.Addr += ":143"
		}
	default:
		return nil, fmt.Errorf("IMAP_URL scheme must be imaps or imap, not %q", u.Scheme)
	}
	return cfg, nil
}

// clockRange reads "HH:MM-HH:MM" into times of day.
func clockRange(key, v string) ([2]time.Duration, error) {
	a, b, ok := strings.Cut(v, "-")
	ta, err1 := time.Parse("15:04", strings.TrimSpace(a))
	tb, err2 := time.Parse("15:04", strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil {
		return [2]time.Duration{}, fmt.Errorf("%s must look like 21:00-08:00, not %q", key, v)
	}
	at := func(t time.Time) time.Duration {
		return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute
	}
	return [2]time.Duration{at(ta), at(tb)}, nil
}

// privacyEnv reads the retention defaults: days after a ticket ended (0 or unset keeps).
func privacyEnv() (privacy.Config, error) {
	var c privacy.Config
	for _, d := range []struct {
		key  string
		days *int
	}{
		{"HOTLINE_RETENTION_MESSAGES_DAYS", &c.Defaults.Messages},
		{"HOTLINE_RETENTION_ATTACHMENTS_DAYS", &c.Defaults.Attachments},
		{"HOTLINE_RETENTION_RECORDINGS_DAYS", &c.Defaults.Recordings},
		{"HOTLINE_RETENTION_CUSTOMERS_DAYS", &c.Defaults.Customers},
	} {
		v := os.Getenv(d.key)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > privacy.MaxDays {
			return c, fmt.Errorf("%s must be a number of days from 0 (keep) to %d, not %q", d.key, privacy.MaxDays, v)
		}
		*d.days = n
	}
	var err error
	c.Every, err = durationEnv("HOTLINE_RETENTION_EVERY", 24*time.Hour)
	return c, err
}

// durationEnv reads a Go duration such as 24h, 90m or 5s.
func durationEnv(key string, fallback time.Duration) (time.Duration, error) {
	v := os.Getenv(key)
	if v == "" {
		return fallback, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s must be a positive duration such as 24h or 30s, not %q", key, v)
	}
	return d, nil
}

func env(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}
