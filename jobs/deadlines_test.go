package jobs_test

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/jobs"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// startWorker runs the deadline handlers on a broker until the test ends.
func startWorker(t *testing.T, b *jobs.Broker, svc *tickets.Service, reconcile time.Duration) {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	mux := asynq.NewServeMux()
	jobs.NewHandlers(svc, log, nil, nil).Register(mux)
	srv := jobs.NewServer(b, 10, log)
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if reconcile > 0 {
		go jobs.RunReconciler(ctx, b, reconcile, log)
	}
	t.Cleanup(func() { cancel(); srv.Shutdown() })
}

func freshRedis(t testing.TB, db int) *jobs.Broker {
	t.Helper()
	tickettest.RequireService(t, "Redis", "127.0.0.1:6379")
	b, err := jobs.OpenBroker(fmt.Sprintf("redis://127.0.0.1:6379/%d", db), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	if err := b.Redis().FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
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
// breach and warning is handled once, by the timer.
func TestTimersHandleDeadlines(t *testing.T) {
	db := tickettest.Postgres(t)
	b := freshRedis(t, 13)
	svc := tickets.NewService(db, tickets.SystemClock{}, tickets.Config{DefaultCountry: "86",
		SLA: tickets.SLADefaults{FirstResponse: 4 * time.Second, Resolution: time.Hour, WarnAt: []float64{0.25, 0.5}}}, slog.New(slog.DiscardHandler))
	sched := jobs.NewScheduler(b)
	defer sched.Close()
	svc.SetScheduler(sched)
	startWorker(t, b, svc, 0)

	ctx := context.Background()
	for i := range 20 {
		if _, err := svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: fmt.Sprintf("+86138%08d", i), Body: "hi"}); err != nil {
			t.Fatal(err)
		}
	}
	// Each second holding a deadline or a warning of these tickets has one wake-up task,
	// shared by every ticket due in it, and no other task is set.
	var rows []struct{ FirstResponseDueAt, FirstResponseWarnAt, ResolutionDueAt, ResolutionWarnAt time.Time }
	if err := db.NewSelect().Table("tickets").Column("first_response_due_at", "first_response_warn_at", "resolution_due_at", "resolution_warn_at").Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, r := range rows {
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
	if len(want) > 8 {
		t.Errorf("%d wake-ups for 20 tickets opened within a second or two; want them shared", len(want))
	}
	waitUntil(t, 10*time.Second, func() bool { return countKind(t, db, "sla.breached") == 20 })
	time.Sleep(500 * time.Millisecond)
	if n := countKind(t, db, "sla.breached"); n != 20 {
		t.Errorf("%d breaches, want 20", n)
	}
	if n := countKind(t, db, "sla.warning"); n != 40 {
		t.Errorf("%d warnings, want 40 (at 1s and 2s of the 4s for each ticket)", n)
	}
}

// With Redis flushed the timers are gone; the reconciler finds the deadlines in the
// database and handles them through the same sweep.
func TestReconcilerAfterRedisFlush(t *testing.T) {
	db := tickettest.Postgres(t)
	b := freshRedis(t, 12)
	svc := tickets.NewService(db, tickets.SystemClock{}, tickets.Config{DefaultCountry: "86",
		SLA: tickets.SLADefaults{FirstResponse: time.Second, Resolution: time.Hour, WarnAt: []float64{}}}, slog.New(slog.DiscardHandler))
	sched := jobs.NewScheduler(b)
	defer sched.Close()
	svc.SetScheduler(sched)
	ctx := context.Background()
	for i := range 10 {
		if _, err := svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: fmt.Sprintf("+86139%08d", i), Body: "hi"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Redis().FlushDB(ctx).Err(); err != nil { // every timer is lost
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if n := countKind(t, db, "sla.breached"); n != 0 {
		t.Fatalf("%d breaches with no worker running", n)
	}
	startWorker(t, b, svc, 300*time.Millisecond)
	waitUntil(t, 10*time.Second, func() bool { return countKind(t, db, "sla.breached") == 10 })
	time.Sleep(time.Second) // more reconciler rounds change nothing
	if n := countKind(t, db, "sla.breached"); n != 10 {
		t.Errorf("%d breaches, want 10", n)
	}
}
