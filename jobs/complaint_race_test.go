package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/jobs"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// startDeadlineServer runs the deadline handlers in an Asynq server of its own, as a worker
// process does, and reports each task it has finished (or given up on) on done.
func startDeadlineServer(t *testing.T, b *jobs.Broker, svc *tickets.Service, done chan<- error) {
	t.Helper()
	log := tickettest.Logger()
	mux := asynq.NewServeMux()
	mux.Use(func(next asynq.Handler) asynq.Handler {
		return asynq.HandlerFunc(func(ctx context.Context, task *asynq.Task) error {
			err := next.ProcessTask(ctx, task)
			if task.Type() == jobs.TypeDeadline {
				done <- err
			}
			return err
		})
	})
	jobs.NewHandlers(svc, log, nil, nil).Register(mux)
	srv := jobs.NewServer(b, 4, log)
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
}

// A late resolution opens a complaint from the deadline job. Two worker processes' Asynq
// servers sweep that deadline while a member of staff logs a complaint and the customer
// texts 投诉 about the same ticket: the ticket ends with one complaint, one "opened" event,
// one officer notice and one receipt to the customer, and the breach is recorded once.
func TestComplaintOpenersRaceDeadlineWorkers(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		b := freshRedis(t)
		start := time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)
		clock := tickettest.NewClock(start)
		cfg := tickets.Config{DefaultCountry: "86", PasswordCost: 4, Notices: true}
		// Two processes: each its own service over the one database.
		svc := tickets.NewService(db, clock, cfg, tickettest.Logger())
		other := tickets.NewService(db, clock, cfg, tickettest.Logger())
		for _, s := range []*tickets.Service{svc, other} { // as app wires each process
			s.SetComplaints(complaints.New(s))
		}
		done := make(chan error, 16)
		startDeadlineServer(t, b, svc, done)
		startDeadlineServer(t, b, other, done)
		client := asynq.NewClient(b.Opt)
		defer client.Close()

		admin, err := svc.CreateAgent(ctx, tickets.Actor{Kind: "system"}, tickets.NewAgent{Email: "admin@example.com", Role: tickets.RoleAdmin, Password: "correct horse battery"})
		if err != nil {
			t.Fatal(err)
		}
		for _, email := range []string{"officer1@example.com", "officer2@example.com"} {
			if _, err := svc.CreateAgent(ctx, tickets.AgentActor(admin), tickets.NewAgent{Email: email, Role: tickets.RoleComplaintOfficer, Password: "long enough password"}); err != nil {
				t.Fatal(err)
			}
		}
		staff := tickets.AgentActor(admin)

		// One ticket an hour, answered at once: in each round one ticket's resolution
		// (48h; a complaint when missed) has just become late.
		const rounds = 3
		phone := func(i int) string { return fmt.Sprintf("+86137001370%02d", i) }
		tks := make([]*tickets.Ticket, rounds)
		for i := range tks {
			res, err := svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: phone(i), Body: "where is my refund?"})
			if err != nil {
				t.Fatal(err)
			}
			tks[i] = res.Ticket
			if _, err := svc.Reply(ctx, staff, tks[i].Ref(), "looking into it"); err != nil {
				t.Fatal(err)
			}
			clock.Advance(time.Hour)
		}
		for round, tk := range tks {
			due := start.Add(time.Duration(round)*time.Hour + 48*time.Hour)
			clock.Advance(due.Add(time.Minute).Sub(clock.Now()))

			// Both servers take the deadline's wake-up at once (as the timer and a retry,
			// or two timers of one second, would), beside staff and customer.
			payload, _ := json.Marshal(map[string]any{"kind": "wake", "due": due.Unix()})
			openers := make(chan error, 2)
			go func() {
				_, err := complaints.New(svc).Open(ctx, staff, complaints.NewComplaint{TicketRef: tk.Ref(), Summary: "customer called to complain"})
				if errors.Is(err, tickets.ErrConflict) {
					err = nil
				}
				openers <- err
			}()
			go func() {
				_, err := other.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: phone(round),
					Body: "我要投诉", ProviderMessageID: fmt.Sprintf("SM-complain-%d", round)})
				openers <- err
			}()
			for i := range 2 {
				if _, err := client.Enqueue(asynq.NewTask(jobs.TypeDeadline, payload), asynq.Queue("critical"),
					asynq.TaskID(fmt.Sprintf("test:wake:%d:%d", round, i)), asynq.MaxRetry(0)); err != nil {
					t.Fatal(err)
				}
			}
			for range 2 {
				if err := <-openers; err != nil {
					t.Errorf("round %d: %v", round, err)
				}
				if err := <-done; err != nil {
					t.Errorf("round %d: deadline task: %v", round, err)
				}
			}

			count := func(q *bun.SelectQuery) int {
				t.Helper()
				n, err := q.Count(ctx)
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			got := map[string]int{
				"complaints":         count(db.NewSelect().Table("complaints").Where("ticket_id = ?", tk.ID)),
				"complaint.opened":   count(db.NewSelect().Table("events").Where("entity_id = ? AND kind = 'complaint.opened'", tk.ID)),
				"complaint.assigned": count(db.NewSelect().Table("notices").Where("ticket_id = ? AND kind = 'complaint.assigned'", tk.ID)),
				"receipts": count(db.NewSelect().Table("messages").
					Where("ticket_id = ? AND direction = ? AND body LIKE ?", tk.ID, tickets.DirectionOutbound, "%"+tickets.ComplaintRefPrefix+"%")),
				"sla.breached": count(db.NewSelect().Table("events").Where("entity_id = ? AND kind = 'sla.breached'", tk.ID)),
			}
			for what, n := range got {
				if n != 1 {
					t.Errorf("round %d: %d %s, want 1 (%v)", round, n, what, got)
				}
			}
		}
	})
}
