package main

import "testing"

// HOTLINE_WEBHOOKS_ALLOW_PRIVATE is on or off (unset: off); anything else stops the start
// rather than guessing whether receivers inside the network may be called.
func TestWebhooksConfig(t *testing.T) {
	for _, c := range []struct {
		env     string
		allow   bool
		refused bool
	}{
		{"", false, false},
		{"off", false, false},
		{"on", true, false},
		{"yes", false, true},
		{"true", false, true},
	} {
		t.Setenv("HOTLINE_WEBHOOKS_ALLOW_PRIVATE", c.env)
		cfg, err := loadConfig()
		if (err != nil) != c.refused {
			t.Errorf("%q: %v, refused %v", c.env, err, c.refused)
			continue
		}
		if err == nil && cfg.Webhooks.AllowPrivate != c.allow {
			t.Errorf("%q: allow private %v, want %v", c.env, cfg.Webhooks.AllowPrivate, c.allow)
		}
	}
}
