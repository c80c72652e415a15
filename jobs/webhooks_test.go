package jobs_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/jobs"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
	"github.com/hotlinedesk/hotline/tickets/webhooks"
)

// The webhooks' tasks on a real Redis: the sweep collects and enqueues a task per due
// delivery, the task makes the attempt; a 500 is retried after its back-off, and a Redis
// flushed between the sweep and the task loses nothing: the next sweep enqueues it again
// from the database. The event is delivered once.
func TestWebhookTasksSurviveARedisFlush(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		b := freshRedis(t)
		clock := tickettest.NewClock(tickettest.T0)
		d := tickettest.NewDesk(t, tickettest.Service(db, clock), clock)
		hooks := webhooks.New(d.Svc, webhooks.Config{AllowPrivate: true})
		var mu sync.Mutex
		var posts []int
		rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			status := 200
			if len(posts) == 0 {
				status = 500
			}
			posts = append(posts, status)
			w.WriteHeader(status)
		}))
		defer rc.Close()
		if _, _, err := hooks.Create(ctx, d.Admin, webhooks.SubscriptionInput{Name: "crm", URL: rc.URL, Events: []string{"ticket.created"}}); err != nil {
			t.Fatal(err)
		}
		tasks := jobs.NewWebhooks(hooks, b, tickettest.Logger())
		defer tasks.Close()
		mux := asynq.NewServeMux()
		tasks.Register(mux)
		insp := asynq.NewInspector(b.Opt)
		defer insp.Close()
		sweep := func() {
			t.Helper()
			if err := mux.ProcessTask(ctx, asynq.NewTask(jobs.TypeWebhookSweep, nil)); err != nil {
				t.Fatal(err)
			}
		}
		queued := func() []*asynq.TaskInfo {
			t.Helper()
			ts, err := insp.ListPendingTasks("default", asynq.PageSize(100))
			if errors.Is(err, asynq.ErrQueueNotFound) { // flushed
				return nil
			}
			if err != nil {
				t.Fatal(err)
			}
			return ts
		}
		work := func() int {
			t.Helper()
			ts := queued()
			for _, ti := range ts {
				if err := mux.ProcessTask(ctx, asynq.NewTask(ti.Type, ti.Payload)); err != nil {
					t.Fatal(err)
				}
				if err := insp.DeleteTask("default", ti.ID); err != nil {
					t.Fatal(err)
				}
			}
			return len(ts)
		}

		d.Ticket(t, "+8613800138000")
		sweep()
		sweep() // twice: one task, not two
		if n := work(); n != 1 {
			t.Fatalf("first sweep queued %d tasks, want 1", n)
		}
		sweep()
		if n := len(queued()); n != 0 {
			t.Fatalf("%d tasks queued before the back-off ended", n)
		}
		clock.Advance(time.Minute)
		sweep()
		if n := len(queued()); n != 1 {
			t.Fatalf("%d tasks queued after the back-off, want 1", n)
		}
		if err := b.Redis().FlushDB(ctx).Err(); err != nil { // the alarm clock is lost
			t.Fatal(err)
		}
		if n := work(); n != 0 {
			t.Fatalf("%d tasks after the flush", n)
		}
		// A worker process (a real Asynq server) and the next sweep: the delivery goes.
		srv := jobs.NewServer(b, 2, tickettest.Logger())
		if err := srv.Start(mux); err != nil {
			t.Fatal(err)
		}
		defer srv.Shutdown()
		sweep()
		for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			ds, err := hooks.Deliveries(ctx, d.Admin, webhooks.DeliveryFilter{State: webhooks.DeliveryDelivered})
			if err != nil {
				t.Fatal(err)
			}
			if len(ds) == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("not delivered by the worker after the flush")
			}
		}
		clock.Advance(time.Hour)
		sweep()
		time.Sleep(500 * time.Millisecond) // room for a wrong second post to arrive
		ds, err := hooks.Deliveries(ctx, d.Admin, webhooks.DeliveryFilter{})
		if err != nil || len(ds) != 1 || ds[0].State != webhooks.DeliveryDelivered || ds[0].Attempts != 2 {
			t.Fatalf("deliveries: %+v %v", ds, err)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(posts) != 2 || posts[0] != 500 || posts[1] != 200 {
			t.Errorf("the receiver's answers: %v, want a 500 then a 200", posts)
		}
		// The purge task removes what ended a week ago.
		clock.Advance(8 * 24 * time.Hour)
		if err := mux.ProcessTask(ctx, asynq.NewTask(jobs.TypeWebhookPurge, nil)); err != nil {
			t.Fatal(err)
		}
		if ds, _ := hooks.Deliveries(ctx, d.Admin, webhooks.DeliveryFilter{}); len(ds) != 0 {
			t.Errorf("%d deliveries a week later", len(ds))
		}
	})
}

// A delivery's task that Asynq archived (it timed out, or its worker died before the
// claim) does not hold the delivery back: once its uniqueness lock lapses the next sweep
// queues the delivery again under a new task, and the event is sent once. (Under a fixed
// task id the archived task's id was kept for months and every later task refused.)
func TestWebhookTaskArchivedDoesNotBlockTheDelivery(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		b := freshRedis(t)
		clock := tickettest.NewClock(tickettest.T0)
		d := tickettest.NewDesk(t, tickettest.Service(db, clock), clock)
		hooks := webhooks.New(d.Svc, webhooks.Config{AllowPrivate: true})
		var mu sync.Mutex
		posts := 0
		rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			posts++
		}))
		defer rc.Close()
		if _, _, err := hooks.Create(ctx, d.Admin, webhooks.SubscriptionInput{Name: "crm", URL: rc.URL, Events: []string{"ticket.created"}}); err != nil {
			t.Fatal(err)
		}
		tasks := jobs.NewWebhooks(hooks, b, tickettest.Logger())
		defer tasks.Close()
		tasks.SetUniqueForTest(time.Second)
		mux := asynq.NewServeMux()
		tasks.Register(mux)
		insp := asynq.NewInspector(b.Opt)
		defer insp.Close()
		sweep := func() {
			t.Helper()
			if err := mux.ProcessTask(ctx, asynq.NewTask(jobs.TypeWebhookSweep, nil)); err != nil {
				t.Fatal(err)
			}
		}
		pending := func() []*asynq.TaskInfo {
			t.Helper()
			ts, err := insp.ListPendingTasks("default", asynq.PageSize(100))
			if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
				t.Fatal(err)
			}
			return ts
		}

		d.Ticket(t, "+8613800138000")
		sweep()
		ts := pending()
		if len(ts) != 1 {
			t.Fatalf("the sweep queued %d tasks, want 1", len(ts))
		}
		// What Asynq does to a task that timed out or whose worker died (MaxRetry 0).
		if err := insp.ArchiveTask("default", ts[0].ID); err != nil {
			t.Fatal(err)
		}
		if ts = pending(); len(ts) != 0 {
			t.Fatalf("%d tasks pending after the archive", len(ts))
		}
		// Later sweeps, as a worker runs them every few seconds: one queues it again.
		for deadline := time.Now().Add(10 * time.Second); len(ts) == 0; time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the sweeps never queued the delivery again after its task was archived")
			}
			sweep()
			ts = pending()
		}
		if len(ts) != 1 {
			t.Fatalf("%d tasks queued again, want 1", len(ts))
		}
		if err := mux.ProcessTask(ctx, asynq.NewTask(ts[0].Type, ts[0].Payload)); err != nil {
			t.Fatal(err)
		}
		ds, err := hooks.Deliveries(ctx, d.Admin, webhooks.DeliveryFilter{})
		if err != nil || len(ds) != 1 || ds[0].State != webhooks.DeliveryDelivered || ds[0].Attempts != 1 {
			t.Fatalf("deliveries: %+v %v", ds, err)
		}
		mu.Lock()
		defer mu.Unlock()
		if posts != 1 {
			t.Errorf("the receiver got %d posts, want 1", posts)
		}
	})
}
