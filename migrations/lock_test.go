package migrations_test

import (
	"context"
	"database/sql"
	"net/url"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/hotlinedesk/hotline/migrations"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// migrationLockKey is migrations' advisory lock; the test fails (Up does not wait) if
// the two drift apart.
const migrationLockKey = 0x686f746c696e65

// TestMigrationWaitsPastTheReadTimeout: a process starting while another migrates waits
// for the lock however long the migration takes, rather than failing when the wait
// outlasts the driver's read timeout (seen on a loaded machine: "migration lock: i/o
// timeout" after 10 s).
func TestMigrationWaitsPastTheReadTimeout(t *testing.T) {
	db := tickettest.Postgres(t) // migrated: Up has nothing to do but take the lock
	ctx := context.Background()
	var schema string
	if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(tickettest.PostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	const readTimeout, held = 200 * time.Millisecond, time.Second
	impatient := bun.NewDB(sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(u.String()), pgdriver.WithReadTimeout(readTimeout))), pgdialect.New())
	defer impatient.Close()

	holder, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if _, err := holder.ExecContext(ctx, "SELECT pg_advisory_lock(?)", migrationLockKey); err != nil {
		t.Fatal(err)
	}
	released := make(chan struct{})
	go func() {
		defer close(released)
		time.Sleep(held) // the other process's long migration, then its unlock
		//nolint:errcheck // checked by Up finishing
		holder.ExecContext(context.Background(), "SELECT pg_advisory_unlock(?)", migrationLockKey)
	}()

	start := time.Now()
	err = migrations.Up(ctx, impatient, nil)
	<-released
	if err != nil {
		t.Fatalf("Up while another process holds the lock for %s (read timeout %s): %v", held, readTimeout, err)
	}
	if waited := time.Since(start); waited < held-100*time.Millisecond {
		t.Fatalf("Up finished after %s without waiting for the lock held for %s", waited, held)
	}
}
