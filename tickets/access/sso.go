package access

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/hotlinedesk/hotline/tickets"
)

// Single sign-on with an OpenID Connect provider (Entra ID, Okta, Keycloak, Authing,
// DingTalk, WeCom, ...): the authorization code flow with PKCE, a state and a nonce kept
// server-side as a pending sign-in claimed once, agents matched by verified email,
// optionally created on their first sign-in, their role read from a group claim.

// SSOConfig is the provider agents may sign in with.
type SSOConfig struct {
	Name         string // what the sign-in button names: "Sign in with <Name>"
	Issuer       string // discovery: <Issuer>/.well-known/openid-configuration
	ClientID     string
	ClientSecret string
	RedirectURL  string   // <public base URL>/login/sso/callback
	Scopes       []string // openid is always asked for; nil means openid, email, profile
	// GroupClaim names the ID token's claim listing the person's groups ("groups");
	// Roles maps a group to the role it gives. Of several, the most powerful wins.
	GroupClaim string
	Roles      map[string]tickets.Role
	// Create makes an agent on the first sign-in of a verified email no agent has, in
	// DefaultTeam (a team's name; "" for none), with the role from their groups (agent
	// when none map). Without it such a sign-in is refused.
	Create      bool
	DefaultTeam string
	// HTTPClient reaches the provider; nil means one with a 10-second timeout.
	HTTPClient *http.Client
}

// sso is the configured provider, discovered on first use.
type sso struct {
	cfg      SSOConfig
	mu       sync.Mutex
	provider *oidc.Provider
}

// ssoTTL is how long a sign-in at the provider may take.
const ssoTTL = 10 * time.Minute

// SSOName is the provider's name for the sign-in button; "" when single sign-on is off.
func (s *Service) SSOName() string {
	if s.sso == nil {
		return ""
	}
	return s.sso.cfg.Name
}

// PasswordsOff reports whether password sign-ins are off except for the break-glass admin.
func (s *Service) PasswordsOff() bool { return s.cfg.PasswordsOff }

// BreakGlass is the email of the admin who may still sign in with a password while
// passwords are off ("" when none is configured).
func (s *Service) BreakGlass() string { return s.cfg.BreakGlass }

func (s *Service) ssoClient(ctx context.Context) (context.Context, *oidc.Provider, *oauth2.Config, error) {
	if s.sso == nil {
		return nil, nil, nil, tickets.NotFoundf("single sign-on is not configured")
	}
	c := s.sso.cfg.HTTPClient
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	ctx = oidc.ClientContext(ctx, c)
	s.sso.mu.Lock()
	defer s.sso.mu.Unlock()
	if s.sso.provider == nil {
		p, err := oidc.NewProvider(ctx, s.sso.cfg.Issuer)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("discover the sign-on provider: %w", err)
		}
		s.sso.provider = p
	}
	scopes := s.sso.cfg.Scopes
	if len(scopes) == 0 {
		scopes = []string{"email", "profile"}
	}
	if !containsString(scopes, oidc.ScopeOpenID) {
		scopes = append([]string{oidc.ScopeOpenID}, scopes...)
	}
	return ctx, s.sso.provider, &oauth2.Config{ClientID: s.sso.cfg.ClientID, ClientSecret: s.sso.cfg.ClientSecret,
		RedirectURL: s.sso.cfg.RedirectURL, Endpoint: s.sso.provider.Endpoint(), Scopes: scopes}, nil
}

type ssoPending struct {
	Nonce    string `json:"nonce"`
	Verifier string `json:"verifier"`
	Next     string `json:"next"`
}

// BeginSSO starts a sign-in at the provider: it returns where to send the browser and the
// state, which the caller also keeps in the browser (a cookie) so that the callback
// proves it comes back to the browser that left. next is kept for after.
func (s *Service) BeginSSO(ctx context.Context, next string) (authURL, state string, err error) {
	ctx, _, conf, err := s.ssoClient(ctx)
	if err != nil {
		return "", "", err
	}
	p := ssoPending{Nonce: randomString(), Verifier: oauth2.GenerateVerifier(), Next: next}
	data, _ := json.Marshal(p)
	if state, err = s.startPending(ctx, pendingOIDC, 0, string(data), ssoTTL); err != nil {
		return "", "", err
	}
	return conf.AuthCodeURL(state, oidc.Nonce(p.Nonce), oauth2.S256ChallengeOption(p.Verifier)), state, nil
}

// ErrSSOState refuses a callback whose state or nonce does not match a sign-in this
// browser began, or one already finished.
var ErrSSOState = tickets.Forbiddenf("this sign-in link is not yours, has expired or was used: start again")

// FinishSSO completes a sign-in at the provider: the callback's state must equal
// browserState (what BeginSSO's caller kept in the browser) and name an unused pending
// sign-in, which it claims; the code is exchanged with the PKCE verifier, and the ID
// token's signature, audience, expiry and nonce are checked. The agent is the one with the
// token's verified email (created when allowed), their role following their groups. It
// returns the session's token, the agent and the destination kept by BeginSSO.
func (s *Service) FinishSSO(ctx context.Context, dev Device, browserState, state, code string) (string, *tickets.Agent, string, error) {
	if state == "" || subtle.ConstantTimeCompare([]byte(browserState), []byte(state)) != 1 {
		return "", nil, "", ErrSSOState
	}
	ctx, provider, conf, err := s.ssoClient(ctx)
	if err != nil {
		return "", nil, "", err
	}
	p, err := s.peekPending(ctx, pendingOIDC, state)
	if err != nil {
		return "", nil, "", err
	}
	if p == nil {
		return "", nil, "", ErrSSOState
	}
	if err := s.svc.InTx(ctx, func(tx tickets.Tx) error { return s.claimPending(ctx, tx, p.ID, ErrSSOState) }); err != nil {
		return "", nil, "", err
	}
	var kept ssoPending
	if err := json.Unmarshal([]byte(p.Data), &kept); err != nil {
		return "", nil, "", fmt.Errorf("read pending sign-on: %w", err)
	}
	if code == "" || len(code) > 2048 {
		return "", nil, "", tickets.Invalidf("the provider sent no usable code")
	}
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(kept.Verifier))
	if err != nil {
		s.log.Warn("single sign-on code exchange failed", "err", err)
		return "", nil, "", tickets.Unauthorizedf("the sign-on provider refused the sign-in")
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return "", nil, "", tickets.Unauthorizedf("the sign-on provider sent no ID token")
	}
	idt, err := provider.Verifier(&oidc.Config{ClientID: conf.ClientID}).Verify(ctx, raw)
	if err != nil {
		s.log.Warn("single sign-on ID token refused", "err", err)
		return "", nil, "", tickets.Unauthorizedf("the sign-on provider's ID token is not valid")
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(kept.Nonce)) != 1 {
		return "", nil, "", ErrSSOState
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return "", nil, "", fmt.Errorf("read ID token: %w", err)
	}
	a, err := s.ssoAgent(ctx, claims)
	if err != nil {
		return "", nil, "", err
	}
	token, err := s.issue(ctx, a, dev, "agent.login", map[string]any{"sso": s.sso.cfg.Name}, nil)
	if err != nil {
		return "", nil, "", err
	}
	return token, a, kept.Next, nil
}

// ssoAgent finds (or makes) the agent an ID token's claims name, and brings their role in
// line with their groups.
func (s *Service) ssoAgent(ctx context.Context, claims map[string]any) (*tickets.Agent, error) {
	email, _ := claims["email"].(string)
	verified, _ := claims["email_verified"].(bool)
	addr, err := tickets.NormalizeEmail(email)
	if err != nil || !verified {
		return nil, tickets.Forbiddenf("the sign-on provider gave no verified email address")
	}
	role := s.roleOf(claims)
	a := new(tickets.Agent)
	err = s.db.NewSelect().Model(a).Where("email = ?", addr).Scan(ctx)
	system := tickets.Actor{Kind: "system"}
	switch {
	case err == nil:
		if !a.Active {
			return nil, tickets.Unauthorizedf("this account is deactivated")
		}
		if role != "" && role != a.Role {
			return s.svc.UpdateAgent(ctx, system, a.ID, tickets.AgentUpdate{Role: &role})
		}
		return a, nil
	case !isNoRows(err):
		return nil, fmt.Errorf("find agent: %w", err)
	case !s.sso.cfg.Create:
		s.log.Info("single sign-on by an email with no agent refused")
		return nil, tickets.Forbiddenf("no agent has this email address; ask an admin to add you")
	}
	if role == "" {
		role = tickets.RoleAgent
	}
	in := tickets.NewAgent{Email: addr, Name: nameOf(claims, addr), Role: role, Password: randomString() + randomString(), Locale: "zh-CN"}
	if t := s.sso.cfg.DefaultTeam; t != "" {
		teams, err := s.svc.Teams(ctx)
		if err != nil {
			return nil, err
		}
		for _, tm := range teams {
			if strings.EqualFold(tm.Name, t) {
				in.TeamID = &tm.ID
			}
		}
	}
	a, err = s.svc.CreateAgent(ctx, system, in)
	if errors.Is(err, tickets.ErrConflict) { // two first sign-ins at once: the other made it
		a = new(tickets.Agent)
		err = s.db.NewSelect().Model(a).Where("email = ?", addr).Scan(ctx)
	}
	if err != nil {
		return nil, err
	}
	return a, nil
}

// roleOf is the most powerful role the claims' groups map to; "" when none does.
func (s *Service) roleOf(claims map[string]any) tickets.Role {
	if s.sso.cfg.GroupClaim == "" || len(s.sso.cfg.Roles) == 0 {
		return ""
	}
	var groups []string
	switch v := claims[s.sso.cfg.GroupClaim].(type) {
	case string:
		groups = []string{v}
	case []any:
		for _, g := range v {
			if g, ok := g.(string); ok {
				groups = append(groups, g)
			}
		}
	}
	rank := map[tickets.Role]int{tickets.RoleAgent: 1, tickets.RoleComplaintOfficer: 2, tickets.RoleSupervisor: 3, tickets.RoleAdmin: 4}
	var best tickets.Role
	for _, g := range groups {
		if r, ok := s.sso.cfg.Roles[g]; ok && rank[r] > rank[best] {
			best = r
		}
	}
	return best
}

func nameOf(claims map[string]any, email string) string {
	for _, k := range []string{"name", "preferred_username"} {
		if v, _ := claims[k].(string); strings.TrimSpace(v) != "" {
			return clip(strings.TrimSpace(v), 100)
		}
	}
	return strings.SplitN(email, "@", 2)[0]
}

func randomString() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func containsString(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
