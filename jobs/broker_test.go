package jobs_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/hotlinedesk/hotline/jobs"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// Both brokers run a task scheduled for later and expire keys with a TTL, which is what
// Asynq's leases and deterministic task ids rely on.
func TestBrokerRunsScheduledTasks(t *testing.T) {
	for _, name := range []string{"embedded", "redis"} {
		t.Run(name, func(t *testing.T) {
			url := ""
			if name == "redis" {
				url = tickettest.RedisURL(t, "jobs")
			}
			log := tickettest.Logger()
			b, err := jobs.OpenBroker(url, log)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			ctx := context.Background()
			if err := b.Ping(ctx); err != nil {
				t.Fatal(err)
			}
			if b.Embedded() != (url == "") {
				t.Errorf("Embedded() = %v", b.Embedded())
			}

			key := "hotline:test:ttl:" + strings.ReplaceAll(t.Name(), "/", ":")
			if err := b.Redis().Set(ctx, key, "1", 500*time.Millisecond).Err(); err != nil {
				t.Fatal(err)
			}

			queue := "test_" + strings.ReplaceAll(t.Name(), "/", "_")
			var ran atomic.Int32
			done, drained := make(chan struct{}), make(chan struct{})
			// One task at a time, in queue order: once a task queued after the ping has run,
			// any second copy of the ping (queued with it) has run too.
			srv := asynq.NewServer(b.Opt, asynq.Config{Concurrency: 1, Queues: map[string]int{queue: 1}, DelayedTaskCheckInterval: 200 * time.Millisecond, LogLevel: asynq.FatalLevel})
			mux := asynq.NewServeMux()
			mux.HandleFunc("test:ping", func(ctx context.Context, task *asynq.Task) error {
				if ran.Add(1) == 1 {
					close(done)
				}
				return nil
			})
			mux.HandleFunc("test:sentinel", func(ctx context.Context, task *asynq.Task) error {
				close(drained)
				return nil
			})
			if err := srv.Start(mux); err != nil {
				t.Fatal(err)
			}
			defer srv.Shutdown()

			client := asynq.NewClient(b.Opt)
			defer client.Close()
			id := "ping:" + queue + ":" + time.Now().Format("150405.000000")
			// Asynq keeps schedule times in whole seconds.
			at := time.Now().Add(2 * time.Second).Truncate(time.Second)
			if _, err := client.Enqueue(asynq.NewTask("test:ping", nil), asynq.Queue(queue), asynq.ProcessAt(at), asynq.TaskID(id)); err != nil {
				t.Fatal(err)
			}
			// A deterministic id makes scheduling twice harmless.
			if _, err := client.Enqueue(asynq.NewTask("test:ping", nil), asynq.Queue(queue), asynq.ProcessAt(at), asynq.TaskID(id)); !errors.Is(err, asynq.ErrTaskIDConflict) {
				t.Errorf("second enqueue with the same id: %v, want ErrTaskIDConflict", err)
			}
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("scheduled task never ran")
			}
			if early := at.Sub(time.Now()); early > 0 {
				t.Errorf("task ran %v before its time", early)
			}
			if _, err := client.Enqueue(asynq.NewTask("test:sentinel", nil), asynq.Queue(queue)); err != nil {
				t.Fatal(err)
			}
			select {
			case <-drained:
			case <-time.After(10 * time.Second):
				t.Fatal("the task queued after the ping never ran")
			}
			if n := ran.Load(); n != 1 {
				t.Errorf("task ran %d times, want once", n)
			}
			if n, _ := b.Redis().Exists(ctx, key).Result(); n != 0 {
				t.Error("a key with a 500ms TTL still exists after a second")
			}
		})
	}
}
