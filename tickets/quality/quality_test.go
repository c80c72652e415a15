package quality_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/quality"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

var ctx = context.Background()

type desk struct {
	*tickettest.Desk
	q      *quality.Service
	db     *bun.DB
	phones int
}

func newDesk(t *testing.T, db *bun.DB) *desk {
	t.Helper()
	clock := tickettest.NewClock(tickettest.T0)
	d := tickettest.NewDesk(t, tickettest.Service(db, clock), clock)
	return &desk{Desk: d, q: quality.New(d.Svc), db: db}
}

// handled opens a ticket, gives it to agent and resolves it after the clock moved by took.
func (d *desk) handled(t *testing.T, agent tickets.Actor, took time.Duration) *tickets.Ticket {
	t.Helper()
	d.phones++
	tk := d.Ticket(t, fmt.Sprintf("+86138001380%02d", d.phones))
	if _, err := d.Svc.Assign(ctx, d.Admin, tk.Ref(), tickets.Assignment{AssigneeID: &agent.Agent.ID}); err != nil {
		t.Fatal(err)
	}
	d.Clock.Advance(took)
	d.Resolve(t, tk)
	return tk
}

// rubric is the desk's two-criterion rubric: greeting (30%, 5 marks), solution (70%, 10).
func (d *desk) rubric(t *testing.T) *quality.Rubric {
	t.Helper()
	r, err := d.q.CreateRubric(ctx, d.Admin, quality.RubricInput{Name: "Calls", Criteria: []quality.Criterion{
		{NameZH: "礼貌用语", NameEN: "Greeting", Weight: 30, Max: 5},
		{NameZH: "解决问题", NameEN: "Solution", Weight: 70, Max: 10, DescEN: "Was the problem solved?"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func marks(greeting, solution int) map[string]int {
	return map[string]int{"k1": greeting, "k2": solution}
}

// TestRubrics: admins keep rubrics; each criterion is named in both languages, the weights
// add up to 100; an edit is a new version and the reviews scored before keep theirs.
func TestRubrics(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newDesk(t, db)
		ok := []quality.Criterion{{NameZH: "礼貌", NameEN: "Courtesy", Weight: 40, Max: 5}, {NameZH: "准确", NameEN: "Accuracy", Weight: 60, Max: 5}}
		with := func(f func(c []quality.Criterion) []quality.Criterion) []quality.Criterion {
			return f(slices.Clone(ok))
		}
		for _, c := range []struct {
			what string
			as   tickets.Actor
			in   quality.RubricInput
			want string // part of the refusal; "" saves
		}{
			{"agent", d.LiNa, quality.RubricInput{Name: "R", Criteria: ok}, "only admins"},
			{"supervisor", d.Chen, quality.RubricInput{Name: "R", Criteria: ok}, "only admins"},
			{"no name", d.Admin, quality.RubricInput{Name: " ", Criteria: ok}, "needs a name"},
			{"no criteria", d.Admin, quality.RubricInput{Name: "R"}, "at least one criterion"},
			{"no Chinese name", d.Admin, quality.RubricInput{Name: "R", Criteria: with(func(c []quality.Criterion) []quality.Criterion { c[1].NameZH = ""; return c })}, "criterion 2 needs a Chinese name"},
			{"no English name", d.Admin, quality.RubricInput{Name: "R", Criteria: with(func(c []quality.Criterion) []quality.Criterion { c[0].NameEN = " "; return c })}, "criterion 1 needs an English name"},
			{"weights short of 100", d.Admin, quality.RubricInput{Name: "R", Criteria: with(func(c []quality.Criterion) []quality.Criterion { c[0].Weight = 30; return c })}, "add up to 90, not 100"},
			{"zero weight", d.Admin, quality.RubricInput{Name: "R", Criteria: with(func(c []quality.Criterion) []quality.Criterion { c[0].Weight = 0; c[1].Weight = 100; return c })}, "weight must be between 1 and 100"},
			{"no marks", d.Admin, quality.RubricInput{Name: "R", Criteria: with(func(c []quality.Criterion) []quality.Criterion { c[1].Max = 0; return c })}, "most marks must be between 1 and 100"},
			{"same name twice", d.Admin, quality.RubricInput{Name: "R", Criteria: with(func(c []quality.Criterion) []quality.Criterion { c[1].NameEN = "courtesy"; return c })}, "name of another"},
			{"long description", d.Admin, quality.RubricInput{Name: "R", Criteria: with(func(c []quality.Criterion) []quality.Criterion {
				c[0].DescZH = strings.Repeat("长", quality.MaxDescription+1)
				return c
			})}, "description is longer"},
			{"admin", d.Admin, quality.RubricInput{Name: "Calls", Criteria: ok}, ""},
		} {
			_, err := d.q.CreateRubric(ctx, c.as, c.in)
			if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(tickets.Reason(err), c.want)) {
				t.Errorf("%s: %v, want %q", c.what, err, c.want)
			}
		}
		rs, err := d.q.Rubrics(ctx)
		if err != nil || len(rs) != 1 {
			t.Fatalf("rubrics: %d %v", len(rs), err)
		}
		v1 := rs[0]
		if keys := []string{v1.Criteria[0].Key, v1.Criteria[1].Key}; !slices.Equal(keys, []string{"k1", "k2"}) || v1.Version != 1 {
			t.Errorf("version %d keys %q", v1.Version, keys)
		}

		// A review scored on version 1.
		tk := d.handled(t, d.LiNa, time.Hour)
		r, err := d.q.Submit(ctx, d.Chen, quality.ReviewInput{TicketRef: tk.Ref(), RubricID: v1.ID, Marks: marks(5, 5)})
		if err != nil {
			t.Fatal(err)
		}
		// The edit drops Courtesy, keeps Accuracy (its key) reweighted, adds Empathy.
		v2, err := d.q.UpdateRubric(ctx, d.Admin, v1.ID, quality.RubricInput{Name: "Calls", Criteria: []quality.Criterion{
			{Key: "k2", NameZH: "准确", NameEN: "Accuracy", Weight: 50, Max: 10},
			{NameZH: "同理心", NameEN: "Empathy", Weight: 50, Max: 5},
		}})
		if err != nil {
			t.Fatal(err)
		}
		if v2.Version != 2 || *v2.PreviousID != v1.ID || v2.Criteria[0].Key != "k2" || v2.Criteria[1].Key != "k3" {
			t.Errorf("version 2: %+v", v2)
		}
		if rs, _ := d.q.Rubrics(ctx); len(rs) != 1 || rs[0].ID != v2.ID {
			t.Errorf("in use after the edit: %+v", rs)
		}
		if _, err := d.q.UpdateRubric(ctx, d.Admin, v1.ID, quality.RubricInput{Name: "Calls", Criteria: ok}); !errors.Is(err, tickets.ErrConflict) {
			t.Errorf("editing the replaced version: %v", err)
		}
		got, err := d.q.Review(ctx, d.Chen, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if *got.RubricID != v1.ID || got.Criteria.Version != 1 || len(got.Criteria.Items) != 2 || got.Criteria.Items[0].NameEN != "Courtesy" || got.Criteria.Items[0].Weight != 40 || got.Score != 100 {
			t.Errorf("the review after the rubric's edit: %+v", got)
		}
		// A new review cannot use the replaced version.
		tk2 := d.handled(t, d.LiNa, time.Hour)
		if _, err := d.q.Submit(ctx, d.Chen, quality.ReviewInput{TicketRef: tk2.Ref(), RubricID: v1.ID, Marks: marks(1, 1)}); !errors.Is(err, tickets.ErrConflict) {
			t.Errorf("reviewing on a replaced rubric: %v", err)
		}
		if err := d.q.RetireRubric(ctx, d.Admin, v2.ID); err != nil {
			t.Fatal(err)
		}
		if rs, _ := d.q.Rubrics(ctx); len(rs) != 0 {
			t.Errorf("in use after retiring: %d", len(rs))
		}
		for kind, want := range map[string]int{"quality_rubric.created": 1, "quality_rubric.updated": 1, "quality_rubric.retired": 1} {
			if got := tickettest.CountEvents(t, db, kind); got != want {
				t.Errorf("%d %s events, want %d", got, kind, want)
			}
		}
	})
}

// TestRubricEditRace: two admins editing the same version at once make one version 2;
// the other is refused.
func TestRubricEditRace(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newDesk(t, db)
		v1 := d.rubric(t)
		in := quality.RubricInput{Name: "Calls", Criteria: []quality.Criterion{{NameZH: "整体", NameEN: "Overall", Weight: 100, Max: 10}}}
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() { defer wg.Done(); _, errs[i] = d.q.UpdateRubric(ctx, d.Admin, v1.ID, in) }()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, tickets.ErrConflict):
				t.Errorf("a losing edit: %v", err)
			}
		}
		n, err := db.NewSelect().Table("quality_rubrics").Count(ctx)
		if won != 1 || err != nil || n != 2 {
			t.Errorf("%d edits won, %d versions stored (%v)", won, n, err)
		}
	})
}

// TestScore: the weighted total, 0 to 100.
func TestScore(t *testing.T) {
	c := func(w, max, mark int) quality.Mark {
		return quality.Mark{Criterion: quality.Criterion{Weight: w, Max: max}, Mark: mark}
	}
	for _, s := range []struct {
		marks []quality.Mark
		want  float64
		shown string
	}{
		{[]quality.Mark{c(30, 5, 5), c(70, 10, 10)}, 100, "100"},
		{[]quality.Mark{c(30, 5, 0), c(70, 10, 0)}, 0, "0"},
		{[]quality.Mark{c(30, 5, 4), c(70, 10, 5)}, 59, "59"},
		{[]quality.Mark{c(50, 3, 1), c(50, 3, 1)}, 33.33, "33.33"},
		{[]quality.Mark{c(25, 4, 3), c(25, 2, 1), c(50, 10, 9)}, 76.25, "76.25"},
		{[]quality.Mark{c(100, 8, 7)}, 87.5, "87.5"},
	} {
		if got := quality.Score(s.marks); got != s.want || quality.FormatScore(got) != s.shown {
			t.Errorf("%+v: %v (%s), want %v (%s)", s.marks, got, quality.FormatScore(got), s.want, s.shown)
		}
	}
}

// TestSubmit: marks are checked against the rubric, the score is worked out by the
// service, a second submit edits one's review until the agent answered; the agent is told.
func TestSubmit(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newDesk(t, db)
		rb := d.rubric(t)
		tk := d.handled(t, d.LiNa, time.Hour)
		in := func(m map[string]int) quality.ReviewInput {
			return quality.ReviewInput{TicketRef: tk.Ref(), RubricID: rb.ID, Marks: m, Comment: "ok"}
		}
		for _, c := range []struct {
			what string
			m    map[string]int
			want string
		}{
			{"a criterion unmarked", map[string]int{"k1": 3}, `give marks for "Solution"`},
			{"above the most", marks(6, 1), `between 0 and 5`},
			{"below zero", marks(1, -1), `between 0 and 10`},
			{"an unknown criterion", map[string]int{"k1": 1, "k2": 1, "k9": 1}, "does not have"},
		} {
			if _, err := d.q.Submit(ctx, d.Chen, in(c.m)); !errors.Is(err, tickets.ErrInvalid) || !strings.Contains(tickets.Reason(err), c.want) {
				t.Errorf("%s: %v", c.what, err)
			}
		}
		r, err := d.q.Submit(ctx, d.Chen, in(marks(4, 5)))
		if err != nil {
			t.Fatal(err)
		}
		if r.Score != 59 || r.AgentID != d.LiNa.Agent.ID || r.Criteria.Items[1].Mark != 5 || r.Criteria.Rubric != "Calls" {
			t.Errorf("stored review: %+v", r)
		}
		ns, err := d.Svc.Notices(ctx, d.LiNa.Agent.ID, true, 10)
		if err != nil || len(ns) != 1 || ns[0].Kind != "quality.reviewed" || !strings.Contains(ns[0].Body, "59 of 100") {
			t.Fatalf("the agent's notices: %+v %v", ns, err)
		}
		// Again: the same review, edited.
		r2, err := d.q.Submit(ctx, d.Chen, in(marks(5, 10)))
		if err != nil || r2.ID != r.ID || r2.Score != 100 {
			t.Errorf("second submit: %+v %v", r2, err)
		}
		if n, _ := db.NewSelect().Table("quality_reviews").Count(ctx); n != 1 {
			t.Errorf("%d reviews stored", n)
		}
		if _, err := d.q.Answer(ctx, d.LiNa, r.ID, "Thank you"); err != nil {
			t.Fatal(err)
		}
		if _, err := d.q.Submit(ctx, d.Chen, in(marks(1, 1))); !errors.Is(err, tickets.ErrConflict) {
			t.Errorf("editing an answered review: %v", err)
		}
		if got, _ := d.q.Review(ctx, d.Chen, r.ID); got.Score != 100 || *got.Answer != "Thank you" {
			t.Errorf("after the refused edit: %+v", got)
		}
		if ns, _ := d.Svc.Notices(ctx, d.Chen.Agent.ID, true, 10); len(ns) != 1 || ns[0].Kind != "quality.answered" {
			t.Errorf("the reviewer's notices: %+v", ns)
		}
		// An open ticket is not reviewed.
		open := d.Ticket(t, "+8613900139000")
		if _, err := d.Svc.Assign(ctx, d.Admin, open.Ref(), tickets.Assignment{AssigneeID: &d.LiNa.Agent.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := d.q.Submit(ctx, d.Chen, quality.ReviewInput{TicketRef: open.Ref(), RubricID: rb.ID, Marks: marks(1, 1)}); !errors.Is(err, tickets.ErrConflict) {
			t.Errorf("reviewing an open ticket: %v", err)
		}
		for kind, want := range map[string]int{"quality_review.created": 1, "quality_review.updated": 1, "quality_review.answered": 1} {
			if got := tickettest.CountEvents(t, db, kind); got != want {
				t.Errorf("%d %s events, want %d", got, kind, want)
			}
		}
	})
}

// TestPermissions: supervisors review their team's agents, admins anyone, nobody their own
// ticket; an agent reads only their own reviews.
func TestPermissions(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newDesk(t, db)
		rb := d.rubric(t)
		complaintsBoss := d.Agent(t, "boss@example.com", tickets.RoleSupervisor, d.Complaints)
		officer := tickets.AgentActor(d.Officer(t, "officer@example.com"))
		tk := d.handled(t, d.LiNa, time.Hour)
		own := d.handled(t, d.Chen, time.Hour)
		in := func(ref string) quality.ReviewInput {
			return quality.ReviewInput{TicketRef: ref, RubricID: rb.ID, Marks: marks(3, 7)}
		}
		for _, c := range []struct {
			who  string
			as   tickets.Actor
			ref  string
			want error
		}{
			{"agent", d.ZhangWei, tk.Ref(), tickets.ErrForbidden},
			{"complaint officer", officer, tk.Ref(), tickets.ErrForbidden},
			{"other team's supervisor", complaintsBoss, tk.Ref(), tickets.ErrForbidden},
			{"supervisor, own ticket", d.Chen, own.Ref(), tickets.ErrForbidden},
			{"no such ticket", d.Chen, "HL-999999", tickets.ErrNotFound},
			{"team's supervisor", d.Chen, tk.Ref(), nil},
			{"admin", d.Admin, tk.Ref(), nil},
			{"admin, a supervisor's ticket", d.Admin, own.Ref(), nil},
		} {
			_, err := d.q.Submit(ctx, c.as, in(c.ref))
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("%s reviewing: %v, want %v", c.who, err, c.want)
			}
		}
		for _, c := range []struct {
			who  string
			as   tickets.Actor
			want error
		}{
			{"the agent", d.LiNa, nil},
			{"a peer", d.ZhangWei, tickets.ErrForbidden},
			{"the team's supervisor", d.Chen, nil},
			{"other team's supervisor", complaintsBoss, tickets.ErrForbidden},
			{"admin", d.Admin, nil},
		} {
			rs, err := d.q.OfAgent(ctx, c.as, d.LiNa.Agent.ID)
			if c.want == nil && (err != nil || len(rs) != 2) || c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("%s reading Li Na's reviews: %d %v, want %v", c.who, len(rs), err, c.want)
			}
		}
		rs, _ := d.q.OfAgent(ctx, d.LiNa, d.LiNa.Agent.ID)
		if _, err := d.q.Review(ctx, d.ZhangWei, rs[0].ID); !errors.Is(err, tickets.ErrForbidden) {
			t.Errorf("a peer reading one review: %v", err)
		}
		if _, err := d.q.Answer(ctx, d.Chen, rs[0].ID, "not mine"); !errors.Is(err, tickets.ErrForbidden) {
			t.Errorf("the supervisor answering for the agent: %v", err)
		}
		if _, err := d.q.Answer(ctx, d.ZhangWei, rs[0].ID, "not mine"); !errors.Is(err, tickets.ErrForbidden) {
			t.Errorf("a peer answering: %v", err)
		}
		if _, err := d.q.Answer(ctx, d.LiNa, rs[0].ID, " "); !errors.Is(err, tickets.ErrInvalid) {
			t.Errorf("an empty answer: %v", err)
		}
		// Calibration and samples are for supervisors and admins.
		if _, err := d.q.Calibrate(ctx, d.LiNa, tk.Ref()); !errors.Is(err, tickets.ErrForbidden) {
			t.Errorf("the agent calibrating: %v", err)
		}
		if _, err := d.q.Calibrate(ctx, complaintsBoss, tk.Ref()); !errors.Is(err, tickets.ErrForbidden) {
			t.Errorf("another team's supervisor calibrating: %v", err)
		}
		period := quality.SampleRequest{TeamID: d.Claims.ID, From: tickettest.T0.Add(-time.Hour), To: tickettest.T0.Add(24 * time.Hour), N: 5}
		for _, as := range []tickets.Actor{d.LiNa, complaintsBoss} {
			if _, err := d.q.Draw(ctx, as, period); !errors.Is(err, tickets.ErrForbidden) {
				t.Errorf("%s drawing the claims team's sample: %v", as.Agent.Email, err)
			}
		}
	})
}

// TestAnswerOnce: of agents' answers racing, one is stored; the others are refused.
func TestAnswerOnce(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newDesk(t, db)
		rb := d.rubric(t)
		tk := d.handled(t, d.LiNa, time.Hour)
		r, err := d.q.Submit(ctx, d.Chen, quality.ReviewInput{TicketRef: tk.Ref(), RubricID: rb.ID, Marks: marks(2, 2)})
		if err != nil {
			t.Fatal(err)
		}
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = d.q.Answer(ctx, d.LiNa, r.ID, fmt.Sprintf("answer %d", i))
			}()
		}
		close(start)
		wg.Wait()
		stored := -1
		for i, err := range errs {
			switch {
			case err == nil && stored >= 0:
				t.Errorf("answers %d and %d both stored", stored, i)
			case err == nil:
				stored = i
			case !errors.Is(err, tickets.ErrConflict):
				t.Errorf("answer %d: %v", i, err)
			}
		}
		got, err := d.q.Review(ctx, d.Chen, r.ID)
		if err != nil || stored < 0 || got.Answer == nil || *got.Answer != fmt.Sprintf("answer %d", stored) {
			t.Fatalf("stored answer %v, the winner %d (%v)", got.Answer, stored, err)
		}
		if n := tickettest.CountEvents(t, db, "quality_review.answered"); n != 1 {
			t.Errorf("%d answered events", n)
		}
		if ns, _ := d.Svc.Notices(ctx, d.Chen.Agent.ID, false, 50); len(ns) != 1 {
			t.Errorf("the reviewer was told %d times", len(ns))
		}
	})
}

// TestSubmitRace: one reviewer submitting twice at once stores one review.
func TestSubmitRace(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newDesk(t, db)
		rb := d.rubric(t)
		tk := d.handled(t, d.LiNa, time.Hour)
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = d.q.Submit(ctx, d.Chen, quality.ReviewInput{TicketRef: tk.Ref(), RubricID: rb.ID, Marks: marks(i, i)})
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("submit %d: %v", i, err)
			}
		}
		if n, _ := db.NewSelect().Table("quality_reviews").Count(ctx); n != 1 {
			t.Errorf("%d reviews stored", n)
		}
		if n := tickettest.CountEvents(t, db, "quality_review.created"); n != 1 {
			t.Errorf("%d created events", n)
		}
	})
}

// TestSample: the filters pick what they say on both databases; a seed draws the same
// tickets again; the list says which are reviewed.
func TestSample(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newDesk(t, db)
		rb := d.rubric(t)
		quick := d.handled(t, d.LiNa, time.Hour)
		slow := d.handled(t, d.ZhangWei, 30*time.Hour)    // within the 48h deadline, but long
		late := d.handled(t, d.LiNa, 60*time.Hour)        // past its resolution deadline
		unhappy := d.handled(t, d.ZhangWei, time.Hour)    // CSAT 1
		happy := d.handled(t, d.LiNa, time.Hour)          // CSAT 5
		complained := d.handled(t, d.ZhangWei, time.Hour) // a complaint
		other := d.handled(t, d.Wang, 80*time.Hour)       // the complaints team's
		for tk, score := range map[*tickets.Ticket]int{unhappy: 1, happy: 5} {
			if _, err := db.NewRaw(`INSERT INTO surveys (ticket_id, customer_id, channel, token_hash, expires_at, score, created_at)
				VALUES (?, ?, 'sms', ?, ?, ?, ?)`, tk.ID, tk.CustomerID, tk.Ref(), tickettest.T0.Add(1000*time.Hour), score, tickettest.T0).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := complaints.New(d.Svc).Open(ctx, d.Admin, complaints.NewComplaint{TicketRef: complained.Ref(), Summary: "rude"}); err != nil {
			t.Fatal(err)
		}
		if _, err := d.q.Submit(ctx, d.Chen, quality.ReviewInput{TicketRef: quick.Ref(), RubricID: rb.ID, Marks: marks(5, 10)}); err != nil {
			t.Fatal(err)
		}
		all := quality.SampleRequest{TeamID: d.Claims.ID, From: tickettest.T0, To: d.Clock.Now().Add(time.Minute), N: 50, Seed: 7}
		refs := func(s *quality.Sample) []string {
			var out []string
			for _, it := range s.Items {
				out = append(out, it.Ref)
			}
			return out
		}
		with := func(f func(r *quality.SampleRequest)) quality.SampleRequest { r := all; f(&r); return r }
		for _, c := range []struct {
			what string
			req  quality.SampleRequest
			want []*tickets.Ticket
		}{
			{"all of the team's", all, []*tickets.Ticket{quick, slow, late, unhappy, happy, complained}},
			{"low CSAT", with(func(r *quality.SampleRequest) { r.LowCSAT = true }), []*tickets.Ticket{unhappy}},
			{"complaints", with(func(r *quality.SampleRequest) { r.Complain = true }), []*tickets.Ticket{complained}},
			{"late", with(func(r *quality.SampleRequest) { r.Long = true }), []*tickets.Ticket{late}},
			{"longer than 24 hours", with(func(r *quality.SampleRequest) { r.Long, r.Hours = true, 24 }), []*tickets.Ticket{slow, late}},
			{"low CSAT or complaint", with(func(r *quality.SampleRequest) { r.LowCSAT, r.Complain = true, true }), []*tickets.Ticket{unhappy, complained}},
			{"a period before", with(func(r *quality.SampleRequest) { r.To = tickettest.T0.Add(2 * time.Hour) }), []*tickets.Ticket{quick}},
		} {
			s, err := d.q.Draw(ctx, d.Chen, c.req)
			if err != nil {
				t.Fatalf("%s: %v", c.what, err)
			}
			var want []string
			for _, tk := range c.want {
				want = append(want, tk.Ref())
			}
			if got := refs(s); !slices.Equal(got, want) || s.Matched != len(want) {
				t.Errorf("%s: %q (%d matched), want %q", c.what, got, s.Matched, want)
			}
		}
		s, err := d.q.Draw(ctx, d.Chen, all)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range s.Items {
			reviewed := it.TicketID == quick.ID
			if it.Mine != reviewed || (it.Reviews == 1) != reviewed {
				t.Errorf("%s: reviewed by me %v, %d reviews", it.Ref, it.Mine, it.Reviews)
			}
			if it.TicketID == unhappy.ID && (it.CSAT == nil || *it.CSAT != 1) || it.TicketID == late.ID && !it.Late || it.TicketID == complained.ID && it.Complaints != 1 {
				t.Errorf("%s: %+v", it.Ref, it)
			}
		}
		// Three at random: the same seed, the same three; another seed, in time, others.
		three := with(func(r *quality.SampleRequest) { r.N = 3 })
		a, _ := d.q.Draw(ctx, d.Chen, three)
		b, _ := d.q.Draw(ctx, d.Admin, three)
		if len(a.Items) != 3 || !slices.Equal(refs(a), refs(b)) || a.Matched != 6 {
			t.Errorf("seed 7 drew %q then %q", refs(a), refs(b))
		}
		differs := false
		for seed := int64(1); seed < 20 && !differs; seed++ {
			c, _ := d.q.Draw(ctx, d.Chen, with(func(r *quality.SampleRequest) { r.N, r.Seed = 3, seed }))
			differs = !slices.Equal(refs(c), refs(a))
		}
		if !differs {
			t.Error("every seed draws the same three")
		}
		fresh, err := d.q.Draw(ctx, d.Chen, with(func(r *quality.SampleRequest) { r.Seed = 0 }))
		if err != nil || fresh.Seed < 1 || fresh.Seed > quality.MaxSeed {
			t.Errorf("a new seed: %d %v", fresh.Seed, err)
		}
		if s, err := d.q.Draw(ctx, d.Admin, with(func(r *quality.SampleRequest) { r.TeamID = d.Complaints.ID })); err != nil || !slices.Equal(refs(s), []string{other.Ref()}) {
			t.Errorf("the admin drawing the complaints team's: %v %v", s, err)
		}
		for _, bad := range []quality.SampleRequest{
			with(func(r *quality.SampleRequest) { r.N = 0 }),
			with(func(r *quality.SampleRequest) { r.N = quality.MaxSample + 1 }),
			with(func(r *quality.SampleRequest) { r.To = r.From }),
			with(func(r *quality.SampleRequest) { r.To = r.From.Add(400 * 24 * time.Hour) }),
			with(func(r *quality.SampleRequest) { r.Seed = -1 }),
			with(func(r *quality.SampleRequest) { r.Hours = -1 }),
			with(func(r *quality.SampleRequest) { r.TeamID = 0 }),
		} {
			if _, err := d.q.Draw(ctx, d.Admin, bad); !errors.Is(err, tickets.ErrInvalid) {
				t.Errorf("%+v: %v", bad, err)
			}
		}
	})
}

// TestCalibration: two reviewers of one ticket side by side, the criteria they differ on
// marked, matched by key across the rubric's versions.
func TestCalibration(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newDesk(t, db)
		rb := d.rubric(t)
		tk := d.handled(t, d.LiNa, time.Hour)
		if _, err := d.q.Submit(ctx, d.Chen, quality.ReviewInput{TicketRef: tk.Ref(), RubricID: rb.ID, Marks: marks(4, 9)}); err != nil {
			t.Fatal(err)
		}
		if _, err := d.q.Calibrate(ctx, d.Chen, "HL-999999"); !errors.Is(err, tickets.ErrNotFound) {
			t.Errorf("calibrating an unreviewed ticket: %v", err)
		}
		// The rubric changes before the admin reviews: Solution kept, Greeting replaced.
		v2, err := d.q.UpdateRubric(ctx, d.Admin, rb.ID, quality.RubricInput{Name: "Calls", Criteria: []quality.Criterion{
			{Key: "k2", NameZH: "解决问题", NameEN: "Solution", Weight: 80, Max: 10},
			{NameZH: "记录", NameEN: "Notes", Weight: 20, Max: 5},
		}})
		if err != nil {
			t.Fatal(err)
		}
		d.Clock.Advance(time.Minute)
		if _, err := d.q.Submit(ctx, d.Admin, quality.ReviewInput{TicketRef: tk.Ref(), RubricID: v2.ID, Marks: map[string]int{"k2": 6, "k3": 5}}); err != nil {
			t.Fatal(err)
		}
		c, err := d.q.Calibrate(ctx, d.Chen, tk.Ref())
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Reviews) != 2 || c.Reviews[0].ReviewerID != d.Chen.Agent.ID || c.Reviews[1].Reviewer != d.Admin.Agent.Name && c.Reviews[1].Reviewer != "admin@example.com" {
			t.Fatalf("reviews: %+v", c.Reviews)
		}
		type line struct {
			name   string
			marks  string
			spread int
			wide   bool
		}
		var got []line
		for _, l := range c.Lines {
			var ms []string
			for _, m := range l.Marks {
				if m == nil {
					ms = append(ms, "-")
				} else {
					ms = append(ms, fmt.Sprint(*m))
				}
			}
			got = append(got, line{l.NameEN, strings.Join(ms, " "), l.Spread, l.Wide})
		}
		want := []line{{"Greeting", "4 -", 0, false}, {"Solution", "9 6", 3, true}, {"Notes", "- 5", 0, false}}
		if !slices.Equal(got, want) {
			t.Errorf("lines %+v, want %+v", got, want)
		}
		// Chen: 30×4/5 + 70×9/10 = 87; the admin: 80×6/10 + 20 = 68.
		if c.Reviews[0].Score != 87 || c.Reviews[1].Score != 68 || c.Spread != 19 {
			t.Errorf("scores %v and %v, spread %v", c.Reviews[0].Score, c.Reviews[1].Score, c.Spread)
		}
		list, err := d.q.Calibrations(ctx, d.Chen, d.Claims.ID)
		if err != nil || len(list) != 1 || list[0].Ref != tk.Ref() || list[0].Reviews != 2 {
			t.Errorf("tickets to calibrate: %+v %v", list, err)
		}
		if _, err := d.q.Calibrations(ctx, d.Chen, d.Complaints.ID); !errors.Is(err, tickets.ErrForbidden) {
			t.Errorf("another team's calibrations: %v", err)
		}
	})
}
