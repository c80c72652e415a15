package tickettest

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"
)

// What a benchmark measures beside time: round trips to PostgreSQL, the CPU its backends
// and this process spent.

// CountedPostgres is Postgres seen through a counter of round trips: pgdriver
// writes each query (BEGIN and COMMIT included, or a prepared statement's bind and
// execute) to the server in one write and waits for its answer, so the writes on the
// connections are the round trips. ports gets the local port of each connection opened,
// by which pg_stat_activity names its backend (see BackendCPU).
func CountedPostgres(t testing.TB) (*bun.DB, *atomic.Int64, *sync.Map) {
	t.Helper()
	writes := new(atomic.Int64)
	ports := new(sync.Map)
	db := PostgresWrapped(t, func(conn net.Conn) net.Conn {
		if a, ok := conn.LocalAddr().(*net.TCPAddr); ok {
			ports.Store(a.Port, true)
		}
		return countingConn{conn, writes}
	})
	return db, writes, ports
}

// PostgresWrapped is Postgres with each connection it opens seen through wrap, for tests
// that watch or change what goes over the wire (round trips, a query text arriving).
func PostgresWrapped(t testing.TB, wrap func(net.Conn) net.Conn) *bun.DB {
	t.Helper()
	migrated := Postgres(t)
	var schema string
	if err := migrated.QueryRowContext(context.Background(), "SELECT current_schema()").Scan(&schema); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(PostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	q.Set("plan_cache_mode", "force_generic_plan") // as tickets.OpenDB
	u.RawQuery = q.Encode()
	var d net.Dialer
	sqldb := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(u.String()),
		func(c *pgdriver.Config) {
			c.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
				conn, err := d.DialContext(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				return wrap(conn), nil
			}
		}))
	sqldb.SetMaxOpenConns(32)
	sqldb.SetMaxIdleConns(32)
	db := bun.NewDB(sqldb, pgdialect.New())
	t.Cleanup(func() { db.Close() })
	return db
}

// BackendCPU is the CPU time the PostgreSQL backends serving db's connections (their
// client ports in ports) have used so far, read from /proc/<pid>/stat (utime and stime,
// in clock ticks of 10 ms): the server is local. It reads through admin, a connection
// of its own, and leaves it out.
func BackendCPU(t testing.TB, admin *bun.DB, ports *sync.Map) time.Duration {
	t.Helper()
	var list []int
	ports.Range(func(k, _ any) bool { list = append(list, k.(int)); return true })
	var pids []int
	if err := admin.NewRaw("SELECT pid FROM pg_stat_activity WHERE client_port = ANY(?::int[])", pgdialect.Array(list)).
		Scan(context.Background(), &pids); err != nil {
		t.Fatal(err)
	}
	var total time.Duration
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue // the backend ended
		}
		// The fields after the command's closing parenthesis: utime and stime are the
		// 12th and 13th of them.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		utime, _ := strconv.ParseInt(f[11], 10, 64)
		stime, _ := strconv.ParseInt(f[12], 10, 64)
		total += time.Duration(utime+stime) * 10 * time.Millisecond
	}
	return total
}

type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(b)
}

// RoundTrips counts the round trips fn makes, its connections already open.
func RoundTrips(t testing.TB, db *bun.DB, writes *atomic.Int64, fn func()) int64 {
	t.Helper()
	if err := db.PingContext(context.Background()); err != nil { // a connection opened, its startup not counted
		t.Fatal(err)
	}
	before := writes.Load()
	fn()
	return writes.Load() - before
}

// ProcessCPU is the CPU time this process has used so far.
func ProcessCPU(t testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
