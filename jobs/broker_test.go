package jobs_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/hotlinedesk/hotline/jobs"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

func redisURL() string {
	if u := os.Getenv("HOTLINE_TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/15"
}

// Both brokers run a task scheduled for later and expire keys with a TTL, which is what
// Asynq's leases and deterministic task ids rely on.
func TestBrokerRunsScheduledTasks(t *testing.T) {
	for _, name := range []string{"embedded", "redis"} {
		t.Run(name, func(t *testing.T) {
			url := ""
			if name == "redis" {
				tickettest.RequireService(t, "Redis", "127.0.0.1:6379")
				url = redisURL()
			}
			log := slog.New(slog.DiscardHandler)
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
			done := make(chan struct{})
			srv := asynq.NewServer(b.Opt, asynq.Config{Concurrency: 2, Queues: map[string]int{queue: 1}, DelayedTaskCheckInterval: 200 * time.Millisecond, LogLevel: asynq.FatalLevel})
			mux := asynq.NewServeMux()
			mux.HandleFunc("test:ping", func(ctx context.Context, task *asynq.Task) error {
				if ran.Add(1) == 1 {
					close(done)
				}
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
			time.Sleep(300 * time.Millisecond)
			if n := ran.Load(); n != 1 {
				t.Errorf("task ran %d times, want once", n)
			}
			if n, _ := b.Redis().Exists(ctx, key).Result(); n != 0 {
				t.Error("a key with a 500ms TTL still exists after a second")
			}
		})
	}
}
