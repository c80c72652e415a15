package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// BenchmarkAPICreate logs phone contacts through POST /api/v1/tickets as a signed-in agent,
// through the whole HTTP stack in process (token check, JSON in and out): a third of the
// callers new, the rest calling again. Serial is one agent at a time; parallel, eight a
// core. Each case reports the CPU time of this process (go-cpu-ms/op) and, on PostgreSQL,
// the round trips to the server (roundtrips/op) and the CPU time its backends spent
// (pg-cpu-ms/op): see tickettest.CountedPostgres.
//
//	go test -run '^$' -bench APICreate -benchmem -benchtime 2s ./app/api/
func BenchmarkAPICreate(b *testing.B) {
	for _, kind := range []string{"sqlite", "postgres"} {
		b.Run(kind, func(b *testing.B) {
			var db *bun.DB
			var writes *atomic.Int64
			pgCPU := func() time.Duration { return 0 }
			if kind == "sqlite" {
				db = tickettest.SQLite(b)
			} else {
				var ports *sync.Map
				db, writes, ports = tickettest.CountedPostgres(b)
				admin, err := tickets.OpenDB(tickettest.PostgresURL())
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { admin.Close() })
				pgCPU = func() time.Duration { return tickettest.BackendCPU(b, admin, ports) }
			}
			app, token := benchDesk(b, db)
			var seq atomic.Int64
			create := func() error {
				n := seq.Add(1)
				caller := n
				if n%3 != 0 {
					caller = n / 3
				}
				body, _ := json.Marshal(map[string]any{
					"channel":  "phone",
					"customer": map[string]string{"name": fmt.Sprintf("来电客户 %d", caller), "phone": fmt.Sprintf("+86138%08d", caller)},
					"subject":  fmt.Sprintf("理赔进度 #%d", n), "body": "客户来电询问理赔进度，希望今天回电。",
					"category": "claims", "priority": "normal",
				})
				req := httptest.NewRequest("POST", "/api/v1/tickets", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+token)
				res, err := app.Test(req, -1)
				if err != nil {
					return err
				}
				defer res.Body.Close()
				answer, err := io.ReadAll(res.Body)
				if err != nil {
					return err
				}
				if res.StatusCode != 201 {
					return fmt.Errorf("POST /api/v1/tickets: %d %s", res.StatusCode, answer)
				}
				return nil
			}
			// measure reports, when b ends, what it cost beside time.
			measure := func(b *testing.B) {
				b.ReportAllocs()
				perOp := func(d time.Duration) float64 { return d.Seconds() * 1000 / float64(b.N) }
				if writes != nil {
					if err := db.PingContext(context.Background()); err != nil {
						b.Fatal(err)
					}
					before, cpu := writes.Load(), pgCPU()
					b.Cleanup(func() {
						b.ReportMetric(float64(writes.Load()-before)/float64(b.N), "roundtrips/op")
						b.ReportMetric(perOp(pgCPU()-cpu), "pg-cpu-ms/op")
					})
				}
				goCPU := tickettest.ProcessCPU(b)
				b.Cleanup(func() { b.ReportMetric(perOp(tickettest.ProcessCPU(b)-goCPU), "go-cpu-ms/op") })
			}
			b.Run("serial", func(b *testing.B) {
				measure(b)
				for b.Loop() {
					if err := create(); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("parallel", func(b *testing.B) {
				measure(b)
				b.SetParallelism(8)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := create(); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		})
	}
}

// benchDesk is a desk with one team and one agent in it, signed in; it answers the API.
func benchDesk(b *testing.B, db *bun.DB) (*fiber.App, string) {
	b.Helper()
	ctx := context.Background()
	svc := tickettest.Service(db, tickets.SystemClock{})
	svc.SetAftercare(aftercare.New(svc, aftercare.Config{}))
	svc.SetComplaints(complaints.New(svc))
	team, err := svc.CreateTeam(ctx, system, "Claims")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.CreateAgent(ctx, system, tickets.NewAgent{Email: "agent@hotline.test", Name: "Bo Agent", Role: tickets.RoleAgent,
		TeamID: &team.ID, Capacity: 1000, Password: password}); err != nil {
		b.Fatal(err)
	}
	app := newApp(svc, nil)
	body, _ := json.Marshal(map[string]string{"email": "agent@hotline.test", "password": password})
	req := httptest.NewRequest("POST", "/api/v1/auth/login", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	res, err := app.Test(req, -1)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	var out struct{ Token string }
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || out.Token == "" {
		b.Fatalf("sign in: status %d, %v", res.StatusCode, err)
	}
	return app, out.Token
}
