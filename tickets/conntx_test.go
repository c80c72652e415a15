package tickets_test

import (
	"context"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// A panic inside a transaction begun by hand (recovered higher up, as the intake batcher
// and the HTTP server do) does not hand the pool a connection still inside it, holding its
// locks: the next statement on the pool's only connection runs outside any transaction.
func TestInConnTxPanicEndsTransaction(t *testing.T) {
	db := tickettest.Postgres(t)
	ctx := context.Background()
	svc := newDesk(t, db).svc
	db.SetMaxOpenConns(1)
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Fatalf("recovered %v, want the panic of fn", p)
			}
		}()
		_ = tickets.InConnTx(ctx, svc, func(ctx context.Context, conn bun.Conn) error {
			if _, err := conn.ExecContext(ctx, "BEGIN; SELECT 1"); err != nil {
				t.Fatal(err)
			}
			panic("boom")
		})
	}()
	_, err := db.ExecContext(ctx, "SAVEPOINT x")
	if err == nil {
		_, _ = db.ExecContext(ctx, "ROLLBACK")
		t.Fatal("SAVEPOINT ran: the panicking transaction's connection went back to the pool inside it")
	}
	if !strings.Contains(err.Error(), "transaction block") {
		t.Fatalf("SAVEPOINT failed for another reason than no transaction: %v", err)
	}
}
