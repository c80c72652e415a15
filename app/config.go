package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/hotlinedesk/hotline/app/webhooks"
	"github.com/hotlinedesk/hotline/channels/twilio"
	"github.com/hotlinedesk/hotline/channels/voice"
	"github.com/hotlinedesk/hotline/tickets"
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
	Concurrency    int // HOTLINE_WORKER_CONCURRENCY

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
	SMSAck           bool                  // HOTLINE_SMS_ACK
	CallCentreNumber string                // HOTLINE_CALL_CENTRE_NUMBER
	IVRLanguage      voice.Lang            // HOTLINE_IVR_LANGUAGE
	IVRByNumber      map[string]voice.Lang // HOTLINE_IVR_LANGUAGE_BY_NUMBER

	WeChat       webhooks.WeChatConfig // WECHAT_TOKEN, WECHAT_APP_ID, WECHAT_ENCODING_AES_KEY, WECHAT_WELCOME, WECHAT_MENU
	WeChatSecret string                // WECHAT_APP_SECRET
	WeChatAPIURL string                // WECHAT_API_URL
}

func loadConfig() (config, error) {
	c := config{
		Addr:           env("HOTLINE_ADDR", ":8080"),
		DatabaseURL:    env("DATABASE_URL", "sqlite:hotline.db"),
		RedisURL:       os.Getenv("REDIS_URL"),
		AdminEmail:     env("HOTLINE_ADMIN_EMAIL", "admin@hotline.local"),
		AdminPassword:  os.Getenv("HOTLINE_ADMIN_PASSWORD"),
		DefaultCountry: env("HOTLINE_DEFAULT_COUNTRY", "86"),
		Concurrency:    20,
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
	var err error
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
	c.Twilio = twilio.Config{AccountSID: os.Getenv("TWILIO_ACCOUNT_SID"), AuthToken: os.Getenv("TWILIO_AUTH_TOKEN"), APIURL: os.Getenv("TWILIO_API_URL")}
	c.TwilioFrom, c.TwilioService = os.Getenv("TWILIO_FROM_NUMBER"), os.Getenv("TWILIO_MESSAGING_SERVICE_SID")
	c.PublicBaseURL = strings.TrimRight(os.Getenv("PUBLIC_BASE_URL"), "/")
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
	if c.Reconcile, err = durationEnv("HOTLINE_RECONCILE_EVERY", 30*time.Second); err != nil {
		return c, err
	}
	if c.CalendarZone, err = time.LoadLocation(env("HOTLINE_CALENDAR_TZ", "Asia/Shanghai")); err != nil {
		return c, fmt.Errorf("HOTLINE_CALENDAR_TZ: %w", err)
	}
	hours := env("HOTLINE_WORKING_HOURS", "09:00-18:00")
	open, shut, ok := strings.Cut(hours, "-")
	o, err1 := time.Parse("15:04", strings.TrimSpace(open))
	sh, err2 := time.Parse("15:04", strings.TrimSpace(shut))
	if !ok || err1 != nil || err2 != nil || !sh.After(o) {
		return c, fmt.Errorf("HOTLINE_WORKING_HOURS must look like 09:00-18:00, not %q", hours)
	}
	c.WorkOpen = time.Duration(o.Hour())*time.Hour + time.Duration(o.Minute())*time.Minute
	c.WorkShut = time.Duration(sh.Hour())*time.Hour + time.Duration(sh.Minute())*time.Minute
	for _, d := range c.DefaultCountry {
		if d < '0' || d > '9' {
			return c, fmt.Errorf("HOTLINE_DEFAULT_COUNTRY must be a calling code such as 86, not %q", c.DefaultCountry)
		}
	}
	return c, nil
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
