package bench

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hotlinedesk/hotline/jobs"
	"github.com/hotlinedesk/hotline/tickets"
)

// burst gives BurstTickets open tickets one shared first-response deadline, each ticket's
// timer handed to the scheduler as intake hands it (they share one wake-up task), and
// measures how long after the deadline the running Hotline has escalated all of them; then
// checks each was escalated exactly once.
func (e *env) burst(ctx context.Context, progress func(string, ...any)) error {
	n := e.cfg.BurstTickets
	due := time.Now().Add(e.cfg.BurstLead).Truncate(time.Second)
	progress("deadline burst: %d tickets due at %s", n, due.Format(time.TimeOnly))

	var team int64
	err := e.db.NewRaw(`WITH t AS (INSERT INTO teams (name, created_at, updated_at) VALUES ('Burst team', now(), now()) RETURNING id),
		a AS (INSERT INTO agents (email, name, role, team_id, capacity, password_hash, locale, active, online, created_at, updated_at)
			SELECT 'burst.supervisor@bench.hotline', 'Burst supervisor', 'supervisor', id, 10, 'x', 'zh-CN', TRUE, FALSE, now(), now() FROM t)
		SELECT id FROM t`).Scan(ctx, &team)
	if err != nil {
		return fmt.Errorf("seed the burst team: %w", err)
	}
	var customer int64
	if err := e.db.NewRaw(`INSERT INTO customers (name, locale, tags, created_at, updated_at) VALUES ('Burst customer', 'zh-CN', '', now(), now()) RETURNING id`).
		Scan(ctx, &customer); err != nil {
		return fmt.Errorf("seed the burst customer: %w", err)
	}
	// Warnings already given (warned = 2), so that only the breach is due.
	var ids []int64
	err = e.db.NewRaw(`INSERT INTO tickets (customer_id, channel, subject, category, priority, status, team_id,
			first_response_due_at, resolution_due_at, next_due_at, sla_started_at, first_response_warned, resolution_warned, created_at, updated_at)
		SELECT ?0, 'sms', 'Burst #' || g, '', 'normal', 'new', ?1, ?2, ?3, ?2, ?4, 2, 2, ?4, ?4
		FROM generate_series(1, ?5) g RETURNING id`,
		customer, team, due, due.Add(24*time.Hour), due.Add(-24*time.Hour), n).Scan(ctx, &ids)
	if err != nil {
		return fmt.Errorf("seed the burst tickets: %w", err)
	}

	broker, err := jobs.OpenBroker(e.cfg.RedisURL, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer broker.Close()
	sched := jobs.NewScheduler(broker)
	defer sched.Close()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(ids); i += 16 {
				if err := sched.Schedule(ctx, []tickets.Timer{{Kind: "first", ID: ids[i], At: due, Due: due}}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return fmt.Errorf("enqueue the burst's timers: %w", err)
	}
	enqueued := time.Since(start)
	if time.Now().After(due) {
		return fmt.Errorf("enqueueing %d timers took %v, past the shared deadline; raise -burst-lead", n, enqueued.Round(time.Millisecond))
	}
	progress("timers enqueued in %v; waiting for the deadline", enqueued.Round(time.Millisecond))

	time.Sleep(time.Until(due))
	e.rss.start()
	defer e.rss.pause()
	var escalated int
	for {
		err := e.db.NewSelect().Table("tickets").ColumnExpr("COUNT(*)").
			Where("team_id = ? AND first_response_breached_at IS NOT NULL", team).Scan(ctx, &escalated)
		if err != nil {
			return fmt.Errorf("count escalated tickets: %w", err)
		}
		if escalated == n || time.Since(due) > e.cfg.BurstLimit || ctx.Err() != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	took := time.Since(due)
	e.rss.pause()

	// Exactly once: one breach event per ticket, and each priority raised one step.
	var events, distinct, high int
	err = e.db.NewRaw(`SELECT COUNT(*), COUNT(DISTINCT entity_id) FROM events
		WHERE kind = 'sla.breached' AND entity = 'ticket' AND entity_id IN (SELECT id FROM tickets WHERE team_id = ?)`, team).Scan(ctx, &events, &distinct)
	if err != nil {
		return fmt.Errorf("count breach events: %w", err)
	}
	if high, err = e.db.NewSelect().Table("tickets").Where("team_id = ? AND priority = 'high'", team).Count(ctx); err != nil {
		return fmt.Errorf("count escalated priorities: %w", err)
	}
	e.report.BurstEscalated, e.report.BurstEvents, e.report.BurstTime = escalated, events, took
	e.report.add(Row{Scenario: "deadline burst", Requests: n, Throughput: float64(escalated) / took.Seconds(), Errors: n - escalated + (events - distinct),
		Notes: fmt.Sprintf("%d of %d escalated %.2f s after their shared deadline; %d breach events for %d tickets, %d raised to high; timers enqueued in %.1f s",
			escalated, n, took.Seconds(), events, distinct, high, enqueued.Seconds())})
	if escalated != n || events != n || distinct != n || high != n {
		return fmt.Errorf("deadline burst: %d of %d escalated within %v, %d breach events for %d tickets, %d at high priority: want each exactly once",
			escalated, n, e.cfg.BurstLimit, events, distinct, high)
	}
	return nil
}
