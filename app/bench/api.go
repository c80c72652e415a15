package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
)

// The API-create scenario: a signed-in agent logging contacts (POST /api/v1/tickets) at
// rising concurrency, against the Hotline over PostgreSQL and then against one started
// over an embedded SQLite file (no Redis: its broker lives in the process, as in a small
// office); then, in each database, every ticket answered 201 must be stored exactly once.

// APIConfig is the API-create scenario's settings.
type APIConfig struct {
	Levels []int         // concurrent agents; none skips the scenario
	Time   time.Duration // per level and database
	Max    int           // requests per level and database, at most
	SQLite bool          // also measure a Hotline over embedded SQLite
}

// apiWarmUp is how many creates go, unmeasured, before the first level on each database:
// the first requests on each connection prepare the token check and fill the caches.
const apiWarmUp = 100

// apiFlags declares the scenario's flags on fs; the function it returns reads the lists
// once fs has parsed them.
func apiFlags(fs *flag.FlagSet, cfg *APIConfig) func() error {
	levels := fs.String("api-levels", "1,4,16", "concurrent agents creating tickets through POST /api/v1/tickets, comma-separated (\"\" skips the scenario)")
	fs.DurationVar(&cfg.Time, "api-time", 5*time.Second, "time per API-create level, on each database")
	fs.IntVar(&cfg.Max, "api-max", 5000, "API creates per level and database, at most")
	fs.BoolVar(&cfg.SQLite, "api-sqlite", true, "also measure API creates against a Hotline over embedded SQLite")
	return func() error {
		cfg.Levels = nil
		if strings.TrimSpace(*levels) != "" {
			var err error
			if cfg.Levels, err = concurrencies("-api-levels", *levels); err != nil {
				return err
			}
		}
		if cfg.Time <= 0 || cfg.Max < 1 {
			return errors.New("-api-time and -api-max must be positive")
		}
		return nil
	}
}

// apiTarget is one Hotline the scenario measures: its process and how to count what it
// stored.
type apiTarget struct {
	name string // "PostgreSQL", "SQLite"
	p    *Process
	db   func(context.Context) (*bun.DB, func(), error) // the Hotline's database, for the check
	// pg is the harness's connection to the Hotline's PostgreSQL, whose backends serving
	// it are metered at each level; nil: not on PostgreSQL.
	pg *bun.DB
}

// apiCreates measures the API create on PostgreSQL and, unless turned off, on SQLite.
func (e *env) apiCreates(ctx context.Context, progress func(string, ...any)) error {
	pg := apiTarget{name: "PostgreSQL", p: e.hotline, db: func(context.Context) (*bun.DB, func(), error) { return e.db, func() {}, nil }, pg: e.db}
	pgRes, err := e.apiCreatesOn(ctx, progress, pg)
	if err != nil {
		return err
	}
	if !e.cfg.API.SQLite {
		return nil
	}
	path := filepath.Join(e.cfg.LogDir, "api-bench.db")
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove the last run's SQLite file: %w", err)
		}
	}
	progress("starting Hotline over SQLite (%s, no Redis); logs in %s", path, e.cfg.LogDir)
	env := append([]string{
		"DATABASE_URL=sqlite:" + path, "HOTLINE_ADMIN_EMAIL=admin@bench.hotline", "HOTLINE_ADMIN_PASSWORD=" + e.admin,
		"HOTLINE_LOG_LEVEL=warn",
	}, e.cfg.ExtraEnv...)
	p, err := StartProcess(ctx, "hotline-sqlite", e.cfg.Binary, []string{"serve", "--role", "all"}, env, e.cfg.LogDir)
	if err != nil {
		return err
	}
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		return p.Stop(20 * time.Second)
	}
	defer stop() //nolint:errcheck // stopped below on the way that reports
	lite := apiTarget{name: "SQLite", p: p, db: func(context.Context) (*bun.DB, func(), error) {
		// Read once the process has stopped: its last commits are in the file or its WAL.
		if err := stop(); err != nil {
			return nil, nil, err
		}
		db, err := tickets.OpenDB("sqlite:" + path)
		if err != nil {
			return nil, nil, err
		}
		return db, func() { db.Close() }, nil
	}}
	liteRes, err := e.apiCreatesOn(ctx, progress, lite)
	if err != nil {
		return err
	}
	// The figure to watch: how much later the slowest creates answer on SQLite, at the
	// highest concurrency measured on both.
	top := e.cfg.API.Levels[len(e.cfg.API.Levels)-1]
	if a, b := liteRes[top], pgRes[top]; a.OK > 0 && b.OK > 0 && b.Percentile(0.99) > 0 {
		e.report.APISQLiteRatio = float64(a.Percentile(0.99)) / float64(b.Percentile(0.99))
		e.report.add(Row{Scenario: "api create: SQLite ÷ PostgreSQL", Concurrency: top, Ratio: e.report.APISQLiteRatio,
			Notes: fmt.Sprintf("p99 %s on SQLite against %s on PostgreSQL (target ≤ 1.5)", ms(a.Percentile(0.99)), ms(b.Percentile(0.99)))})
	}
	return nil
}

// apiCreatesOn signs an agent in on one Hotline, creates tickets at each level, then checks
// the database.
func (e *env) apiCreatesOn(ctx context.Context, progress func(string, ...any), t apiTarget) (map[int]Result, error) {
	token, err := apiAgent(ctx, t.p.Base, e.admin)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.name, err)
	}
	maxConc := 1
	for _, l := range e.cfg.API.Levels {
		maxConc = max(maxConc, l)
	}
	client := NewHTTPClient(maxConc)
	run := randomHex(3)
	create := func(ctx context.Context, n int) error {
		return apiCreate(ctx, client, t.p.Base, token, run, n, e.cfg.NewCustomers)
	}

	progress("API create on %s: %d unmeasured", t.name, apiWarmUp)
	warm := Load{Concurrency: min(4, maxConc), Duration: time.Minute, Requests: apiWarmUp}.Run(ctx, create)
	if warm.Errors > 0 {
		return nil, fmt.Errorf("API create on %s: %s", t.name, warm.FirstError)
	}
	answered := warm.OK
	// The warm-up's work after its answers would otherwise land in the first level.
	if _, err := t.p.Settle(ctx, 10*time.Second); err != nil {
		return nil, err
	}
	results := map[int]Result{}
	offset := apiWarmUp
	for _, conc := range e.cfg.API.Levels {
		progress("API create on %s at concurrency %d", t.name, conc)
		cpu0, err := t.p.CPU()
		if err != nil {
			return nil, err
		}
		var meter *PGMeter
		if t.pg != nil {
			meter = StartPGMeter(ctx, t.pg, appServer)
		}
		base := offset
		r := Load{Concurrency: conc, Duration: e.cfg.API.Time, Requests: e.cfg.API.Max}.Run(ctx, func(ctx context.Context, n int) error {
			return create(ctx, base+n)
		})
		offset += r.Sent
		cpu1, err := t.p.CPU()
		if err != nil {
			return nil, err
		}
		// As for intake: what a create sets off after its answer is part of its cost to
		// PostgreSQL, so the reading waits for the server to finish it (and the next level
		// starts on an idle server).
		if _, err := t.p.Settle(ctx, 10*time.Second); err != nil {
			return nil, err
		}
		answered += r.OK
		results[conc] = r
		row := resultRow("api create: "+t.name, conc, r, 0, "")
		notes := []string{"server CPU per create " + cpuPer(cpu1-cpu0, r.OK)}
		if meter != nil {
			pgcpu, err := meter.Stop(ctx)
			if err != nil {
				return nil, err
			}
			row.setPGCPU(pgcpu, r.OK)
			notes = append(notes, pgCPUNote(pgcpu, r.OK, "create"))
		}
		row.Notes = joinNotes(append(notes, errNote(r))...)
		e.report.add(row)
	}

	progress("checking every answered create in the %s database", t.name)
	db, done, err := t.db(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	stored, err := db.NewSelect().Table("tickets").Where("subject LIKE ?", apiSubject(run, -1)+"%").Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("count %s's API tickets: %w", t.name, err)
	}
	twice, err := db.NewSelect().TableExpr("(SELECT subject FROM tickets WHERE subject LIKE ? GROUP BY subject HAVING COUNT(*) > 1) AS d", apiSubject(run, -1)+"%").Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("count %s's API tickets stored twice: %w", t.name, err)
	}
	e.report.add(Row{Scenario: "api create: " + t.name + " check", Requests: answered, Errors: abs(stored - answered),
		Notes: fmt.Sprintf("%d answered 201 → %d stored, %d twice", answered, stored, twice)})
	// A create whose answer was lost (a timeout) may be stored; one answered must be, once.
	if stored < answered || twice > 0 {
		return nil, fmt.Errorf("API create on %s: %d answered 201 but %d stored, %d twice", t.name, answered, stored, twice)
	}
	return results, nil
}

// apiAgent makes a team and an agent in it through the admin API and signs the agent in.
func apiAgent(ctx context.Context, base, adminPassword string) (string, error) {
	admin, err := login(ctx, base, "admin@bench.hotline", adminPassword)
	if err != nil {
		return "", err
	}
	suffix := randomHex(3)
	var team struct{ ID int64 }
	if err := apiPost(ctx, http.DefaultClient, base, admin, "/api/v1/teams", map[string]any{"name": "API bench " + suffix}, &team); err != nil {
		return "", err
	}
	email, password := "api-"+suffix+"@bench.hotline", randomHex(12)
	if err := apiPost(ctx, http.DefaultClient, base, admin, "/api/v1/agents", map[string]any{
		"email": email, "name": "API bench agent", "role": "agent", "team_id": team.ID, "capacity": 1000, "password": password,
	}, nil); err != nil {
		return "", err
	}
	return login(ctx, base, email, password)
}

// apiSubject is the subject of create n of a run; n < 0 is the run's prefix.
func apiSubject(run string, n int) string {
	if n < 0 {
		return "API bench " + run + " #"
	}
	return fmt.Sprintf("API bench %s #%d", run, n)
}

// apiCreate logs one phone contact, from a new caller or one seen before, and checks the
// answer is the ticket created.
func apiCreate(ctx context.Context, client *http.Client, base, token, run string, n int, newShare float64) error {
	caller := n // a new customer...
	if n > 0 && float64(mix(n)%1000) >= newShare*1000 {
		caller = mix(n+1) % n // ...or one who called before in this run
	}
	var out struct {
		Ref      string
		Messages []json.RawMessage
		Events   []json.RawMessage
	}
	err := apiPost(ctx, client, base, token, "/api/v1/tickets", map[string]any{
		"channel":  "phone",
		"customer": map[string]string{"name": fmt.Sprintf("来电客户 %d", caller), "phone": fmt.Sprintf("+86138%08d", caller%100_000_000)},
		"subject":  apiSubject(run, n), "body": fmt.Sprintf("客户来电询问理赔进度，保单号 P%06d，希望今天回电。", caller),
		"category": "claims", "priority": "normal",
	}, &out)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(out.Ref, "HL-") || len(out.Messages) != 1 || len(out.Events) == 0 {
		return fmt.Errorf("POST /api/v1/tickets answered ref %q with %d messages and %d events, not the ticket created", out.Ref, len(out.Messages), len(out.Events))
	}
	return nil
}

// apiPost posts JSON with a bearer token and reads a 2xx answer into out (when not nil).
func apiPost(ctx context.Context, client *http.Client, base, token, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	answer, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: %d %s", path, res.StatusCode, truncate(string(answer), 200))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(answer, out); err != nil {
		return fmt.Errorf("POST %s: read the answer: %w", path, err)
	}
	return nil
}

// cpuPer is processor time per request, or "?" when none succeeded.
func cpuPer(d time.Duration, n int) string {
	if n == 0 {
		return "?"
	}
	return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000/float64(n))
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
