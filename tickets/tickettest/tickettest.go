// Package tickettest gives tests real databases: an SQLite file and a fresh PostgreSQL
// schema, both migrated, plus a clock tests can move.
package tickettest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/migrations"
	"github.com/hotlinedesk/hotline/tickets"
)

// PostgresURL is the server tests use: HOTLINE_TEST_DATABASE_URL, or the local one.
func PostgresURL() string {
	if u := os.Getenv("HOTLINE_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// RequireService skips the test when a server the test needs is unreachable, except under
// CI=true, where a missing server fails the run: CI must never pass by skipping.
func RequireService(t testing.TB, name, addr string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err == nil {
		conn.Close()
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s at %s is unreachable under CI=true: %v", name, addr, err)
	}
	t.Skipf("%s at %s is unreachable (%v); start it to run this test", name, addr, err)
}

// SQLite opens a migrated database in a fresh file under the test's temporary folder.
func SQLite(t testing.TB) *bun.DB {
	t.Helper()
	db, err := tickets.OpenDB("sqlite:" + filepath.Join(t.TempDir(), "hotline.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := migrations.Up(context.Background(), db, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("migrate sqlite: %v", err)
	}
	return db
}

// Postgres opens a migrated database in a new schema of the test server, dropped when the
// test ends, so tests and parallel packages never see each other's rows.
func Postgres(t testing.TB) *bun.DB {
	t.Helper()
	u, err := url.Parse(PostgresURL())
	if err != nil {
		t.Fatalf("HOTLINE_TEST_DATABASE_URL: %v", err)
	}
	RequireService(t, "PostgreSQL", u.Host)

	admin, err := tickets.OpenDB(u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	schema := "hltest_" + randomHex(6)
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		admin, err := tickets.OpenDB(u.String())
		if err == nil {
			admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE") //nolint:errcheck // best effort
			admin.Close()
		}
	})

	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := tickets.OpenDB(u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := migrations.Up(ctx, db, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("migrate postgres: %v", err)
	}
	return db
}

// EachDB runs fn as a subtest on SQLite and on PostgreSQL.
func EachDB(t *testing.T, fn func(t *testing.T, db *bun.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) //nolint:errcheck // never fails
	return hex.EncodeToString(b)
}

// Clock is a clock that moves only when told to.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock starts a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Service builds a tickets.Service over db with a test clock and a cheap password hash.
func Service(db *bun.DB, clock tickets.Clock) *tickets.Service {
	return tickets.NewService(db, clock, tickets.Config{DefaultCountry: "86", PasswordCost: 4}, Logger())
}
