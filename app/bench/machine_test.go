package bench

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// A /proc/<pid>/stat line is read past a command name holding spaces and parentheses, and
// its utime and stime (the 14th and 15th fields, in ticks of 10 ms) are summed.
func TestStatCPU(t *testing.T) {
	for _, c := range []struct {
		line, comm string
		cpu        time.Duration
	}{
		{"2228 (postgres) S 2224 2224 2224 0 -1 4194368 180 0 0 0 17 23 0 0 20 0 1 0 1234 226000000 1500 18446744073709551615", "postgres", 400 * time.Millisecond},
		{"77 (a (b) c) R 1 77 77 0 -1 0 0 0 0 0 1000 5 0 0 20 0 1 0 1 1 1 1", "a (b) c", 10050 * time.Millisecond},
	} {
		comm, cpu, err := statCPU([]byte(c.line))
		if err != nil || comm != c.comm || cpu != c.cpu {
			t.Errorf("statCPU(%q) = %q, %v, %v; want %q, %v", c.line, comm, cpu, err, c.comm, c.cpu)
		}
	}
	for _, bad := range []string{"", "12 postgres S 1 2 3", "12 (postgres) S 1 2", "12 (postgres) S 1 2 3 4 5 6 7 8 9 10 x 12 0 0", "12 (postgres) S 1 2 3 4 5 6 7 8 9 10 -4 12 0 0"} {
		if _, _, err := statCPU([]byte(bad)); err == nil {
			t.Errorf("statCPU(%q) read a time from a line that holds none", bad)
		}
	}
}

// fakeProc is a /proc of PostgreSQL processes whose processor times a test moves.
type fakeProc struct {
	t   *testing.T
	dir string
	mu  sync.Mutex
	bs  []backend
}

func (f *fakeProc) set(pid int, comm, kind string, ticks int) {
	f.t.Helper()
	dir := filepath.Join(f.dir, strconv.Itoa(pid))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		f.t.Fatal(err)
	}
	line := strconv.Itoa(pid) + " (" + comm + ") S 1 1 1 0 -1 0 0 0 0 0 " + strconv.Itoa(ticks) + " 0 0 0 20 0 1 0 1 1 1"
	if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(line), 0o644); err != nil {
		f.t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, b := range f.bs {
		if b.PID == pid {
			return
		}
	}
	f.bs = append(f.bs, backend{PID: pid, Kind: kind})
}

// gone ends process pid: pg_stat_activity no longer lists it and /proc has no entry.
func (f *fakeProc) gone(pid int) {
	os.RemoveAll(filepath.Join(f.dir, strconv.Itoa(pid)))
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, b := range f.bs {
		if b.PID == pid {
			f.bs = append(f.bs[:i], f.bs[i+1:]...)
			return
		}
	}
}

func (f *fakeProc) list(context.Context) ([]backend, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]backend(nil), f.bs...), nil
}

// The meter counts what each backend spent since the start: one there throughout by its
// difference, one that connected midway from zero, one that closed midway up to its last
// reading; the WAL writer and its kind apart.
func TestPGMeterCountsBackendsComingAndGoing(t *testing.T) {
	f := &fakeProc{t: t, dir: t.TempDir()}
	f.set(100, "postgres", "client", 500)
	f.set(101, "postgres", "client", 50)
	f.set(7, "postgres", "walwriter", 1000)
	ctx := context.Background()
	m := startPGMeter(ctx, f.list, f.dir)

	f.set(100, "postgres", "client", 530)   // +30 ticks
	f.set(101, "postgres", "client", 70)    // +20 ticks, then closes
	f.set(102, "postgres", "client", 15)    // opened midway: 15 ticks
	f.set(7, "postgres", "walwriter", 1004) // +4 ticks
	time.Sleep(2*sampleEvery + 100*time.Millisecond)
	f.gone(101)
	f.set(100, "postgres", "client", 540) // +10 more

	c, err := m.Stop(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := PGCPU{Local: true, Backends: (40 + 20 + 15) * clockTick, Shared: 4 * clockTick}
	if c != want {
		t.Errorf("meter read %+v, want %+v", c, want)
	}
	if got := c.PerRow(75); got != "10.00 ms" { // 750 ms over 75 rows
		t.Errorf("PerRow(75) = %q, want 10.00 ms", got)
	}
	var row Row
	if row.setPGCPU(c, 75); row.PGCPU != "10.00 ms" || row.PGCPUPer != 10*time.Millisecond {
		t.Errorf("a row records %q, %v; want 10.00 ms both ways", row.PGCPU, row.PGCPUPer)
	}
	if row.setPGCPU(c, 0); row.PGCPU != "" || row.PGCPUPer != 0 {
		t.Errorf("with no rows written a row records %q, %v; want nothing", row.PGCPU, row.PGCPUPer)
	}
}

// PostgreSQL elsewhere: the pids it lists are not in this /proc, or are other programs
// there; the meter reads nothing and says so.
func TestPGMeterRefusesARemoteServer(t *testing.T) {
	f := &fakeProc{t: t, dir: t.TempDir()}
	f.bs = []backend{{PID: 4242, Kind: "client"}}
	f.set(9, "bash", "client", 300) // the same pid on this machine is not PostgreSQL
	m := startPGMeter(context.Background(), f.list, f.dir)
	c, err := m.Stop(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.Local || c.Backends != 0 {
		t.Errorf("meter read %+v from processes that are not PostgreSQL's", c)
	}
	if got := c.PerRow(10); got != "n/a: PostgreSQL is not local" {
		t.Errorf("PerRow = %q, want the n/a note", got)
	}
	if c.per(10) != 0 {
		t.Errorf("per = %v from a server not measured, want 0 (no figure for the ranges)", c.per(10))
	}
}

// A listing that fails is an error, not a zero.
func TestPGMeterReportsAFailedListing(t *testing.T) {
	m := startPGMeter(context.Background(), func(context.Context) ([]backend, error) { return nil, errors.New("connection refused") }, t.TempDir())
	if _, err := m.Stop(context.Background()); err == nil {
		t.Error("a meter that could not list PostgreSQL's processes read a time")
	}
}

// The fdatasync loop writes and syncs blocks in the folder it is given, for a bounded
// count, leaves nothing behind, and fails in a folder it cannot write.
func TestMeasureFdatasync(t *testing.T) {
	dir := t.TempDir()
	per, ops, err := measureFdatasync(dir, 5*time.Second, 20)
	if err != nil {
		t.Fatal(err)
	}
	if ops != 20 || per <= 0 || per > time.Second {
		t.Errorf("measured %d ops at %v each, want 20 ops of a positive time under a second", ops, per)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("the measurement left %d files behind", len(left))
	}
	// A time limit ends it too, after at least one sync.
	if _, ops, err := measureFdatasync(dir, time.Nanosecond, 1_000_000); err != nil || ops < 1 || ops > 1000 {
		t.Errorf("with a 1 ns limit: %d ops, %v; want a few", ops, err)
	}
	if _, _, err := measureFdatasync(filepath.Join(dir, "missing"), time.Second, 5); err == nil {
		t.Error("measured in a folder that does not exist")
	}
	if writable(filepath.Join(dir, "missing")) || !writable(dir) {
		t.Error("writable is wrong about a missing and a present folder")
	}
}

// The setup prints the disk's figure and every setting, and says when the disk was not
// measured.
func TestSetupPrints(t *testing.T) {
	s := &Setup{CPUs: 2, GoVersion: "go1.x", Fsync: 115 * time.Microsecond, FsyncOps: 2000, FsyncDir: "/var/lib/postgresql/15/main",
		FsyncWhere: "PostgreSQL's data directory", Settings: []Setting{{"synchronous_commit", "on"}, {"wal_sync_method", "fdatasync"}}}
	var out bytes.Buffer
	s.Print(&out)
	for _, want := range []string{"2 CPUs", "go1.x", "fdatasync 115 µs", "8696 a second", "PostgreSQL's data directory", "synchronous_commit=on", "wal_sync_method=fdatasync"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("setup printed %q, without %q", out.String(), want)
		}
	}
	s.FsyncErr = errors.New("permission denied")
	out.Reset()
	s.Print(&out)
	if !strings.Contains(out.String(), "not measured") || !strings.Contains(out.String(), "permission denied") {
		t.Errorf("setup printed %q for an unmeasured disk", out.String())
	}
}

// The server's and the baseline's connections carry the names the meter follows, and a
// name already in the URL is replaced.
func TestWithApplicationName(t *testing.T) {
	got := withApplicationName("postgres://postgres@127.0.0.1:5432/b?sslmode=disable&application_name=x", appServer)
	if !strings.Contains(got, "application_name="+appServer) || strings.Contains(got, "application_name=x") || !strings.Contains(got, "sslmode=disable") {
		t.Errorf("withApplicationName = %q", got)
	}
}

// On a real PostgreSQL: the listing finds the backend of a connection by its application
// name, and the meter reads the processor time a statement spent there (when PostgreSQL
// runs on this machine; elsewhere it says it is not local).
func TestPGMeterOnPostgres(t *testing.T) {
	u, err := url.Parse(tickettest.PostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	tickettest.RequireService(t, "PostgreSQL", u.Host)
	app := "hotline-bench-test-" + strconv.Itoa(os.Getpid())
	db, err := tickets.OpenDB(withApplicationName(u.String(), app))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	var pid int
	if err := db.NewRaw("SELECT pg_backend_pid()").Scan(ctx, &pid); err != nil {
		t.Fatal(err)
	}
	bs, err := backendsOf(db, app)(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(bs, backend{PID: pid, Kind: "client"}) {
		t.Fatalf("the listing %v lacks this connection's backend %d", bs, pid)
	}
	if !slices.ContainsFunc(bs, func(b backend) bool { return b.Kind == "walwriter" }) {
		t.Errorf("the listing %v lacks the WAL writer", bs)
	}

	m := StartPGMeter(ctx, db, app)
	var n int64
	if err := db.NewRaw("SELECT COUNT(*) FROM generate_series(1, 3000000) AS g WHERE g % 7 = 0").Scan(ctx, &n); err != nil {
		t.Fatal(err)
	}
	c, err := m.Stop(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, statErr := os.Stat("/proc/" + strconv.Itoa(pid) + "/stat"); statErr != nil {
		if c.Local || c.PerRow(1) != "n/a: PostgreSQL is not local" {
			t.Errorf("PostgreSQL's backend %d is not in this /proc, yet the meter read %+v", pid, c)
		}
		return
	}
	if !c.Local || c.Backends < clockTick {
		t.Errorf("the meter read %+v for a statement counting 3,000,000 rows", c)
	}
}
