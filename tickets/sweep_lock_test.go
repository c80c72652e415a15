package tickets_test

import (
	"context"
	"testing"
	"time"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// TestSweepLockLetsRowsReferToTheTicket: while a sweep holds a ticket, a message or a
// complaint can still be written about it (their foreign-key check takes KEY SHARE on the
// ticket). With FOR UPDATE the insert waited for the sweep, and a transaction holding what
// the sweep waits for next deadlocked with it. PostgreSQL only: SQLite has one writer.
func TestSweepLockLetsRowsReferToTheTicket(t *testing.T) {
	db := tickettest.Postgres(t)
	ctx := context.Background()
	d := newDesk(t, db)
	tk := d.ticket(t, "+8613800138123")

	sweep, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sweep.Rollback()
	var held []*tickets.Ticket
	if err := d.svc.SkipLocked(sweep.NewSelect().Model(&held).Where("id = ?", tk.ID)).Scan(ctx); err != nil || len(held) != 1 {
		t.Fatalf("sweep took %d tickets: %v", len(held), err)
	}

	other, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Rollback()
	if _, err := other.ExecContext(ctx, "SET LOCAL lock_timeout = '2s'"); err != nil {
		t.Fatal(err)
	}
	if _, err := other.ExecContext(ctx, `INSERT INTO messages (ticket_id, direction, channel, body, created_at) VALUES (?, 'note', 'phone', 'note', ?)`,
		tk.ID, time.Now()); err != nil {
		t.Errorf("a message about a ticket the sweep holds: %v; want it written at once", err)
	}
}
