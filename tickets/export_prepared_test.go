package tickets

import (
	"context"

	"github.com/uptrace/bun"
)

// InsertNowForTest writes rows in tx as intake and logged contacts do on SQLite: through
// prepared statements when prepared, else rendered inline as before (tests only).
func InsertNowForTest(ctx context.Context, svc *Service, tx bun.Tx, rows any, prepared bool) error {
	var stmts *statements
	if prepared {
		stmts = svc.writesNow().stmts
	}
	return insertNow(ctx, tx, rows, stmts)
}

// PreparedInsertConn is the connection an INSERT in tx is given on SQLite to run prepared
// (tests only).
func PreparedInsertConn(svc *Service, tx bun.Tx) bun.IConn { return sqliteInsertConn(tx, svc.stmts) }

// PreparedStatements is how many statements svc keeps prepared (tests only).
func PreparedStatements(svc *Service) int {
	svc.stmts.mu.Lock()
	defer svc.stmts.mu.Unlock()
	return len(svc.stmts.m)
}

// PGBindForTest splits an INSERT bun rendered for PostgreSQL into its shape and literals,
// as the plain path's writes and a logged contact's do (tests only).
func PGBindForTest(query string) (shape string, args []string, ok bool) {
	b, ok := pgBind(nil, query, &args)
	return string(b), args, ok
}
