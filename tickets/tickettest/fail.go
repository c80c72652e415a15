package tickettest

import (
	"context"
	"fmt"
	"testing"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// FailUpdates makes the database refuse every update of table whose new row matches when
// (a condition on NEW.<column>, written alike for PostgreSQL and SQLite), as a row that
// cannot be handled would, until the returned function lifts it. It is a trigger, so the
// code under test runs unchanged.
func FailUpdates(t testing.TB, db *bun.DB, table, when string) (lift func()) {
	t.Helper()
	ctx := context.Background()
	stmts := []string{fmt.Sprintf(`CREATE TRIGGER fail_update BEFORE UPDATE ON %s FOR EACH ROW
		WHEN %s BEGIN SELECT RAISE(ABORT, 'injected failure'); END`, table, when)}
	drop := "DROP TRIGGER fail_update"
	if db.Dialect().Name() == dialect.PG {
		stmts = []string{
			`CREATE FUNCTION fail_update() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$`,
			fmt.Sprintf(`CREATE TRIGGER fail_update BEFORE UPDATE ON %s FOR EACH ROW
				WHEN (%s) EXECUTE FUNCTION fail_update()`, table, when),
		}
		drop = "DROP TRIGGER fail_update ON " + table
	}
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	return func() {
		t.Helper()
		if _, err := db.ExecContext(ctx, drop); err != nil {
			t.Fatal(err)
		}
	}
}
