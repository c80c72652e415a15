package reports_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/reports"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// scorecardWeek is the week of the scorecard fixture: Monday 16 to Sunday 22 November
// 2026 in Shanghai, [16th 00:00, 23rd 00:00).
var (
	weekFrom = time.Date(2026, 11, 15, 16, 0, 0, 0, time.UTC)
	weekTo   = time.Date(2026, 11, 22, 16, 0, 0, 0, time.UTC)
)

// scorecardFixture is a week of Li Na's and Zhang Wei's work in the Claims team, each
// figure worked out by hand in the comments of TestScorecardFigures.
type scorecardFixture struct {
	*desk
	a, b, c, dd, e *tickets.Ticket
}

func buildScorecardWeek(t *testing.T, db *bun.DB) *scorecardFixture {
	t.Helper()
	ctx := context.Background()
	start := time.Date(2026, 11, 16, 2, 0, 0, 0, time.UTC) // Monday 10:00 in Shanghai
	d := reportDesk(t, db, start)
	care := aftercare.New(d.Svc, aftercare.Config{Surveys: true, FollowUpOffsets: []time.Duration{0}}) // the same-day call only
	d.Svc.SetAftercare(care)
	officer := tickets.AgentActor(d.Officer(t, "officer@example.com"))
	f := &scorecardFixture{desk: d}
	h := func(n int) time.Time { return start.Add(time.Duration(n) * time.Hour) }
	assign := func(tk *tickets.Ticket, who tickets.Actor) {
		t.Helper()
		if _, err := d.Svc.Assign(ctx, d.Admin, tk.Ref(), tickets.Assignment{AssigneeID: &who.Agent.ID}); err != nil {
			t.Fatal(err)
		}
	}
	complete := func(tk *tickets.Ticket, who tickets.Actor) {
		t.Helper()
		var id int64
		if err := db.NewSelect().Table("followups").Column("id").Where("ticket_id = ?", tk.ID).Scan(ctx, &id); err != nil {
			t.Fatal(err)
		}
		if _, err := care.CompleteFollowUp(ctx, who, id, "called, all fine"); err != nil {
			t.Fatal(err)
		}
	}
	cps := complaints.New(d.Svc)
	openComplaint := func(tk *tickets.Ticket) *complaints.Complaint {
		t.Helper()
		c, err := cps.Open(ctx, d.Admin, complaints.NewComplaint{TicketRef: tk.Ref(), Summary: "slow"})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	f.a = d.text(t, "+8613900000001", "理赔进度怎么样了")
	f.b = d.text(t, "+8613900000002", "我的理赔款什么时候到账")
	f.c = d.text(t, "+8613900000003", "理赔材料要寄到哪里")
	f.dd = d.text(t, "+8613900000004", "理赔申请提交了吗")
	f.e = d.text(t, "+8613900000005", "理赔还没有消息")
	for _, tk := range []*tickets.Ticket{f.a, f.b, f.c, f.e} {
		assign(tk, d.LiNa)
	}
	assign(f.dd, d.ZhangWei)

	d.at(t, h(1))
	cb := openComplaint(f.b)
	d.reply(t, f.dd)
	d.at(t, h(2))
	d.reply(t, f.a)
	d.at(t, h(3))
	d.reply(t, f.c)
	d.at(t, h(4))
	cc := openComplaint(f.c)
	d.at(t, h(5))
	d.Resolve(t, f.dd)
	d.at(t, h(6))
	d.rate(t, "+8613900000004", "4")
	complete(f.dd, d.ZhangWei)
	d.at(t, h(10))
	d.Resolve(t, f.a)
	d.at(t, h(11))
	d.rate(t, "+8613900000001", "5")
	d.at(t, h(12))
	complete(f.a, d.LiNa)
	d.at(t, h(24))
	if _, err := cps.Decide(ctx, officer, cc.Ref(), "documents found", "upheld"); err != nil {
		t.Fatal(err)
	}
	d.at(t, h(30))
	d.reply(t, f.b)
	d.at(t, h(50))
	d.Resolve(t, f.b)
	d.at(t, h(51))
	d.rate(t, "+8613900000002", "2")

	// Quality reviews are written by another chapter; the scorecard only averages them.
	for _, r := range []struct {
		tk    *tickets.Ticket
		score float64
		at    time.Time
	}{{f.a, 90, h(20)}, {f.b, 70, h(60)}, {f.c, 10, time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)}} {
		if _, err := db.ExecContext(ctx, "INSERT INTO quality_reviews (ticket_id, agent_id, reviewer_id, score, created_at) VALUES (?, ?, ?, ?, ?)",
			r.tk.ID, d.LiNa.Agent.ID, d.Chen.Agent.ID, r.score, r.at); err != nil {
			t.Fatal(err)
		}
	}
	// B's complaint is decided on 3 December, after its 10 working days (30 November).
	d.at(t, time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC))
	if !cb.DueAt.Before(d.Clock.Now()) {
		t.Fatalf("B's complaint is due %v, not before the decision", cb.DueAt)
	}
	if _, err := cps.Decide(ctx, officer, cb.Ref(), "paid late", "upheld"); err != nil {
		t.Fatal(err)
	}
	d.at(t, time.Date(2026, 12, 10, 2, 0, 0, 0, time.UTC))
	return f
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// The figures of one week, worked out by hand. Tickets come in on Monday 16 November at
// 10:00 in Shanghai with the default policy: first response within 24 h, resolution within
// 48 h (hour n below is n hours later).
//
//	A (Li Na)     answered h2, resolved h10, rated 5, follow-up made h12; reviewed 90
//	B (Li Na)     complaint h1 (decided 3 Dec, after its 10 working days), answered h30
//	              (late), resolved h50 (late), rated 2, follow-up never made; reviewed 70
//	C (Li Na)     answered h3, complaint h4 decided h24, never resolved (due h48);
//	              reviewed 10 on 25 November (outside the week)
//	D (Zhang Wei) answered h1, resolved h5, rated 4, follow-up made h6
//	E (Li Na)     never answered (due h24), never resolved (due h48)
//
// Li Na: handled A B = 2; first response met A C, missed B E = 2/4; resolution met A,
// missed B C E = 1/4; complaints B C opened, C on time, B late = 1/2; follow-ups A on
// time, B missed = 1/2; CSAT 5 and 2: 2 answers, 3.5, 50%; reviews 90 and 70: 2, 80.
// Zhang Wei: 1; 1/1; 1/1; none; 1/1; one 4: 4.0, 100%; no review.
// Claims: 3; 3/5; 2/5; 1/2; 2/3; 3 answers, 11/3, 2/3; 2 reviews, 80.
func TestScorecardFigures(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		f := buildScorecardWeek(t, db)
		li, zhang := f.LiNa.Agent.ID, f.ZhangWei.Agent.ID

		mine, err := f.rep.AgentScorecard(ctx, f.LiNa, li, weekFrom, weekTo)
		if err != nil {
			t.Fatal(err)
		}
		want := reports.Scorecard{Handled: 2, FirstResponse: shareOf(2, 4), Resolution: shareOf(1, 4),
			Complaints: reports.ComplaintFigures{Opened: 2, OnTime: 1, Late: 1}, FollowUps: shareOf(1, 2),
			CSAT: reports.Satisfaction{Responses: 2, Average: 3.5, SatisfiedShare: 0.5}, Reviews: reports.ReviewFigures{N: 2, Average: 80}}
		if mine.Card != want {
			t.Errorf("Li Na's week:\n got %+v\nwant %+v", mine.Card, want)
		}

		team, err := f.rep.TeamScorecard(ctx, f.Chen, f.Claims.ID, weekFrom, weekTo)
		if err != nil {
			t.Fatal(err)
		}
		c := team.Card
		if c.Handled != 3 || c.FirstResponse != shareOf(3, 5) || c.Resolution != shareOf(2, 5) || c.Complaints.Decided() != shareOf(1, 2) ||
			c.FollowUps != shareOf(2, 3) || c.CSAT.Responses != 3 || !near(c.CSAT.Average, 11.0/3) || !near(c.CSAT.SatisfiedShare, 2.0/3) ||
			c.Reviews != (reports.ReviewFigures{N: 2, Average: 80}) || team.Others != nil {
			t.Errorf("Claims' week: %+v (others %+v)", c, team.Others)
		}
		lines := map[int64]reports.Scorecard{}
		for _, l := range team.Agents {
			lines[l.ID] = l.Card
		}
		if len(team.Agents) != 3 || lines[li] != want { // Li Na, Zhang Wei and Chen, the supervisor
			t.Errorf("Claims' agents: %+v", team.Agents)
		}
		wantZhang := reports.Scorecard{Handled: 1, FirstResponse: shareOf(1, 1), Resolution: shareOf(1, 1), FollowUps: shareOf(1, 1),
			CSAT: reports.Satisfaction{Responses: 1, Average: 4, SatisfiedShare: 1}}
		if lines[zhang] != wantZhang {
			t.Errorf("Zhang Wei's line: %+v, want %+v", lines[zhang], wantZhang)
		}

		// The tickets behind each of Li Na's figures.
		refs := func(ts ...*tickets.Ticket) []string {
			var out []string
			for _, tk := range ts {
				out = append(out, tk.Ref())
			}
			slices.Sort(out)
			return out
		}
		for fig, wantRefs := range map[reports.Figure][]string{
			reports.FigHandled:          refs(f.a, f.b),
			reports.FigFirstMet:         refs(f.a, f.c),
			reports.FigFirstMissed:      refs(f.b, f.e),
			reports.FigResolutionMet:    refs(f.a),
			reports.FigResolutionMissed: refs(f.b, f.c, f.e),
			reports.FigComplaints:       refs(f.b, f.c),
			reports.FigComplaintsOnTime: refs(f.c),
			reports.FigComplaintsLate:   refs(f.b),
			reports.FigFollowUpsOnTime:  refs(f.a),
			reports.FigFollowUpsMissed:  refs(f.b),
			reports.FigCSAT:             refs(f.a, f.b),
			reports.FigCSATDissatisfied: refs(f.b),
			reports.FigReviews:          refs(f.a, f.b),
		} {
			list, err := f.rep.ScorecardTickets(ctx, f.Chen, reports.Scope{AgentID: &li}, fig, weekFrom, weekTo)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, tk := range list {
				got = append(got, tk.Ref())
			}
			slices.Sort(got)
			if !slices.Equal(got, wantRefs) {
				t.Errorf("Li Na's %s: %v, want %v", fig, got, wantRefs)
			}
			if fig == reports.FigCSATDissatisfied && (len(list) != 1 || list[0].Score == nil || *list[0].Score != 2) {
				t.Errorf("the dissatisfied answer's score: %+v", list)
			}
		}
		teamList, err := f.rep.ScorecardTickets(ctx, f.Admin, reports.Scope{TeamID: &f.Claims.ID}, reports.FigHandled, weekFrom, weekTo)
		if err != nil || len(teamList) != 3 {
			t.Errorf("Claims' handled tickets: %+v %v", teamList, err)
		}

		// The week before holds nothing of theirs.
		empty, err := f.rep.AgentScorecard(ctx, f.Admin, li, weekFrom.AddDate(0, 0, -7), weekFrom)
		if err != nil || empty.Card != (reports.Scorecard{}) {
			t.Errorf("the week before: %+v %v", empty, err)
		}
	})
}

// An agent's scorecard is theirs, their team's supervisors' and the admins'; a team's is
// its supervisors' and the admins'.
func TestScorecardPermissions(t *testing.T) {
	db := tickettest.SQLite(t)
	ctx := context.Background()
	d := reportDesk(t, db, tickettest.T0)
	otherSup := d.Agent(t, "motor.sup@example.com", tickets.RoleSupervisor, d.Complaints)
	li := d.LiNa.Agent.ID
	from, to := tickettest.T0.AddDate(0, 0, -7), tickettest.T0
	for _, c := range []struct {
		name      string
		who       tickets.Actor
		agent     bool // may read Li Na's
		teamClaim bool // may read Claims'
	}{
		{"Li Na herself", d.LiNa, true, false},
		{"a peer agent", d.ZhangWei, false, false},
		{"her supervisor", d.Chen, true, true},
		{"another team's supervisor", otherSup, false, false},
		{"an admin", d.Admin, true, true},
	} {
		_, err := d.rep.AgentScorecard(ctx, c.who, li, from, to)
		if (err == nil) != c.agent || (err != nil && !errors.Is(err, tickets.ErrForbidden)) {
			t.Errorf("%s reading Li Na's scorecard: %v", c.name, err)
		}
		_, err = d.rep.ScorecardTickets(ctx, c.who, reports.Scope{AgentID: &li}, reports.FigHandled, from, to)
		if (err == nil) != c.agent {
			t.Errorf("%s listing Li Na's tickets: %v", c.name, err)
		}
		_, err = d.rep.TeamScorecard(ctx, c.who, d.Claims.ID, from, to)
		if (err == nil) != c.teamClaim || (err != nil && !errors.Is(err, tickets.ErrForbidden)) {
			t.Errorf("%s reading Claims' scorecard: %v", c.name, err)
		}
		_, err = d.rep.ScorecardTickets(ctx, c.who, reports.Scope{TeamID: &d.Claims.ID}, reports.FigHandled, from, to)
		if (err == nil) != c.teamClaim {
			t.Errorf("%s listing Claims' tickets: %v", c.name, err)
		}
	}
	for name, call := range map[string]func() error{
		"end before start": func() error { _, err := d.rep.AgentScorecard(ctx, d.Admin, li, to, from); return err },
		"two years": func() error {
			_, err := d.rep.TeamScorecard(ctx, d.Admin, d.Claims.ID, to.AddDate(-2, 0, 0), to)
			return err
		},
		"no such figure": func() error {
			_, err := d.rep.ScorecardTickets(ctx, d.Admin, reports.Scope{AgentID: &li}, "bogus", from, to)
			return err
		},
		"no scope": func() error {
			_, err := d.rep.ScorecardTickets(ctx, d.Admin, reports.Scope{}, reports.FigHandled, from, to)
			return err
		},
	} {
		if err := call(); !errors.Is(err, tickets.ErrInvalid) {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
	if _, err := d.rep.TeamScorecard(ctx, d.Admin, 9999, from, to); !errors.Is(err, tickets.ErrNotFound) {
		t.Errorf("no such team: %v", err)
	}
}

// Targets start at the insurers' levels, are set by admins only (with an audit event), and
// judge each figure.
func TestScorecardTargets(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		got, err := d.rep.Targets(ctx)
		if err != nil || *got.Satisfied != 95 || *got.FirstResponse != 90 || *got.FollowUps != 100 {
			t.Fatalf("default targets: %+v %v", got, err)
		}
		set := reports.Targets{Satisfied: ptr(90.0), FollowUps: ptr(100.0)}
		if err := d.rep.SetTargets(ctx, d.Chen, set); !errors.Is(err, tickets.ErrForbidden) {
			t.Errorf("a supervisor setting targets: %v", err)
		}
		if err := d.rep.SetTargets(ctx, d.Admin, reports.Targets{Satisfied: ptr(120.0)}); !errors.Is(err, tickets.ErrInvalid) {
			t.Errorf("a target of 120%%: %v", err)
		}
		if err := d.rep.SetTargets(ctx, d.Admin, reports.Targets{Satisfied: ptr(math.NaN())}); !errors.Is(err, tickets.ErrInvalid) {
			t.Errorf("a target of NaN: %v", err)
		}
		for range 2 {
			if err := d.rep.SetTargets(ctx, d.Admin, set); err != nil {
				t.Fatal(err)
			}
		}
		got, err = d.rep.Targets(ctx)
		if err != nil || got.FirstResponse != nil || *got.Satisfied != 90 || *got.FollowUps != 100 {
			t.Errorf("saved targets: %+v %v", got, err)
		}
		if n := tickettest.CountEvents(t, db, "scorecard.targets_changed"); n != 2 {
			t.Errorf("%d audit events, want 2", n)
		}
		for _, c := range []struct {
			target *float64
			value  float64
			ok     bool
			points bool
			want   reports.Verdict
		}{
			{ptr(95.0), 0.95, true, false, reports.Met},
			{ptr(95.0), 0.9499, true, false, reports.NotMet},
			{ptr(100.0), 1, true, false, reports.Met},
			{ptr(80.0), 80, true, true, reports.Met},
			{ptr(80.0), 79.9, true, true, reports.NotMet},
			{ptr(90.0), 0, false, false, reports.NoData},
			{nil, 0.5, true, false, reports.NoTarget},
		} {
			if got := reports.Judge(c.target, c.value, c.ok, c.points); got != c.want {
				t.Errorf("Judge(%v, %v, %v, %v) = %v, want %v", *orZero(c.target), c.value, c.ok, c.points, got, c.want)
			}
		}
	})
}

func ptr[T any](v T) *T { return &v }

func orZero(p *float64) *float64 {
	if p == nil {
		return new(float64)
	}
	return p
}

// At 100,000 tickets (a year and a half of work, with their complaints, follow-up calls,
// surveys and reviews), an agent's and a team's scorecard for a month and the ticket lists
// behind each figure are read through indexes: PostgreSQL plans no sequential scan of the
// tables that grow.
func TestScorecardPlansUseIndexes(t *testing.T) {
	db := tickettest.Postgres(t)
	ctx := context.Background()
	d := newDesk(t, db)
	now := d.Clock.Now()
	rec := tickettest.RecordQueries(db)
	seed := []string{
		`INSERT INTO customers (name, created_at, updated_at) VALUES ('load', ?0, ?0)`,
		`INSERT INTO tickets (customer_id, channel, subject, category, priority, status, team_id, assignee_id,
  first_response_due_at, first_responded_at, first_response_breached_at,
  resolution_due_at, resolved_at, resolution_breached_at, sla_started_at, next_due_at, created_at, updated_at)
SELECT (SELECT MAX(id) FROM customers), 'sms', 'load ' || i, 'claims', 'normal',
  CASE WHEN x.res IS NOT NULL THEN 'resolved' ELSE 'open' END, CASE WHEN i % 3 = 2 THEN ?2::bigint ELSE ?1::bigint END,
  CASE i % 3 WHEN 0 THEN ?3::bigint WHEN 1 THEN ?4::bigint ELSE ?5::bigint END,
  x.c + interval '24 hours', x.resp, CASE WHEN x.resp IS NULL AND x.c + interval '24 hours' <= ?0 THEN x.c + interval '24 hours' END,
  x.c + interval '48 hours', x.res, CASE WHEN x.res IS NULL AND x.c + interval '48 hours' <= ?0 THEN x.c + interval '48 hours' END,
  x.c, x.c + interval '24 hours', x.c, x.c
FROM (SELECT i, c,
    CASE WHEN c > ?0::timestamptz - interval '2 days' OR i % 10 = 0 THEN NULL WHEN i % 10 = 1 THEN c + interval '30 hours' ELSE c + (i % 7) * interval '1 hour' END AS resp,
    CASE WHEN c > ?0::timestamptz - interval '4 days' OR i % 5 = 0 THEN NULL WHEN i % 5 = 1 THEN c + interval '60 hours' ELSE c + interval '20 hours' END AS res
  FROM (SELECT i, ?0::timestamptz - i * interval '500 seconds' AS c FROM generate_series(?7::int, ?7::int + 9999) AS i) AS g) AS x`,
		`INSERT INTO complaints (ticket_id, source, summary, received_at, due_at, deadline_at, status, decided_at, created_at, updated_at)
SELECT id, 'customer', 'load', created_at, created_at + interval '14 days', created_at + interval '14 days',
  CASE WHEN id % 4 = 0 THEN 'investigating' ELSE 'decided' END, CASE WHEN id % 4 = 0 THEN NULL ELSE created_at + (id % 20) * interval '1 day' END,
  created_at, created_at
FROM tickets WHERE id % 10 = 0`,
		`INSERT INTO followups (ticket_id, offset_seconds, team_id, assignee_id, status, due_at, completed_at, created_at, updated_at)
SELECT id, 0, team_id, assignee_id, CASE WHEN id % 4 = 0 THEN 'open' ELSE 'done' END, resolved_at + interval '1 day',
  CASE WHEN id % 4 = 0 THEN NULL ELSE resolved_at + (id % 30) * interval '1 hour' END, resolved_at, resolved_at
FROM tickets WHERE resolved_at IS NOT NULL`,
		`INSERT INTO surveys (ticket_id, customer_id, agent_id, team_id, channel, token_hash, expires_at, score, answered_at, created_at)
SELECT id, customer_id, assignee_id, team_id, 'sms', 'load' || id, resolved_at + interval '7 days', id % 5 + 1, resolved_at + interval '3 hours', resolved_at
FROM tickets WHERE resolved_at IS NOT NULL AND id % 3 = 0`,
		`INSERT INTO quality_reviews (ticket_id, agent_id, reviewer_id, score, created_at)
SELECT id, assignee_id, ?6::bigint, 50 + id % 50, created_at + interval '3 days' FROM tickets WHERE id % 20 = 0`,
		`ANALYZE customers, tickets, complaints, followups, surveys, quality_reviews, agents`,
	}
	for _, q := range seed {
		batches := 1
		if strings.Contains(q, "generate_series") {
			batches = 10 // a statement at a time stays within the connection's timeout
		}
		for b := range batches {
			if _, err := db.ExecContext(ctx, q, now, d.Claims.ID, d.Complaints.ID, d.LiNa.Agent.ID, d.ZhangWei.Agent.ID, d.Wang.Agent.ID, d.Chen.Agent.ID, 1+b*10000); err != nil {
				t.Fatalf("seed: %v", err)
			}
		}
	}
	rec.Take()
	grown := map[string]bool{"tickets": true, "complaints": true, "followups": true, "surveys": true, "quality_reviews": true}
	check := func(what string) {
		t.Helper()
		planned := 0
		for _, q := range rec.Take() {
			if !strings.Contains(q, "UNION ALL") && !strings.Contains(q, "AS x ORDER BY") {
				continue // the agent, team and targets lookups
			}
			planned++
			nodes := tickettest.Explain(t, db, q)
			for _, n := range nodes {
				if n.NodeType == "Seq Scan" && grown[n.Relation] {
					t.Errorf("%s: a sequential scan of %s; plan %q", what, n.Relation, tickettest.Scans(nodes))
				}
			}
		}
		if planned == 0 {
			t.Errorf("%s: no query was planned", what)
		}
	}
	to := now.Truncate(24 * time.Hour)
	from := to.AddDate(0, 0, -30)
	li := d.LiNa.Agent.ID
	card, err := d.rep.AgentScorecard(ctx, d.Admin, li, from, to)
	if err != nil || card.Card.Handled < 1000 || card.Card.FollowUps.Total == 0 || card.Card.CSAT.Responses == 0 || card.Card.Reviews.N == 0 || card.Card.Complaints.Opened == 0 {
		t.Fatalf("the seeded agent's month: %+v %v", card, err)
	}
	check("an agent's scorecard")
	team, err := d.rep.TeamScorecard(ctx, d.Admin, d.Claims.ID, from, to)
	if err != nil || team.Card.Handled < 2*card.Card.Handled-100 {
		t.Fatalf("the seeded team's month: %+v %v", team, err)
	}
	check("a team's scorecard")
	for _, fig := range reports.Figures {
		if _, err := d.rep.ScorecardTickets(ctx, d.Admin, reports.Scope{AgentID: &li}, fig, from, to); err != nil {
			t.Fatal(err)
		}
		check("an agent's " + string(fig))
		if _, err := d.rep.ScorecardTickets(ctx, d.Admin, reports.Scope{TeamID: &d.Claims.ID}, fig, from, to); err != nil {
			t.Fatal(err)
		}
		check("a team's " + string(fig))
	}
}
