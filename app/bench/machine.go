package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"
)

// What decides the baseline, and what PostgreSQL spends per row. A bare INSERT's rate is
// mostly the disk's: a commit waits for one fdatasync of the WAL (with the settings below),
// so a ratio to the baseline reads differently on a disk that syncs in 100 µs and on one
// that takes 5 ms. The harness measures that cost where PostgreSQL writes, and prints the
// server's settings that decide it, so that a table can be read against its machine. It
// also reads, from /proc, the processor time PostgreSQL's own processes spend serving
// Hotline and the baseline (pg_stat_statements needs a preload; /proc needs nothing), when
// PostgreSQL runs on this machine.

// Setup is the machine under the figures: processors, Go, the disk's durable-write cost
// and PostgreSQL's settings.
type Setup struct {
	CPUs      int
	GoVersion string
	// Fsync is one 8 KB write and fdatasync of it, as a WAL commit does, averaged over Ops
	// in FsyncDir (FsyncWhere says which folder that is and why).
	Fsync      time.Duration
	FsyncOps   int
	FsyncDir   string
	FsyncWhere string
	FsyncErr   error
	Settings   []Setting // PostgreSQL's, in pgSettings' order
}

// Setting is one of PostgreSQL's settings as SHOW prints it.
type Setting struct{ Name, Value string }

// pgSettings decide what a commit costs: whether it waits for the WAL on disk, how the WAL
// is synced, whether commits wait to share a sync, and how much the server caches.
var pgSettings = []string{"server_version", "synchronous_commit", "fsync", "wal_sync_method", "full_page_writes",
	"commit_delay", "commit_siblings", "shared_buffers", "wal_buffers", "max_connections"}

// describeSetup measures the disk and reads PostgreSQL's settings. Failing to measure the
// disk is noted, not fatal: the figures stand without it.
func describeSetup(ctx context.Context, db bun.IDB) (*Setup, error) {
	s := &Setup{CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
	for _, name := range pgSettings {
		var v string
		if err := db.NewRaw("SELECT current_setting(?)", name).Scan(ctx, &v); err != nil {
			return nil, fmt.Errorf("read PostgreSQL's %s: %w", name, err)
		}
		s.Settings = append(s.Settings, Setting{name, v})
	}
	s.FsyncDir, s.FsyncWhere = fsyncDir(ctx, db)
	s.Fsync, s.FsyncOps, s.FsyncErr = measureFdatasync(s.FsyncDir, 2*time.Second, 2000)
	return s, nil
}

// fsyncDir is where the disk is measured: PostgreSQL's data directory when this process
// can write there (then the WAL's disk is the one measured), else the temporary folder.
func fsyncDir(ctx context.Context, db bun.IDB) (dir, where string) {
	var data string
	err := db.NewRaw("SELECT current_setting('data_directory')").Scan(ctx, &data)
	switch {
	case err != nil:
		where = "the temporary folder: PostgreSQL does not show its data directory to this user"
	case !writable(data):
		where = fmt.Sprintf("the temporary folder: PostgreSQL's data directory %s is not writable here (PostgreSQL elsewhere, or another user's)", data)
	default:
		// The WAL may live on a disk of its own, linked from pg_wal.
		if wal, err := filepath.EvalSymlinks(filepath.Join(data, "pg_wal")); err == nil && writable(wal) {
			return wal, "PostgreSQL's WAL directory"
		}
		return data, "PostgreSQL's data directory"
	}
	return os.TempDir(), where
}

func writable(dir string) bool {
	if dir == "" {
		return false
	}
	f, err := os.CreateTemp(dir, ".hotline-bench-probe-")
	if err != nil {
		return false
	}
	f.Close()
	os.Remove(f.Name())
	return true
}

// measureFdatasync writes 8 KB blocks in dir and syncs each with fdatasync, as
// pg_test_fsync does for wal_sync_method=fdatasync, for up to limit or maxOps, and returns
// the mean time of a write and its sync. The file is removed afterwards.
func measureFdatasync(dir string, limit time.Duration, maxOps int) (time.Duration, int, error) {
	f, err := os.CreateTemp(dir, ".hotline-bench-fsync-")
	if err != nil {
		return 0, 0, fmt.Errorf("create a file in %s: %w", dir, err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	const block, blocks = 8 << 10, 16
	buf := make([]byte, block)
	for i := range buf {
		buf[i] = byte(i)
	}
	// The file's blocks are allocated and synced first: a WAL segment is too (zero-filled
	// or recycled), so each measured sync writes data, not the file's size.
	for i := range blocks {
		if _, err := f.WriteAt(buf, int64(i*block)); err != nil {
			return 0, 0, fmt.Errorf("write %s: %w", f.Name(), err)
		}
	}
	if err := f.Sync(); err != nil {
		return 0, 0, fmt.Errorf("sync %s: %w", f.Name(), err)
	}
	start := time.Now()
	ops := 0
	for ops < maxOps && (ops == 0 || time.Since(start) < limit) {
		buf[0] = byte(ops)
		if _, err := f.WriteAt(buf, int64(ops%blocks*block)); err != nil {
			return 0, 0, fmt.Errorf("write %s: %w", f.Name(), err)
		}
		if err := fdatasync(f); err != nil {
			return 0, 0, fmt.Errorf("fdatasync %s: %w", f.Name(), err)
		}
		ops++
	}
	return time.Since(start) / time.Duration(ops), ops, nil
}

// Print writes the setup as a few lines.
func (s *Setup) Print(out io.Writer) {
	if s == nil {
		return
	}
	fmt.Fprintf(out, "Machine: %d CPUs, %s.\n", s.CPUs, s.GoVersion)
	if s.FsyncErr != nil {
		fmt.Fprintf(out, "Disk: fdatasync not measured in %s (%s): %v\n", s.FsyncDir, s.FsyncWhere, s.FsyncErr)
	} else {
		fmt.Fprintf(out, "Disk: 8 KB write + fdatasync %.0f µs (%.0f a second, %d ops) in %s (%s).\n",
			float64(s.Fsync.Nanoseconds())/1000, float64(time.Second)/float64(s.Fsync), s.FsyncOps, s.FsyncDir, s.FsyncWhere)
	}
	parts := make([]string, len(s.Settings))
	for i, st := range s.Settings {
		parts[i] = st.Name + "=" + st.Value
	}
	fmt.Fprintf(out, "PostgreSQL: %s.\n", strings.Join(parts, ", "))
}

// The application names the harness gives its PostgreSQL connections, so that each
// server process is counted for whom it works.
const (
	appServer   = "hotline-bench-server"   // the Hotline under test
	appBaseline = "hotline-bench-baseline" // the bare INSERT beside it
	appFloor    = "hotline-bench-floor"    // intake's rows, bare, beside it
)

// withApplicationName is dsn with its application_name set to name.
func withApplicationName(dsn, name string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	q := u.Query()
	q.Set("application_name", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// clockTick is the unit of utime and stime in /proc/<pid>/stat (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// statCPU reads a /proc/<pid>/stat line: the command name and its user and system time.
func statCPU(b []byte) (comm string, cpu time.Duration, err error) {
	s := string(b)
	// The command name is between the first "(" and the last ")", and may hold spaces and
	// parentheses itself; the fields after it are fixed: state is the 3rd of the line,
	// utime the 14th, stime the 15th.
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return "", 0, errors.New("no command name in parentheses")
	}
	comm = s[open+1 : end]
	f := strings.Fields(s[end+1:])
	if len(f) < 13 {
		return "", 0, fmt.Errorf("%d fields after the command name, want at least 13", len(f))
	}
	var ticks int64
	for _, v := range f[11:13] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return "", 0, fmt.Errorf("utime/stime %q is not a count of ticks", v)
		}
		ticks += n
	}
	return comm, time.Duration(ticks) * clockTick, nil
}

// readStatCPU reads the processor time of process pid under the proc folder.
func readStatCPU(proc string, pid int) (comm string, cpu time.Duration, err error) {
	b, err := os.ReadFile(filepath.Join(proc, strconv.Itoa(pid), "stat"))
	if err != nil {
		return "", 0, err
	}
	comm, cpu, err = statCPU(b)
	if err != nil {
		return "", 0, fmt.Errorf("parse %s/%d/stat: %w", proc, pid, err)
	}
	return comm, cpu, nil
}

// backend is one of PostgreSQL's server processes, as pg_stat_activity lists it.
type backend struct {
	PID  int    `bun:"pid"`
	Kind string `bun:"kind"` // "client": serves the application name followed; else its backend_type
}

// backendsOf lists the server processes serving connections named app to the current
// database, and the server-wide ones every commit leans on (WAL writer, checkpointer,
// background writer), which work for every database on the server.
func backendsOf(db bun.IDB, app string) func(context.Context) ([]backend, error) {
	return func(ctx context.Context) ([]backend, error) {
		var bs []backend
		err := db.NewRaw(`SELECT pid, CASE WHEN backend_type = 'client backend' THEN 'client' ELSE backend_type END AS kind
			FROM pg_stat_activity
			WHERE (backend_type = 'client backend' AND datname = current_database() AND application_name = ?)
				OR backend_type IN ('walwriter', 'checkpointer', 'background writer')`, app).Scan(ctx, &bs)
		if err != nil {
			return nil, fmt.Errorf("list PostgreSQL's processes: %w", err)
		}
		return bs, nil
	}
}

// PGCPU is the processor time PostgreSQL's processes spent over a measurement.
type PGCPU struct {
	Local    bool          // false: PostgreSQL's processes are not on this machine; nothing was read
	Backends time.Duration // the processes serving the followed connections
	Shared   time.Duration // WAL writer, checkpointer, background writer (shared with other databases' work)
}

// PerRow is the time per row written, as the table prints it.
func (c PGCPU) PerRow(rows int) string {
	if !c.Local {
		return "n/a: PostgreSQL is not local"
	}
	if rows <= 0 {
		return ""
	}
	return fmt.Sprintf("%.2f ms", float64(c.per(rows))/float64(time.Millisecond))
}

// per is the backends' time per row written; 0 when nothing was read or no row written.
func (c PGCPU) per(rows int) time.Duration {
	if !c.Local || rows <= 0 {
		return 0
	}
	return c.Backends / time.Duration(rows)
}

// SharedPerRow is the server-wide processes' time per row.
func (c PGCPU) SharedPerRow(rows int) string {
	if !c.Local || rows <= 0 {
		return ""
	}
	return fmt.Sprintf("%.2f ms", float64(c.Shared.Microseconds())/1000/float64(rows))
}

// PGMeter follows PostgreSQL's processes while a load runs: it reads their processor time
// from /proc at the start, every sampleEvery, and at the end, so a connection that closes
// midway counts up to its last reading and one that opens midway counts from zero.
type PGMeter struct {
	list  func(context.Context) ([]backend, error)
	proc  string
	local bool

	mu    sync.Mutex
	start map[int]time.Duration // at the first reading; absent: opened since
	last  map[int]time.Duration
	kind  map[int]string
	err   error
	quit  chan struct{}
	done  chan struct{}
}

// sampleEvery is how often a running meter reads /proc.
const sampleEvery = 250 * time.Millisecond

// StartPGMeter starts following the processes serving db's connections named app (the
// application_name in their URL: the harness names the server's and the baseline's), to
// be read with Stop. Other scenarios (API creates, say) measure with it as intake does:
//
//	m := bench.StartPGMeter(ctx, db, "hotline-bench-server")
//	... the load ...
//	cpu, err := m.Stop(ctx)
//	fmt.Println(cpu.PerRow(rowsWritten))
func StartPGMeter(ctx context.Context, db bun.IDB, app string) *PGMeter {
	return startPGMeter(ctx, backendsOf(db, app), "/proc")
}

func startPGMeter(ctx context.Context, list func(context.Context) ([]backend, error), proc string) *PGMeter {
	m := &PGMeter{list: list, proc: proc, start: map[int]time.Duration{}, last: map[int]time.Duration{}, kind: map[int]string{},
		quit: make(chan struct{}), done: make(chan struct{})}
	m.local, m.err = m.read(ctx, true)
	if m.err != nil || !m.local {
		close(m.done)
		return m
	}
	go func() {
		defer close(m.done)
		t := time.NewTicker(sampleEvery)
		defer t.Stop()
		for {
			select {
			case <-m.quit:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := m.read(ctx, false); err != nil {
					m.mu.Lock()
					m.err = err
					m.mu.Unlock()
					return
				}
			}
		}
	}()
	return m
}

// read takes one reading of every listed process. PostgreSQL is local when the processes
// it lists are PostgreSQL's processes in this machine's /proc.
func (m *PGMeter) read(ctx context.Context, first bool) (local bool, err error) {
	bs, err := m.list(ctx)
	if err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	found := 0
	for _, b := range bs {
		comm, cpu, err := readStatCPU(m.proc, b.PID)
		if errors.Is(err, os.ErrNotExist) {
			continue // gone since it was listed, or not on this machine
		}
		if err != nil {
			return false, err
		}
		if comm != "postgres" && comm != "postmaster" {
			continue // another process under that pid: not PostgreSQL's
		}
		found++
		if first {
			m.start[b.PID] = cpu
		}
		if prev, ok := m.last[b.PID]; ok && cpu < prev {
			continue // the pid was reused; keep what its first holder spent
		}
		m.last[b.PID], m.kind[b.PID] = cpu, b.Kind
	}
	return found > 0, nil
}

// Stop takes the last reading and returns what the processes spent since Start.
func (m *PGMeter) Stop(ctx context.Context) (PGCPU, error) {
	select {
	case <-m.done:
	default:
		close(m.quit)
		<-m.done
	}
	if m.err != nil {
		return PGCPU{}, m.err
	}
	if !m.local {
		return PGCPU{}, nil
	}
	if _, err := m.read(ctx, false); err != nil {
		return PGCPU{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c := PGCPU{Local: true}
	for pid, cpu := range m.last {
		spent := cpu - m.start[pid]
		if m.kind[pid] == "client" {
			c.Backends += spent
		} else {
			c.Shared += spent
		}
	}
	return c, nil
}

// pgCPUExplained says what the table's "pg cpu/row" column counts.
const pgCPUExplained = "pg cpu/row: utime+stime from /proc/<pid>/stat of PostgreSQL's backends serving the side measured " +
	"(pids from pg_stat_activity by application_name; pg_stat_statements is not needed), read before, during and after the level, " +
	"over rows written (a message for intake and for intake's rows, an INSERT for the bare baseline, a new ticket for first texts and API creates); the WAL writer, checkpointer and background writer are " +
	"counted apart in the notes (server-wide: they also work for any other database's load)."

// pgCPUNote is a row's note on the server-wide processes' share, or why nothing was read.
func pgCPUNote(c PGCPU, rows int, unit string) string {
	if !c.Local {
		return ""
	}
	if rows <= 0 {
		return ""
	}
	return fmt.Sprintf("+%s a %s in WAL writer, checkpointer, bgwriter", c.SharedPerRow(rows), unit)
}

// joinNotes joins the non-empty notes with "; ".
func joinNotes(notes ...string) string {
	var out []string
	for _, n := range notes {
		if n != "" {
			out = append(out, n)
		}
	}
	return strings.Join(out, "; ")
}
