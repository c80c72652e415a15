// Package bench is Hotline's load harness ("hotline bench", "task bench"). It starts a real
// Hotline as a child process over PostgreSQL and Redis on loopback and measures, each
// scenario bounded in time and count:
//
//   - intake: signed Twilio SMS webhooks from new and returning customers at rising
//     concurrency, beside a bare Fiber handler doing one INSERT per request into the same
//     PostgreSQL (the ratio of the two, at every level, is the figure to watch), then
//     first texts only (each from a new number, so each opens a ticket) with PostgreSQL's
//     processor time per new ticket, then checks in the database that every acknowledged
//     webhook produced exactly one message;
//   - the agent queues over HTTP with a million tickets in the database, with the plans
//     (EXPLAIN ANALYZE) of every query a queue request makes;
//   - a deadline burst: many tickets due the same second, until all are escalated, and
//     that each was escalated exactly once;
//   - API creates: a signed-in agent POSTing /api/v1/tickets at concurrency 1, 4 and 16,
//     on the Hotline over PostgreSQL (with PostgreSQL's processor time per create) and on
//     one started over embedded SQLite (api.go), with the SQLite/PostgreSQL p99 ratio, then
//     each 201 found stored once;
//   - memory: the server's RSS idle and under load, Redis bytes per open ticket.
//
// It prints one table; with -runs or -compare, the ranges over several runs of one or two
// binaries side by side (series.go). It uses a database and a Redis db of its own and
// refuses ones that hold anything it did not put there.
package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Config is the harness's settings; Main reads them from flags.
type Config struct {
	DatabaseURL string   // PostgreSQL; its database is created if missing and emptied first
	RedisURL    string   // Redis; its db is flushed first
	Binary      string   // the Hotline executable; default this one
	ExtraEnv    []string // KEY=VALUE added to the children's environment
	LogDir      string   // where the children's output goes; default a temporary folder

	Levels        []int         // intake concurrency levels
	IntakeTime    time.Duration // per level and side (baseline, intake)
	IntakeMax     int           // requests per level and side, at most
	NewCustomers  float64       // share of intake from customers never seen before
	FirstLevels   []int         // concurrency levels of the first texts (every one from a new number); none skips them
	QueueTickets  int           // tickets seeded for the queue scenario; 0 skips it
	QueueRequests int           // requests per queue endpoint
	QueueConc     []int         // concurrent agents reading queues, one run each
	BurstTickets  int           // tickets sharing one deadline; 0 skips the burst
	BurstLead     time.Duration // from seeding to the shared deadline
	BurstLimit    time.Duration // give up waiting for the escalations after this
	API           APIConfig     // the API-create scenario (api.go)
	FilesMessages int           // emails with a 1 MB attachment per side of the files scenario; 0 skips it
	FilesConc     int           // concurrent senders in the files scenario
	Series        SeriesConfig  // runs over runs, and against another binary (series.go)
}

// DefaultDatabaseURL and DefaultRedisURL are used when neither flag nor environment names
// one. Redis db 9 is used by no test.
const (
	DefaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/hotline_bench?sslmode=disable"
	DefaultRedisURL    = "redis://127.0.0.1:6379/9"
)

// ParseFlags reads the harness's flags. DATABASE_URL and REDIS_URL are the defaults when
// they name PostgreSQL and Redis.
func ParseFlags(args []string, stderr io.Writer) (Config, error) {
	cfg := Config{}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbDefault, redisDefault := DefaultDatabaseURL, DefaultRedisURL
	if v := os.Getenv("DATABASE_URL"); strings.HasPrefix(v, "postgres") {
		dbDefault = v
	}
	if v := os.Getenv("REDIS_URL"); v != "" {
		redisDefault = v
	}
	fs.StringVar(&cfg.DatabaseURL, "database-url", dbDefault, "PostgreSQL for the run (created if missing, emptied first; refused if it holds data the harness did not make)")
	fs.StringVar(&cfg.RedisURL, "redis-url", redisDefault, "Redis for the run (its db is flushed first; refused if it holds keys the harness did not make)")
	fs.StringVar(&cfg.Binary, "binary", "", "Hotline executable to start (default: this one)")
	fs.StringVar(&cfg.LogDir, "log-dir", "", "folder for the Hotline processes' logs (default: a temporary folder)")
	levels := fs.String("levels", "1,4,16,64", "intake concurrency levels, comma-separated")
	fs.DurationVar(&cfg.IntakeTime, "intake-time", 10*time.Second, "time per intake level, for the baseline and for Hotline each")
	fs.IntVar(&cfg.IntakeMax, "intake-max", 20000, "requests per intake level at most, for each side")
	fs.Float64Var(&cfg.NewCustomers, "new-customers", 0.3, "share of intake texts from new customers (the rest reply on their ticket)")
	firstLevels := fs.String("first-levels", "1", "concurrency levels of the \"intake: first texts\" rows, every text from a new number (each opens a ticket), comma-separated (\"\" skips them)")
	fs.IntVar(&cfg.QueueTickets, "queue-tickets", 1_000_000, "tickets in the database for the queue scenario (0 skips it)")
	fs.IntVar(&cfg.QueueRequests, "queue-requests", 2000, "requests per queue endpoint")
	queueConc := fs.String("queue-concurrency", "1,4", "agents reading queues at once, comma-separated: one run each")
	fs.IntVar(&cfg.BurstTickets, "burst-tickets", 100_000, "tickets sharing one deadline (0 skips the burst)")
	fs.DurationVar(&cfg.BurstLead, "burst-lead", 45*time.Second, "time from seeding the burst to its deadline (enough to enqueue every timer)")
	fs.DurationVar(&cfg.BurstLimit, "burst-limit", 5*time.Minute, "how long to wait for the burst's escalations")
	apiParsed := apiFlags(fs, &cfg.API)
	fs.IntVar(&cfg.FilesMessages, "files-messages", 200, "emails with a 1 MB attachment per side of the files scenario, database-held and in a store (0 skips it)")
	fs.IntVar(&cfg.FilesConc, "files-concurrency", 8, "concurrent senders in the files scenario")
	seriesParsed := seriesFlags(fs, &cfg.Series)
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var err error
	if cfg.Levels, err = concurrencies("-levels", *levels); err != nil {
		return cfg, err
	}
	if strings.TrimSpace(*firstLevels) != "" {
		if cfg.FirstLevels, err = concurrencies("-first-levels", *firstLevels); err != nil {
			return cfg, err
		}
	}
	if cfg.QueueConc, err = concurrencies("-queue-concurrency", *queueConc); err != nil {
		return cfg, err
	}
	if err := apiParsed(); err != nil {
		return cfg, err
	}
	if err := seriesParsed(); err != nil {
		return cfg, err
	}
	switch {
	case cfg.IntakeTime <= 0 || cfg.IntakeMax < 1:
		return cfg, errors.New("-intake-time and -intake-max must be positive")
	case cfg.NewCustomers < 0 || cfg.NewCustomers > 1:
		return cfg, errors.New("-new-customers is a share from 0 to 1")
	case cfg.QueueTickets < 0 || cfg.BurstTickets < 0:
		return cfg, errors.New("-queue-tickets and -burst-tickets cannot be negative")
	case cfg.QueueTickets > 0 && cfg.QueueTickets < 1000:
		return cfg, errors.New("-queue-tickets must be 0 (skip) or at least 1000")
	case cfg.FilesMessages < 0 || cfg.FilesConc < 1 || cfg.FilesConc > 1024:
		return cfg, errors.New("-files-messages cannot be negative, -files-concurrency is from 1 to 1024")
	case cfg.QueueRequests < 1:
		return cfg, errors.New("-queue-requests must be positive")
	case cfg.BurstLead < time.Second || cfg.BurstLimit < time.Second:
		return cfg, errors.New("-burst-lead and -burst-limit must be at least a second")
	}
	return cfg, nil
}

// concurrencies reads a comma-separated list of concurrency levels.
func concurrencies(flag, v string) ([]int, error) {
	var out []int
	for _, l := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(l))
		if err != nil || n < 1 || n > 1024 {
			return nil, fmt.Errorf("%s lists concurrencies from 1 to 1024, not %q", flag, v)
		}
		out = append(out, n)
	}
	return out, nil
}

// Main runs "hotline bench": parse flags, run, print the table; or, with -runs or
// -compare, run as often as asked and print the ranges (series.go).
func Main(ctx context.Context, args []string, out io.Writer) error {
	cfg, err := ParseFlags(args, out)
	if err != nil {
		return err
	}
	if cfg.Series.series() {
		_, err = RunSeries(ctx, cfg, out)
		return err
	}
	_, err = Run(ctx, cfg, out)
	return err
}

// Row is one line of the table.
type Row struct {
	Scenario    string
	Concurrency int
	Requests    int
	Throughput  float64 // per second
	P50, P99    time.Duration
	Errors      int
	Ratio       float64 // intake ÷ baseline throughput; 0: not applicable
	PGCPU       string  // PostgreSQL's processor time per row written (PGCPU.PerRow); "": not measured
	// PGCPUPer is PGCPU as a duration, for ranges over runs; 0: not measured.
	PGCPUPer time.Duration
	Notes    string
}

// setPGCPU records what PostgreSQL's backends spent per row over rows written.
func (r *Row) setPGCPU(c PGCPU, rows int) {
	r.PGCPU, r.PGCPUPer = c.PerRow(rows), c.per(rows)
}

// Report is what a run measured.
type Report struct {
	Machine string
	Setup   *Setup // the disk's fdatasync cost, PostgreSQL's settings
	Rows    []Row
	Plans   []Plan
	// BestRatio is Hotline's best intake throughput over the baseline's best.
	BestRatio float64
	// LevelRatios are the signed-SMS intake's throughput over the baseline's at each
	// level; LowestRatio is the lowest of them, and TargetMet says whether every one
	// reached IntakeTarget.
	LevelRatios []LevelRatio
	LowestRatio float64
	TargetMet   bool
	// FloorShares are the floor's throughput (intake's rows, written bare in one round
	// trip) over the bare INSERT's at each signed-SMS level.
	FloorShares []LevelRatio
	// Accepted webhooks, and the messages stored for them: equal when nothing was lost
	// or stored twice.
	Accepted, Stored, Missing, Duplicated, DuplicateTickets int
	// QueueP99 is the slowest p99 of the queue endpoints.
	QueueP99 time.Duration
	// Burst: tickets escalated, their breach events, and the time to escalate them all.
	BurstEscalated, BurstEvents int
	BurstTime                   time.Duration
	IdleRSS, LoadRSS            int64
	RedisPerTicket              float64
	RedisMeasured               bool
	// APISQLiteRatio is the API create's p99 on SQLite over PostgreSQL's, at the highest
	// concurrency measured (api.go).
	APISQLiteRatio float64
}

func (r *Report) add(row Row) { r.Rows = append(r.Rows, row) }

// Print writes the table, then the queue queries' plans.
func (r *Report) Print(out io.Writer) {
	fmt.Fprintf(out, "\nHotline load harness — %s\n", r.Machine)
	r.Setup.Print(out)
	fmt.Fprintf(out, "%s\n\n", pgCPUExplained)
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "scenario\tconc\trequests\tthroughput/s\tp50\tp99\terrors\tratio\tpg cpu/row\tnotes")
	for _, row := range r.Rows {
		ratio, lat50, lat99, thr := "", "", "", ""
		if row.Ratio > 0 {
			ratio = fmt.Sprintf("%.2f", row.Ratio)
		}
		if row.P50 > 0 {
			lat50, lat99 = ms(row.P50), ms(row.P99)
		}
		if row.Throughput > 0 {
			thr = fmt.Sprintf("%.0f", row.Throughput)
		}
		conc := ""
		if row.Concurrency > 0 {
			conc = strconv.Itoa(row.Concurrency)
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", row.Scenario, conc, row.Requests, thr, lat50, lat99, row.Errors, ratio, row.PGCPU, row.Notes)
	}
	w.Flush()
	if len(r.Plans) > 0 {
		fmt.Fprintln(out, "\nQueue queries (EXPLAIN (ANALYZE, BUFFERS) on the seeded desk):")
		for _, p := range r.Plans {
			fmt.Fprintf(out, "  %s\n", p)
		}
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }
