package webhooks_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets/tickettest"
	"github.com/hotlinedesk/hotline/tickets/webhooks"
)

// desk is the tests' call centre with its webhooks, as app builds them (the receivers
// run on loopback, so private addresses are allowed).
type desk struct {
	*tickettest.Desk
	hooks *webhooks.Service
}

func newDesk(t *testing.T, db *bun.DB, cfg webhooks.Config) *desk {
	t.Helper()
	clock := tickettest.NewClock(tickettest.T0)
	base := tickettest.NewDesk(t, tickettest.Service(db, clock), clock)
	cfg.AllowPrivate = true
	return &desk{Desk: base, hooks: webhooks.New(base.Svc, cfg)}
}

// received is one POST a receiver took.
type received struct {
	Header http.Header
	Body   []byte
	Type   string
	ID     string
	Data   map[string]any
}

// receiver is a local webhook receiver: it keeps what it was sent and answers with
// answer (200 when nil).
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	answer func(n int, r received) (int, time.Duration)
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var p struct {
			ID   string         `json:"id"`
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
		}
		json.Unmarshal(body, &p) //nolint:errcheck // checked by the tests that read it
		got := received{Header: r.Header.Clone(), Body: body, Type: p.Type, ID: p.ID, Data: p.Data}
		rc.mu.Lock()
		rc.got = append(rc.got, got)
		n := len(rc.got)
		answer := rc.answer
		rc.mu.Unlock()
		status, wait := 200, time.Duration(0)
		if answer != nil {
			status, wait = answer(n, got)
		}
		time.Sleep(wait) // a slow receiver, for the timeout (real time: it is the network's)
		w.WriteHeader(status)
		io.WriteString(w, "answer "+strconv.Itoa(n)) //nolint:errcheck
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) received() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// subscribe subscribes rc to events and returns the subscription and its secret.
func (d *desk) subscribe(t *testing.T, rc *receiver, events ...string) (*webhooks.Subscription, string) {
	t.Helper()
	sub, secret, err := d.hooks.Create(context.Background(), d.Admin, webhooks.SubscriptionInput{Name: "crm", URL: rc.URL + "/hook?token=abc", Events: events})
	if err != nil {
		t.Fatal(err)
	}
	return sub, secret
}

// run is one pass of the worker: collect, then send every due delivery once. It returns
// how many attempts were made.
func (d *desk) run(t *testing.T) int {
	t.Helper()
	ctx := context.Background()
	if _, err := d.hooks.Collect(ctx); err != nil {
		t.Fatal(err)
	}
	due, err := d.hooks.DueDeliveries(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, x := range due {
		sent, err := d.hooks.Send(ctx, x.ID)
		if err != nil {
			t.Fatal(err)
		}
		if sent {
			n++
		}
	}
	return n
}

// drain runs passes until nothing is due.
func (d *desk) drain(t *testing.T) {
	t.Helper()
	for range 50 {
		if d.run(t) == 0 {
			return
		}
	}
	t.Fatal("deliveries still due after 50 passes")
}

// verify is the receiver's check of a delivery, written from the documented recipe
// (docs/integrations.md, "Verifying a delivery") and not from the package's code: HMAC-
// SHA256 under the secret of the Hotline-Timestamp header, "." and the raw body, hex, as
// one of the v1= entries of Hotline-Signature; the timestamp within five minutes of now.
func verify(secret string, h http.Header, body []byte, now time.Time) bool {
	ts, err := strconv.ParseInt(h.Get("Hotline-Timestamp"), 10, 64)
	if err != nil || now.Sub(time.Unix(ts, 0)).Abs() > 5*time.Minute {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(h.Get("Hotline-Timestamp") + "." + string(body)))
	want := mac.Sum(nil)
	for _, part := range strings.Split(h.Get("Hotline-Signature"), ",") {
		v, ok := strings.CutPrefix(strings.TrimSpace(part), "v1=")
		if !ok {
			continue
		}
		got, err := hex.DecodeString(v)
		if err == nil && hmac.Equal(got, want) {
			return true
		}
	}
	return false
}

func TestSignatureVerifiedIndependently(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db, webhooks.Config{SecretKey: "a key for tests"})
		rc := newReceiver(t)
		_, secret := d.subscribe(t, rc, "ticket.created")
		if !strings.HasPrefix(secret, "whsec_") || len(secret) < 40 {
			t.Fatalf("secret %q: want whsec_ and 32 random bytes", secret)
		}
		var stored string
		if err := db.NewSelect().Table("webhook_subscriptions").Column("secret").Scan(ctx, &stored); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(stored, strings.TrimPrefix(secret, "whsec_")) || !strings.HasPrefix(stored, "v1:") {
			t.Fatalf("the secret is stored as %q: want it sealed", stored)
		}
		d.Ticket(t, "+8613800138000")
		d.drain(t)
		got := rc.received()
		if len(got) != 1 {
			t.Fatalf("received %d deliveries, want 1", len(got))
		}
		g := got[0]
		now := d.Clock.Now()
		for _, c := range []struct {
			name   string
			secret string
			body   []byte
			header func(http.Header)
			now    time.Time
			want   bool
		}{
			{"as sent", secret, g.Body, nil, now, true},
			{"tampered body", secret, append([]byte(nil), append(g.Body[:len(g.Body)-1:len(g.Body)-1], ' ', '}')...), nil, now, false},
			{"another secret", "whsec_not-the-one", g.Body, nil, now, false},
			{"old timestamp", secret, g.Body, nil, now.Add(10 * time.Minute), false},
			{"timestamp changed", secret, g.Body, func(h http.Header) {
				h.Set("Hotline-Timestamp", strconv.FormatInt(now.Unix()-1, 10))
			}, now, false},
			{"no signature", secret, g.Body, func(h http.Header) { h.Del("Hotline-Signature") }, now, false},
		} {
			h := g.Header.Clone()
			if c.header != nil {
				c.header(h)
			}
			if ok := verify(c.secret, h, c.body, c.now); ok != c.want {
				t.Errorf("%s: verified %v, want %v", c.name, ok, c.want)
			}
		}
		for k, want := range map[string]string{"Content-Type": "application/json", "User-Agent": "Hotline-Webhooks/1",
			"Hotline-Event": "ticket.created", "Hotline-Event-Id": g.ID} {
			if v := g.Header.Get(k); v != want || v == "" {
				t.Errorf("header %s = %q, want %q", k, v, want)
			}
		}
		if g.Type != "ticket.created" || !strings.HasPrefix(g.ID, "evt_") {
			t.Errorf("payload type %q id %q", g.Type, g.ID)
		}

		// A rotation: for a day both secrets sign, the new one first; then only the new.
		subs, err := d.hooks.Subscriptions(ctx, d.Admin)
		if err != nil {
			t.Fatal(err)
		}
		fresh, err := d.hooks.RotateSecret(ctx, d.Admin, subs[0].ID)
		if err != nil || fresh == secret {
			t.Fatalf("rotate: %q, %v", fresh, err)
		}
		d.Ticket(t, "+8613800138001")
		d.drain(t)
		d.Clock.Advance(webhooks.RotationOverlap + time.Minute)
		d.Ticket(t, "+8613800138002")
		d.drain(t)
		got = rc.received()
		if len(got) != 3 {
			t.Fatalf("received %d deliveries, want 3", len(got))
		}
		during, after := got[1], got[2]
		if n := strings.Count(during.Header.Get("Hotline-Signature"), "v1="); n != 2 {
			t.Errorf("during the rotation: %d signatures, want 2", n)
		}
		if !verify(fresh, during.Header, during.Body, time.Unix(mustInt(t, during.Header.Get("Hotline-Timestamp")), 0)) ||
			!verify(secret, during.Header, during.Body, time.Unix(mustInt(t, during.Header.Get("Hotline-Timestamp")), 0)) {
			t.Error("during the rotation both the old and the new secret should verify")
		}
		ts := time.Unix(mustInt(t, after.Header.Get("Hotline-Timestamp")), 0)
		if !verify(fresh, after.Header, after.Body, ts) || verify(secret, after.Header, after.Body, ts) {
			t.Error("after the rotation only the new secret should verify")
		}
	})
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
