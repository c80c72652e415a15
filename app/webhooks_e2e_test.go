package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hotlinedesk/hotline/jobs"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
	outhooks "github.com/hotlinedesk/hotline/tickets/webhooks"
)

const jobsSweepEvery = jobs.WebhookSweepEvery

// The whole binary delivers a webhook: a subscription (sealed with HOTLINE_SECRET_KEY),
// a ticket created through the API, and the worker's sweep and task POST it, signed, to a
// receiver on loopback (HOTLINE_WEBHOOKS_ALLOW_PRIVATE=on), within the sweep's interval.
func TestWebhookDeliveredByTheBinary(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "hotline.db")
	const key = "e2e secret key"
	base := startHotline(t, map[string]string{"DATABASE_URL": dsn, "HOTLINE_WEBHOOKS_ALLOW_PRIVATE": "on", "HOTLINE_SECRET_KEY": key})

	var mu sync.Mutex
	type post struct {
		header http.Header
		body   []byte
	}
	var posts []post
	var arrived time.Time
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		posts = append(posts, post{r.Header.Clone(), b})
		if arrived.IsZero() {
			arrived = time.Now()
		}
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rc.Close()

	db, err := tickets.OpenDB(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	hooks := outhooks.New(tickets.NewService(db, nil, tickets.Config{}, tickettest.Logger()), outhooks.Config{SecretKey: key, AllowPrivate: true})
	_, secret, err := hooks.Create(context.Background(), tickets.Actor{Kind: "system"},
		outhooks.SubscriptionInput{Name: "crm", URL: rc.URL + "/hotline", Events: []string{"ticket.created"}})
	if err != nil {
		t.Fatal(err)
	}

	var login struct{ Token string }
	call(t, "POST", base+"/api/v1/auth/login", "", map[string]string{"email": "admin@example.com", "password": "e2e-admin-password"}, 200, &login)
	var tk struct{ ID int64 }
	created := time.Now()
	call(t, "POST", base+"/api/v1/tickets", login.Token, map[string]any{
		"customer": map[string]string{"name": "刘洋", "phone": "13700137003"}, "subject": "理赔进度", "body": "客户来电询问理赔进度",
	}, 201, &tk)
	waitFor(t, 30*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(posts) > 0
	})
	mu.Lock()
	p := posts[0]
	t.Logf("delivered %s after the ticket was created (sweep every %s)", arrived.Sub(created).Round(time.Millisecond), jobsSweepEvery)
	mu.Unlock()
	var body struct {
		ID, Type string
		Data     struct{ Ticket struct{ ID int64 } }
	}
	if err := json.Unmarshal(p.body, &body); err != nil {
		t.Fatal(err)
	}
	if body.Type != "ticket.created" || body.Data.Ticket.ID != tk.ID || p.header.Get("Hotline-Event-Id") != body.ID {
		t.Errorf("delivered %s with headers %v", p.body, p.header)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(p.header.Get("Hotline-Timestamp") + "." + string(p.body)))
	if p.header.Get("Hotline-Signature") != "v1="+hex.EncodeToString(mac.Sum(nil)) {
		t.Errorf("signature %q does not verify", p.header.Get("Hotline-Signature"))
	}
}
