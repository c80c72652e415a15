package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotlinedesk/hotline/app/bench"
	"github.com/hotlinedesk/hotline/tickets"
)

// Two API and two worker processes share one PostgreSQL and one Redis. Customers text both
// APIs (a customer's first two texts arrive together, one at each), a failed request is
// retried with the same MessageSid at the other API as Twilio would, and halfway through
// one API and one worker are killed (SIGKILL). Every deadline is seconds long, so they all
// fall due during the test. Afterwards: every acknowledged text is stored exactly once,
// every customer has one ticket, and every deadline was handled exactly once.
func TestClusterSurvivesKilledProcesses(t *testing.T) {
	pg := requireProcesses(t)
	ctx := context.Background()
	dsn := freshDatabase(t, *pg)
	redisURL := testRedis(t)

	exe := testBinary(t)
	const token = "cluster-test-twilio-token"
	env := []string{childMarker, "DATABASE_URL=" + dsn, "REDIS_URL=" + redisURL, "TWILIO_AUTH_TOKEN=" + token,
		"HOTLINE_ADMIN_PASSWORD=cluster-admin-password", "HOTLINE_LOG_LEVEL=warn", "HOTLINE_SMS_ACK=on",
		"HOTLINE_SLA_FIRST_RESPONSE=4s", "HOTLINE_SLA_RESOLUTION=8s", "HOTLINE_RECONCILE_EVERY=1s"}
	logs := t.TempDir()
	start := func(name, role string) *bench.Process {
		t.Helper()
		p, err := bench.StartProcess(ctx, name, exe, []string{"serve", "--role", role}, env, logs)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Kill)
		return p
	}
	// The first migrates; the others start together and find the schema ready.
	apis := []*bench.Process{start("api-0", "api")}
	var mu sync.Mutex
	var workers []*bench.Process
	var wg sync.WaitGroup
	for _, c := range []struct{ name, role string }{{"api-1", "api"}, {"worker-0", "worker"}, {"worker-1", "worker"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := bench.StartProcess(ctx, c.name, exe, []string{"serve", "--role", c.role}, env, logs)
			if err != nil {
				t.Error(err)
				return
			}
			t.Cleanup(p.Kill)
			mu.Lock()
			defer mu.Unlock()
			if c.role == "api" {
				apis = append(apis, p)
			} else {
				workers = append(workers, p)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	// A worker serves no API but answers health checks and metrics.
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200, bench.SMSPath: 404} {
		if got := httpStatus(t, workers[0].Base+path); got != want {
			t.Errorf("worker GET %s: %d, want %d", path, got, want)
		}
	}

	// The load: each customer's first two texts together, one to each API, then replies.
	const customers, replies = 30, 3
	// sids have Twilio's shape: SM and 32 hexadecimal digits.
	type text struct{ sid, from, body string }
	var sends [][]text // each entry is sent at once, in parallel
	for c := range customers {
		from := fmt.Sprintf("+86139%08d", 5000+c)
		sends = append(sends, []text{{fmt.Sprintf("SMc%029xa0", c), from, "请问我的理赔进度？"}, {fmt.Sprintf("SMc%029xb0", c), from, "保单号 P12345"}})
	}
	for r := range replies {
		for c := range customers {
			sends = append(sends, []text{{fmt.Sprintf("SMc%029xe%x", c, r), fmt.Sprintf("+86139%08d", 5000+c), fmt.Sprintf("补充材料 %d", r)}})
		}
	}
	client := &bench.SMS{Client: &http.Client{Timeout: 5 * time.Second}, Token: token, To: "+8610095500"}
	var (
		accepted sync.Map // sid → true once a 2xx came back
		next     atomic.Int64
		failures atomic.Int64
	)
	deliver := func(i int, m text) {
		// Like Twilio: retry a failed request, here at the other API, until one answers 2xx.
		for attempt := 0; attempt < 40; attempt++ {
			api := apis[(i+attempt)%len(apis)]
			status, err := client.Send(ctx, api.Base, m.sid, m.from, m.body)
			if err == nil {
				accepted.Store(m.sid, true)
				return
			}
			if status/100 == 4 {
				t.Errorf("%s refused with %d: %v", m.sid, status, err)
				return
			}
			failures.Add(1)
			time.Sleep(100 * time.Millisecond)
		}
		t.Errorf("%s was never accepted", m.sid)
	}
	killed := make(chan struct{})
	var senders sync.WaitGroup
	for range 6 {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(sends) {
					return
				}
				if i == len(sends)/2 {
					// Halfway: one API and one worker die at once, mid-request and mid-task.
					apis[0].Kill()
					workers[0].Kill()
					close(killed)
				}
				var pair sync.WaitGroup
				for j, m := range sends[i] {
					pair.Add(1)
					go func() { defer pair.Done(); deliver(i+j, m) }()
				}
				pair.Wait()
				time.Sleep(40 * time.Millisecond) // a steady trickle, so deadlines fall due throughout
			}
		}()
	}
	senders.Wait()
	<-killed
	total := 0
	for _, s := range sends {
		total += len(s)
	}
	n := 0
	accepted.Range(func(_, _ any) bool { n++; return true })
	if n != total {
		t.Fatalf("%d of %d texts acknowledged", n, total)
	}
	t.Logf("%d texts acknowledged (%d failed attempts retried at the other API)", n, failures.Load())

	db, err := tickets.OpenDB(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Every ticket's deadlines (4 s and 8 s) pass; the surviving worker handles them.
	waitFor(t, 45*time.Second, func() bool {
		var open int
		err := db.NewSelect().Table("tickets").ColumnExpr("COUNT(*)").
			Where("first_response_breached_at IS NULL OR resolution_breached_at IS NULL").Scan(ctx, &open)
		return err == nil && open == 0
	})

	// No accepted text lost or stored twice.
	var stored []struct {
		SID string `bun:"provider_message_id"`
		N   int    `bun:"n"`
	}
	if err := db.NewSelect().Table("messages").ColumnExpr("provider_message_id, COUNT(*) AS n").
		Where("direction = 'inbound'").GroupExpr("provider_message_id").Scan(ctx, &stored); err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, s := range stored {
		count[s.SID] = s.N
	}
	accepted.Range(func(k, _ any) bool {
		if count[k.(string)] != 1 {
			t.Errorf("text %s stored %d times, want once", k, count[k.(string)])
		}
		return true
	})
	if len(count) != total {
		t.Errorf("%d distinct texts stored, want %d", len(count), total)
	}
	// One ticket per customer, though their first two texts came together to two APIs.
	var perCustomer []int
	if err := db.NewSelect().Table("tickets").ColumnExpr("COUNT(*)").GroupExpr("customer_id").Scan(ctx, &perCustomer); err != nil {
		t.Fatal(err)
	}
	if len(perCustomer) != customers {
		t.Errorf("%d customers with tickets, want %d", len(perCustomer), customers)
	}
	for _, c := range perCustomer {
		if c != 1 {
			t.Errorf("a customer has %d tickets, want 1", c)
		}
	}
	// Every deadline handled exactly once: per ticket one breach of each deadline, one
	// escalation, one complaint, and no warning twice.
	var breaches []struct {
		Ticket int64  `bun:"entity_id"`
		Data   string `bun:"data"`
		N      int    `bun:"n"`
	}
	if err := db.NewSelect().Table("events").ColumnExpr("entity_id, data, COUNT(*) AS n").
		Where("kind IN ('sla.breached', 'sla.warning')").GroupExpr("entity_id, data").Scan(ctx, &breaches); err != nil {
		t.Fatal(err)
	}
	perTicket := map[int64]int{}
	for _, b := range breaches {
		if b.N != 1 {
			t.Errorf("ticket %d: %s recorded %d times, want once", b.Ticket, b.Data, b.N)
		}
		if strings.Contains(b.Data, `"action"`) {
			perTicket[b.Ticket]++
		}
	}
	if len(perTicket) != customers {
		t.Errorf("breaches on %d tickets, want %d", len(perTicket), customers)
	}
	for id, n := range perTicket {
		if n != 2 {
			t.Errorf("ticket %d has %d breaches, want 2 (first response, resolution)", id, n)
		}
	}
	var complaints []int
	if err := db.NewSelect().Table("complaints").ColumnExpr("COUNT(*)").Where("source = 'sla_breach'").GroupExpr("ticket_id").Scan(ctx, &complaints); err != nil {
		t.Fatal(err)
	}
	if len(complaints) != customers {
		t.Errorf("late-resolution complaints on %d tickets, want %d", len(complaints), customers)
	}
	for _, c := range complaints {
		if c != 1 {
			t.Errorf("a ticket has %d late-resolution complaints, want 1", c)
		}
	}
	if high, err := db.NewSelect().Table("tickets").Where("priority = 'high'").Count(ctx); err != nil || high != customers {
		t.Errorf("%d tickets escalated to high (%v), want %d: each raised once", high, err, customers)
	}
	if body := httpBody(t, workers[1].Base+"/metrics"); !strings.Contains(body, "hotline_sla_breaches_total") {
		t.Errorf("the surviving worker's metrics lack breaches:\n%s", body)
	}
}

// testBinary is the test binary itself: with childMarker set it runs as hotline.
func testBinary(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

// freshDatabase creates a database for the test on the server u names and drops it after.
func freshDatabase(t *testing.T, u url.URL) string {
	t.Helper()
	admin, err := tickets.OpenDB(u.String())
	if err != nil {
		t.Fatal(err)
	}
	name := "hltest_cluster_" + randomHex(4)
	if _, err := admin.ExecContext(context.Background(), "CREATE DATABASE "+name); err != nil {
		admin.Close()
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") //nolint:errcheck // best effort
		admin.Close()
	})
	u.Path = "/" + name
	return u.String()
}

func httpStatus(t *testing.T, url string) int {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func httpBody(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}
