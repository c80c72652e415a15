package tickets_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
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
				tk := d.ticket(t, "+8613800138000")
				mustDo(t)(d.svc.Assign(ctx, d.liNa, tk.Ref(), tickets.Assignment{AssigneeID: &d.liNa.Agent.ID}))
				if tc.answered {
					if _, err := d.svc.Reply(ctx, d.liNa, tk.Ref(), "looking into it"); err != nil {
						t.Fatal(err)
					}
				}
				var total tickets.SweepResult // what the sweeps reported, for the metrics
				for _, st := range tc.steps {
					d.clock.Advance(t0.Add(st.at).Sub(d.clock.Now()))
					r, err := d.svc.Sweep(ctx)
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
					notices, err := d.svc.Notices(ctx, d.liNa.Agent.ID, false, 0)
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
		tk := d.ticket(t, "+8613800138000")
		mustDo(t)(d.svc.Assign(ctx, d.liNa, tk.Ref(), tickets.Assignment{AssigneeID: &d.liNa.Agent.ID}))
		d.clock.Advance(19 * time.Hour) // the 75% warning, on time
		if _, err := d.svc.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		// As the breach stage finds the row when the warning stage ran before 90%.
		if _, err := db.NewUpdate().Table("tickets").Set("first_response_warn_at = NULL").Where("id = ?", tk.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		d.clock.Advance(6 * time.Hour)
		r, err := d.svc.Sweep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		d.clock.Advance(time.Hour)
		if _, err := d.svc.Sweep(ctx); err != nil {
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
		got := mustDetail(t, d.svc, tk.Ref())
		if got.FirstResponseWarned != 2 || got.FirstResponseWarnAt != nil {
			t.Errorf("after the breach: %d warnings settled, next at %v; want 2 and none", got.FirstResponseWarned, got.FirstResponseWarnAt)
		}
	})
}
