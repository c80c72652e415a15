package main

import (
	"testing"

	"github.com/hotlinedesk/hotline/tickets"
)

func TestSSOConfigFromEnv(t *testing.T) {
	for _, c := range []struct {
		name    string
		env     map[string]string
		wantErr bool
		check   func(t *testing.T, roles map[string]tickets.Role, claim string)
	}{
		{"roles and default claim", map[string]string{"HOTLINE_OIDC_CLIENT_ID": "hotline", "HOTLINE_OIDC_ROLES": "cs-leads=supervisor, it-admins = admin"}, false,
			func(t *testing.T, roles map[string]tickets.Role, claim string) {
				if roles["cs-leads"] != tickets.RoleSupervisor || roles["it-admins"] != tickets.RoleAdmin || claim != "groups" {
					t.Errorf("roles %v claim %q", roles, claim)
				}
			}},
		{"unknown role", map[string]string{"HOTLINE_OIDC_CLIENT_ID": "hotline", "HOTLINE_OIDC_ROLES": "x=boss"}, true, nil},
		{"no client id", map[string]string{}, true, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := ssoConfig("https://id.example.com", "https://desk.example.com/", func(k string) string { return c.env[k] })
			if (err != nil) != c.wantErr {
				t.Fatalf("err %v", err)
			}
			if err != nil {
				return
			}
			if s.RedirectURL != "https://desk.example.com/login/sso/callback" {
				t.Errorf("redirect %q", s.RedirectURL)
			}
			c.check(t, s.Roles, s.GroupClaim)
		})
	}
}
