package console_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/app/console"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

func TestSignIn(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))

	t.Run("pages send a signed-out visitor to the sign-in form and back", func(t *testing.T) {
		b := d.Browser()
		r := b.Get("/tickets/HL-000001?x=1")
		consoletest.WantStatus(t, r, 303)
		if r.Location != "/login?next=%2Ftickets%2FHL-000001%3Fx%3D1" {
			t.Fatalf("redirected to %q", r.Location)
		}
		b.Get(r.Location)
		r = b.Post("/login", url.Values{"email": {d.Agent.Email}, "password": {consoletest.Password}, "next": {"/tickets/HL-000001?x=1"}})
		consoletest.WantStatus(t, r, 303)
		if r.Location != "/tickets/HL-000001?x=1" {
			t.Fatalf("after sign-in went to %q", r.Location)
		}
	})

	t.Run("the session cookie is HttpOnly and SameSite", func(t *testing.T) {
		b := d.Browser()
		b.Get("/login")
		req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(url.Values{
			"email": {d.Agent.Email}, "password": {consoletest.Password}, "_csrf": {b.CSRF}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range b.Cookies {
			req.AddCookie(&http.Cookie{Name: k, Value: v})
		}
		res, err := d.App.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		var session *http.Cookie
		for _, c := range res.Cookies() {
			if c.Name == "hotline_session" {
				session = c
			}
		}
		if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/" {
			t.Fatalf("session cookie %+v", session)
		}
	})

	tests := []struct {
		name   string
		form   url.Values
		csrf   bool
		status int
		says   string
	}{
		{"wrong password", url.Values{"email": {"li@desk.test"}, "password": {"nope"}}, true, 401, "邮箱或密码错误"},
		{"unknown email", url.Values{"email": {"who@desk.test"}, "password": {consoletest.Password}}, true, 401, "邮箱或密码错误"},
		{"no form token", url.Values{"email": {"li@desk.test"}, "password": {consoletest.Password}}, false, 403, "表单已过期"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := d.Browser()
			b.Get("/login")
			if tc.csrf {
				tc.form.Set("_csrf", b.CSRF)
			}
			r := b.PostRaw("/login", tc.form)
			consoletest.WantStatus(t, r, tc.status)
			consoletest.WantContains(t, r, tc.says)
			if _, ok := b.Cookies["hotline_session"]; ok {
				t.Fatal("a refused sign-in set a session")
			}
		})
	}

	t.Run("an open redirect is not followed", func(t *testing.T) {
		for _, next := range []string{"//evil.example/x", "/\\evil.example", "/\t/evil.example/x", "/\r\n/evil.example",
			"https://evil.example/", "/%09/evil.example", "javascript:alert(1)"} {
			b := d.Browser()
			b.Get("/login")
			r := b.Post("/login", url.Values{"email": {d.Agent.Email}, "password": {consoletest.Password}, "next": {next}})
			consoletest.WantStatus(t, r, 303)
			if r.Location != "/queue" && r.Location != next {
				t.Fatalf("next %q went to %q", next, r.Location)
			}
			if strings.ContainsAny(r.Location, "\t\r\n\\") || strings.HasPrefix(r.Location, "//") || strings.Contains(r.Location, ":") {
				t.Fatalf("next %q sent the browser to %q", next, r.Location)
			}
			// Signed in, the sign-in page sends them on at once: the same check applies.
			if r := b.Get("/login?next=" + url.QueryEscape(next)); r.Location != "/queue" && r.Location != next {
				t.Fatalf("signed in, next %q went to %q", next, r.Location)
			}
		}
	})

	t.Run("the language chosen on the sign-in page is kept", func(t *testing.T) {
		b := d.Browser()
		consoletest.WantContains(t, b.Get("/login?lang=en"), "Sign in")
		r := b.Post("/login", url.Values{"email": {d.Agent2.Email}, "password": {"wrong"}})
		consoletest.WantStatus(t, r, 401)
		consoletest.WantContains(t, r, "Wrong email or password")
		consoletest.WantStatus(t, b.Post("/login", url.Values{"email": {d.Agent2.Email}, "password": {consoletest.Password}}), 303)
		consoletest.WantContains(t, b.Get("/queue"), `lang="en"`, "My queue")
		a, err := d.Service.Agent(context.Background(), d.Agent2.ID)
		if err != nil || a.Locale != "en" {
			t.Fatalf("agent's language %q %v", a.Locale, err)
		}
	})

	t.Run("signing out ends the session everywhere", func(t *testing.T) {
		b := d.SignIn(d.Agent)
		stolen := b.Cookies["hotline_session"]
		consoletest.WantStatus(t, b.Post("/logout", nil), 303)
		consoletest.WantStatus(t, b.Get("/queue"), 303)
		other := d.Browser()
		other.Cookies["hotline_session"] = stolen
		if r := other.Get("/queue"); r.Status != 303 || !strings.HasPrefix(r.Location, "/login") {
			t.Fatalf("the old session still opens the queue: %d %s", r.Status, r.Location)
		}
	})

	t.Run("the sign-in page follows the chosen language", func(t *testing.T) {
		b := d.Browser()
		consoletest.WantContains(t, b.Get("/login?lang=en"), "Sign in")
		consoletest.WantContains(t, b.Get("/login?lang=zh"), "登录")
	})
}

func TestFormsNeedTheSessionToken(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	tk := d.SMS("+8613800138000", "我要改地址")
	b := d.SignIn(d.Agent)
	forms := []struct {
		path string
		form url.Values
	}{
		{"/tickets/" + tk.Ref() + "/reply", url.Values{"body": {"hello"}}},
		{"/tickets/" + tk.Ref() + "/note", url.Values{"body": {"note"}}},
		{"/tickets/" + tk.Ref() + "/assign", url.Values{"assignee": {"me"}}},
		{"/tickets/" + tk.Ref() + "/status", url.Values{"status": {"pending"}}},
		{"/tickets/" + tk.Ref() + "/priority", url.Values{"priority": {"urgent"}}},
		{"/tickets/" + tk.Ref() + "/escalate", url.Values{"summary": {"angry"}}},
		{"/calls", url.Values{"subject": {"call"}, "phone": {"13900139000"}}},
		{"/settings/language", url.Values{"lang": {"en"}}},
		{"/settings/presence", url.Values{"online": {"true"}}},
		{"/logout", nil},
	}
	for _, f := range forms {
		t.Run(f.path, func(t *testing.T) {
			for name, token := range map[string]string{"missing": "", "wrong": "not-the-token"} {
				form := url.Values{}
				for k, v := range f.form {
					form[k] = v
				}
				if token != "" {
					form.Set("_csrf", token)
				}
				r := b.PostRaw(f.path, form)
				if r.Status != 403 {
					t.Fatalf("%s token: status %d, want 403", name, r.Status)
				}
			}
		})
	}
	t.Run("a form from another site is refused even with the token", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodPost, "/tickets/"+tk.Ref()+"/note", strings.NewReader(url.Values{"body": {"x"}, "_csrf": {b.CSRF}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		consoletest.WantStatus(t, b.Do(req), 403)
	})
	// Nothing above changed the ticket, and the session still works.
	detail, err := d.Service.Ticket(context.Background(), tk.Ref())
	if err != nil {
		t.Fatal(err)
	}
	if len(detail.Messages) != 1 || detail.Status != tickets.StatusNew || detail.AssigneeID != nil || detail.Priority != tickets.PriorityNormal {
		t.Fatalf("refused forms changed the ticket: %d messages, %s, assignee %v, %s", len(detail.Messages), detail.Status, detail.AssigneeID, detail.Priority)
	}
	consoletest.WantStatus(t, b.Get("/queue"), 200)
}

func TestLanguageAndPresence(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	b := d.SignIn(d.Agent)
	consoletest.WantContains(t, b.Get("/queue"), "我的工单")
	consoletest.WantStatus(t, b.Post("/settings/language", url.Values{"lang": {"en"}}), 303)
	consoletest.WantContains(t, b.Get("/queue"), "My queue", `lang="en"`)
	a, err := d.Service.Agent(context.Background(), d.Agent.ID)
	if err != nil || a.Locale != "en" {
		t.Fatalf("locale %q %v", a.Locale, err)
	}
	// Remembered on the agent: a new sign-in is in English too.
	consoletest.WantContains(t, d.SignIn(d.Agent).Get("/queue"), "My queue")
	b.Get("/queue")
	r := b.Post("/settings/language", url.Values{"lang": {"fr"}})
	consoletest.WantStatus(t, r, 303)
	consoletest.WantContains(t, b.Get(r.Location), "lang must be zh or en")

	consoletest.WantStatus(t, b.Post("/settings/presence", url.Values{"online": {"true"}}), 303)
	if a, _ = d.Service.Agent(context.Background(), d.Agent.ID); !a.Online {
		t.Fatal("still away after going online")
	}
	consoletest.WantContains(t, b.Get("/queue"), "Go away")
	consoletest.WantStatus(t, b.Post("/settings/presence", url.Values{"online": {"false"}}), 303)
	if a, _ = d.Service.Agent(context.Background(), d.Agent.ID); a.Online {
		t.Fatal("still online after going away")
	}
}

// TestLiveFeed: a change made after a page was drawn reaches the open stream, and one made
// between two streams is replayed on reconnect.
func TestLiveFeed(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := consoletest.NewDesk(t, db)
		b := d.SignIn(d.Agent)
		after, err := d.Service.LastEventID(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var stream consoletest.Response
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream = b.Get("/live?after=" + consoletest.ID(after))
		}()
		time.Sleep(200 * time.Millisecond)
		tk := d.SMS("+8613800138000", "live one")
		wg.Wait()
		consoletest.WantStatus(t, stream, 200)
		if ct := stream.Header.Get("Content-Type"); ct != "text/event-stream" {
			t.Fatalf("content type %q", ct)
		}
		consoletest.WantContains(t, stream, "event: change", `"kind":"ticket.created"`, `"ticket":"`+tk.Ref()+`"`)

		// Reconnecting with the last id replays what happened in between.
		last := stream.Body[strings.LastIndex(stream.Body, "id: ")+4:]
		last = last[:strings.Index(last, "\n")]
		d.Clock.Advance(time.Minute) // the first stream's changes are no longer fresh enough to be replayed as late commits
		if _, err := d.Service.Assign(context.Background(), tickets.AgentActor(d.Agent), tk.Ref(), tickets.Assignment{AssigneeID: &d.Agent.ID}); err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodGet, "/live", nil)
		req.Header.Set("Last-Event-ID", last)
		r := b.Do(req)
		// Whose change it is goes with it: the agent's own page raises no banner for it.
		consoletest.WantContains(t, r, `"kind":"ticket.assigned"`, `"assignee":`+consoletest.ID(d.Agent.ID), `"actor":`+consoletest.ID(d.Agent.ID))
		consoletest.WantLacks(t, r, `"kind":"ticket.created"`)
	})
	t.Run("signed out", func(t *testing.T) {
		d := consoletest.NewDesk(t, tickettest.SQLite(t))
		consoletest.WantStatus(t, d.Browser().Get("/live"), 401)
	})
}

// TestCloseEndsLiveStreams: a server with consoles open shuts down at once once the console
// is closed, rather than waiting out every live stream.
func TestCloseEndsLiveStreams(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	c := console.New(console.Config{Service: d.Service, Clock: d.Clock, StreamFor: time.Minute})
	app := api.New(api.Config{Service: d.Service, Webhooks: []interface{ Register(*fiber.App) }{c}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln) //nolint:errcheck // ends with Shutdown below
	b := d.SignIn(d.Agent)
	req, _ := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+"/live", nil)
	req.AddCookie(&http.Cookie{Name: "hotline_session", Value: b.Cookies["hotline_session"]})
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	first := make([]byte, 5)
	if _, err := io.ReadFull(res.Body, first); err != nil || string(first) != "retry" {
		t.Fatalf("stream began %q %v", first, err)
	}
	start := time.Now()
	c.Close()
	if err := app.ShutdownWithTimeout(5 * time.Second); err != nil {
		t.Fatalf("shutdown with a console open: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("shutdown took %v with a console open", took)
	}
}

// TestLiveFeedCatchesLateCommits: an event numbered before one already sent, because its
// transaction committed later, still reaches the open page.
func TestLiveFeedCatchesLateCommits(t *testing.T) {
	db := tickettest.Postgres(t)
	d := consoletest.NewDesk(t, db, func(c *console.Config) { c.StreamFor = 1500 * time.Millisecond })
	b := d.SignIn(d.Agent)
	tk := d.SMS("+8613800138000", "hello")
	ctx := context.Background()
	after, err := d.Service.LastEventID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan consoletest.Response)
	go func() { done <- b.Get("/live?after=" + consoletest.ID(after)) }()
	time.Sleep(200 * time.Millisecond)
	const insert = "INSERT INTO events (entity, entity_id, kind, actor_kind, actor, data, created_at) VALUES ('ticket', ?, ?, 'system', 'test', '{}', ?) RETURNING id"
	slow, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var slowID, fastID int64
	if err := slow.QueryRowContext(ctx, insert, tk.ID, "status.changed", consoletest.T0).Scan(&slowID); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, insert, tk.ID, "priority.changed", consoletest.T0).Scan(&fastID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the fast one is sent first
	if err := slow.Commit(); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if slowID >= fastID {
		t.Fatalf("ids %d, %d: the slow transaction's event should be numbered first", slowID, fastID)
	}
	consoletest.WantContains(t, r, `"kind":"priority.changed"`, `"kind":"status.changed"`)
	if i, j := strings.Index(r.Body, "priority.changed"), strings.Index(r.Body, "status.changed"); i > j {
		t.Errorf("the late commit arrived before the earlier one:\n%s", r.Body)
	}
}
