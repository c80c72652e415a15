package tickets

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/driver/pgdriver"
	"github.com/uptrace/bun/driver/sqliteshim"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// OpenDB opens the database a URL names: postgres://… for PostgreSQL, or sqlite:PATH (or a
// bare file path) for an embedded SQLite file.
func OpenDB(dsn string) (*bun.DB, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		// Only the queue reads run prepared (see prepared.go), and their generic plans are
		// the ones the load harness explains. Left to choose, PostgreSQL keeps planning a
		// queue's next page afresh each time: its custom plan looks cheaper on paper.
		q := u.Query()
		if !q.Has("plan_cache_mode") {
			q.Set("plan_cache_mode", "force_generic_plan")
			u.RawQuery = q.Encode()
		}
		sqldb := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(u.String())))
		sqldb.SetMaxOpenConns(32)
		sqldb.SetMaxIdleConns(32)
		sqldb.SetConnMaxIdleTime(5 * time.Minute)
		return bun.NewDB(sqldb, pgdialect.New()), nil
	}
	path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite://"), "sqlite:")
	if path == "" {
		return nil, errors.New("open database: empty SQLite path")
	}
	// WAL lets readers run beside the writer; immediate transactions take the write lock at
	// BEGIN, so two writers queue on busy_timeout instead of failing with SQLITE_BUSY.
	// synchronous=FULL syncs the WAL at every commit: with NORMAL a power loss or OS crash
	// can roll back the last commits, messages a webhook or SMTP already acknowledged.
	// Intake's group commit spreads that sync over the messages arriving together.
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	sqldb, err := sql.Open(sqliteshim.ShimName, "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	sqldb.SetMaxOpenConns(8)
	// Idle connections are kept (database/sql keeps two): each holds the schema it read and
	// the statements it prepared, which a new connection reads and prepares again.
	sqldb.SetMaxIdleConns(8)
	return bun.NewDB(sqldb, sqlitedialect.New()), nil
}

// writerGate lets one of the process's write transactions at a time into an SQLite file,
// the others waiting in line, in the order they came. SQLite has one writer at a time
// anyway: without the line, a transaction finding the file locked waits in SQLite's busy
// handler, which sleeps and looks again (1, 2, 5, 10 … 100 ms apart) and so misses the
// moments the lock is free, while later arrivals take it: under 16 concurrent API
// creates the slowest waited 0.8 s while the median took 40 ms. The line is taken before
// a connection is, so a waiting transaction holds none that reads need. Writers the line
// does not cover (other processes, single statements outside a transaction) still wait
// in the busy handler. A nil gate (PostgreSQL, whose writers lock only the rows they
// touch) lets everyone through.
type writerGate chan struct{}

// newWriterGate is the gate for db: a line on SQLite, none on PostgreSQL.
func newWriterGate(db *bun.DB) writerGate {
	if db.Dialect().Name() == dialect.PG {
		return nil
	}
	return make(writerGate, 1)
}

// run waits for the gate (or for ctx to end) and runs fn through it.
func (g writerGate) run(ctx context.Context, fn func() error) error {
	if g == nil {
		return fn()
	}
	select {
	case g <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("wait for the database's writer: %w", ctx.Err())
	}
	defer func() { <-g }()
	return fn()
}

// maxTxAttempts bounds retries of a transaction that lost a race (a unique key taken by a
// concurrent writer, a serialization failure, a busy SQLite file).
const maxTxAttempts = 5

// MaxTxAttempts is maxTxAttempts for the chapters: a chapter that runs a change again
// when a guard of its own finds it lost a race (a cursor moved first by another run)
// bounds its tries with it, as InTx does.
const MaxTxAttempts = maxTxAttempts

// MaxTxAge is the longest a write transaction stays open: inTx ends every attempt within it
// (database/sql rolls back, and refuses to commit, a transaction whose context has ended),
// and intake batches end within batchTimeout, less than it. The Slack announcements
// (tickets/outbox) rely on it.
const MaxTxAge = 2 * time.Minute

// inTx runs fn in a transaction and retries it from the start when it lost a race with a
// concurrent writer. fn must be safe to run again: everything it did was rolled back.
func (s *Service) inTx(ctx context.Context, fn func(tx bun.Tx) error) error {
	return retryTx(ctx, func(txCtx context.Context) error {
		return s.writers.run(txCtx, func() error {
			return s.db.RunInTx(txCtx, nil, func(ctx context.Context, tx bun.Tx) error { return fn(tx) })
		})
	})
}

// inConnTx is inTx for a transaction begun and ended by hand on one PostgreSQL connection,
// so that BEGIN and COMMIT share round trips with the statements next to them
// (intake_plain.go tells how): fn sends BEGIN in its first query text and COMMIT in its
// last, and returns nil only when COMMIT did. Whatever error fn returns, its transaction
// is rolled back, and tried again as inTx's are.
func (s *Service) inConnTx(ctx context.Context, fn func(ctx context.Context, conn bun.Conn) error) error {
	return retryTx(ctx, func(txCtx context.Context) error { return s.connTx(txCtx, fn) })
}

// connTx runs fn, a transaction begun and ended by hand, on a connection of its own, once:
// whatever error fn returns, its transaction is rolled back. A panic in fn closes the
// connection (and so ends its transaction) before it goes on: recovered higher up (the
// batcher's runSafely, fiber's recover), it would otherwise hand the pool a connection
// inside a transaction, holding its locks for whoever takes it next.
func (s *Service) connTx(ctx context.Context, fn func(ctx context.Context, conn bun.Conn) error) (err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("take a connection: %w", err)
	}
	defer conn.Close()
	defer func() {
		if p := recover(); p != nil {
			dropConn(conn)
			panic(p)
		}
	}()
	if err := fn(ctx, conn); err != nil {
		rollback(conn) // outside a transaction (fn failed before BEGIN), a warning only
		return err
	}
	return nil
}

// dropConn closes conn rather than hand it back to the pool: the transaction on it, if any,
// ends with it (PostgreSQL rolls back a session's open transaction when the session ends).
func dropConn(conn bun.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
}

// retryTx runs attempt, a transaction, again from the start while it loses races with
// concurrent writers, at most maxTxAttempts times.
func retryTx(ctx context.Context, attempt func(txCtx context.Context) error) error {
	var err error
	for n := 1; n <= maxTxAttempts; n++ {
		// No attempt outlives MaxTxAge (database/sql rolls back, and will not commit, a
		// transaction whose context ended): the Slack announcements count on it.
		txCtx, cancel := context.WithTimeout(ctx, MaxTxAge)
		err = attempt(txCtx)
		cancel()
		if err == nil || !retryable(err) || ctx.Err() != nil {
			return err
		}
		time.Sleep(time.Duration(n*n) * time.Millisecond)
	}
	return fmt.Errorf("gave up after %d attempts: %w", maxTxAttempts, err)
}

// retryable reports whether err means a concurrent transaction won and trying again will
// see its result.
func retryable(err error) bool {
	var pgErr pgdriver.Error
	if errors.As(err, &pgErr) {
		switch pgErr.Field('C') {
		case "23505", "40001", "40P01": // unique_violation, serialization_failure, deadlock_detected
			return true
		}
	}
	var sqliteErr *sqlite.Error
	if errors.As(err, &sqliteErr) {
		switch sqliteErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return true
		}
		return sqliteErr.Code()&0xff == sqlite3.SQLITE_BUSY
	}
	return false
}

// isUniqueViolation reports whether err is a unique-key conflict.
func isUniqueViolation(err error) bool {
	var pgErr pgdriver.Error
	if errors.As(err, &pgErr) {
		return pgErr.Field('C') == "23505"
	}
	var sqliteErr *sqlite.Error
	if errors.As(err, &sqliteErr) {
		return sqliteErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
	}
	return false
}

// Ping checks that the database answers.
func (s *Service) Ping(ctx context.Context) error {
	return s.db.PingContext(ctx)
}

// DB is the database the service works on, for wiring that needs it (migrations, jobs).
func (s *Service) DB() *bun.DB { return s.db }

// IsUniqueViolation says whether err is a unique constraint refusing a row, on either
// database, for chapters that turn it into a conflict.
func IsUniqueViolation(err error) bool { return isUniqueViolation(err) }
