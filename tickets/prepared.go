package tickets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/schema"
)

// The queue pages and the token check are the desk's hottest reads. PostgreSQL spends
// more time planning them than running them (a four-table join over a table with many
// indexes), so on PostgreSQL they run as prepared statements, whose generic plan each
// connection keeps after a few executions. bun formats arguments into the SQL text, so
// these queries name their arguments as $n parameters instead (see params) and run
// through statements, which bun accepts as the query's connection.

// maxStatements bounds the cache: a query beyond it runs unprepared. Each statement keeps
// its plan in every connection that ran it (about 150 KB for a queue page), and filters
// (statuses, channel, priority, limit) make a new statement of each combination; a desk
// uses a handful.
const maxStatements = 64

// statements caches prepared statements by SQL text. database/sql prepares each one
// again on every connection it meets, so the cache is per database, not per connection.
type statements struct {
	db  *sql.DB
	max int
	mu  sync.Mutex
	m   map[string]*sql.Stmt
}

func newStatements(db *sql.DB) *statements {
	return &statements{db: db, max: maxStatements, m: map[string]*sql.Stmt{}}
}

// get returns the statement for query, or nil when the cache is full.
func (c *statements) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	st, ok := c.m[query]
	full := len(c.m) >= c.max
	c.mu.Unlock()
	if ok || full {
		return st, nil
	}
	// Prepared unlocked: a slow database holds up this query, not every other.
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if had, ok := c.m[query]; ok {
		st.Close()
		return had, nil
	}
	c.m[query] = st
	return st, nil
}

// params collects a query's arguments. On PostgreSQL each becomes a $n parameter and the
// query runs prepared; elsewhere the value is handed back for bun to format inline, but
// for the reads chapters prepare (Prepared), which on SQLite bind what bun formats
// (sqliteArg, prepared_sqlite.go).
type params struct {
	stmts  *statements // nil: inline
	args   []any
	sqlite *schema.QueryGen
}

func (s *Service) params() *params {
	if s.db.Dialect().Name() != dialect.PG {
		return &params{}
	}
	return &params{stmts: s.stmts}
}

// add returns what to put in the query for v.
func (p *params) add(v any) any {
	if p.stmts == nil {
		return v
	}
	if p.sqlite != nil {
		arg, ok := sqliteArg(*p.sqlite, v)
		if !ok {
			return v
		}
		v = arg
	}
	p.args = append(p.args, v)
	return bun.Safe("$" + strconv.Itoa(len(p.args)))
}

// in returns a condition that column is one of ids.
func (p *params) in(column string, ids []int64) (string, any) {
	if p.stmts == nil || p.sqlite != nil {
		return column + " IN (?)", bun.In(ids)
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	b.WriteByte('}')
	return column + " = ANY(?::bigint[])", p.add(b.String())
}

// conn is the connection to give the query (bun.SelectQuery.Conn); nil keeps the
// service's database.
func (p *params) conn() bun.IConn {
	if p.stmts == nil {
		return nil
	}
	return preparedConn{p}
}

// preparedConn runs the query bun hands it with the collected arguments.
type preparedConn struct{ p *params }

// stmt returns the prepared statement for query, or nil to run it unprepared.
func (c preparedConn) stmt(ctx context.Context, query string, args []any) (*sql.Stmt, error) {
	if len(args) > 0 {
		return nil, errors.New("prepared query: bun passed arguments of its own")
	}
	if trace, ok := ctx.Value(traceKey{}).(func(string, []any)); ok {
		trace(query, c.p.args)
	}
	return c.p.stmts.get(ctx, query)
}

func (c preparedConn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := c.stmt(ctx, query, args)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return c.p.stmts.db.QueryContext(ctx, query, c.p.args...)
	}
	return st.QueryContext(ctx, c.p.args...)
}

func (c preparedConn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := c.stmt(ctx, query, args)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return c.p.stmts.db.ExecContext(ctx, query, c.p.args...)
	}
	return st.ExecContext(ctx, c.p.args...)
}

// QueryRowContext reports a failed prepare through the row: the same query run
// unprepared fails the same way.
func (c preparedConn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st, err := c.stmt(ctx, query, args); err == nil && st != nil {
		return st.QueryRowContext(ctx, c.p.args...)
	}
	return c.p.stmts.db.QueryRowContext(ctx, query, c.p.args...)
}

type traceKey struct{}

// WithStatementTrace returns a context under which each prepared query the service runs is
// also reported with its arguments; the load harness explains them.
func WithStatementTrace(ctx context.Context, fn func(query string, args []any)) context.Context {
	return context.WithValue(ctx, traceKey{}, fn)
}
