package deadlines_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/deadlines"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// sweepStep moves the clock to `at` after the ticket arrived, sweeps as the reconciler
// does, and says what the ticket's timeline must then show for the clock in question.
type sweepStep struct {
	at      time.Duration
	sent    []int // percentages warned of (an sla.warning event and a notice each)
	skipped []int // percentages recorded as skipped
	breach  bool
}

// With no timer ever run (Redis flushed), the reconciler's sweep settles every warning
// point: one whose deadline has passed too is recorded as skipped and nobody is warned of
// a deadline already missed; one whose deadline is still ahead is sent, late. Everything is
// recorded before the breach, and once.
func TestSweepSettlesWarningsAfterLostTimers(t *testing.T) {
	cases := []struct {
		name     string
		clock    string // "first_response" (24h, warnings at 18h and 21h36m) or "resolution" (48h: 36h, 43h12m)
		answered bool   // an agent replied at once, so only the resolution clock runs
		steps    []sweepStep
	}{
		{name: "first response: warnings and breach all passed", clock: "first_response", steps: []sweepStep{
			{at: 30 * time.Hour, skipped: []int{75, 90}, breach: true},
			{at: 31 * time.Hour, skipped: []int{75, 90}, breach: true}, // nothing more
		}},
		{name: "resolution: warnings and breach all passed", clock: "resolution", answered: true, steps: []sweepStep{
			{at: 50 * time.Hour, skipped: []int{75, 90}, breach: true},
		}},
		{name: "both warnings passed, deadline ahead: both sent late", clock: "first_response", steps: []sweepStep{
			{at: 23 * time.Hour, sent: []int{75, 90}},
			{at: 30 * time.Hour, sent: []int{75, 90}, breach: true},
		}},
		{name: "normal: at 80% the 75% warning is sent", clock: "first_response", steps: []sweepStep{
			{at: 19*time.Hour + 12*time.Minute, sent: []int{75}},
			{at: 20 * time.Hour, sent: []int{75}},
			// Then the timers are lost: the 90% point passes with the deadline.
			{at: 26 * time.Hour, sent: []int{75}, skipped: []int{90}, breach: true},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
				ctx := context.Background()
				d := newDesk(t, db)
				tk := d.Ticket(t, "+8613800138000")
				mustDo(t)(d.Svc.Assign(ctx, d.LiNa, tk.Ref(), tickets.Assignment{AssigneeID: &d.LiNa.Agent.ID}))
				if tc.answered {
					if _, err := d.Svc.Reply(ctx, d.LiNa, tk.Ref(), "looking into it"); err != nil {
						t.Fatal(err)
					}
				}
				var total deadlines.SweepResult // what the sweeps reported, for the metrics
				for _, st := range tc.steps {
					d.Clock.Advance(tickettest.T0.Add(st.at).Sub(d.Clock.Now()))
					r, err := d.dl.Sweep(ctx)
					if err != nil {
						t.Fatal(err)
					}
					total.Warnings += r.Warnings
					total.SkippedWarnings += r.SkippedWarnings
					total.Breaches += r.Breaches
					tl := slaTimeline(t, db, tk.ID, tc.clock)
					if got := fmt.Sprint(tl.sent); got != fmt.Sprint(nonNil(st.sent)) {
						t.Errorf("at +%v: warnings sent %s, want %v", st.at, got, nonNil(st.sent))
					}
					if got := fmt.Sprint(tl.skipped); got != fmt.Sprint(nonNil(st.skipped)) {
						t.Errorf("at +%v: warnings skipped %s, want %v", st.at, got, nonNil(st.skipped))
					}
					want := 0
					if st.breach {
						want = 1
					}
					if tl.breaches != want {
						t.Errorf("at +%v: %d breaches, want %d", st.at, tl.breaches, want)
					}
					if total.Warnings != len(st.sent) || total.SkippedWarnings != len(st.skipped) || total.Breaches != want {
						t.Errorf("at +%v: sweeps reported %d warnings, %d skipped, %d breaches; want %d, %d, %d",
							st.at, total.Warnings, total.SkippedWarnings, total.Breaches, len(st.sent), len(st.skipped), want)
					}
					if tl.afterBreach != "" {
						t.Errorf("at +%v: %s recorded after the breach", st.at, tl.afterBreach)
					}
					notices, err := d.Svc.Notices(ctx, d.LiNa.Agent.ID, false, 0)
					if err != nil {
						t.Fatal(err)
					}
					warned := 0
					for _, n := range notices {
						if n.Kind == "sla.warning" {
							warned++
						}
					}
					if warned != len(st.sent) {
						t.Errorf("at +%v: the assignee has %d warning notices, want %d", st.at, warned, len(st.sent))
					}
				}
			})
		})
	}
}

func nonNil(p []int) []int {
	if p == nil {
		return []int{}
	}
	return p
}

type slaEvents struct {
	sent, skipped []int
	breaches      int
	afterBreach   string // the first warning event recorded after a breach, if any
}

// slaTimeline reads a ticket's warning and breach events of one clock, in the order the
// timeline shows them.
func slaTimeline(t *testing.T, db *bun.DB, ticketID int64, clock string) slaEvents {
	t.Helper()
	var evs []*tickets.Event
	if err := db.NewSelect().Model(&evs).Where("entity = 'ticket' AND entity_id = ?", ticketID).
		Where("kind IN ('sla.warning', 'sla.warning_skipped', 'sla.breached')").OrderExpr("id").Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := slaEvents{sent: []int{}, skipped: []int{}}
	for _, ev := range evs {
		var data struct {
			Deadline string `json:"deadline"`
			Percent  int    `json:"percent"`
			Reason   string `json:"reason"`
		}
		if err := json.Unmarshal([]byte(ev.Data), &data); err != nil {
			t.Fatalf("event %s data %q: %v", ev.Kind, ev.Data, err)
		}
		if data.Deadline != clock {
			continue
		}
		if ev.Kind != "sla.breached" && out.breaches > 0 && out.afterBreach == "" {
			out.afterBreach = fmt.Sprintf("%s %d%%", ev.Kind, data.Percent)
		}
		switch ev.Kind {
		case "sla.warning":
			out.sent = append(out.sent, data.Percent)
		case "sla.warning_skipped":
			if data.Reason != "skipped: deadline already passed" {
				t.Errorf("skipped warning's reason %q", data.Reason)
			}
			out.skipped = append(out.skipped, data.Percent)
		case "sla.breached":
			out.breaches++
		}
	}
	return out
}

// A warning point that came due between the warning stage's reading of the clock and the
// breach stage's (the row no longer asks for a warning when the breach is recorded) is
// settled by the breach: recorded as skipped, before it, and never sent afterwards.
func TestBreachSettlesWarningsNotReached(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		tk := d.Ticket(t, "+8613800138000")
		mustDo(t)(d.Svc.Assign(ctx, d.LiNa, tk.Ref(), tickets.Assignment{AssigneeID: &d.LiNa.Agent.ID}))
		d.Clock.Advance(19 * time.Hour) // the 75% warning, on time
		if _, err := d.dl.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		// As the breach stage finds the row when the warning stage ran before 90%.
		if _, err := db.NewUpdate().Table("tickets").Set("first_response_warn_at = NULL").Where("id = ?", tk.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		d.Clock.Advance(6 * time.Hour)
		r, err := d.dl.Sweep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		d.Clock.Advance(time.Hour)
		if _, err := d.dl.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		tl := slaTimeline(t, db, tk.ID, "first_response")
		if fmt.Sprint(tl.sent) != "[75]" || fmt.Sprint(tl.skipped) != "[90]" || tl.breaches != 1 || tl.afterBreach != "" {
			t.Errorf("timeline: sent %v, skipped %v, %d breaches, after the breach %q; want [75], [90], 1, nothing",
				tl.sent, tl.skipped, tl.breaches, tl.afterBreach)
		}
		if r.Breaches != 1 || r.SkippedWarnings != 1 || r.Warnings != 0 {
			t.Errorf("the breaching sweep reported %+v", r)
		}
		got := d.Detail(t, tk.Ref())
		if got.FirstResponseWarned != 2 || got.FirstResponseWarnAt != nil {
			t.Errorf("after the breach: %d warnings settled, next at %v; want 2 and none", got.FirstResponseWarned, got.FirstResponseWarnAt)
		}
	})
}

func TestWarningsThenEscalation(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		tk := d.Ticket(t, "+8613800138000")
		mustDo(t)(d.Svc.Assign(ctx, d.LiNa, tk.Ref(), tickets.Assignment{AssigneeID: &d.LiNa.Agent.ID}))

		steps := []struct {
			at               time.Duration
			warnings, breach int
		}{
			{17 * time.Hour, 0, 0},                // 71% of 24h
			{18 * time.Hour, 1, 0},                // 75%
			{20 * time.Hour, 1, 0},                // still only one
			{21*time.Hour + 36*time.Minute, 2, 0}, // 90%
			{24*time.Hour - time.Second, 2, 0},
			{24 * time.Hour, 2, 1}, // breached
			{30 * time.Hour, 2, 1}, // once
		}
		for _, st := range steps {
			d.Clock.Advance(tickettest.T0.Add(st.at).Sub(d.Clock.Now()))
			if _, err := d.dl.Sweep(ctx); err != nil {
				t.Fatal(err)
			}
			w := tickettest.CountEvents(t, db, "sla.warning")
			b := tickettest.CountEvents(t, db, "sla.breached")
			if w != st.warnings || b != st.breach {
				t.Errorf("at +%v: %d warnings, %d breaches; want %d, %d", st.at, w, b, st.warnings, st.breach)
			}
		}
		got := d.Detail(t, tk.Ref())
		if got.Priority != tickets.PriorityHigh || got.FirstResponseBreachedAt == nil {
			t.Errorf("after the breach: priority %s breached %v, want high", got.Priority, got.FirstResponseBreachedAt)
		}
		mine, _ := d.Svc.Notices(ctx, d.LiNa.Agent.ID, false, 0)
		boss, _ := d.Svc.Notices(ctx, d.Chen.Agent.ID, false, 0)
		if len(mine) != 2 || len(boss) != 1 || boss[0].Kind != "sla.breached" {
			t.Errorf("notices: assignee %d (want 2 warnings), supervisor %d (want the breach)", len(mine), len(boss))
		}
	})
}

// Many workers sweeping at once (and the reconciler with them) record each breach once.
// The burst is deeper than one batch for every sweep, so whatever the timing, at least half
// a batch is left after each sweep's first transaction and is handled by the sweeps' own
// parallel transactions (several on PostgreSQL), racing each other and the other sweeps.
func TestBreachesAreRecordedOnceUnderConcurrentSweeps(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		const sweeps = 3
		const n = sweeps*tickets.SweepBatch + tickets.SweepBatch/2
		var opened sync.WaitGroup
		for g := range 8 {
			opened.Add(1)
			go func() {
				defer opened.Done()
				for i := g; i < n; i += 8 {
					if _, err := d.Svc.Intake(ctx, tickettest.SMS(fmt.Sprintf("+86137%08d", i), "hello", fmt.Sprintf("S%d", i))); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		opened.Wait()
		if t.Failed() {
			return
		}
		d.Clock.Advance(25 * time.Hour)
		var wg sync.WaitGroup
		var mu sync.Mutex
		total := 0
		for range sweeps {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := d.dl.Sweep(ctx)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				total += r.Breaches
				mu.Unlock()
			}()
		}
		wg.Wait()
		if total != n {
			t.Errorf("sweeps reported %d breaches, want %d", total, n)
		}
		if got := tickettest.CountEvents(t, db, "sla.breached"); got != n {
			t.Errorf("%d sla.breached events, want %d", got, n)
		}
		high, _ := db.NewSelect().Table("tickets").Where("priority = 'high'").Count(ctx)
		if high != n {
			t.Errorf("%d tickets escalated to high, want %d (each raised exactly one step)", high, n)
		}
		// Each ticket once: none breached twice while another was missed.
		var perTicket []struct {
			EntityID int64
			N        int
		}
		if err := db.NewSelect().Table("events").ColumnExpr("entity_id, COUNT(*) AS n").
			Where("kind = 'sla.breached' AND entity = 'ticket'").Group("entity_id").Scan(ctx, &perTicket); err != nil {
			t.Fatal(err)
		}
		twice := 0
		for _, p := range perTicket {
			if p.N != 1 {
				twice++
			}
		}
		if len(perTicket) != n || twice != 0 {
			t.Errorf("%d tickets breached, %d of them more than once; want %d, each once", len(perTicket), twice, n)
		}
	})
}
