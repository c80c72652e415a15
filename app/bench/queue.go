package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"golang.org/x/crypto/bcrypt"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/access"
)

// agentPassword is every seeded agent's password.
const agentPassword = "bench-agent-password"

// deepPages is how far into the team's queue the deep-page endpoint reads: its page must
// cost what the first does.
const deepPages = 100

// deepPage follows f's cursor to its page n, or its last page, and returns the filter that
// reads it with the page's number.
func deepPage(ctx context.Context, db *bun.DB, f tickets.TicketFilter, n int) (tickets.TicketFilter, int, error) {
	svc := tickets.NewService(db, nil, tickets.Config{}, slog.New(slog.DiscardHandler))
	page := 1
	for ; page < n; page++ {
		p, err := svc.ListTickets(ctx, f)
		if err != nil {
			return f, 0, fmt.Errorf("walk the team's queue: %w", err)
		}
		if p.NextCursor == "" {
			break
		}
		f.Cursor = p.NextCursor
	}
	return f, page, nil
}

// queueWarmUp is how many requests go before each measured queue load.
const queueWarmUp = 200

// desk is what seedDesk made: agents by id with their teams.
type desk struct {
	agents, teams []int64 // agents[i] is in team teams[i]
}

// queues seeds a large desk, then measures the agent queues over HTTP and explains the
// queries behind them.
func (e *env) queues(ctx context.Context, progress func(string, ...any)) error {
	n := e.cfg.QueueTickets
	progress("seeding %d tickets (set-based SQL)", n)
	start := time.Now()
	if _, err := seedDesk(ctx, e.db, n); err != nil {
		return err
	}
	progress("seeded in %v", time.Since(start).Round(time.Second))
	total, err := e.db.NewSelect().Table("tickets").Count(ctx)
	if err != nil {
		return fmt.Errorf("count tickets: %w", err)
	}

	const email = "agent1@bench.hotline" // an agent, not a supervisor
	var me, team int64
	if err := e.db.NewRaw("SELECT id, team_id FROM agents WHERE email = ?", email).Scan(ctx, &me, &team); err != nil {
		return fmt.Errorf("find %s: %w", email, err)
	}
	token, err := login(ctx, e.hotline.Base, email, agentPassword)
	if err != nil {
		return err
	}
	client := NewHTTPClient(slices.Max(e.cfg.QueueConc))
	active := []tickets.Status{tickets.StatusNew, tickets.StatusOpen, tickets.StatusPending}
	endpoints := []struct {
		name, query string
		filter      tickets.TicketFilter
	}{
		{"queue: mine", "assignee=me", tickets.TicketFilter{AssigneeID: &me}},
		{"queue: mine, active", "assignee=me&status=new,open,pending", tickets.TicketFilter{AssigneeID: &me, Statuses: active}},
		{"queue: team", fmt.Sprintf("team=%d", team), tickets.TicketFilter{TeamID: &team}},
		{"queue: team, active", fmt.Sprintf("team=%d&status=new,open,pending", team), tickets.TicketFilter{TeamID: &team, Statuses: active}},
		{"queue: team, unassigned", fmt.Sprintf("team=%d&assignee=none", team), tickets.TicketFilter{TeamID: &team, Unassigned: true}},
	}
	deep, pages, err := deepPage(ctx, e.db, tickets.TicketFilter{TeamID: &team}, deepPages)
	if err != nil {
		return err
	}
	if pages > 1 {
		endpoints = append(endpoints, struct {
			name, query string
			filter      tickets.TicketFilter
		}{fmt.Sprintf("queue: team, page %d", pages), fmt.Sprintf("team=%d&cursor=%s", team, url.QueryEscape(deep.Cursor)), deep})
	}
	// Intake leaves work behind (staff announcements of its new tickets); the queues are
	// measured once the server has done it.
	progress("waiting for the server to finish the work intake left")
	if settled, err := e.hotline.Settle(ctx, 3*time.Minute); err != nil {
		return err
	} else if !settled {
		progress("the server is still busy after 3 minutes; measuring anyway")
	}
	for _, ep := range endpoints {
		url := e.hotline.Base + "/api/v1/tickets?" + ep.query
		plans, err := e.explain(ctx, ep.name, token, ep.filter)
		if err != nil {
			return err
		}
		e.report.Plans = append(e.report.Plans, plans...)
		for _, conc := range e.cfg.QueueConc {
			progress("%s at concurrency %d: GET %s", ep.name, conc, strings.TrimPrefix(url, e.hotline.Base))
			get := func(ctx context.Context, _ int) error { return getPage(ctx, client, url, token) }
			// Warm-up, not measured: the first requests on each database connection
			// prepare the statements and plan them a few times before the plan is kept.
			Load{Concurrency: conc, Duration: 30 * time.Second, Requests: queueWarmUp}.Run(ctx, get)
			e.rss.start()
			r := Load{Concurrency: conc, Duration: 2 * time.Minute, Requests: e.cfg.QueueRequests}.Run(ctx, get)
			e.rss.pause()
			e.report.QueueP99 = max(e.report.QueueP99, r.Percentile(0.99))
			note := fmt.Sprintf("%d tickets; %s", total, planNote(plans))
			if fe := errNote(r); fe != "" {
				note += "; " + fe
			}
			e.report.add(resultRow(ep.name, conc, r, 0, note))
		}
	}
	return nil
}

// seedDesk inserts 10 teams of 20 agents (one supervisor each), n/5 customers with a phone
// each, and n tickets over them: 60% closed, 10% resolved, 30% active (new, open, pending)
// with deadlines from two hours to a week ahead, a fifth unassigned.
func seedDesk(ctx context.Context, db *bun.DB, n int) (*desk, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(agentPassword), bcrypt.MinCost)
	if err != nil {
		return nil, fmt.Errorf("hash the agents' password: %w", err)
	}
	d := &desk{}
	err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var teams []int64
		if err := tx.NewRaw(`INSERT INTO teams (name, created_at, updated_at)
			SELECT 'Bench team ' || g, now(), now() FROM generate_series(1, 10) g RETURNING id`).Scan(ctx, &teams); err != nil {
			return fmt.Errorf("seed teams: %w", err)
		}
		var rows []struct {
			ID     int64 `bun:"id"`
			TeamID int64 `bun:"team_id"`
		}
		err := tx.NewRaw(`INSERT INTO agents (email, name, role, team_id, capacity, password_hash, locale, active, online, created_at, updated_at)
			SELECT 'agent' || g || '@bench.hotline', 'Agent ' || g, CASE WHEN g % 20 = 0 THEN 'supervisor' ELSE 'agent' END,
				(?::bigint[])[1 + g % 10], 1000, ?, 'zh-CN', TRUE, FALSE, now(), now()
			FROM generate_series(0, 199) g ORDER BY g RETURNING id, team_id`, pgArray(teams), string(hash)).Scan(ctx, &rows)
		if err != nil {
			return fmt.Errorf("seed agents: %w", err)
		}
		for _, r := range rows {
			d.agents, d.teams = append(d.agents, r.ID), append(d.teams, r.TeamID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	// Sign-in tokens pile up (one per login, kept 30 days): 50,000 of them, so that checking
	// a token is measured against a table of realistic size.
	if _, err := db.ExecContext(ctx, `INSERT INTO api_tokens (agent_id, token_hash, created_at, expires_at)
		SELECT (?::bigint[])[1 + g % ?], md5('token' || g) || md5('hash' || g), now() - g * interval '1 minute', now() + interval '30 days' - g * interval '1 minute'
		FROM generate_series(1, 50000) g`, pgArray(d.agents), len(d.agents)); err != nil {
		return nil, fmt.Errorf("seed sign-in tokens: %w", err)
	}

	customers := max(1, n/5)
	var first int64
	err = db.NewRaw(`WITH c AS (
			INSERT INTO customers (name, locale, tags, created_at, updated_at)
			SELECT 'Customer ' || g, 'zh-CN', '', now(), now() FROM generate_series(1, ?) g RETURNING id)
		SELECT MIN(id) FROM c`, customers).Scan(ctx, &first)
	if err != nil {
		return nil, fmt.Errorf("seed customers: %w", err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO customer_identities (customer_id, kind, value, created_at)
		SELECT id, 'phone', '+86137' || lpad(id::text, 8, '0'), now() FROM customers WHERE id >= ?`, first); err != nil {
		return nil, fmt.Errorf("seed customer phones: %w", err)
	}

	const chunk = 100_000
	for lo := 1; lo <= n; lo += chunk {
		hi := min(n, lo+chunk-1)
		_, err := db.ExecContext(ctx, `WITH s AS (
			SELECT g,
				CASE WHEN g % 10 < 6 THEN 'closed' WHEN g % 10 = 6 THEN 'resolved' WHEN g % 10 = 7 THEN 'new'
					WHEN g % 10 = 8 THEN 'open' ELSE 'pending' END AS st,
				1 + (g / 7) % ?0 AS a,
				now() - (?1 - g) * interval '20 seconds' AS created,
				now() + interval '2 hours' + (g % 10080) * interval '1 minute' AS due
			FROM generate_series(?2::bigint, ?3::bigint) g)
		INSERT INTO tickets (customer_id, channel, subject, category, priority, status, team_id, assignee_id,
			first_response_due_at, first_responded_at, resolution_due_at, resolved_at, closed_at, paused_at, next_due_at,
			sla_started_at, created_at, updated_at)
		SELECT ?4 + g % ?5, 'sms', 'Where is my claim? #' || g, '', 'normal', st,
			(?6::bigint[])[a], CASE WHEN g % 5 = 0 THEN NULL ELSE (?7::bigint[])[a] END,
			CASE WHEN st IN ('new', 'open', 'pending') THEN due ELSE created + interval '24 hours' END,
			CASE WHEN st <> 'new' THEN created + interval '1 hour' END,
			CASE WHEN st IN ('new', 'open', 'pending') THEN due + interval '1 day' ELSE created + interval '48 hours' END,
			CASE WHEN st IN ('resolved', 'closed') THEN created + interval '5 hours' END,
			CASE WHEN st = 'closed' THEN created + interval '6 hours' END,
			CASE WHEN st = 'pending' THEN now() - interval '1 hour' END,
			CASE st WHEN 'new' THEN due WHEN 'open' THEN due + interval '1 day' ELSE '9999-12-31 00:00:00+00'::timestamptz END,
			created, created, created
		FROM s`, len(d.agents), n, lo, hi, first, customers, pgArray(d.teams), pgArray(d.agents))
		if err != nil {
			return nil, fmt.Errorf("seed tickets %d-%d: %w", lo, hi, err)
		}
	}
	// A desk in service has been vacuumed and checkpointed since its rows were written.
	// Without this the queue loads would share the machine with the aftermath of a
	// million-row load: hint bits, the visibility map, checkpoint writes.
	if _, err := db.ExecContext(ctx, "VACUUM (ANALYZE)"); err != nil {
		return nil, fmt.Errorf("vacuum: %w", err)
	}
	if _, err := db.ExecContext(ctx, "CHECKPOINT"); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	return d, nil
}

// pgArray writes ids as a PostgreSQL array literal.
func pgArray(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprint(id)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func login(ctx context.Context, base, email, password string) (string, error) {
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/auth/login", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("sign in as %s: %w", email, err)
	}
	defer res.Body.Close()
	var out struct{ Token string }
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusOK || out.Token == "" {
		return "", fmt.Errorf("sign in as %s: status %d (%v)", email, res.StatusCode, err)
	}
	return out.Token, nil
}

// getPage reads one queue page and checks it is a full one.
func getPage(ctx context.Context, client *http.Client, url, token string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", url, res.StatusCode, truncate(string(body), 200))
	}
	if !bytes.Contains(body, []byte(`"items":[{`)) {
		return fmt.Errorf("GET %s: an empty page", url)
	}
	return nil
}

// Plan summarises EXPLAIN (ANALYZE, BUFFERS) of one query a queue request makes.
type Plan struct {
	Endpoint string
	Query    string   // what the query reads
	Scans    []string // each scan node: how it reads which relation, and how many rows
	Examined int64    // rows the scans read, including those filtered out
	Buffers  int64    // shared buffers hit or read
	Millis   float64  // execution time
	SeqScans []string // relations read whole
	Prepared bool     // run as a prepared statement: this is its generic plan
}

func (p Plan) String() string {
	query := p.Query
	if p.Prepared {
		query += " (prepared)"
	}
	s := fmt.Sprintf("%-26s %-45s %6d rows read, %5d buffers, %6.2f ms: %s", p.Endpoint, query, p.Examined, p.Buffers, p.Millis, strings.Join(p.Scans, "; "))
	if len(p.SeqScans) > 0 {
		s += "  ← SEQUENTIAL SCAN of " + strings.Join(p.SeqScans, ", ")
	}
	return s
}

// planNote is the table's summary of an endpoint's plans.
func planNote(plans []Plan) string {
	var examined int64
	var seq []string
	for _, p := range plans {
		examined += p.Examined
		seq = append(seq, p.SeqScans...)
	}
	if len(seq) > 0 {
		return fmt.Sprintf("%d queries, %d rows read, SEQUENTIAL SCAN of %s", len(plans), examined, strings.Join(seq, ", "))
	}
	return fmt.Sprintf("%d queries, %d rows read, index scans only", len(plans), examined)
}

// captured records the SQL a service runs, and the arguments of those it runs prepared.
type captured struct {
	mu      sync.Mutex
	queries []string
	args    map[string][]any
}

func (c *captured) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }
func (c *captured) AfterQuery(_ context.Context, ev *bun.QueryEvent) {
	c.mu.Lock()
	c.queries = append(c.queries, ev.Query)
	c.mu.Unlock()
}

func (c *captured) prepared(query string, args []any) {
	c.mu.Lock()
	c.args[query] = args
	c.mu.Unlock()
}

// explain runs what a queue request runs (authenticating the token, listing the page)
// through the service with its SQL captured, then explains each statement.
func (e *env) explain(ctx context.Context, endpoint, token string, f tickets.TicketFilter) ([]Plan, error) {
	rec := &captured{args: map[string][]any{}}
	db := e.db.WithQueryHook(rec)
	svc := tickets.NewService(db, nil, tickets.Config{}, slog.New(slog.DiscardHandler))
	ctx = tickets.WithStatementTrace(ctx, rec.prepared)
	if _, err := access.New(svc, access.Config{}).Authenticate(ctx, token); err != nil {
		return nil, fmt.Errorf("authenticate for EXPLAIN: %w", err)
	}
	if _, err := svc.ListTickets(ctx, f); err != nil {
		return nil, fmt.Errorf("list tickets for EXPLAIN: %w", err)
	}
	var plans []Plan
	for _, q := range rec.queries {
		args, prepared := rec.args[q]
		p, err := explainQuery(ctx, e.db, q, prepared, args)
		if err != nil {
			return nil, err
		}
		p.Endpoint = endpoint
		plans = append(plans, p)
	}
	return plans, nil
}

// planNode is the part of EXPLAIN's JSON the summary reads.
type planNode struct {
	NodeType       string     `json:"Node Type"`
	Relation       string     `json:"Relation Name"`
	Alias          string     `json:"Alias"`
	Index          string     `json:"Index Name"`
	ActualRows     float64    `json:"Actual Rows"`
	ActualLoops    float64    `json:"Actual Loops"`
	RemovedFilter  float64    `json:"Rows Removed by Filter"`
	RemovedRecheck float64    `json:"Rows Removed by Index Recheck"`
	SharedHit      int64      `json:"Shared Hit Blocks"`
	SharedRead     int64      `json:"Shared Read Blocks"`
	Plans          []planNode `json:"Plans"`
}

// explainQuery explains a statement as the desk runs it. A prepared one is explained with
// its generic plan, the one each connection keeps after its first executions: that plan
// must not grow with the table either.
func explainQuery(ctx context.Context, db *bun.DB, query string, prepared bool, args []any) (Plan, error) {
	var raw string
	if !prepared {
		if err := db.QueryRowContext(ctx, "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "+query).Scan(&raw); err != nil {
			return Plan{}, fmt.Errorf("explain %s: %w", truncate(query, 120), err)
		}
	} else if err := explainPrepared(ctx, db, query, args, &raw); err != nil {
		return Plan{}, fmt.Errorf("explain prepared %s: %w", truncate(query, 120), err)
	}
	var out []struct {
		Plan          planNode `json:"Plan"`
		ExecutionTime float64  `json:"Execution Time"`
	}
	if err := json.Unmarshal([]byte(raw), &out); err != nil || len(out) == 0 {
		return Plan{}, fmt.Errorf("read the plan of %s: %v", truncate(query, 120), err)
	}
	p := Plan{Query: describeQuery(query), Prepared: prepared, Millis: out[0].ExecutionTime, Buffers: out[0].Plan.SharedHit + out[0].Plan.SharedRead}
	var walk func(n planNode)
	walk = func(n planNode) {
		if strings.Contains(n.NodeType, "Scan") && n.Relation != "" {
			read := int64((n.ActualRows + n.RemovedFilter + n.RemovedRecheck) * max(1, n.ActualLoops))
			p.Examined += read
			how := n.NodeType
			if n.Index != "" {
				how += " " + n.Index
			}
			p.Scans = append(p.Scans, fmt.Sprintf("%s on %s (%d rows)", how, n.Relation, read))
			if n.NodeType == "Seq Scan" && bigTables[n.Relation] {
				p.SeqScans = append(p.SeqScans, n.Relation)
			}
		}
		for _, c := range n.Plans {
			walk(c)
		}
	}
	walk(out[0].Plan)
	return p, nil
}

// explainPrepared prepares query on a connection of its own that plans generically, and
// explains one execution with args.
func explainPrepared(ctx context.Context, db *bun.DB, query string, args []any, raw *string) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET plan_cache_mode = force_generic_plan"); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "PREPARE hotline_explain AS "+query); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "DEALLOCATE hotline_explain; RESET plan_cache_mode")
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ")
	return conn.QueryRowContext(ctx, "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE hotline_explain("+marks+")", args...).Scan(raw)
}

// bigTables grow with the desk; reading one whole is what a queue must never do.
var bigTables = map[string]bool{"tickets": true, "customers": true, "customer_identities": true, "messages": true, "events": true, "api_tokens": true}

// describeQuery names a statement by the table it reads first.
func describeQuery(q string) string {
	i := strings.Index(q, " FROM ")
	if i < 0 {
		return truncate(q, 30)
	}
	f := strings.Fields(q[i+6:])
	if len(f) == 0 {
		return truncate(q, 30)
	}
	return "SELECT … FROM " + strings.Trim(f[0], `"`)
}
