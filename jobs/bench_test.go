package jobs_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/hotlinedesk/hotline/jobs"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// BenchmarkDeadlineBurst: 100,000 open tickets share one first-response deadline, each
// ticket's timer scheduled (they share one wake-up task). It reports how long after the deadline every ticket was escalated
// (recorded once, priority raised one step), on PostgreSQL and Redis.
//
//	go test -run '^$' -bench DeadlineBurst -benchtime 1x ./jobs/
func BenchmarkDeadlineBurst(b *testing.B) {
	const n = 100_000
	for range b.N {
		db := tickettest.Postgres(b)
		broker := freshRedis(b)
		ctx := context.Background()
		log := tickettest.Logger()
		svc := tickets.NewService(db, tickets.SystemClock{}, tickets.Config{DefaultCountry: "86"}, log)
		svc.SetComplaints(complaints.New(svc)) // as app wires it

		due := time.Now().Add(20 * time.Second).Truncate(time.Second)
		team := &tickets.Team{Name: "Claims", CreatedAt: due, UpdatedAt: due}
		if _, err := db.NewInsert().Model(team).Exec(ctx); err != nil {
			b.Fatal(err)
		}
		sup := &tickets.Agent{Email: "sup@example.com", Name: "Sup", Role: tickets.RoleSupervisor, TeamID: &team.ID, Capacity: 10, PasswordHash: "x", Locale: "en", Active: true, CreatedAt: due, UpdatedAt: due}
		if _, err := db.NewInsert().Model(sup).Exec(ctx); err != nil {
			b.Fatal(err)
		}
		cust := &tickets.Customer{Name: "C", CreatedAt: due, UpdatedAt: due}
		if _, err := db.NewInsert().Model(cust).Exec(ctx); err != nil {
			b.Fatal(err)
		}
		created := due.Add(-24 * time.Hour)
		resolution := due.Add(24 * time.Hour)
		timers := make([]tickets.Timer, 0, n)
		for start := 0; start < n; start += 2000 {
			batch := make([]*tickets.Ticket, 0, 2000)
			for range min(2000, n-start) {
				batch = append(batch, &tickets.Ticket{CustomerID: cust.ID, Channel: tickets.ChannelSMS, Subject: "s", Priority: tickets.PriorityNormal,
					Status: tickets.StatusNew, TeamID: &team.ID, FirstResponseDueAt: &due, ResolutionDueAt: &resolution, NextDueAt: due,
					SLAStartedAt: &created, FirstResponseWarned: 2, ResolutionWarned: 2, CreatedAt: created, UpdatedAt: created})
			}
			if _, err := db.NewInsert().Model(&batch).Exec(ctx); err != nil {
				b.Fatal(err)
			}
			for _, t := range batch {
				timers = append(timers, tickets.Timer{Kind: "first", ID: t.ID, At: due, Due: due})
			}
		}
		if _, err := db.ExecContext(ctx, "ANALYZE tickets"); err != nil {
			b.Fatal(err)
		}

		enqueueStart := time.Now()
		sched := jobs.NewScheduler(broker)
		var wg sync.WaitGroup
		for w := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < n; i += 16 {
					if err := sched.Schedule(ctx, timers[i:i+1]); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		sched.Close()
		enqueued := time.Since(enqueueStart)
		if time.Now().After(due.Add(-2 * time.Second)) {
			b.Fatalf("enqueueing %d timers took %v, past the deadline; raise the lead time", n, enqueued)
		}

		mux := asynq.NewServeMux()
		jobs.NewHandlers(svc, log, nil, nil).Register(mux)
		srv := jobs.NewServer(broker, 20, log)
		if err := srv.Start(mux); err != nil {
			b.Fatal(err)
		}
		time.Sleep(time.Until(due))
		b.ResetTimer()
		for {
			var breached int
			if err := db.NewSelect().Table("tickets").ColumnExpr("COUNT(*)").Where("first_response_breached_at IS NOT NULL").Scan(ctx, &breached); err != nil {
				b.Fatal(err)
			}
			if breached == n {
				break
			}
			if time.Since(due) > 5*time.Minute {
				b.Fatalf("only %d of %d escalated after 5 minutes", breached, n)
			}
			time.Sleep(50 * time.Millisecond)
		}
		escalated := time.Since(due)
		b.StopTimer()
		srv.Shutdown()

		events, _ := db.NewSelect().Table("events").Where("kind = 'sla.breached'").Count(ctx)
		high, _ := db.NewSelect().Table("tickets").Where("priority = 'high'").Count(ctx)
		if events != n || high != n {
			b.Fatalf("%d breach events and %d tickets at high priority, want %d each (exactly once)", events, high, n)
		}
		b.ReportMetric(escalated.Seconds(), "s-to-escalate-all")
		b.ReportMetric(enqueued.Seconds(), "s-to-enqueue-timers")
		fmt.Printf("deadline burst: %d tickets escalated %.2fs after their shared deadline (timers enqueued in %.1fs)\n", n, escalated.Seconds(), enqueued.Seconds())
	}
}

// BenchmarkScheduleSetWakes schedules a new ticket's four timers (first response,
// resolution and a warning before each) in seconds whose wake-up this process has set
// already, as for tickets opened in the same second: what Schedule costs before Redis.
func BenchmarkScheduleSetWakes(b *testing.B) {
	sched := jobs.NewScheduler(freshRedis(b))
	ctx := context.Background()
	due := time.Now().Add(24 * time.Hour).Truncate(time.Second)
	timers := []tickets.Timer{
		{Kind: "first", ID: 1, At: due, Due: due},
		{Kind: "first-warn1", ID: 1, At: due.Add(-time.Hour), Due: due},
		{Kind: "resolution", ID: 1, At: due.Add(24 * time.Hour), Due: due.Add(24 * time.Hour)},
		{Kind: "resolution-warn1", ID: 1, At: due.Add(23 * time.Hour), Due: due.Add(24 * time.Hour)},
	}
	if err := sched.Schedule(ctx, timers); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := sched.Schedule(ctx, timers); err != nil {
			b.Fatal(err)
		}
	}
}
