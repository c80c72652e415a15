package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// NotReady names the dependency ("database", "broker") whose check failed, for the details
// /readyz gives operators; nil stays nil.
func NotReady(source string, err error) error {
	if err == nil {
		return nil
	}
	return &notReadyError{source: source, err: err}
}

type notReadyError struct {
	source string
	err    error
}

func (e *notReadyError) Error() string { return e.source + ": " + e.err.Error() }
func (e *notReadyError) Unwrap() error { return e.err }

// readyz answers whether this process can take traffic. Anyone (a load balancer) learns
// only that: {"status":"ready"}, or 503 {"status":"not ready"}. Which dependency failed and
// its error name internal addresses and drivers, so only an operator sees them: the holder
// of the metrics token, or a client on this machine (the connection's peer is loopback and
// no proxy says it forwards someone else). The log always has them.
func readyz(ready func(ctx context.Context) error, metricsToken string, log *slog.Logger) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var err error
		if ready != nil {
			err = ready(c.UserContext())
		}
		if err == nil {
			return c.JSON(fiber.Map{"status": "ready"})
		}
		log.Warn("not ready", "request_id", requestID(c), "err", err)
		c.Status(fiber.StatusServiceUnavailable)
		if !operator(c, metricsToken) {
			return c.JSON(fiber.Map{"status": "not ready"})
		}
		failed := map[string]string{}
		for _, f := range notReadyParts(err) {
			if failed[f.source] != "" {
				failed[f.source] += "; "
			}
			failed[f.source] += f.err.Error()
		}
		return c.JSON(fiber.Map{"status": "not ready", "failed": failed})
	}
}

// operator reports whether the request may see /readyz's details.
func operator(c *fiber.Ctx, metricsToken string) bool {
	if metricsToken != "" {
		got, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
		if ok && subtle.ConstantTimeCompare([]byte(got), []byte(metricsToken)) == 1 {
			return true
		}
	}
	// A proxy on this machine makes every client's peer loopback; the headers it adds say
	// the request is someone else's. (Adding them can only lose a client the details.)
	for _, h := range []string{fiber.HeaderXForwardedFor, "Forwarded", "X-Real-Ip"} {
		if c.Get(h) != "" {
			return false
		}
	}
	return c.Context().RemoteIP().IsLoopback()
}

// notReadyParts splits a readiness error into the dependencies that failed; a failure no
// NotReady named counts as "unknown".
func notReadyParts(err error) []*notReadyError {
	var nr *notReadyError
	if errors.As(err, &nr) && nr == err {
		return []*notReadyError{nr}
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []*notReadyError
		for _, e := range j.Unwrap() {
			out = append(out, notReadyParts(e)...)
		}
		return out
	}
	if errors.As(err, &nr) {
		return []*notReadyError{{source: nr.source, err: err}}
	}
	return []*notReadyError{{source: "unknown", err: err}}
}
