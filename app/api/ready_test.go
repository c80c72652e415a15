package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// /readyz tells anyone whether the process is ready, and only an operator (the metrics
// token's holder, or a client on this machine) which dependency failed and why.
func TestReadyzShowsDetailsOnlyToOperators(t *testing.T) {
	const token = "metrics-secret-token"
	const driverErr = "dial tcp 10.20.30.40:5432: connect: connection refused"
	var (
		mu      sync.Mutex
		failing error // what the next check answers
	)
	fail := func(err error) { mu.Lock(); failing = err; mu.Unlock() }
	newApp := func(build func(api.Config) *fiber.App) *fiber.App {
		return build(api.Config{Log: tickettest.Logger(), MetricsToken: token,
			Ready: func(context.Context) error { mu.Lock(); defer mu.Unlock(); return failing }})
	}
	apps := map[string]*fiber.App{"api": newApp(api.New), "worker": newApp(api.NewOps)}

	// A loopback listener for each, to be reached as a client on this machine is.
	loopback := map[string]string{}
	for name, app := range apps {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go app.Listener(ln)                                        //nolint:errcheck // ends with the test
		t.Cleanup(func() { app.ShutdownWithTimeout(time.Second) }) //nolint:errcheck
		loopback[name] = "http://" + ln.Addr().String()
	}
	ipv6 := map[string]string{}
	for name, app := range apps {
		ln, err := net.Listen("tcp", "[::1]:0")
		if err != nil {
			continue // no IPv6 loopback here
		}
		go app.Listener(ln) //nolint:errcheck // ends with the test
		ipv6[name] = "http://" + ln.Addr().String()
	}

	type answer struct {
		status int
		body   map[string]any
	}
	cases := []struct {
		name    string
		fail    error
		local   bool // from 127.0.0.1 rather than a remote peer
		v6      bool // from ::1
		headers map[string]string
		want    answer
	}{
		{name: "ready, public", want: answer{200, map[string]any{"status": "ready"}}},
		{name: "ready, loopback", local: true, want: answer{200, map[string]any{"status": "ready"}}},
		{name: "database down, public: no details", fail: api.NotReady("database", errors.New(driverErr)),
			want: answer{503, map[string]any{"status": "not ready"}}},
		{name: "database down, wrong token: no details", fail: api.NotReady("database", errors.New(driverErr)),
			headers: map[string]string{"Authorization": "Bearer not-the-token"}, want: answer{503, map[string]any{"status": "not ready"}}},
		{name: "database down, token in another scheme: no details", fail: api.NotReady("database", errors.New(driverErr)),
			headers: map[string]string{"Authorization": "Basic " + token}, want: answer{503, map[string]any{"status": "not ready"}}},
		{name: "database down, claims to be forwarded from loopback: no details", fail: api.NotReady("database", errors.New(driverErr)),
			headers: map[string]string{"X-Forwarded-For": "127.0.0.1"}, want: answer{503, map[string]any{"status": "not ready"}}},
		{name: "database down, token: details", fail: api.NotReady("database", errors.New(driverErr)),
			headers: map[string]string{"Authorization": "Bearer " + token},
			want:    answer{503, map[string]any{"status": "not ready", "failed": map[string]any{"database": driverErr}}}},
		{name: "broker down, loopback: details", fail: api.NotReady("broker", errors.New("dial tcp 10.20.30.41:6379: i/o timeout")), local: true,
			want: answer{503, map[string]any{"status": "not ready", "failed": map[string]any{"broker": "dial tcp 10.20.30.41:6379: i/o timeout"}}}},
		{name: "both down, IPv6 loopback: details", v6: true,
			fail: errors.Join(api.NotReady("database", errors.New(driverErr)), api.NotReady("broker", errors.New("EOF"))),
			want: answer{503, map[string]any{"status": "not ready", "failed": map[string]any{"database": driverErr, "broker": "EOF"}}}},
		{name: "database down, loopback peer of a proxy forwarding a client: no details", fail: api.NotReady("database", errors.New(driverErr)), local: true,
			headers: map[string]string{"X-Forwarded-For": "203.0.113.9"}, want: answer{503, map[string]any{"status": "not ready"}}},
	}
	for _, tc := range cases {
		for name, app := range apps {
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				fail(tc.fail)
				req := httptest.NewRequest("GET", "/readyz", nil)
				switch {
				case tc.v6:
					to := ipv6[name]
					if to == "" {
						t.Log("no IPv6 loopback on this machine: asking over IPv4's")
						to = loopback[name]
					}
					req, _ = http.NewRequest("GET", to+"/readyz", nil)
				case tc.local:
					req, _ = http.NewRequest("GET", loopback[name]+"/readyz", nil)
				}
				for k, v := range tc.headers {
					req.Header.Set(k, v)
				}
				var res *http.Response
				var err error
				if tc.local || tc.v6 {
					res, err = http.DefaultClient.Do(req)
				} else {
					res, err = app.Test(req, -1) // the peer is 0.0.0.0: not this machine
				}
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				raw, _ := io.ReadAll(res.Body)
				var body map[string]any
				if err := json.Unmarshal(raw, &body); err != nil {
					t.Fatalf("body %q: %v", raw, err)
				}
				if res.StatusCode != tc.want.status || fmt.Sprint(body) != fmt.Sprint(tc.want.body) {
					t.Errorf("%d %s, want %d %v", res.StatusCode, raw, tc.want.status, tc.want.body)
				}
				if _, detailed := tc.want.body["failed"]; !detailed && (strings.Contains(string(raw), "10.20.30") || strings.Contains(string(raw), "refused")) {
					t.Errorf("details leaked: %s", raw)
				}
			})
		}
	}
}
