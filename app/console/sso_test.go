package console_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"
	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/app/console"
	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/access"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// ssoDesk is a desk served on a real address, its doors signing in with a mock OpenID
// Connect provider started for the test.
type ssoDesk struct {
	*consoletest.Desk
	base  string // the console's address
	oidc  *mockoidc.MockOIDC
	doors *access.Service
}

func newSSODesk(t *testing.T, db *bun.DB, edit func(*access.SSOConfig)) *ssoDesk {
	t.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg := m.Config()
	sso := &access.SSOConfig{Name: "Keycloak", Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
		RedirectURL: base + "/login/sso/callback", Scopes: []string{"openid", "email", "profile", "groups"},
		GroupClaim: "groups", Roles: map[string]tickets.Role{"hotline-supervisors": tickets.RoleSupervisor, "hotline-admins": tickets.RoleAdmin}}
	if edit != nil {
		edit(sso)
	}
	s := &ssoDesk{base: base, oidc: m}
	s.Desk = consoletest.NewDesk(t, db, func(c *console.Config) {
		s.doors = access.New(c.Service, access.Config{SSO: sso})
		c.Access = s.doors
	})
	go s.App.Listener(ln) //nolint:errcheck // ends with the test
	t.Cleanup(func() { s.App.Shutdown() })
	return s
}

// client is a browser with a cookie jar that stops before following a redirect to stop
// (when it names a path prefix), so a test can meddle there.
func client(t *testing.T, stop string) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if stop != "" && strings.HasPrefix(req.URL.Path, stop) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
}

func get(t *testing.T, c *http.Client, u string) (int, string, string) {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Request.URL.Path, string(b)
}

func TestSSOSignIn(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		s := newSSODesk(t, db, nil)
		// The login page offers the provider.
		status, _, body := get(t, client(t, ""), s.base+"/login?lang=en")
		if status != 200 || !strings.Contains(body, "Sign in with Keycloak") || !strings.Contains(body, `href="/login/sso"`) {
			t.Fatalf("login page %d lacks the SSO button", status)
		}
		// login → provider → callback → the agent's queue, signed in.
		s.oidc.QueueUser(&mockoidc.MockUser{Subject: "li", Email: "LI@desk.test", EmailVerified: true})
		c := client(t, "")
		status, path, body := get(t, c, s.base+"/login/sso?next=/notices")
		if status != 200 || path != "/notices" || !strings.Contains(body, s.Agent.Name) {
			t.Fatalf("after SSO: %d at %s", status, path)
		}
		// The session is the agent's, with its device recorded; and the state cannot be used again.
		list, err := s.doors.Sessions(context.Background(), tickets.AgentActor(s.Agent), s.Agent.ID, "")
		if err != nil || len(list) != 1 || list[0].UserAgent == "" {
			t.Fatalf("sessions after SSO: %+v %v", list, err)
		}
	})
}

func TestSSORefusals(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		s := newSSODesk(t, db, nil)
		verified := &mockoidc.MockUser{Subject: "li", Email: "li@desk.test", EmailVerified: true}
		for _, c := range []struct {
			name   string
			user   *mockoidc.MockUser
			meddle func(t *testing.T, callback *url.URL) // before the browser comes back
			want   string
		}{
			{"forged state", verified, func(t *testing.T, u *url.URL) {
				q := u.Query()
				q.Set("state", "forged-state-value")
				u.RawQuery = q.Encode()
			}, "not valid, has expired or was used"},
			{"wrong nonce", verified, func(t *testing.T, u *url.URL) {
				if _, err := db.NewUpdate().Table("sign_in_pending").Set("data = replace(data, '\"nonce\":\"', '\"nonce\":\"x')").Where("kind = 'oidc'").Exec(ctx); err != nil {
					t.Fatal(err)
				}
			}, "not valid, has expired or was used"},
			{"unknown email, no auto-create", &mockoidc.MockUser{Subject: "x", Email: "stranger@desk.test", EmailVerified: true}, nil, "No agent has this email address"},
			{"unverified email", &mockoidc.MockUser{Subject: "li", Email: "li@desk.test", EmailVerified: false}, nil, "No agent has this email address, or it is not verified"},
		} {
			t.Run(c.name, func(t *testing.T) {
				s.oidc.QueueUser(c.user)
				b := client(t, "/login/sso/callback")
				b.Jar.SetCookies(mustURL(t, s.base), []*http.Cookie{{Name: "hotline_lang", Value: "en"}})
				res, err := b.Get(s.base + "/login/sso")
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				cb, err := url.Parse(res.Header.Get("Location"))
				if err != nil || cb.Path != "/login/sso/callback" {
					t.Fatalf("provider sent the browser to %q", res.Header.Get("Location"))
				}
				if c.meddle != nil {
					c.meddle(t, cb)
				}
				status, path, body := get(t, b, cb.String())
				if status != http.StatusForbidden || path != "/login/sso/callback" || !strings.Contains(body, c.want) {
					t.Errorf("callback: %d at %s, want 403 saying %q:\n%s", status, path, c.want, consoletest.Clip(body))
				}
				if strings.Contains(body, "hotline_session") {
					t.Error("a session was given")
				}
			})
		}
		// A callback replayed (the same state and code again) is refused.
		s.oidc.QueueUser(verified)
		b := client(t, "/login/sso/callback")
		res, _ := b.Get(s.base + "/login/sso")
		res.Body.Close()
		cb := res.Header.Get("Location")
		if status, _, _ := get(t, b, cb); status != 200 {
			t.Fatalf("first callback: %d", status)
		}
		if status, _, _ := get(t, b, cb); status != http.StatusForbidden {
			t.Errorf("replayed callback: %d", status)
		}
	})
}

func TestSSOCreatesAgentWithGroupRole(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		s := newSSODesk(t, db, func(c *access.SSOConfig) { c.Create, c.DefaultTeam = true, "motor" })
		for _, c := range []struct {
			email  string
			groups []string
			role   tickets.Role
		}{
			{"new.super@desk.test", []string{"staff", "hotline-supervisors"}, tickets.RoleSupervisor},
			{"new.agent@desk.test", []string{"staff"}, tickets.RoleAgent},
		} {
			s.oidc.QueueUser(&mockoidc.MockUser{Subject: c.email, Email: c.email, EmailVerified: true, Groups: c.groups})
			if status, path, _ := get(t, client(t, ""), s.base+"/login/sso"); status != 200 || path == "/login" {
				t.Fatalf("%s: %d at %s", c.email, status, path)
			}
			a := new(tickets.Agent)
			if err := db.NewSelect().Model(a).Where("email = ?", c.email).Scan(context.Background()); err != nil {
				t.Fatal(err)
			}
			if a.Role != c.role || a.TeamID == nil || *a.TeamID != s.Other.ID {
				t.Errorf("%s created as %s in team %v, want %s in Motor", c.email, a.Role, a.TeamID, c.role)
			}
		}
		// A later sign-in follows the groups: the agent now in the admins' group is an admin.
		s.oidc.QueueUser(&mockoidc.MockUser{Subject: "x", Email: "new.agent@desk.test", EmailVerified: true, Groups: []string{"hotline-admins"}})
		get(t, client(t, ""), s.base+"/login/sso")
		var role string
		db.NewSelect().Table("agents").Column("role").Where("email = 'new.agent@desk.test'").Scan(context.Background(), &role) //nolint:errcheck
		if role != "admin" {
			t.Errorf("role after joining the admins' group: %s", role)
		}
	})
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
