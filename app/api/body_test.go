package api_test

import (
	"bytes"
	"compress/gzip"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/api"
)

// api.Body is the body c.Body() gives, without its copy: the same bytes for a plain body,
// an empty one, and (on an app whose limits do not refuse it first) an encoded one, which
// is left to fiber to decode.
func TestBodyIsWhatFiberReads(t *testing.T) {
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write([]byte("a=1&b=%E6%94%B6")) //nolint:errcheck // a buffer
	zw.Close()
	cases := []struct {
		name, encoding string
		body           []byte
		want           string
	}{
		{"form", "", []byte("a=1&b=%E6%94%B6"), "a=1&b=%E6%94%B6"},
		{"json", "", []byte(`{"note":"收到"}`), `{"note":"收到"}`},
		{"empty", "", nil, ""},
		{"identity", "identity", []byte("a=1"), "a=1"},
		{"gzip", "gzip", zipped.Bytes(), "a=1&b=%E6%94%B6"},
	}
	app := fiber.New(fiber.Config{Immutable: true})
	app.Post("/b", func(c *fiber.Ctx) error {
		got := string(api.Body(c))
		if want := string(c.Body()); got != want {
			return c.Status(500).SendString("api.Body " + got + ", c.Body " + want)
		}
		return c.SendString(got)
	})
	for _, tc := range cases {
		req := httptest.NewRequest("POST", "/b", bytes.NewReader(tc.body))
		if tc.encoding != "" {
			req.Header.Set("Content-Encoding", tc.encoding)
		}
		res, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		out.ReadFrom(res.Body) //nolint:errcheck // in memory
		res.Body.Close()
		if res.StatusCode != 200 || out.String() != tc.want {
			t.Errorf("%s: %d %q, want 200 %q", tc.name, res.StatusCode, out.String(), tc.want)
		}
	}
}

// Each request is logged at debug level, with its id, and not at all above it.
func TestRequestsLoggedAtDebug(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelDebug, slog.LevelInfo} {
		var logs bytes.Buffer
		app := api.New(api.Config{Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: level}))})
		res, err := app.Test(httptest.NewRequest("GET", "/healthz", nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		id := res.Header.Get(fiber.HeaderXRequestID)
		logged := strings.Contains(logs.String(), "msg=request request_id="+id+" method=GET path=/healthz status=200 duration=")
		if logged != (level == slog.LevelDebug) || id == "" {
			t.Errorf("at %v (request id %q), logged %v: %s", level, id, logged, logs.String())
		}
	}
}
