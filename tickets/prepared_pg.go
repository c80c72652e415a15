package tickets

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"
)

// pgStatement is a statement PREPAREd by name on each PostgreSQL connection that runs it,
// so that PostgreSQL plans it once a connection, not once a run. It is run by EXECUTE in
// a query text of several statements (BEGIN first: intake_plain.go, ticket_open.go), which
// database/sql's prepared statements cannot share a round trip with. prepared.go is the
// other kind: database/sql statements, for reads that run alone.
type pgStatement struct {
	name    string // prefix and a hash of the text: a text changed (by config) is another statement
	prepare string // PREPARE name (params) AS text
}

// newPGStatement names text, whose parameters ($1, $2, …) have the types params lists
// ("text[], bigint").
func newPGStatement(prefix, params string, text []byte) pgStatement {
	h := fnv.New64a()
	h.Write(text)
	name := fmt.Sprintf("%s_%016x", prefix, h.Sum64())
	return pgStatement{name: name, prepare: "PREPARE " + name + " (" + params + ") AS " + string(text)}
}

// run runs exec, which sends a query text that EXECUTEs st on conn. When conn has not
// prepared st yet (invalid_sql_statement_name), or prepared it before a migration changed
// the tables ("cached plan must not change result type"), exec failed and the transaction
// its text began is rolled back; st is prepared afresh, outside any transaction, once a
// connection, and exec runs again.
func (st pgStatement) run(ctx context.Context, conn bun.Conn, exec func() error) error {
	err := exec()
	var pgErr pgdriver.Error
	if !errors.As(err, &pgErr) || (pgErr.Field('C') != "26000" && pgErr.Field('C') != "0A000") {
		return err
	}
	rollback(conn)
	if _, err := conn.Conn.ExecContext(ctx, "DEALLOCATE "+st.name); err != nil && pgErr.Field('C') == "0A000" {
		return fmt.Errorf("deallocate %s: %w", st.name, err)
	}
	if _, err := conn.Conn.ExecContext(ctx, st.prepare); err != nil {
		return fmt.Errorf("prepare %s: %w", st.name, err)
	}
	return exec()
}
