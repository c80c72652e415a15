package jobs_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/jobs"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/privacy"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// The retention task, delivered by every worker's hourly enqueue (and again after a
// restart), erases what expired once a period; the next period's task finds nothing new.
func TestRetentionTask(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		clock := tickettest.NewClock(tickettest.T0)
		svc := tickettest.Service(db, clock)
		admin, err := svc.CreateAgent(ctx, tickets.Actor{Kind: "system"}, tickets.NewAgent{Email: "admin@example.com", Role: tickets.RoleAdmin, Password: "correct horse battery"})
		if err != nil {
			t.Fatal(err)
		}
		res, err := svc.Intake(ctx, tickettest.SMS("+8613700137000", "my bank card is 6222021234567890123", ""))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SetStatus(ctx, tickets.AgentActor(admin), res.Ticket.Ref(), tickets.StatusResolved, ""); err != nil {
			t.Fatal(err)
		}
		mux := asynq.NewServeMux()
		jobs.NewRetention(privacy.New(svc, privacy.Config{Defaults: privacy.Policy{Messages: 7}}), slog.New(slog.DiscardHandler)).Register(mux)
		task := asynq.NewTask(jobs.TypeRetention, nil)

		clock.Advance(8 * 24 * time.Hour)
		for range 3 { // three workers, or one restarted
			if err := mux.ProcessTask(ctx, task); err != nil {
				t.Fatal(err)
			}
		}
		var runs []struct {
			Messages int64
		}
		if err := db.NewSelect().Table("retention_runs").Column("messages").Scan(ctx, &runs); err != nil {
			t.Fatal(err)
		}
		if len(runs) != 1 || runs[0].Messages == 0 {
			t.Fatalf("runs %+v, want one that erased the message", runs)
		}
		var body string
		if err := db.NewSelect().Table("messages").Column("body").Where("id = ?", res.Message.ID).Scan(ctx, &body); err != nil || body != privacy.Erased {
			t.Errorf("body %q %v", body, err)
		}
		clock.Advance(24 * time.Hour)
		if err := mux.ProcessTask(ctx, task); err != nil {
			t.Fatal(err)
		}
		if n := tickettest.CountEvents(t, db, privacy.KindRetention); n != 1 {
			t.Errorf("%d retention events after two periods, want 1", n)
		}
	})
}
