package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hotlinedesk/hotline/app/bench"
)

// fromAddress is an HTTP client whose connections come from ip, a loopback address of its
// own (Linux answers the whole of 127.0.0.0/8), so each is a distinct client to Hotline
// without any proxy header.
func fromAddress(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

type sentAnswer struct {
	status int
	body   string
}

func sendFrom(t *testing.T, c *http.Client, method, url, token string, body any) sentAnswer {
	t.Helper()
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return sentAnswer{res.StatusCode, string(b)}
}

// Two API processes over one database share every guessing budget: failures at one count
// at the other, per account, per client address and per status-page reference.
func TestGuessingBudgetsAreSharedByProcesses(t *testing.T) {
	pg := requireProcesses(t)
	ctx := context.Background()
	dsn := freshDatabase(t, *pg)
	redisURL := testRedis(t)
	const adminPassword = "guessing-admin-password"
	env := []string{childMarker, "DATABASE_URL=" + dsn, "REDIS_URL=" + redisURL, "HOTLINE_ADMIN_PASSWORD=" + adminPassword,
		"HOTLINE_LOG_LEVEL=warn"}
	logs := t.TempDir()
	var apis []*bench.Process
	for i := range 2 { // one after the other: the first migrates
		p, err := bench.StartProcess(ctx, fmt.Sprintf("api-%d", i), testBinary(t), []string{"serve", "--role", "api"}, env, logs)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Kill)
		apis = append(apis, p)
	}
	// Each guess comes from an address of its own, at the processes in turn.
	guess := func(i int, method, path string, body any) sentAnswer {
		return sendFrom(t, fromAddress(fmt.Sprintf("127.0.%d.%d", 1+i/250, 1+i%250)), method, apis[i%2].Base+path, "", body)
	}
	login := func(email, pw string) map[string]string { return map[string]string{"email": email, "password": pw} }
	const admin = "admin@hotline.local"

	office := fromAddress("127.0.0.1")
	signedIn := sendFrom(t, office, "POST", apis[0].Base+"/api/v1/auth/login", "", login(admin, adminPassword))
	var session struct{ Token string }
	if err := json.Unmarshal([]byte(signedIn.body), &session); signedIn.status != 200 || err != nil {
		t.Fatalf("admin sign-in: %d %s", signedIn.status, signedIn.body)
	}
	created := sendFrom(t, office, "POST", apis[0].Base+"/api/v1/tickets", session.Token, map[string]any{"channel": "phone",
		"customer": map[string]string{"phone": "+8613800138000"}, "subject": "claim", "body": "where is my claim?"})
	var ticket struct{ Ref string }
	if err := json.Unmarshal([]byte(created.body), &ticket); created.status != 201 && created.status != 200 || err != nil || ticket.Ref == "" {
		t.Fatalf("create ticket: %d %s", created.status, created.body)
	}

	t.Run("one account, guessed from many addresses at both processes", func(t *testing.T) {
		for i := range 12 {
			r := guess(i, "POST", "/api/v1/auth/login", login(admin, fmt.Sprintf("guess number %d", i)))
			want := 401
			if i >= 5 {
				want = 429
			}
			if r.status != want {
				t.Fatalf("wrong password %d (process %d): %d %s, want %d", i+1, i%2, r.status, r.body, want)
			}
		}
		for i, p := range apis {
			r := sendFrom(t, fromAddress("127.0.9.1"), "POST", p.Base+"/api/v1/auth/login", "", login(admin, adminPassword))
			if r.status != 429 || !strings.Contains(r.body, "locked") {
				t.Errorf("right password at process %d while locked: %d %s, want 429", i, r.status, r.body)
			}
		}
		// The admin's session still works; an unlock at one process lifts the lock at both.
		if r := sendFrom(t, office, "POST", apis[1].Base+"/api/v1/agents/1/unlock", session.Token, nil); r.status != 200 {
			t.Fatalf("unlock: %d %s", r.status, r.body)
		}
		if r := sendFrom(t, fromAddress("127.0.9.1"), "POST", apis[0].Base+"/api/v1/auth/login", "", login(admin, adminPassword)); r.status != 200 {
			t.Errorf("right password after the unlock: %d %s", r.status, r.body)
		}
	})

	t.Run("one address, many emails, at both processes", func(t *testing.T) {
		attacker := fromAddress("127.0.8.8")
		var got []int
		for i := range 12 {
			got = append(got, sendFrom(t, attacker, "POST", apis[i%2].Base+"/api/v1/auth/login", "", login(fmt.Sprintf("guess%d@example.com", i), "wrong-password")).status)
		}
		if fmt.Sprint(got) != "[401 401 401 401 401 401 401 401 401 401 429 429]" {
			t.Errorf("one address's failures alternating between processes: %v, want the 11th refused", got)
		}
	})

	t.Run("one status reference, guessed from forty addresses at both processes", func(t *testing.T) {
		var got []int
		for i := range 40 {
			got = append(got, guess(100+i, "GET", "/status?"+url.Values{"ref": {ticket.Ref}, "check": {fmt.Sprintf("%04d", 7960+i)}}.Encode(), nil).status)
		}
		for i, s := range got {
			if want := map[bool]int{true: 404, false: 429}[i < 5]; s != want {
				t.Fatalf("guesses: %v, want 5 × 404 then 429", got)
			}
		}
		r := guess(200, "GET", "/status?"+url.Values{"ref": {ticket.Ref}, "check": {"8000"}, "lang": {"en"}}.Encode(), nil)
		if r.status != 429 || !strings.Contains(r.body, "checked wrongly too often") {
			t.Errorf("the right digits while the reference is locked: %d", r.status)
		}
	})
}
