package tickets_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

func eachBenchDB(b *testing.B, fn func(b *testing.B, db *bun.DB)) {
	b.Run("sqlite", func(b *testing.B) { fn(b, tickettest.SQLite(b)) })
	b.Run("postgres", func(b *testing.B) { fn(b, tickettest.Postgres(b)) })
}

// BenchmarkIntake stores SMS messages: "serial" one after another from 100 customers with
// an open ticket (each a reply threaded onto it), "alone" one after
// another each from a new customer (the lone message that opens a ticket), "parallel" from
// many goroutines at once from the 100 (they share transactions). The baseline beside them is the floor
// on the same database: one bare INSERT per transaction. On PostgreSQL each case reports
// its round trips to the server per operation (roundtrips/op, counted on the connections:
// see tickettest.CountedPostgres) and the CPU time its backends spent (pg-cpu-ms/op, see
// tickettest.BackendCPU),
// and every case its allocations and the CPU time of this process (go-cpu-ms/op).
func BenchmarkIntake(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchIntake(b, tickettest.SQLite(b), nil, nil) })
	b.Run("postgres", func(b *testing.B) {
		db, writes, ports := tickettest.CountedPostgres(b)
		admin, err := tickets.OpenDB(tickettest.PostgresURL())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { admin.Close() })
		benchIntake(b, db, writes, func() time.Duration { return tickettest.BackendCPU(b, admin, ports) })
	})
}

func benchIntake(b *testing.B, db *bun.DB, writes *atomic.Int64, pgCPU func() time.Duration) {
	svc := tickettest.Service(db, tickets.SystemClock{})
	ctx := context.Background()
	var seq atomic.Int64
	if _, err := db.ExecContext(ctx, "CREATE TABLE bench_baseline (id BIGINT PRIMARY KEY, body TEXT NOT NULL)"); err != nil {
		b.Fatal(err)
	}
	insert := func() error {
		return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			_, err := tx.ExecContext(ctx, "INSERT INTO bench_baseline (id, body) VALUES (?, ?)", seq.Add(1), "claim status?")
			return err
		})
	}
	// measure runs fn b.N times (parallel: from 8 goroutines a core) and reports its
	// allocations and round trips.
	measure := func(b *testing.B, parallel bool, fn func() error) {
		b.ReportAllocs()
		perOp := func(d time.Duration) float64 { return d.Seconds() * 1000 / float64(b.N) }
		if writes != nil {
			if err := db.PingContext(ctx); err != nil {
				b.Fatal(err)
			}
			before, cpu := writes.Load(), pgCPU()
			defer func() {
				b.ReportMetric(float64(writes.Load()-before)/float64(b.N), "roundtrips/op")
				b.ReportMetric(perOp(pgCPU()-cpu), "pg-cpu-ms/op")
			}()
		}
		goCPU := tickettest.ProcessCPU(b)
		defer func() { b.ReportMetric(perOp(tickettest.ProcessCPU(b)-goCPU), "go-cpu-ms/op") }()
		if !parallel {
			for b.Loop() {
				if err := fn(); err != nil {
					b.Fatal(err)
				}
			}
			return
		}
		b.SetParallelism(8) // 8 goroutines per core: webhooks arrive together
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := fn(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	// reply texts from one of 100 customers with an open ticket; fromNew from a customer
	// never seen.
	phone := func(n int64) string { return fmt.Sprintf("+861380000%04d", n%100) }
	reply := func() error {
		n := seq.Add(1)
		_, err := svc.Intake(ctx, sms(phone(n), "claim status?", fmt.Sprintf("SM%d", n)))
		return err
	}
	fromNew := func() error {
		n := seq.Add(1)
		_, err := svc.Intake(ctx, sms(fmt.Sprintf("+86139%08d", n), "claim status?", fmt.Sprintf("SM%d", n)))
		return err
	}
	var first []tickets.Inbound // their first messages, which open their tickets
	for c := range int64(100) {
		first = append(first, sms(phone(c), "claim status?", fmt.Sprintf("SM-first-%d", c)))
	}
	if _, errs := svc.IntakeAll(ctx, first); errors.Join(errs...) != nil {
		b.Fatal(errors.Join(errs...))
	}
	b.Run("baseline-serial", func(b *testing.B) { measure(b, false, insert) })
	b.Run("baseline-parallel", func(b *testing.B) { measure(b, true, insert) })
	b.Run("serial", func(b *testing.B) { measure(b, false, reply) })
	b.Run("alone", func(b *testing.B) { measure(b, false, fromNew) })
	b.Run("parallel", func(b *testing.B) { measure(b, true, reply) })
}

// BenchmarkListTickets reads queues from a desk with 100,000 tickets.
func BenchmarkListTickets(b *testing.B) {
	eachBenchDB(b, func(b *testing.B, db *bun.DB) {
		ctx := context.Background()
		agent, team := seedTickets(b, db, 100_000)
		svc := tickettest.Service(db, tickets.SystemClock{})
		second, err := svc.ListTickets(ctx, tickets.TicketFilter{TeamID: &team})
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range []struct {
			name string
			f    tickets.TicketFilter
		}{
			{"mine", tickets.TicketFilter{AssigneeID: &agent}},
			{"team", tickets.TicketFilter{TeamID: &team}},
			{"team-page2", tickets.TicketFilter{TeamID: &team, Cursor: second.NextCursor}},
			{"unassigned-open", tickets.TicketFilter{Unassigned: true, Statuses: []tickets.Status{tickets.StatusNew, tickets.StatusOpen}}},
			{"all", tickets.TicketFilter{}},
		} {
			b.Run(c.name, func(b *testing.B) {
				for b.Loop() {
					page, err := svc.ListTickets(ctx, c.f)
					if err != nil || len(page.Items) != 50 {
						b.Fatalf("%v, %d items", err, len(page.Items))
					}
				}
			})
		}
	})
}

// seedTickets bulk-inserts n tickets over 10 teams of 10 agents, a fifth unassigned, and
// returns one agent and one team to query.
func seedTickets(b *testing.B, db *bun.DB, n int) (agentID, teamID int64) {
	b.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	var teams []*tickets.Team
	for i := range 10 {
		teams = append(teams, &tickets.Team{Name: fmt.Sprintf("Team %d", i), CreatedAt: now, UpdatedAt: now})
	}
	if _, err := db.NewInsert().Model(&teams).Exec(ctx); err != nil {
		b.Fatal(err)
	}
	var agents []*tickets.Agent
	for i := range 100 {
		agents = append(agents, &tickets.Agent{Email: fmt.Sprintf("a%d@example.com", i), Name: "A", Role: tickets.RoleAgent, TeamID: &teams[i%10].ID, Capacity: 10, PasswordHash: "x", Locale: "en", Active: true, CreatedAt: now, UpdatedAt: now})
	}
	if _, err := db.NewInsert().Model(&agents).Exec(ctx); err != nil {
		b.Fatal(err)
	}
	const customers = 10_000
	for start := 0; start < customers; start += 1000 {
		batch := make([]*tickets.Customer, 1000)
		for i := range batch {
			batch[i] = &tickets.Customer{Name: "C", CreatedAt: now, UpdatedAt: now}
		}
		if _, err := db.NewInsert().Model(&batch).Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
	var firstCustomer int64
	if err := db.NewSelect().Table("customers").ColumnExpr("MIN(id)").Scan(ctx, &firstCustomer); err != nil {
		b.Fatal(err)
	}
	statuses := []tickets.Status{tickets.StatusNew, tickets.StatusOpen, tickets.StatusPending, tickets.StatusResolved, tickets.StatusClosed}
	for start := 0; start < n; start += 1000 {
		batch := make([]*tickets.Ticket, 0, 1000)
		for i := start; i < start+1000 && i < n; i++ {
			a := agents[i%len(agents)]
			first, res := now.Add(time.Duration(i%5000)*time.Minute), now.Add(48*time.Hour)
			t := &tickets.Ticket{
				CustomerID: firstCustomer + int64(i%customers), Channel: tickets.ChannelSMS, Subject: "Where is my claim?",
				Priority: tickets.PriorityNormal, Status: statuses[i%len(statuses)], TeamID: a.TeamID, AssigneeID: &a.ID,
				FirstResponseDueAt: &first, ResolutionDueAt: &res, NextDueAt: first, CreatedAt: now, UpdatedAt: now,
			}
			if i%5 == 0 {
				t.AssigneeID = nil
			}
			if !t.Status.Active() {
				t.NextDueAt = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
			}
			batch = append(batch, t)
		}
		if _, err := db.NewInsert().Model(&batch).Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, "ANALYZE"); err != nil { // both dialects: fresh planner statistics
		b.Fatal(err)
	}
	return agents[1].ID, teams[1].ID
}
