package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

// A ticket nobody answers escalates when its first response is late and becomes a complaint
// when its resolution is late: the whole binary, with the deadlines set to seconds by
// configuration and the Asynq timers doing the work (the reconciler is set to an hour).
func TestUnansweredTicketBecomesComplaint(t *testing.T) {
	for _, broker := range []string{"embedded", "redis"} {
		t.Run(broker, func(t *testing.T) {
			redisURL := ""
			if broker == "redis" {
				redisURL = testRedis(t)
			}
			base := startHotline(t, map[string]string{"REDIS_URL": redisURL,
				"HOTLINE_SLA_FIRST_RESPONSE": "1s", "HOTLINE_SLA_RESOLUTION": "3s", "HOTLINE_RECONCILE_EVERY": "1h"})

			var login struct{ Token string }
			call(t, "POST", base+"/api/v1/auth/login", "", map[string]string{"email": "admin@example.com", "password": "e2e-admin-password"}, 200, &login)
			call(t, "POST", base+"/api/v1/agents", login.Token, map[string]any{"email": "officer@example.com", "role": "complaint_officer", "password": "officer-password"}, 201, nil)
			var tk struct {
				Ref      string
				Priority string
			}
			call(t, "POST", base+"/api/v1/tickets", login.Token, map[string]any{
				"customer": map[string]string{"name": "刘洋", "phone": "13700137003"}, "subject": "理赔进度", "body": "客户来电询问理赔进度",
			}, 201, &tk)

			var complaints struct {
				Items []struct {
					Ref, Source, Status string
					TicketRef           string `json:"ticket_ref"`
					Officer             *struct{ Email string }
				}
			}
			waitFor(t, 20*time.Second, func() bool {
				call(t, "GET", base+"/api/v1/complaints", login.Token, nil, 200, &complaints)
				return len(complaints.Items) > 0
			})
			c := complaints.Items[0]
			if c.TicketRef != tk.Ref || c.Source != "sla_breach" || c.Status != "received" || c.Officer == nil || c.Officer.Email != "officer@example.com" {
				t.Errorf("complaint %+v, want an sla_breach complaint on %s for the officer", c, tk.Ref)
			}
			var detail struct {
				Priority string
				Events   []struct{ Kind string }
			}
			call(t, "GET", base+"/api/v1/tickets/"+tk.Ref, login.Token, nil, 200, &detail)
			breaches := 0
			for _, e := range detail.Events {
				if e.Kind == "sla.breached" {
					breaches++
				}
			}
			if detail.Priority != "high" || breaches != 2 {
				t.Errorf("ticket priority %s with %d breaches, want high after the first-response breach, and 2 breaches", detail.Priority, breaches)
			}
		})
	}
}

// startHotline runs the whole binary ("serve") on a free port with a fresh SQLite file, the given
// settings and an admin admin@example.com / e2e-admin-password, until the test ends; it
// returns the base URL once /readyz answers.
func startHotline(t *testing.T, settings map[string]string) string {
	t.Helper()
	addr := freeAddr(t)
	env := map[string]string{
		"HOTLINE_ADDR": addr, "DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "hotline.db"), "REDIS_URL": "",
		"HOTLINE_ADMIN_EMAIL": "admin@example.com", "HOTLINE_ADMIN_PASSWORD": "e2e-admin-password", "HOTLINE_LOG_LEVEL": "warn",
	}
	for k, v := range settings {
		env[k] = v
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("serve did not stop")
		}
	})
	base := "http://" + addr
	waitFor(t, 15*time.Second, func() bool {
		res, err := http.Get(base + "/readyz")
		if err == nil {
			res.Body.Close()
		}
		return err == nil && res.StatusCode == 200
	})
	return base
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitFor(t *testing.T, limit time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v", limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func call(t *testing.T, method, url, token string, body any, want int, out any) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var raw json.RawMessage
	json.NewDecoder(res.Body).Decode(&raw)
	if res.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", method, url, res.StatusCode, raw, want)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatal(fmt.Errorf("decode %s: %w", raw, err))
		}
	}
}

// "go run ./app simulate sms" signs an inbound SMS as Twilio does and posts it to a running
// Hotline that has no Twilio account configured: the ticket appears.
func TestSimulateSMS(t *testing.T) {
	base := startHotline(t, map[string]string{"TWILIO_AUTH_TOKEN": ""})
	ctx := context.Background()

	if err := run(ctx, []string{"simulate", "sms", "--from", "138 0013 8000", "--body", "你好，我的理赔进度怎么样了？"}); err != nil {
		t.Fatalf("simulate: %v", err)
	}
	var login struct{ Token string }
	call(t, "POST", base+"/api/v1/auth/login", "", map[string]string{"email": "admin@example.com", "password": "e2e-admin-password"}, 200, &login)
	var list struct {
		Items []struct {
			Ref, Channel, Subject string
			Customer              struct{ Phone string }
		}
	}
	call(t, "GET", base+"/api/v1/tickets", login.Token, nil, 200, &list)
	if len(list.Items) != 1 || list.Items[0].Channel != "sms" || list.Items[0].Customer.Phone != "+86 138****8000" || list.Items[0].Subject != "你好，我的理赔进度怎么样了？" {
		t.Errorf("tickets after simulate: %+v", list.Items)
	}
	if err := run(ctx, []string{"simulate", "sms", "--from", "+8613800138000"}); err == nil {
		t.Error("simulate without --body succeeded")
	}
}
