package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hotlinedesk/hotline/app/bench"
	"github.com/hotlinedesk/hotline/tickets"
)

// The load harness runs end to end at tiny sizes against PostgreSQL and Redis: a real
// Hotline child process, the baseline, intake checked message by message, the queues with
// their plans, and a deadline burst checked exactly once.
func TestBenchHarnessSmoke(t *testing.T) {
	pg := requireProcesses(t)
	pg.Path = "/hotline_bench_smoke"

	var out bytes.Buffer
	cfg, err := bench.ParseFlags([]string{
		"-database-url", pg.String(), "-redis-url", testRedis(t), "-log-dir", t.TempDir(),
		"-levels", "1,4", "-intake-time", "1s", "-intake-max", "120",
		"-queue-tickets", "2000", "-queue-requests", "30",
		"-burst-tickets", "300", "-burst-lead", "5s", "-burst-limit", "60s",
		"-api-levels", "1,4", "-api-time", "1s", "-api-max", "60",
		"-files-messages", "10", "-files-concurrency", "2",
	}, &out)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ExtraEnv = []string{childMarker}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := bench.Run(ctx, cfg, &out)
	t.Log(out.String())
	if err != nil {
		t.Fatalf("bench: %v", err)
	}
	if rep.Accepted == 0 || rep.Missing != 0 || rep.Duplicated != 0 || rep.DuplicateTickets != 0 || rep.Stored != rep.Accepted {
		t.Errorf("intake: %d accepted, %d stored, %d missing, %d twice, %d duplicate tickets; want every accepted webhook stored once",
			rep.Accepted, rep.Stored, rep.Missing, rep.Duplicated, rep.DuplicateTickets)
	}
	if rep.BestRatio <= 0 {
		t.Errorf("no intake ratio measured")
	}
	if rep.BurstEscalated != 300 || rep.BurstEvents != 300 {
		t.Errorf("burst: %d escalated with %d events, want 300 each", rep.BurstEscalated, rep.BurstEvents)
	}
	if len(rep.Plans) == 0 || rep.IdleRSS == 0 || rep.LoadRSS == 0 || !rep.RedisMeasured {
		t.Errorf("plans %d, RSS idle %d / load %d, Redis per ticket %.0f: want all measured", len(rep.Plans), rep.IdleRSS, rep.LoadRSS, rep.RedisPerTicket)
	}
	for _, p := range rep.Plans {
		if !p.Prepared { // every queue query keeps its plan: planning cost more than running
			t.Errorf("%s: %s is not run prepared", p.Endpoint, p.Query)
		}
	}
	// PostgreSQL's CPU per new ticket: per API create (each a new ticket) and per first text.
	measured := map[string]bool{}
	for _, r := range rep.Rows {
		if r.PGCPUPer > 0 {
			measured[r.Scenario] = true
		}
	}
	for _, s := range []string{"api create: PostgreSQL", "intake: first texts", "intake: signed SMS", bench.FloorScenario, bench.FloorScenario + ", beside first texts"} {
		if !measured[s] {
			t.Errorf("%s: no PostgreSQL CPU per row measured", s)
		}
	}
	// The second baseline, intake's rows written bare, beside every signed-SMS level: its
	// share of the bare insert, and intake over it in its ratio column.
	if len(rep.FloorShares) != 2 {
		t.Errorf("floor shares %v, want one for each of the 2 levels", rep.FloorShares)
	}
	floors := 0
	for _, l := range rep.FloorShares {
		if l.Ratio <= 0 {
			t.Errorf("concurrency %d: no floor ÷ bare insert measured", l.Concurrency)
		}
	}
	for _, r := range rep.Rows {
		if r.Scenario == bench.FloorScenario {
			floors++
			if r.Throughput <= 0 || r.Ratio <= 0 || r.Errors > 0 {
				t.Errorf("floor at %d: %.0f/s, ratio %.2f, %d errors; want a throughput, a ratio, no errors", r.Concurrency, r.Throughput, r.Ratio, r.Errors)
			}
		}
	}
	if floors != 2 {
		t.Errorf("%d %q rows, want 2", floors, bench.FloorScenario)
	}
	table := out.String()
	if rep.APISQLiteRatio <= 0 {
		t.Errorf("no SQLite/PostgreSQL p99 ratio for the API create")
	}
	for _, want := range []string{"scenario", "baseline: bare INSERT", "baseline: intake's rows", "intake: signed SMS", "the rows alone reach", "intake: first texts", "intake: check", "queue: mine", "queue: team", "deadline burst", "memory", "EXPLAIN",
		"api create: PostgreSQL", "api create: SQLite", "api create: SQLite ÷ PostgreSQL", "0 twice",
		"files: 1 MB email, in the database", "files: 1 MB email, in the store"} {
		if !strings.Contains(table, want) {
			t.Errorf("the output lacks %q", want)
		}
	}
}

// The harness refuses bad flags with a reason, and a database or Redis db holding data it
// did not make.
func TestBenchHarnessRefuses(t *testing.T) {
	for _, args := range [][]string{
		{"-levels", "0"}, {"-levels", "a,b"}, {"-intake-time", "0s"}, {"-new-customers", "2"},
		{"-queue-tickets", "10"}, {"-burst-lead", "1ms"}, {"extra"},
		{"-api-levels", "0"}, {"-api-levels", "x"}, {"-api-time", "0s"}, {"-api-max", "0"},
	} {
		if _, err := bench.ParseFlags(args, &bytes.Buffer{}); err == nil {
			t.Errorf("flags %q accepted", args)
		}
	}

	pg := requireProcesses(t)
	ctx := context.Background()

	// A database with someone else's table.
	admin, err := tickets.OpenDB(pg.String())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	admin.ExecContext(ctx, "CREATE DATABASE hotline_bench_refuse") //nolint:errcheck // exists already is fine
	pg.Path = "/hotline_bench_refuse"
	foreign, err := tickets.OpenDB(pg.String())
	if err != nil {
		t.Fatal(err)
	}
	defer foreign.Close()
	if _, err := foreign.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS precious (id INT)"); err != nil {
		t.Fatal(err)
	}
	// A Redis db with someone else's key.
	redisURL := testRedis(t)
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	if err := rdb.Set(ctx, "someone:else", "1", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	defer rdb.Del(ctx, "someone:else")
	smoke := *pg
	smoke.Path = "/hotline_bench_smoke"

	for _, c := range []struct {
		name, db, redis, want string
	}{
		{"database", pg.String(), redisURL, "database hotline_bench_refuse holds tables the harness did not make"},
		{"redis", smoke.String(), redisURL, fmt.Sprintf("redis db %d at %s holds keys the harness did not make", opt.DB, opt.Addr)},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := bench.ParseFlags([]string{"-database-url", c.db, "-redis-url", c.redis, "-log-dir", t.TempDir()}, &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = bench.Run(ctx, cfg, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("bench: %v, want a refusal: %s", err, c.want)
			}
		})
	}
	var n int
	if err := foreign.NewRaw("SELECT COUNT(*) FROM precious").Scan(ctx, &n); err != nil {
		t.Errorf("the foreign table is gone: %v", err)
	}
	if v, _ := rdb.Get(ctx, "someone:else").Result(); v != "1" {
		t.Error("the foreign Redis key is gone")
	}
}
