package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"
)

// env is a run's shared state: the harness's own connections and the Hotline under test.
type env struct {
	cfg     Config
	out     io.Writer
	db      *bun.DB
	rdb     *redis.Client
	hotline *Process
	token   string // TWILIO_AUTH_TOKEN of the Hotline under test
	// emailSecret is its EMAIL_WEBHOOK_SECRET (the files scenario mails it).
	emailSecret string
	admin       string // its admin password
	report      *Report
	rss         *rssSampler
}

// Run runs every scenario and prints the table. It returns an error when a scenario could
// not run or a guarantee did not hold (a webhook lost or stored twice, a deadline handled
// other than once); the table is printed either way.
func Run(ctx context.Context, cfg Config, out io.Writer) (*Report, error) {
	if cfg.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find the Hotline executable: %w", err)
		}
		cfg.Binary = exe
	}
	if cfg.LogDir == "" {
		dir, err := os.MkdirTemp("", "hotline-bench-")
		if err != nil {
			return nil, fmt.Errorf("make a log folder: %w", err)
		}
		cfg.LogDir = dir
	}
	e := &env{cfg: cfg, out: out, report: &Report{}, token: randomHex(16), admin: randomHex(12), emailSecret: randomHex(16)}
	progress := func(format string, args ...any) { fmt.Fprintf(out, "bench: "+format+"\n", args...) }

	progress("preparing %s and %s", redactURL(cfg.DatabaseURL), cfg.RedisURL)
	var err error
	if e.db, err = prepareDatabase(ctx, cfg.DatabaseURL); err != nil {
		return nil, err
	}
	defer e.db.Close()
	if e.rdb, err = prepareRedis(ctx, cfg.RedisURL); err != nil {
		return nil, err
	}
	defer e.rdb.Close()
	e.report.Machine = machine(ctx, e.db, e.rdb)
	if e.report.Setup, err = describeSetup(ctx, e.db); err != nil {
		return nil, err
	}
	e.report.Setup.Print(out)

	progress("starting Hotline (serve --role all); logs in %s", cfg.LogDir)
	e.hotline, err = StartProcess(ctx, "hotline", cfg.Binary, []string{"serve", "--role", "all"}, e.hotlineEnv(), cfg.LogDir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := e.hotline.Stop(20 * time.Second); err != nil {
			slog.Warn("bench: stopping Hotline", "err", err)
		}
	}()
	e.rss = newRSSSampler(e.hotline)
	defer e.rss.stop()

	runErr := e.scenarios(ctx, progress)
	e.report.Print(out)
	if runErr != nil {
		fmt.Fprintf(out, "\nbench: FAILED: %v\n", runErr)
	}
	return e.report, runErr
}

func (e *env) scenarios(ctx context.Context, progress func(string, ...any)) error {
	time.Sleep(2 * time.Second) // let start-up work settle before measuring idle memory
	idle, err := e.hotline.RSS()
	if err != nil {
		return err
	}
	e.report.IdleRSS = idle
	if err := e.intake(ctx, progress); err != nil {
		return err
	}
	if len(e.cfg.API.Levels) > 0 {
		if err := e.apiCreates(ctx, progress); err != nil {
			return err
		}
	}
	if e.cfg.FilesMessages > 0 {
		if err := e.files(ctx, progress); err != nil {
			return err
		}
	}
	if e.cfg.QueueTickets > 0 {
		if err := e.queues(ctx, progress); err != nil {
			return err
		}
	}
	if e.cfg.BurstTickets > 0 {
		if err := e.burst(ctx, progress); err != nil {
			return err
		}
	}
	e.report.LoadRSS = e.rss.peak()
	e.report.add(Row{Scenario: "memory", Notes: fmt.Sprintf("server RSS idle %s, peak under load %s; Redis %.0f bytes per open ticket (its deadline timers)",
		mib(e.report.IdleRSS), mib(e.report.LoadRSS), e.report.RedisPerTicket)})
	return nil
}

// hotlineEnv is the configuration of the Hotline under test.
func (e *env) hotlineEnv() []string {
	return append([]string{
		"DATABASE_URL=" + withApplicationName(e.cfg.DatabaseURL, appServer), "REDIS_URL=" + e.cfg.RedisURL,
		"HOTLINE_ADMIN_EMAIL=admin@bench.hotline", "HOTLINE_ADMIN_PASSWORD=" + e.admin,
		"TWILIO_AUTH_TOKEN=" + e.token, "EMAIL_WEBHOOK_SECRET=" + e.emailSecret, "HOTLINE_LOG_LEVEL=warn",
	}, e.cfg.ExtraEnv...)
}

// intake runs the baseline and Hotline's SMS intake at each level, then the first texts
// (every one from a new number, so each opens a ticket) at theirs, then checks in the
// database that every acknowledged webhook is stored exactly once.
func (e *env) intake(ctx context.Context, progress func(string, ...any)) error {
	base, err := startBaseline(ctx, withApplicationName(e.cfg.DatabaseURL, appBaseline))
	if err != nil {
		return err
	}
	defer base.close()
	fl, err := startFloor(ctx, withApplicationName(e.cfg.DatabaseURL, appFloor))
	if err != nil {
		return err
	}
	defer fl.close()

	before, err := redisUsedMemory(ctx, e.rdb)
	if err != nil {
		return err
	}
	maxConc := 1
	for _, l := range append(slices.Clone(e.cfg.Levels), e.cfg.FirstLevels...) {
		maxConc = max(maxConc, l)
	}
	sms := &SMS{Client: NewHTTPClient(maxConc), Token: e.token, To: "+8610095500"}
	run := randomHex(3)
	var (
		seq atomic.Int64 // message ids
		// New customers so far, each side its own: a reply from a customer only the
		// baseline has seen would be a new customer to Hotline, and intake would open
		// more tickets than NewCustomers says.
		customers, baseCustomers, floorCustomers atomic.Int64
		mu                                       sync.Mutex
		accepted                                 []string
	)
	// text is text n of a level where newShare of the texts come from new customers.
	text := func(customers *atomic.Int64, n int, newShare float64) (sid, from, body string) {
		sid = fmt.Sprintf("SMb%s%025x", run, seq.Add(1)) // Twilio's shape: SM and 32 hex digits
		known := int(customers.Load())
		if known == 0 || float64(mix(n)%1000) < newShare*1000 {
			c := int(customers.Add(1) - 1)
			return sid, Phone(c), fmt.Sprintf("请问我的理赔进度？保单号 P%06d", c)
		}
		return sid, Phone(mix(n+1) % known), "补充材料已经寄出，请查收。"
	}

	var bestBase, bestIntake float64 // over the signed-SMS levels
	// level measures the baseline, the floor (intake's rows, bare), then Hotline, at conc,
	// adds their rows and returns Hotline's throughput over the baseline's and the floor's
	// over the baseline's (each 0 when the baseline served nothing).
	// firstTexts: every text from a new number, and PostgreSQL's time is per new ticket.
	level := func(conc int, firstTexts bool) (ratio, floorShare float64, err error) {
		name, baseName, floorName, newShare, unit := "intake: signed SMS", "baseline: bare INSERT", FloorScenario, e.cfg.NewCustomers, "message"
		if firstTexts {
			name, baseName, floorName, newShare, unit = "intake: first texts", "baseline: bare INSERT, beside first texts", FloorScenario+", beside first texts", 1, "new ticket"
		}
		load := Load{Concurrency: conc, Duration: e.cfg.IntakeTime, Requests: e.cfg.IntakeMax}
		progress("%s at concurrency %d: baseline", name, conc)
		bm := StartPGMeter(ctx, e.db, appBaseline)
		b := load.Run(ctx, func(ctx context.Context, n int) error {
			sid, from, body := text(&baseCustomers, n, newShare)
			_, err := sms.Send(ctx, base.url, sid, from, body)
			return err
		})
		bcpu, err := bm.Stop(ctx)
		if err != nil {
			return 0, 0, err
		}
		progress("%s at concurrency %d: intake's rows, bare", name, conc)
		floorBefore, err := e.db.NewSelect().Table(floorTable("tickets")).Count(ctx)
		if err != nil {
			return 0, 0, fmt.Errorf("count floor tickets: %w", err)
		}
		fm := StartPGMeter(ctx, e.db, appFloor)
		f := load.Run(ctx, func(ctx context.Context, n int) error {
			sid, from, body := text(&floorCustomers, n, newShare)
			_, err := sms.Send(ctx, fl.url, sid, from, body)
			return err
		})
		fcpu, err := fm.Stop(ctx)
		if err != nil {
			return 0, 0, err
		}
		floorAfter, err := e.db.NewSelect().Table(floorTable("tickets")).Count(ctx)
		if err != nil {
			return 0, 0, fmt.Errorf("count floor tickets: %w", err)
		}
		progress("%s at concurrency %d: Hotline", name, conc)
		ticketsBefore, err := e.db.NewSelect().Table("tickets").Count(ctx)
		if err != nil {
			return 0, 0, fmt.Errorf("count tickets: %w", err)
		}
		e.rss.start()
		hm := StartPGMeter(ctx, e.db, appServer)
		h := load.Run(ctx, func(ctx context.Context, n int) error {
			sid, from, body := text(&customers, n, newShare)
			if _, err := sms.Send(ctx, e.hotline.Base, sid, from, body); err != nil {
				return err
			}
			mu.Lock()
			accepted = append(accepted, sid)
			mu.Unlock()
			return nil
		})
		// The work a text sets off after its answer (routing, announcements) is part of
		// what it costs PostgreSQL: the reading waits for the server to finish it.
		if _, err := e.hotline.Settle(ctx, 10*time.Second); err != nil {
			return 0, 0, err
		}
		hcpu, err := hm.Stop(ctx)
		if err != nil {
			return 0, 0, err
		}
		e.rss.pause()
		ticketsAfter, err := e.db.NewSelect().Table("tickets").Count(ctx)
		if err != nil {
			return 0, 0, fmt.Errorf("count tickets: %w", err)
		}
		br := resultRow(baseName, conc, b, 0, joinNotes(pgCPUNote(bcpu, b.OK, "row"), errNote(b)))
		br.setPGCPU(bcpu, b.OK)
		e.report.add(br)
		if b.Throughput() > 0 {
			ratio, floorShare = h.Throughput()/b.Throughput(), f.Throughput()/b.Throughput()
		}
		// The floor's ratio is intake's throughput over the floor's: how much of its rows'
		// own rate intake keeps.
		floorRatio := 0.0
		if f.Throughput() > 0 {
			floorRatio = h.Throughput() / f.Throughput()
		}
		floorOpened, floorRows := floorAfter-floorBefore, f.OK
		if firstTexts {
			floorRows = floorOpened
		}
		fr := resultRow(floorName, conc, f, floorRatio, joinNotes(pgCPUNote(fcpu, floorRows, unit),
			fmt.Sprintf("%d new tickets; ratio: intake ÷ this", floorOpened), errNote(f)))
		fr.setPGCPU(fcpu, floorRows)
		e.report.add(fr)
		opened, rows := ticketsAfter-ticketsBefore, h.OK
		if firstTexts {
			rows = opened
		}
		hr := resultRow(name, conc, h, ratio, joinNotes(pgCPUNote(hcpu, rows, unit),
			fmt.Sprintf("%d new tickets", opened), errNote(h)))
		hr.setPGCPU(hcpu, rows)
		e.report.add(hr)
		if !firstTexts {
			bestBase, bestIntake = max(bestBase, b.Throughput()), max(bestIntake, h.Throughput())
		}
		return ratio, floorShare, nil
	}

	for _, conc := range e.cfg.Levels {
		ratio, floorShare, err := level(conc, false)
		if err != nil {
			return err
		}
		e.report.LevelRatios = append(e.report.LevelRatios, LevelRatio{Concurrency: conc, Ratio: ratio})
		e.report.FloorShares = append(e.report.FloorShares, LevelRatio{Concurrency: conc, Ratio: floorShare})
	}
	for _, conc := range e.cfg.FirstLevels {
		if _, _, err := level(conc, true); err != nil {
			return err
		}
	}
	if bestBase > 0 {
		e.report.BestRatio = bestIntake / bestBase
	}
	var levelsNote string
	e.report.LowestRatio, e.report.TargetMet, levelsNote = checkLevels(e.report.LevelRatios, IntakeTarget)

	progress("checking every acknowledged webhook in the database")
	if err := e.verifyIntake(ctx, run, accepted); err != nil {
		return err
	}
	open, err := e.db.NewSelect().Table("tickets").Where("status IN ('new', 'open', 'pending')").Count(ctx)
	if err != nil {
		return fmt.Errorf("count open tickets: %w", err)
	}
	after, err := redisUsedMemory(ctx, e.rdb)
	if err != nil {
		return err
	}
	if open > 0 {
		// Timers cost a wake-up per second, not per ticket: what is left per ticket can be
		// below the noise of used_memory, which then reads as less than nothing.
		e.report.RedisPerTicket = max(0, float64(after-before)/float64(open))
		e.report.RedisMeasured = true
	}
	e.report.add(Row{Scenario: "intake: check", Requests: len(accepted), Errors: e.report.Missing + e.report.Duplicated + e.report.DuplicateTickets,
		Ratio: e.report.LowestRatio, Notes: fmt.Sprintf("%d acknowledged → %d stored, %d missing, %d twice; %d customers with two first tickets; ratio is the lowest signed-SMS level's: %s; best ÷ best %.2f; %s",
			e.report.Accepted, e.report.Stored, e.report.Missing, e.report.Duplicated, e.report.DuplicateTickets, levelsNote, e.report.BestRatio,
			floorNote(e.report.FloorShares))})
	if e.report.Missing+e.report.Duplicated+e.report.DuplicateTickets > 0 {
		return fmt.Errorf("intake lost or duplicated data: %d missing, %d stored twice, %d customers with two tickets",
			e.report.Missing, e.report.Duplicated, e.report.DuplicateTickets)
	}
	return nil
}

// FloorScenario names the second baseline's rows: intake's rows written bare.
const FloorScenario = "baseline: intake's rows"

// floorNote says what share of the bare insert's throughput the floor (intake's rows
// alone, in one round trip) reached at each signed-SMS level.
func floorNote(shares []LevelRatio) string {
	if len(shares) == 0 {
		return "the rows alone: no levels measured"
	}
	parts := make([]string, len(shares))
	for i, s := range shares {
		v := "not measured"
		if s.Ratio > 0 {
			v = fmt.Sprintf("%.2f", s.Ratio)
		}
		parts[i] = fmt.Sprintf("%d: %s", s.Concurrency, v)
	}
	return "the rows alone reach this share of the bare insert (" + strings.Join(parts, ", ") + ")"
}

// IntakeTarget is the share of the bare insert's throughput intake is to reach at every
// concurrency.
const IntakeTarget = 0.5

// LevelRatio is intake's throughput over the baseline's at one concurrency; 0: the
// baseline served nothing.
type LevelRatio struct {
	Concurrency int
	Ratio       float64
}

// checkLevels is the lowest ratio over the levels, whether every level reached target, and
// a note saying how each did. A level without a ratio did not reach it.
func checkLevels(levels []LevelRatio, target float64) (lowest float64, met bool, note string) {
	if len(levels) == 0 {
		return 0, false, "no levels measured"
	}
	met = true
	parts := make([]string, len(levels))
	for i, l := range levels {
		if i == 0 || l.Ratio < lowest {
			lowest = l.Ratio
		}
		verdict := "met"
		if l.Ratio < target || l.Ratio <= 0 {
			verdict, met = "below", false
		}
		parts[i] = fmt.Sprintf("%d: %.2f %s", l.Concurrency, l.Ratio, verdict)
	}
	all := "every level met it"
	if !met {
		all = "not every level met it"
	}
	return lowest, met, fmt.Sprintf("target ≥ %.2f at every level, %s (%s)", target, all, strings.Join(parts, ", "))
}

// verifyIntake counts the stored messages of every acknowledged SMS.
func (e *env) verifyIntake(ctx context.Context, run string, accepted []string) error {
	var rows []struct {
		ID string `bun:"provider_message_id"`
		N  int    `bun:"n"`
	}
	err := e.db.NewSelect().Table("messages").ColumnExpr("provider_message_id, COUNT(*) AS n").
		Where("channel = 'sms' AND direction = 'inbound' AND provider_message_id LIKE ?", "SMb"+run+"%").
		GroupExpr("provider_message_id").Scan(ctx, &rows)
	if err != nil {
		return fmt.Errorf("count stored messages: %w", err)
	}
	stored := make(map[string]int, len(rows))
	for _, r := range rows {
		stored[r.ID] = r.N
		e.report.Stored += r.N
		if r.N > 1 {
			e.report.Duplicated++
		}
	}
	e.report.Accepted = len(accepted)
	for _, sid := range accepted {
		if stored[sid] == 0 {
			e.report.Missing++
		}
	}
	dup, err := e.db.NewSelect().TableExpr("(SELECT customer_id FROM tickets GROUP BY customer_id HAVING COUNT(*) > 1) AS d").Count(ctx)
	if err != nil {
		return fmt.Errorf("count customers with two tickets: %w", err)
	}
	e.report.DuplicateTickets = dup
	return nil
}

func resultRow(name string, conc int, r Result, ratio float64, notes string) Row {
	return Row{Scenario: name, Concurrency: conc, Requests: r.Sent, Throughput: r.Throughput(), P50: r.Percentile(0.5), P99: r.Percentile(0.99),
		Errors: r.Errors, Ratio: ratio, Notes: notes}
}

func errNote(r Result) string {
	if r.FirstError == "" {
		return ""
	}
	return "first error: " + truncate(r.FirstError, 80)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// mix spreads request numbers over customers.
func mix(n int) int { return int(uint32(n) * 2654435761 >> 1) }

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) //nolint:errcheck // never fails
	return hex.EncodeToString(b)
}

// redactURL hides a password in a URL.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// machine describes where the run happens: CPU, memory, PostgreSQL and Redis versions.
func machine(ctx context.Context, db *bun.DB, rdb *redis.Client) string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(strings.SplitN(string(b), "\n", 2)[0], "MemTotal: %d kB", &kb); err == nil {
			mem = fmt.Sprintf(", %.0f GiB", float64(kb)/(1<<20))
		}
	}
	var pg string
	if err := db.NewRaw("SHOW server_version").Scan(ctx, &pg); err != nil {
		pg = "?"
	}
	rv := "?"
	if info, err := rdb.Info(ctx, "server").Result(); err == nil {
		for _, l := range strings.Split(info, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(l), "redis_version:"); ok {
				rv = v
			}
		}
	}
	return fmt.Sprintf("%s, %d cores%s; PostgreSQL %s, Redis %s; %s; %s", cpu, runtime.NumCPU(), mem, strings.Fields(pg + " ")[0], rv,
		runtime.Version(), time.Now().UTC().Format("2006-01-02 15:04 UTC"))
}

// rssSampler follows the peak RSS of a process while load runs.
type rssSampler struct {
	p       *Process
	mu      sync.Mutex
	max     int64
	on      bool
	quit    chan struct{}
	stopped sync.Once
}

func newRSSSampler(p *Process) *rssSampler {
	s := &rssSampler{p: p, quit: make(chan struct{})}
	go func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.quit:
				return
			case <-t.C:
				s.mu.Lock()
				if s.on {
					if v, err := p.RSS(); err == nil && v > s.max {
						s.max = v
					}
				}
				s.mu.Unlock()
			}
		}
	}()
	return s
}

func (s *rssSampler) start() { s.mu.Lock(); s.on = true; s.mu.Unlock() }
func (s *rssSampler) pause() { s.mu.Lock(); s.on = false; s.mu.Unlock() }
func (s *rssSampler) peak() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.max
}
func (s *rssSampler) stop() { s.stopped.Do(func() { close(s.quit) }) }
