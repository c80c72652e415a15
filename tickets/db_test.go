package tickets_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
)

// Every connection of the embedded SQLite pool commits durably: an acknowledged message
// (a webhook's 200, an SMTP 250) survives a power loss or an OS crash, which WAL with
// synchronous=NORMAL does not promise for the last commits. The settings hold on each
// pooled connection, not only the first, so the test holds several open at once.
func TestSQLiteConnectionsAreDurable(t *testing.T) {
	db, err := tickets.OpenDB("sqlite:" + filepath.Join(t.TempDir(), "hotline.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()

	const conns = 8 // the pool's limit: every connection it will ever hand out
	held := make([]bun.Conn, 0, conns)
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for range conns {
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}

	for _, pragma := range []struct {
		name, want, why string
	}{
		{"synchronous", "2", "FULL: a commit is on disk before it is acknowledged"},
		{"journal_mode", "wal", "readers run beside the writer"},
		{"foreign_keys", "1", "references are enforced"},
		{"busy_timeout", "10000", "writers queue instead of failing"},
	} {
		t.Run(pragma.name, func(t *testing.T) {
			for i, c := range held {
				var got string
				if err := c.QueryRowContext(ctx, fmt.Sprintf("PRAGMA %s", pragma.name)).Scan(&got); err != nil {
					t.Fatalf("connection %d: PRAGMA %s: %v", i, pragma.name, err)
				}
				if got != pragma.want {
					t.Errorf("connection %d: PRAGMA %s = %s, want %s (%s)", i, pragma.name, got, pragma.want, pragma.why)
				}
			}
		})
	}
}
