package jobs_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/jobs"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// sentinelType is a task the test workers run and count, and nothing else: queued behind
// other tasks, its completion shows the worker has been through them.
const sentinelType = "test:sentinel"

// worker is a running Asynq server with the deadline handlers, counting the tasks it has
// finished by type.
type worker struct {
	mu   sync.Mutex
	done map[string]int
}

func (w *worker) finished(taskType string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.done[taskType]
}

// startWorker runs the deadline handlers on a broker until the test ends, as a worker
// process does: concurrency tasks at once and, when reconcile > 0, its own reconciler loop.
func startWorker(t *testing.T, b *jobs.Broker, svc *tickets.Service, reconcile time.Duration, concurrency int) *worker {
	t.Helper()
	log := tickettest.Logger()
	w := &worker{done: map[string]int{}}
	mux := asynq.NewServeMux()
	mux.Use(func(next asynq.Handler) asynq.Handler {
		return asynq.HandlerFunc(func(ctx context.Context, task *asynq.Task) error {
			err := next.ProcessTask(ctx, task)
			if err == nil {
				w.mu.Lock()
				w.done[task.Type()]++
				w.mu.Unlock()
			}
			return err
		})
	})
	jobs.NewHandlers(svc, log, nil, nil).Register(mux)
	mux.HandleFunc(sentinelType, func(context.Context, *asynq.Task) error { return nil })
	srv := jobs.NewServer(b, concurrency, log)
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if reconcile > 0 {
		go jobs.RunReconciler(ctx, b, reconcile, log)
	}
	t.Cleanup(func() { cancel(); srv.Shutdown() })
	return w
}

// freshRedis opens this package's own Redis database, emptied (see tickettest.RedisURL).
func freshRedis(t testing.TB) *jobs.Broker {
	t.Helper()
	b, err := jobs.OpenBroker(tickettest.RedisURL(t, "jobs"), tickettest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

func countKind(t *testing.T, db *bun.DB, kind string) int {
	t.Helper()
	n, err := db.NewSelect().Table("events").Where("kind = ?", kind).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func waitUntil(t *testing.T, limit time.Duration, ok func() bool) {
	t.Helper()
	end := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(end) {
			t.Fatalf("not done after %v", limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Timers set the deadline tasks, one a second however many tickets fall due in it; each
// breach and warning is handled once, by the timer, with two worker processes' servers
// taking the tasks.
func TestTimersHandleDeadlines(t *testing.T) {
	db := tickettest.Postgres(t)
	b := freshRedis(t)
	svc := tickets.NewService(db, tickets.SystemClock{}, tickets.Config{DefaultCountry: "86",
		SLA: tickets.SLADefaults{FirstResponse: 4 * time.Second, Resolution: time.Hour, WarnAt: []float64{0.25, 0.5}}}, tickettest.Logger())
	svc.SetComplaints(complaints.New(svc)) // as app wires it
	sched := jobs.NewScheduler(b)
	defer sched.Close()
	svc.SetScheduler(sched)
	startWorker(t, b, svc, 0, 10)
	startWorker(t, b, svc, 0, 10)

	ctx := context.Background()
	opened := time.Now()
	for i := range 20 {
		if _, err := svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: fmt.Sprintf("+86138%08d", i), Body: "hi"}); err != nil {
			t.Fatal(err)
		}
	}
	// The seconds the tickets were opened in (one or two, more on a loaded machine): each
	// of the four clocks wakes at most once in each.
	spanned := int(time.Now().Unix()-opened.Unix()) + 1
	// Each second holding a deadline or a warning of these tickets has one wake-up task,
	// shared by every ticket due in it, and no other task is set.
	var rows []struct{ FirstResponseDueAt, FirstResponseWarnAt, ResolutionDueAt, ResolutionWarnAt time.Time }
	if err := db.NewSelect().Table("tickets").Column("first_response_due_at", "first_response_warn_at", "resolution_due_at", "resolution_warn_at").Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	var lastFirst int64 // the last second a first-response warning or deadline wakes at
	for _, r := range rows {
		lastFirst = max(lastFirst, r.FirstResponseDueAt.Add(time.Second-time.Nanosecond).Unix())
		for _, at := range []time.Time{r.FirstResponseDueAt, r.FirstResponseWarnAt, r.ResolutionDueAt, r.ResolutionWarnAt} {
			want[fmt.Sprintf("sla:wake:%d", at.Add(time.Second-time.Nanosecond).Unix())] = true
		}
	}
	scheduled, err := asynq.NewInspector(b.Opt).ListScheduledTasks("critical", asynq.PageSize(1000))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, task := range scheduled {
		got[task.ID] = true
	}
	if len(got) != len(scheduled) || !maps.Equal(got, want) {
		t.Errorf("scheduled %d tasks %v, want one per second due: %v", len(scheduled), slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
	if limit := 4 * (spanned + 1); len(want) > limit {
		t.Errorf("%d wake-ups for 20 tickets opened within %d s; want them shared (at most %d)", len(want), spanned, limit)
	}
	waitUntil(t, 10*time.Second, func() bool { return countKind(t, db, "sla.breached") == 20 })
	// Every wake-up of the first-response clock has run to its end (none is scheduled,
	// queued, running or waiting to retry), so the counts below are final: a second breach
	// or warning would be recorded by now.
	insp := asynq.NewInspector(b.Opt)
	defer insp.Close()
	waitUntil(t, 10*time.Second, func() bool {
		scheduled, err := insp.ListScheduledTasks("critical", asynq.PageSize(1000))
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range scheduled {
			if task.NextProcessAt.Unix() <= lastFirst {
				return false
			}
		}
		q, err := insp.GetQueueInfo("critical")
		if err != nil {
			t.Fatal(err)
		}
		return q.Pending+q.Active+q.Retry == 0
	})
	if q, err := insp.GetQueueInfo("critical"); err != nil || q.Archived != 0 {
		t.Errorf("queue after the wake-ups: %+v, %v; want no task failed for good", q, err)
	}
	if n := countKind(t, db, "sla.breached"); n != 20 {
		t.Errorf("%d breaches, want 20", n)
	}
	if n := countTickets(t, db, "sla.breached"); n != 20 {
		t.Errorf("%d tickets breached, want all 20, once each", n)
	}
	if n := countKind(t, db, "sla.warning"); n != 40 {
		t.Errorf("%d warnings, want 40 (at 1s and 2s of the 4s for each ticket)", n)
	}
}

// countTickets is how many tickets have at least one event of the kind.
func countTickets(t *testing.T, db *bun.DB, kind string) int {
	t.Helper()
	var n int
	if err := db.NewSelect().Table("events").ColumnExpr("COUNT(DISTINCT entity_id)").
		Where("kind = ? AND entity = 'ticket'", kind).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// With Redis flushed the timers are gone: a running worker does nothing about the
// deadlines until the reconciler finds them in the database and handles them through the
// same sweep, once each however many worker processes reconcile.
func TestReconcilerAfterRedisFlush(t *testing.T) {
	db := tickettest.Postgres(t)
	b := freshRedis(t)
	// The tickets came an hour ago with a second to answer, so their timers were queued to
	// run at once (not scheduled for later) when no worker was running.
	clock := tickettest.NewClock(time.Now().Add(-time.Hour))
	svc := tickets.NewService(db, clock, tickets.Config{DefaultCountry: "86",
		SLA: tickets.SLADefaults{FirstResponse: time.Second, Resolution: time.Hour, WarnAt: []float64{}}}, tickettest.Logger())
	svc.SetComplaints(complaints.New(svc)) // as app wires it
	sched := jobs.NewScheduler(b)
	defer sched.Close()
	svc.SetScheduler(sched)
	ctx := context.Background()
	for i := range 10 {
		if _, err := svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: fmt.Sprintf("+86139%08d", i), Body: "hi"}); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(time.Minute)
	insp := asynq.NewInspector(b.Opt)
	defer insp.Close()
	if q, err := insp.GetQueueInfo("critical"); err != nil || q.Pending == 0 {
		t.Fatalf("before the flush: %+v, %v; want the timers queued", q, err)
	}
	if err := b.Redis().FlushDB(ctx).Err(); err != nil { // every timer is lost
		t.Fatal(err)
	}

	// A worker with no reconciler runs the queue one task at a time, in order: once a task
	// queued now has run, so would any timer the flush had left.
	first := startWorker(t, b, svc, 0, 1)
	client := asynq.NewClient(b.Opt)
	defer client.Close()
	if _, err := client.EnqueueContext(ctx, asynq.NewTask(sentinelType, nil), asynq.Queue("critical")); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, func() bool { return first.finished(sentinelType) == 1 })
	if n := countKind(t, db, "sla.breached"); n != 0 {
		t.Fatalf("%d breaches with every timer lost and no reconciler; want 0", n)
	}

	// Two more worker processes, each with its reconciler.
	workers := []*worker{first, startWorker(t, b, svc, 300*time.Millisecond, 10), startWorker(t, b, svc, 300*time.Millisecond, 10)}
	rounds := func() int {
		n := 0
		for _, w := range workers {
			n += w.finished(jobs.TypeReconcile)
		}
		return n
	}
	waitUntil(t, 10*time.Second, func() bool { return countKind(t, db, "sla.breached") == 10 })
	// Three more reconciler rounds run to their end (at most two, one per reconciling
	// worker, were under way as the last breach was counted) and change nothing.
	after := rounds() + 3
	waitUntil(t, 10*time.Second, func() bool { return rounds() >= after })
	if n := countKind(t, db, "sla.breached"); n != 10 {
		t.Errorf("%d breaches, want 10", n)
	}
	if n := countTickets(t, db, "sla.breached"); n != 10 {
		t.Errorf("%d tickets breached, want all 10, once each", n)
	}
}
