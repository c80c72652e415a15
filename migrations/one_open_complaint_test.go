package migrations_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/migrations"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// A database written before complaints_one_open_idx may hold several open complaints on
// one ticket (openers that raced). The migration still applies: of each ticket's open
// complaints the oldest stays open and the later ones are closed as its duplicates, each
// with a status change on the ticket's timeline; tickets with one open complaint, and
// decided or closed complaints, are left as they were. Afterwards the index refuses new
// duplicates.
func TestOneOpenComplaintMigrationResolvesDuplicates(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		clock := tickettest.NewClock(time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC))
		svc := tickettest.Service(db, clock)
		cps := complaints.New(svc)
		admin, err := svc.CreateAgent(ctx, tickets.Actor{Kind: "system"}, tickets.NewAgent{Email: "admin@example.com", Role: tickets.RoleAdmin, Password: "correct horse battery"})
		if err != nil {
			t.Fatal(err)
		}
		open := func(phone string) *complaints.Complaint {
			t.Helper()
			c, err := cps.Open(ctx, tickets.AgentActor(admin), complaints.NewComplaint{Summary: "slow", Customer: tickets.NewTicket{Phone: phone}})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		dup := open("+8613800000001")   // will have two duplicates
		alone := open("+8613800000002") // one open complaint: untouched
		decided := open("+8613800000003")
		if _, err := cps.Decide(ctx, tickets.AgentActor(admin), decided.Ref(), "Sorry.", "upheld"); err != nil {
			t.Fatal(err)
		}

		// The database as it was before the index, with duplicates written by racing openers.
		if _, err := db.ExecContext(ctx, "DROP INDEX complaints_one_open_idx"); err != nil {
			t.Fatal(err)
		}
		copyOf := func(c *complaints.Complaint, status string) int64 {
			t.Helper()
			var id int64
			if err := db.NewRaw(`INSERT INTO complaints (ticket_id, source, summary, received_at, due_at, deadline_at, warn_at, officer_id, status, created_at, updated_at)
				SELECT ticket_id, source, summary, received_at, due_at, deadline_at, warn_at, officer_id, ?, created_at, updated_at FROM complaints WHERE id = ?
				RETURNING id`, status, c.ID).Scan(ctx, &id); err != nil {
				t.Fatal(err)
			}
			return id
		}
		dup2 := copyOf(dup, "received")
		dup3 := copyOf(dup, "investigating")
		reopened := copyOf(decided, "received") // one open beside a decided one: no duplicate

		if _, err := db.ExecContext(ctx, "DELETE FROM bun_migrations WHERE name = '20261203000003'"); err != nil {
			t.Fatal(err)
		}
		if err := migrations.Up(ctx, db, tickettest.Logger()); err != nil {
			t.Fatalf("migration over duplicates: %v", err)
		}

		cases := []struct {
			name    string
			id      int64
			status  tickets.ComplaintStatus
			outcome string
		}{
			{"the oldest of the duplicates", dup.ID, tickets.ComplaintReceived, ""},
			{"a later duplicate", dup2, tickets.ComplaintClosed, "duplicate"},
			{"a later duplicate, investigating", dup3, tickets.ComplaintClosed, "duplicate"},
			{"a ticket's only complaint", alone.ID, tickets.ComplaintReceived, ""},
			{"a decided complaint", decided.ID, tickets.ComplaintDecided, "upheld"},
			{"an open complaint beside a decided one", reopened, tickets.ComplaintReceived, ""},
		}
		for _, tc := range cases {
			c := new(complaints.Complaint)
			if err := db.NewSelect().Model(c).Where("id = ?", tc.id).Scan(ctx); err != nil {
				t.Fatal(err)
			}
			if c.Status != tc.status || c.Outcome != tc.outcome {
				t.Errorf("%s (%s): %s, outcome %q; want %s, %q", tc.name, c.Ref(), c.Status, c.Outcome, tc.status, tc.outcome)
			}
			if tc.outcome == "duplicate" && (c.ClosedAt == nil || c.DecidedAt == nil || c.WarnAt != nil) {
				t.Errorf("%s (%s): closed %v, decided %v, next warning %v; want closed and decided, no warning", tc.name, c.Ref(), c.ClosedAt, c.DecidedAt, c.WarnAt)
			}
		}

		// The timeline says which complaints were closed, and for which.
		var evs []*tickets.Event
		if err := db.NewSelect().Model(&evs).Where("entity = 'ticket' AND kind = 'complaint.status_changed'").OrderExpr("id").Scan(ctx); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, ev := range evs {
			var d struct{ Complaint, From, To, Reason string }
			if err := json.Unmarshal([]byte(ev.Data), &d); err != nil {
				t.Fatalf("event data %q: %v", ev.Data, err)
			}
			got = append(got, fmt.Sprintf("%s %s: %s→%s (%s)", tickets.FormatRef(ev.EntityID), d.Complaint, d.From, d.To, d.Reason))
		}
		want := []string{
			fmt.Sprintf("%s CP-%06d: received→closed (duplicate of %s, the ticket's open complaint)", tickets.FormatRef(dup.TicketID), dup2, dup.Ref()),
			fmt.Sprintf("%s CP-%06d: investigating→closed (duplicate of %s, the ticket's open complaint)", tickets.FormatRef(dup.TicketID), dup3, dup.Ref()),
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("timeline events\n got %q\nwant %q", got, want)
		}

		// The desk's overdue count does not take the closed duplicates for waiting ones.
		clock.Advance(60 * 24 * time.Hour)
		stats, err := svc.DeadlineStats(ctx, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if n := stats.Overdue[tickets.KindComplaint]; n != 3 {
			t.Errorf("%d complaints overdue, want 3 (the open ones)", n)
		}

		// And the index is back.
		if _, err := db.ExecContext(ctx, "UPDATE complaints SET status = 'received' WHERE id = ?", dup2); err == nil {
			t.Errorf("a second open complaint on %s was accepted after the migration", tickets.FormatRef(dup.TicketID))
		}
	})
}
