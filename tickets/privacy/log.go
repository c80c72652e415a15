package privacy

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
)

// LogHandler wraps a slog handler so that what it writes carries no personal values and
// no secrets: messages and string values are masked (MaskText), values under keys that
// name a message's text or a secret (body, text, token, password, authorization, …) are
// replaced by their length, and bearer tokens are cut. app builds every logger with it,
// and the tests' loggers (tickettest.Logger) go through it too.
func LogHandler(h slog.Handler) slog.Handler { return &logHandler{h} }

type logHandler struct{ next slog.Handler }

func (h *logHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, maskLog(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(maskAttr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(as))
	for i, a := range as {
		masked[i] = maskAttr(a)
	}
	return &logHandler{h.next.WithAttrs(masked)}
}

func (h *logHandler) WithGroup(name string) slog.Handler { return &logHandler{h.next.WithGroup(name)} }

// secretKeys are attribute keys whose values are never written, only their length: a
// message's text, a password, a token.
var secretKeys = []string{"body", "text", "message_body", "content", "password", "secret", "token", "authorization", "cookie", "signature"}

func secretKey(k string) bool {
	k = strings.ToLower(k)
	for _, s := range secretKeys {
		if k == s || strings.HasSuffix(k, "_"+s) || strings.HasSuffix(k, "."+s) {
			return true
		}
	}
	return false
}

// bearerRE finds a bearer token or a session cookie's value in a line.
var bearerRE = regexp.MustCompile(`(?i)(bearer\s+|token[=:]\s*|session[=:]\s*)[A-Za-z0-9._~+/\-]{8,}=*`)

// sessionRE is a session token as tickets/access makes them.
var sessionRE = regexp.MustCompile(`\bhl_[A-Za-z0-9_\-]{16,}`)

// maskLog is a log line's text masked: personal values and tokens.
func maskLog(s string) string {
	s = bearerRE.ReplaceAllString(s, "${1}[redacted]")
	s = sessionRE.ReplaceAllString(s, "hl_[redacted]")
	return MaskText(s)
}

func maskAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		as := v.Group()
		masked := make([]slog.Attr, len(as))
		for i, g := range as {
			masked[i] = maskAttr(g)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(masked...)}
	}
	if secretKey(a.Key) {
		n := 0
		switch v.Kind() {
		case slog.KindString:
			n = len(v.String())
		case slog.KindAny:
			n = len(fmt.Sprint(v.Any()))
		default:
			return slog.Attr{Key: a.Key, Value: v}
		}
		return slog.String(a.Key, fmt.Sprintf("[%d bytes]", n))
	}
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, maskLog(v.String()))
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, maskLog(x.Error()))
		case fmt.Stringer:
			return slog.String(a.Key, maskLog(x.String()))
		case []byte:
			return slog.String(a.Key, maskLog(string(x)))
		case string:
			return slog.String(a.Key, maskLog(x))
		default:
			return slog.String(a.Key, maskLog(fmt.Sprint(x)))
		}
	case slog.KindInt64, slog.KindUint64:
		// A number logged as a number can be a phone number (13800138000) too.
		if s := v.String(); s != MaskText(s) {
			return slog.String(a.Key, MaskText(s))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
