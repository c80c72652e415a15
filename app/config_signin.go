package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/access"
)

// signInConfig reads how agents sign in: second factors, passwords on or off, and the
// single sign-on provider (docs/sign-in.md).
func signInConfig(publicBaseURL string) (access.Config, error) {
	c := access.Config{
		RequireTOTP:  os.Getenv("HOTLINE_REQUIRE_2FA") == "on",
		SecretKey:    os.Getenv("HOTLINE_SECRET_KEY"),
		PasswordsOff: os.Getenv("HOTLINE_PASSWORDS_OFF") == "on",
		BreakGlass:   strings.TrimSpace(os.Getenv("HOTLINE_BREAK_GLASS_EMAIL")),
	}
	if c.PasswordsOff && c.BreakGlass == "" {
		return c, fmt.Errorf("HOTLINE_PASSWORDS_OFF needs HOTLINE_BREAK_GLASS_EMAIL, the admin who may still use a password")
	}
	issuer := strings.TrimSpace(os.Getenv("HOTLINE_OIDC_ISSUER"))
	if issuer == "" {
		if c.PasswordsOff {
			return c, fmt.Errorf("HOTLINE_PASSWORDS_OFF needs single sign-on (HOTLINE_OIDC_ISSUER)")
		}
		return c, nil
	}
	if publicBaseURL == "" {
		return c, fmt.Errorf("HOTLINE_OIDC_ISSUER needs PUBLIC_BASE_URL, where the provider sends agents back")
	}
	sso, err := ssoConfig(issuer, publicBaseURL, os.Getenv)
	if err != nil {
		return c, err
	}
	c.SSO = sso
	return c, nil
}

func ssoConfig(issuer, publicBaseURL string, getenv func(string) string) (*access.SSOConfig, error) {
	s := &access.SSOConfig{
		Name:         strings.TrimSpace(getenv("HOTLINE_OIDC_NAME")),
		Issuer:       issuer,
		ClientID:     getenv("HOTLINE_OIDC_CLIENT_ID"),
		ClientSecret: getenv("HOTLINE_OIDC_CLIENT_SECRET"),
		RedirectURL:  strings.TrimRight(publicBaseURL, "/") + "/login/sso/callback",
		GroupClaim:   strings.TrimSpace(getenv("HOTLINE_OIDC_GROUP_CLAIM")),
		Create:       getenv("HOTLINE_OIDC_CREATE") == "on",
		DefaultTeam:  strings.TrimSpace(getenv("HOTLINE_OIDC_DEFAULT_TEAM")),
		Roles:        map[string]tickets.Role{},
	}
	if s.Name == "" {
		s.Name = "SSO"
	}
	if s.ClientID == "" {
		return nil, fmt.Errorf("HOTLINE_OIDC_ISSUER needs HOTLINE_OIDC_CLIENT_ID")
	}
	for _, sc := range strings.FieldsFunc(getenv("HOTLINE_OIDC_SCOPES"), func(r rune) bool { return r == ',' || r == ' ' }) {
		s.Scopes = append(s.Scopes, sc)
	}
	for _, pair := range strings.Split(getenv("HOTLINE_OIDC_ROLES"), ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		group, role, ok := strings.Cut(pair, "=")
		r := tickets.Role(strings.TrimSpace(role))
		if !ok || strings.TrimSpace(group) == "" || !r.Valid() {
			return nil, fmt.Errorf("HOTLINE_OIDC_ROLES lists group=role pairs (roles: agent, supervisor, complaint_officer, admin), not %q", pair)
		}
		s.Roles[strings.TrimSpace(group)] = r
	}
	if len(s.Roles) > 0 && s.GroupClaim == "" {
		s.GroupClaim = "groups"
	}
	return s, nil
}
