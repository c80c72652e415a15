package tickettest

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"
)

// Queries records the SQL sent on a database, as sent, so that a test can ask PostgreSQL
// how it plans each one (Explain).
type Queries struct {
	mu      sync.Mutex
	queries []string
}

// RecordQueries starts recording the queries sent on db.
func RecordQueries(db *bun.DB) *Queries {
	q := &Queries{}
	db.AddQueryHook(q)
	return q
}

func (q *Queries) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	q.mu.Lock()
	q.queries = append(q.queries, e.Query)
	q.mu.Unlock()
	return ctx
}

func (q *Queries) AfterQuery(context.Context, *bun.QueryEvent) {}

// Take returns the queries recorded since the last Take.
func (q *Queries) Take() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.queries
	q.queries = nil
	return out
}

// PlanNode is one node of PostgreSQL's EXPLAIN (FORMAT JSON) plan.
type PlanNode struct {
	NodeType string     `json:"Node Type"`
	Relation string     `json:"Relation Name"`
	Index    string     `json:"Index Name"`
	Filter   string     `json:"Filter"`
	Plans    []PlanNode `json:"Plans"`
}

// Explain plans one query on PostgreSQL and returns every node of the plan, walking the
// whole tree (init plans and subplans included).
func Explain(t testing.TB, db *bun.DB, query string) []PlanNode {
	t.Helper()
	var raw string
	// The driver directly: bun would read "?" in the query's literals as placeholders.
	if err := db.DB.QueryRowContext(context.Background(), "EXPLAIN (FORMAT JSON) "+query).Scan(&raw); err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	var out []struct {
		Plan PlanNode `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(raw), &out); err != nil || len(out) != 1 {
		t.Fatalf("explain %s: %v (%s)", query, err, raw)
	}
	var nodes []PlanNode
	var walk func(n PlanNode)
	walk = func(n PlanNode) {
		nodes = append(nodes, n)
		for _, c := range n.Plans {
			walk(c)
		}
	}
	walk(out[0].Plan)
	return nodes
}

// Scans describes how a plan reads tables: "Seq Scan tickets", "Index Scan
// events_kind_idx", ...
func Scans(nodes []PlanNode) []string {
	var out []string
	for _, n := range nodes {
		if n.Relation != "" {
			out = append(out, strings.TrimSpace(n.NodeType+" "+n.Relation+" "+n.Index))
		}
	}
	return out
}
