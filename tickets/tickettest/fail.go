package tickettest

import (
	"context"
	"fmt"
	"strings"
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
	return failWrites(t, db, "UPDATE", table, when)
}

// FailInserts is FailUpdates for the rows inserted into table.
func FailInserts(t testing.TB, db *bun.DB, table, when string) (lift func()) {
	t.Helper()
	return failWrites(t, db, "INSERT", table, when)
}

// failWrites installs the trigger that refuses op (UPDATE or INSERT) on table when.
func failWrites(t testing.TB, db *bun.DB, op, table, when string) (lift func()) {
	t.Helper()
	ctx := context.Background()
	name := "fail_" + strings.ToLower(op)
	stmts := []string{fmt.Sprintf(`CREATE TRIGGER %s BEFORE %s ON %s FOR EACH ROW
		WHEN %s BEGIN SELECT RAISE(ABORT, 'injected failure'); END`, name, op, table, when)}
	drop := "DROP TRIGGER " + name
	if db.Dialect().Name() == dialect.PG {
		stmts = []string{
			fmt.Sprintf(`CREATE OR REPLACE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$`, name),
			fmt.Sprintf(`CREATE TRIGGER %s BEFORE %s ON %s FOR EACH ROW
				WHEN (%s) EXECUTE FUNCTION %s()`, name, op, table, when, name),
		}
		drop = "DROP TRIGGER " + name + " ON " + table
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
