package privacy_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/hotlinedesk/hotline/tickets/privacy"
)

// TestLogHandler: what the wrapped handler writes carries no full number, no message text
// and no token, whichever way it was logged; the rest of the line stays readable.
func TestLogHandler(t *testing.T) {
	for _, tc := range []struct {
		name      string
		log       func(l *slog.Logger)
		want      []string
		forbidden []string
	}{
		{"message text", func(l *slog.Logger) { l.Info("intake from 13800138000 failed", "ticket", "T-1042") },
			[]string{"138****8000", "ticket=T-1042"}, []string{"13800138000"}},
		{"string attribute", func(l *slog.Logger) { l.Warn("send failed", "to", "+8613800138000", "email", "zhang.wei@example.com") },
			[]string{"+86138****8000", "zh***@example.com"}, []string{"13800138000", "zhang.wei"}},
		{"error", func(l *slog.Logger) {
			l.Error("reply", "err", errors.New(`phone number "+8613800138000" opted out; id 310101199001011234`))
		}, []string{"3101**********1234"}, []string{"13800138000", "310101199001011234"}},
		{"number", func(l *slog.Logger) { l.Info("lookup", "caller", int64(13800138000), "ticket_id", 42) },
			[]string{"caller=138****8000", "ticket_id=42"}, []string{"13800138000"}},
		{"body by key", func(l *slog.Logger) { l.Info("inbound", "body", "我的保单理赔还没到账，怎么回事") },
			[]string{"body=\"[45 bytes]\""}, []string{"理赔"}},
		{"token by key", func(l *slog.Logger) { l.Info("signed in", "token", "tok_3f9a8b7c6d5e4f3a2b1c") },
			[]string{"token="}, []string{"3f9a8b7c"}},
		{"bearer in text", func(l *slog.Logger) { l.Info("request Authorization: Bearer abcdef0123456789abcdef") },
			[]string{"Bearer [redacted]"}, []string{"abcdef0123456789"}},
		{"group", func(l *slog.Logger) {
			l.Info("call", slog.Group("caller", "phone", "13900139000", "card", "6217 0012 3456 7893"))
		}, []string{"caller.phone=139****9000", "6217 **** **** 7893"}, []string{"13900139000", "0012 3456"}},
		{"with", func(l *slog.Logger) {
			l.With("from", "13800138000").WithGroup("g").Info("x", "password", "hunter2hunter2")
		},
			[]string{"from=138****8000", "g.password=\"[14 bytes]\""}, []string{"13800138000", "hunter2"}},
		{"ordinary numbers", func(l *slog.Logger) {
			l.Info("claim CL-2026-1147 paid 12800.00 on 2026-12-04", "policy", "P2026001234567")
		},
			[]string{"CL-2026-1147", "12800.00", "2026-12-04", "P2026001234567"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			tc.log(slog.New(privacy.LogHandler(slog.NewTextHandler(&buf, nil))))
			out := buf.String()
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("log %q lacks %q", out, w)
				}
			}
			for _, f := range tc.forbidden {
				if strings.Contains(out, f) {
					t.Errorf("log %q carries %q", out, f)
				}
			}
		})
	}
}
