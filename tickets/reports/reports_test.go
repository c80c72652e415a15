package reports_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/deadlines"
	"github.com/hotlinedesk/hotline/tickets/reports"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// reportDesk is a desk with surveys on, the holidays seeded, and two routing rules: claims
// (理赔, claim) to the claims team and motor (车险) to the complaints team.
func reportDesk(t *testing.T, db *bun.DB, start time.Time) *desk {
	t.Helper()
	ctx := context.Background()
	d := surveyDesk(t, db)
	d.Clock.Advance(start.Sub(d.Clock.Now()))
	if err := deadlines.New(d.Svc).SeedHolidays(ctx); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*tickets.RoutingRule{
		{Name: "claims", Keywords: "理赔, claim", TeamID: d.Claims.ID, SetCategory: "claims"},
		{Name: "motor", Keywords: "车险", TeamID: d.Complaints.ID, SetCategory: "motor"},
	} {
		if _, err := d.Svc.SaveRoutingRule(ctx, d.Admin, r); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// at moves the desk's clock forward to when.
func (d *desk) at(t *testing.T, when time.Time) {
	t.Helper()
	if when.Before(d.Clock.Now()) {
		t.Fatalf("the clock cannot go back from %v to %v", d.Clock.Now(), when)
	}
	d.Clock.Advance(when.Sub(d.Clock.Now()))
}

func (d *desk) text(t *testing.T, phone, body string) *tickets.Ticket {
	t.Helper()
	res, err := d.Svc.Intake(context.Background(), tickettest.SMS(phone, body, ""))
	if err != nil {
		t.Fatal(err)
	}
	return res.Ticket
}

func (d *desk) reply(t *testing.T, tk *tickets.Ticket) {
	t.Helper()
	if _, err := d.Svc.Reply(context.Background(), d.Admin, tk.Ref(), "我们正在处理 / on it"); err != nil {
		t.Fatal(err)
	}
}

func (d *desk) rate(t *testing.T, phone, score string) {
	t.Helper()
	res, err := d.Svc.Intake(context.Background(), tickettest.SMS(phone, score, ""))
	if err != nil || !res.Answered {
		t.Fatalf("answer the survey with %q: %+v %v", score, res, err)
	}
}

func shareOf(met, total int64) reports.Share { return reports.Share{Met: met, Total: total} }

// The dashboard's figures, worked out by hand from a week of work at a desk in Shanghai.
// Tickets get the default policy: first response within 24h (48h for email), resolution
// within 48h. "Now" is Wednesday 2026-11-25 17:30 in Shanghai.
func TestDashboardFigures(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		start := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC) // Friday 10:00 in Shanghai
		d := reportDesk(t, db, start)
		officer := tickets.AgentActor(d.Officer(t, "officer@example.com"))
		h := func(n int) time.Time { return start.Add(time.Duration(n) * time.Hour) }
		utc := func(day, hour, minute int) time.Time { return time.Date(2026, 11, day, hour, minute, 0, 0, time.UTC) }

		// Friday: four tickets.
		t1 := d.text(t, "+8613900000001", "理赔进度怎么样了")    // answered and resolved in time
		t2 := d.text(t, "+8613900000002", "我的理赔款什么时候到账") // answered late, resolved late
		res, err := d.Svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelEmail, From: tickets.IdentityEmail,
			Address: "kim@example.com", Subject: "Claim form question", Body: "Where do I send the claim form?"})
		if err != nil {
			t.Fatal(err)
		}
		t3 := res.Ticket                             // email: answered after 30h, within its own 48h; never resolved
		t4 := d.text(t, "+8613900000004", "车险定损太慢了") // never answered; waiting on the customer, so its resolution clock stops
		if t1.TeamID == nil || *t1.TeamID != d.Claims.ID || t3.Category != "claims" || t4.TeamID == nil || *t4.TeamID != d.Complaints.ID {
			t.Fatalf("routing: t1 team %v, t3 category %q, t4 team %v", t1.TeamID, t3.Category, t4.TeamID)
		}
		// Letters logged late: one received in September (decided late, its deadline long
		// before the month), one received on 2 November (deadline mid-November, decided late).
		cps := complaints.New(d.Svc)
		c3, err := cps.Open(ctx, d.Admin, complaints.NewComplaint{TicketRef: t3.Ref(), Summary: "lost form", ReceivedAt: time.Date(2026, 9, 15, 2, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		c1, err := cps.Open(ctx, d.Admin, complaints.NewComplaint{TicketRef: t2.Ref(), Summary: "slow payment", ReceivedAt: time.Date(2026, 11, 2, 2, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		monthStart := time.Date(2026, 10, 26, 16, 0, 0, 0, time.UTC) // 27 October, midnight in Shanghai
		if !c3.DeadlineAt.Before(monthStart) || c1.DeadlineAt.Before(monthStart) || !c1.DeadlineAt.Before(start) {
			t.Fatalf("complaint deadlines %v and %v do not fall where the test needs them", c3.DeadlineAt, c1.DeadlineAt)
		}

		d.at(t, h(1))
		mustDo(t)(d.Svc.SetStatus(ctx, d.Admin, t4.Ref(), tickets.StatusPending, "asked for photos"))
		d.at(t, h(2))
		d.reply(t, t1)
		d.at(t, h(10))
		d.Resolve(t, t1)
		d.at(t, h(11))
		d.rate(t, "+8613900000001", "5")
		d.at(t, h(30))
		d.reply(t, t2)
		d.reply(t, t3)
		d.at(t, h(50))
		d.Resolve(t, t2)
		d.at(t, h(51))
		d.rate(t, "+8613900000002", "4")
		if _, err := cps.Decide(ctx, officer, c3.Ref(), "form found", "upheld"); err != nil {
			t.Fatal(err)
		}

		d.at(t, utc(23, 12, 0))                         // Monday 20:00
		t6 := d.text(t, "+8613900000006", "理赔进度查询")     // unanswered: first response missed on Tuesday
		d.at(t, utc(24, 8, 0))                          // Tuesday 16:00
		t7 := d.text(t, "+8613900000007", "理赔申请需要哪些材料") // answered an hour late, this afternoon
		d.at(t, utc(24, 20, 0))                         // Wednesday 04:00: today
		t5 := d.text(t, "+8613900000005", "理赔材料已经寄出")
		d.at(t, utc(24, 21, 0))
		d.reply(t, t5)
		d.at(t, utc(25, 6, 0))
		if _, err := cps.Decide(ctx, officer, c1.Ref(), "paid with interest", "upheld"); err != nil {
			t.Fatal(err)
		}
		c2, err := cps.Open(ctx, d.Admin, complaints.NewComplaint{TicketRef: t4.Ref(), Summary: "rude assessor"})
		if err != nil {
			t.Fatal(err)
		}
		d.at(t, utc(25, 7, 0))
		if _, err := cps.Decide(ctx, officer, c2.Ref(), "apologised", "partly upheld"); err != nil {
			t.Fatal(err)
		}
		d.at(t, utc(25, 8, 0))
		d.Resolve(t, t5)
		d.at(t, utc(25, 8, 30))
		d.rate(t, "+8613900000005", "3")
		d.at(t, utc(25, 9, 0))
		d.reply(t, t7)

		// Who carries what: Li Na has two open tickets and one resolved, Zhang Wei one.
		for tk, who := range map[*tickets.Ticket]tickets.Actor{t6: d.LiNa, t7: d.LiNa, t1: d.LiNa, t3: d.ZhangWei} {
			mustDo(t)(d.Svc.Assign(ctx, d.Admin, tk.Ref(), tickets.Assignment{AssigneeID: &who.Agent.ID}))
		}
		four := 4
		if _, err := d.Svc.UpdateAgent(ctx, d.Admin, d.LiNa.Agent.ID, tickets.AgentUpdate{Capacity: &four}); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Svc.SetOnline(ctx, d.LiNa, true); err != nil {
			t.Fatal(err)
		}
		d.at(t, utc(25, 9, 30)) // now: Wednesday 17:30

		type figures struct {
			first, resolution, complaints reports.Share
			responses                     int64
			average, satisfied            float64
			created                       int64
			channels, categories          string
		}
		near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
		check := func(t *testing.T, name string, r *reports.Report, want figures) {
			t.Helper()
			got := figures{r.FirstResponse, r.Resolution, r.Complaints, r.CSAT.Responses, r.CSAT.Average, r.CSAT.SatisfiedShare,
				r.Created, fmt.Sprint(r.ByChannel), fmt.Sprint(r.ByCategory)}
			if !near(got.average, want.average) || !near(got.satisfied, want.satisfied) {
				t.Errorf("%s: satisfaction %v %v, want %v %v", name, got.average, got.satisfied, want.average, want.satisfied)
			}
			got.average, got.satisfied = want.average, want.satisfied
			if got != want {
				t.Errorf("%s:\n got %+v\nwant %+v", name, got, want)
			}
		}
		claims, motor := d.Claims.ID, d.Complaints.ID
		for _, c := range []struct {
			team         *int64
			today, month figures
			daily        map[int]int64
		}{
			{
				team: nil,
				// Today: t5 answered in time, t7's deadline passed at 16:00 unanswered; t5
				// resolved in time; c2 decided in time (c1 was decided today, but late: it
				// counted when its deadline passed, in November).
				today: figures{first: shareOf(1, 2), resolution: shareOf(1, 1), complaints: shareOf(1, 1),
					responses: 1, average: 3, satisfied: 0, created: 1, channels: "[{sms 1}]", categories: "[{claims 1}]"},
				// The month: first responses met by t1, t3 (email, 48h), t5; missed by t2, t4,
				// t6, t7. Resolutions met by t1, t5; missed by t2 (late) and t3 (never); t4 is
				// paused, t6 and t7 are still running. Complaints: c2 met, c1 missed; c3's
				// deadline was before the month.
				month: figures{first: shareOf(3, 7), resolution: shareOf(2, 4), complaints: shareOf(1, 2),
					responses: 3, average: 4, satisfied: 2.0 / 3, created: 7,
					channels: "[{sms 6} {email 1}]", categories: "[{claims 6} {motor 1}]"},
				daily: map[int]int64{24: 4, 27: 1, 28: 1, 29: 1},
			},
			{
				team: &claims,
				today: figures{first: shareOf(1, 2), resolution: shareOf(1, 1), complaints: shareOf(0, 0),
					responses: 1, average: 3, satisfied: 0, created: 1, channels: "[{sms 1}]", categories: "[{claims 1}]"},
				month: figures{first: shareOf(3, 6), resolution: shareOf(2, 4), complaints: shareOf(0, 1),
					responses: 3, average: 4, satisfied: 2.0 / 3, created: 6,
					channels: "[{sms 5} {email 1}]", categories: "[{claims 6}]"},
				daily: map[int]int64{24: 3, 27: 1, 28: 1, 29: 1},
			},
			{
				team:  &motor,
				today: figures{complaints: shareOf(1, 1), channels: "[]", categories: "[]"},
				month: figures{first: shareOf(0, 1), complaints: shareOf(1, 1), created: 1, channels: "[{sms 1}]", categories: "[{motor 1}]"},
				daily: map[int]int64{24: 1},
			},
		} {
			name := "all teams"
			if c.team != nil {
				name = fmt.Sprintf("team %d", *c.team)
			}
			t.Run(name, func(t *testing.T) {
				dash, err := d.rep.Dashboard(ctx, c.team)
				if err != nil {
					t.Fatal(err)
				}
				if want := time.Date(2026, 11, 24, 16, 0, 0, 0, time.UTC); !dash.Today.From.Equal(want) || !dash.Today.To.Equal(want.Add(24*time.Hour)) {
					t.Errorf("today is %v – %v", dash.Today.From, dash.Today.To)
				}
				if !dash.Month.From.Equal(monthStart) || !dash.Month.To.Equal(dash.Today.To) {
					t.Errorf("the month is %v – %v", dash.Month.From, dash.Month.To)
				}
				check(t, "today", dash.Today, c.today)
				check(t, "month", dash.Month, c.month)
				if len(dash.Month.Daily) != 30 || len(dash.Today.Daily) != 1 {
					t.Fatalf("daily series of %d and %d days", len(dash.Month.Daily), len(dash.Today.Daily))
				}
				var sum int64
				for i, day := range dash.Month.Daily {
					sum += day.N
					if day.N != c.daily[i] {
						t.Errorf("day %d (%s): %d tickets, want %d", i, day.Day.Format("01-02"), day.N, c.daily[i])
					}
				}
				if sum != dash.Month.Created {
					t.Errorf("the days add up to %d, the month has %d", sum, dash.Month.Created)
				}
				if got := dash.Month.Daily[24].Day; got.Format("2006-01-02 15:04 MST") != "2026-11-20 00:00 CST" {
					t.Errorf("day 24 is %s", got.Format("2006-01-02 15:04 MST"))
				}
			})
		}

		// Keywords: the rules' terms count from one ticket, other terms from two; 理赔 is
		// in five tickets, 材料 and 进度 in two. Survey answers ("5") add nothing.
		dash, err := d.rep.Dashboard(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(dash.Keywords); got != "[{理赔 5} {材料 2} {进度 2} {claim 1} {车险 1}]" {
			t.Errorf("keywords %s", got)
		}
		if dash.Sampled != 10 {
			t.Errorf("read %d inbound messages, want 7 first messages and 3 survey answers", dash.Sampled)
		}
		dash, err = d.rep.Dashboard(ctx, &motor)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(dash.Keywords); got != "[{车险 1}]" {
			t.Errorf("motor keywords %s", got)
		}

		// Agents: online first; load is open tickets only, as auto-assignment counts it.
		dash, err = d.rep.Dashboard(ctx, &claims)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range dash.Agents {
			got = append(got, fmt.Sprintf("%s %s online=%v %d/%d %s", a.Email, a.Role, a.Online, a.Load, a.Capacity, a.TeamName))
		}
		want := []string{
			"li.na@example.com agent online=true 2/4 Claims",
			"chen@example.com supervisor online=false 0/10 Claims",
			"zhang.wei@example.com agent online=false 1/10 Claims",
		}
		if !slices.Equal(got, want) {
			t.Errorf("agents:\n got %q\nwant %q", got, want)
		}
		all, err := d.rep.AgentLoads(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range all {
			if a.Role == tickets.RoleAdmin {
				t.Errorf("admin %s listed among agents", a.Email)
			}
		}
		if len(all) != 5 { // three in claims, Wang and the officer in complaints
			t.Errorf("%d agents in all teams", len(all))
		}
	})
}

// A keyword count reads only the most recent messages of the period.
func TestTopKeywordsSample(t *testing.T) {
	db := tickettest.SQLite(t)
	ctx := context.Background()
	start := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)
	d := reportDesk(t, db, start)
	for i, body := range []string{
		"Refund refund please", "refund delayed", // older: outside a sample of three
		"My invoice is wrong", "invoice missing, 发票丢了", "Where is the invoice? 发票",
	} {
		d.at(t, start.Add(time.Duration(i)*time.Minute))
		d.text(t, fmt.Sprintf("+86139000001%02d", i), body)
	}
	from, to := start.Add(-time.Hour), start.Add(time.Hour)
	kws, n, err := d.rep.TopKeywords(ctx, from, to, nil, 10, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(kws); n != 3 || got != "[{invoice 3} {发票 2}]" {
		t.Errorf("sample of 3: %s from %d messages", got, n)
	}
	kws, n, err = d.rep.TopKeywords(ctx, from, to, nil, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(kws); n != 5 || got != "[{invoice 3}]" {
		t.Errorf("top 1 of all: %s from %d messages", got, n)
	}
	// Nothing in the period: nothing to count.
	if kws, n, err := d.rep.TopKeywords(ctx, to, to.Add(time.Hour), nil, 10, 0); err != nil || n != 0 || len(kws) != 0 {
		t.Errorf("empty period: %v %d %v", kws, n, err)
	}
}

// How terms are found in Chinese and English text.
func TestKeywordTerms(t *testing.T) {
	cases := []struct {
		name  string
		texts []string
		want  string
	}{
		{"known words keep straddling pairs out", []string{"理赔进度怎么样了", "请问理赔进度"}, "[{理赔 2} {进度 2}]"},
		{"unknown words as 2-grams", []string{"网点排队太久", "排队两小时"}, "[{排队 2}]"},
		{"function characters and phrases", []string{"谢谢你们，我的天", "谢谢你们，我的天"}, "[]"},
		{"English: lower-cased, stop words out", []string{"The PREMIUM went up", "premium too high, the premium!"}, "[{premium 2}]"},
		{"numbers and short words are not terms", []string{"policy 88001234 ok", "88001234 ok no"}, "[]"},
		{"mixed", []string{"退保 refund please", "我要退保, refund"}, "[{refund 2} {退保 2}]"},
	}
	db := tickettest.SQLite(t)
	ctx := context.Background()
	start := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)
	d := newDesk(t, db)
	d.Clock.Advance(start.Sub(d.Clock.Now()))
	phone := 0
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			from := d.Clock.Now()
			for _, body := range c.texts {
				phone++
				d.text(t, fmt.Sprintf("+86139000002%02d", phone), body)
			}
			d.Clock.Advance(time.Minute)
			kws, _, err := d.rep.TopKeywords(ctx, from, d.Clock.Now(), nil, 10, 0)
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(kws); got != c.want {
				t.Errorf("%q: %s, want %s", c.texts, got, c.want)
			}
		})
	}
}

// Shares without a denominator, and reports that cannot be made.
func TestReportLimits(t *testing.T) {
	if _, ok := (reports.Share{}).Rate(); ok {
		t.Error("an empty share has a rate")
	}
	if r, ok := shareOf(3, 4).Rate(); !ok || r != 0.75 || shareOf(3, 4).Missed() != 1 {
		t.Errorf("3 of 4: %v %v", r, ok)
	}
	db := tickettest.SQLite(t)
	ctx := context.Background()
	d := newDesk(t, db)
	now := d.Clock.Now()
	nobody := int64(999)
	for name, call := range map[string]func() error{
		"end before start":         func() error { _, err := d.rep.Report(ctx, now, now.Add(-time.Hour), nil); return err },
		"a year":                   func() error { _, err := d.rep.Report(ctx, now.AddDate(-1, 0, 0), now, nil); return err },
		"unknown team":             func() error { _, err := d.rep.Report(ctx, now.Add(-time.Hour), now, &nobody); return err },
		"unknown team's dashboard": func() error { _, err := d.rep.Dashboard(ctx, &nobody); return err },
	} {
		if err := call(); !errors.Is(err, tickets.ErrInvalid) {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
	// An empty desk: zeros, not errors; every day present.
	dash, err := d.rep.Dashboard(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if dash.Month.Created != 0 || dash.Month.FirstResponse.Total != 0 || dash.Month.CSAT.Responses != 0 || len(dash.Month.Daily) != 30 || len(dash.Keywords) != 0 {
		t.Errorf("empty desk: %+v", dash.Month)
	}
}

// On a desk with a year of tickets, the dashboard's figures for today and the last 30 days
// are read through indexes: PostgreSQL plans no sequential scan of tickets or complaints.
func TestDashboardPlansUseIndexes(t *testing.T) {
	db := tickettest.Postgres(t)
	ctx := context.Background()
	d := newDesk(t, db)
	now := d.Clock.Now()
	rec := tickettest.RecordQueries(db)

	// A year of tickets, one every ~26 minutes: most answered and resolved in time, some
	// late, some never (their breach recorded); the last days' still running. Each tenth
	// ticket has a complaint.
	seed := []string{
		`INSERT INTO customers (name, created_at, updated_at) VALUES ('load', ?0, ?0)`,
		`INSERT INTO tickets (customer_id, channel, subject, category, priority, status, team_id,
  first_response_due_at, first_responded_at, first_response_breached_at,
  resolution_due_at, resolved_at, resolution_breached_at, sla_started_at, next_due_at, created_at, updated_at)
SELECT (SELECT MAX(id) FROM customers), CASE WHEN i % 3 = 0 THEN 'email' ELSE 'sms' END, 'load ' || i, 'claims', 'normal',
  CASE WHEN x.res IS NOT NULL THEN 'resolved' ELSE 'open' END, CASE WHEN i % 2 = 0 THEN ?1::bigint ELSE ?2::bigint END,
  x.c + interval '24 hours', x.resp, CASE WHEN x.resp IS NULL AND x.c + interval '24 hours' <= ?0 THEN x.c + interval '24 hours' END,
  x.c + interval '48 hours', x.res, CASE WHEN x.res IS NULL AND x.c + interval '48 hours' <= ?0 THEN x.c + interval '48 hours' END,
  x.c, x.c + interval '24 hours', x.c, x.c
FROM (SELECT i, c,
    CASE WHEN c > ?0::timestamptz - interval '2 days' OR i % 10 = 0 THEN NULL WHEN i % 10 = 1 THEN c + interval '30 hours' ELSE c + (i % 7) * interval '1 hour' END AS resp,
    CASE WHEN c > ?0::timestamptz - interval '4 days' OR i % 5 = 0 THEN NULL WHEN i % 5 = 1 THEN c + interval '60 hours' ELSE c + interval '20 hours' END AS res
  FROM (SELECT i, ?0::timestamptz - i * interval '1577 seconds' AS c FROM generate_series(1, 20000) AS i) AS g) AS x`,
		`INSERT INTO complaints (ticket_id, source, summary, received_at, due_at, deadline_at, status, decided_at, breached_at, created_at, updated_at)
SELECT id, 'customer', 'load', created_at, created_at + interval '14 days', created_at + interval '14 days',
  CASE WHEN created_at + interval '20 days' <= ?0 AND id % 4 <> 0 THEN 'decided' ELSE 'investigating' END,
  CASE WHEN created_at + interval '20 days' > ?0 OR id % 4 = 0 THEN NULL WHEN id % 4 = 1 THEN created_at + interval '20 days' ELSE created_at + interval '5 days' END,
  CASE WHEN id % 4 = 0 AND created_at + interval '14 days' <= ?0 THEN created_at + interval '14 days' END,
  created_at, created_at
FROM tickets WHERE id % 10 = 0`,
		`ANALYZE customers, tickets, complaints`,
	}
	for _, q := range seed {
		if _, err := db.ExecContext(ctx, q, now, d.Claims.ID, d.Complaints.ID); err != nil {
			t.Fatalf("seed: %v", err)
		}
	}

	check := func(t *testing.T, queries []string, mustSee ...string) {
		t.Helper()
		seen := map[string]bool{}
		for _, q := range queries {
			if !strings.HasPrefix(strings.TrimSpace(q), "SELECT") {
				continue
			}
			nodes := tickettest.Explain(t, db, q)
			for _, n := range nodes {
				switch {
				case n.Relation == "":
				case n.NodeType == "Seq Scan" && (n.Relation == "tickets" || n.Relation == "complaints"):
					t.Errorf("a sequential scan of %s in\n%s\nplan: %q", n.Relation, q, tickettest.Scans(nodes))
				}
			}
			for _, s := range mustSee {
				if strings.Contains(q, s) {
					seen[s] = true
					t.Logf("%s…: %q", s, tickettest.Scans(nodes))
				}
			}
		}
		for _, s := range mustSee {
			if !seen[s] {
				t.Errorf("no query with %q was planned", s)
			}
		}
	}

	for _, team := range []*int64{nil, &d.Claims.ID} {
		dash, err := d.rep.Dashboard(ctx, team)
		if err != nil {
			t.Fatal(err)
		}
		if team == nil && (dash.Month.Created < 1500 || dash.Month.FirstResponse.Total == 0 || dash.Month.Resolution.Total == 0 ||
			dash.Month.Complaints.Total == 0 || dash.Today.Created == 0) {
			t.Fatalf("the seeded desk's figures: today %+v month %+v", dash.Today, dash.Month)
		}
		// The deadline counts, the complaint counts, the volumes and the daily series, for
		// today and for the month.
		check(t, rec.Take(), "first_response_due_at", "complaints", "GROUP BY t.channel", "GROUP BY t.category", "GROUP BY x.day")

		// The live floor: the unanswered tickets, the deadlines of the next hour, the
		// complaints of the week.
		if _, err := d.rep.Floor(ctx, d.Admin.Agent, team); err != nil {
			t.Fatal(err)
		}
		check(t, rec.Take(), "GROUP BY t.team_id", "UNION ALL", "deadline_at < ")
	}
}

// What retention or a customer's request erased is no keyword: "[erased]" texts are left
// out of the count, bodies and subjects alike.
func TestTopKeywordsLeaveOutErased(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		start := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)
		d := reportDesk(t, db, start)
		for i, body := range []string{"invoice missing", "invoice wrong", "refund erased soon", "refund please"} {
			d.at(t, start.Add(time.Duration(i)*time.Minute))
			d.text(t, fmt.Sprintf("+86139000002%02d", i), body)
		}
		// Erase the last two as tickets/privacy does: body, subject, the stamp.
		if _, err := db.NewUpdate().Table("messages").Set("body = ?, erased_at = ?", tickets.ErasedText, start).
			Where("body LIKE ?", "refund%").Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := db.NewUpdate().Table("tickets").Set("subject = ?", tickets.ErasedText).
			Where("subject LIKE ?", "refund%").Exec(ctx); err != nil {
			t.Fatal(err)
		}
		kws, n, err := d.rep.TopKeywords(ctx, start.Add(-time.Hour), start.Add(time.Hour), nil, 10, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(kws); n != 2 || got != "[{invoice 2}]" {
			t.Errorf("keywords %s from %d messages, want [{invoice 2}] from 2", got, n)
		}
	})
}
