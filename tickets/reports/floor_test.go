package reports_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/reports"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// TestFloor builds a desk a supervisor would watch on Thursday 2026-11-26, 17:40 in
// Shanghai, and checks each figure of the live floor as each viewer sees it.
func TestFloor(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := reportDesk(t, db, tickettest.T0) // Wednesday 17:30 in Shanghai
		if _, err := d.Svc.SetOnline(ctx, d.LiNa, true); err != nil {
			t.Fatal(err)
		}
		now := tickettest.T0.Add(24*time.Hour + 10*time.Minute)

		// Four complaints, their tickets routed to the complaints team at T0. Ten working
		// days from receipt, the receipt day not counted, weekends off.
		cps := complaints.New(d.Svc)
		for i, c := range []struct {
			received string // in Shanghai
			due      string
		}{
			{"2026-11-10", "2026-11-24"}, // overdue since Tuesday
			{"2026-11-12", "2026-11-26"}, // due today
			{"2026-11-13", "2026-11-27"}, // due Friday: two weekends skipped
			{"2026-11-16", "2026-11-30"}, // due next Monday: not this week
		} {
			tk := d.text(t, fmt.Sprintf("+861380000100%d", i), "车险 complaint")
			rec, _ := time.ParseInLocation(time.DateOnly, c.received, tickettest.Shanghai(t))
			cp, err := cps.Open(ctx, d.Admin, complaints.NewComplaint{TicketRef: tk.Ref(), Summary: "complaint " + c.received, ReceivedAt: rec.Add(10 * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			if got := cp.DeadlineAt.In(tickettest.Shanghai(t)).Format(time.DateOnly); got != c.due {
				t.Fatalf("complaint received %s falls due %s, the test needs %s", c.received, got, c.due)
			}
		}

		// Claims tickets whose first response falls due x-10m from now (24h after creation).
		breach := []struct {
			name    string
			created time.Duration // after T0
			counts  bool
		}{
			{"overdue by 5 minutes, not yet swept", 5 * time.Minute, false},
			{"due exactly now", 10 * time.Minute, false},
			{"due in 59 minutes", 69 * time.Minute, true},
			{"due in 60 minutes", 70 * time.Minute, true},
			{"due in 61 minutes", 71 * time.Minute, false},
		}
		var wantBreaching []string
		for i, b := range breach {
			d.at(t, tickettest.T0.Add(b.created))
			tk := d.text(t, fmt.Sprintf("+861390000200%d", i), "my claim")
			if want := now.Add(b.created - 10*time.Minute); tk.FirstResponseDueAt == nil || !tk.FirstResponseDueAt.Equal(want) {
				t.Fatalf("%s: first response due %v, the test needs %v", b.name, tk.FirstResponseDueAt, want)
			}
			if b.counts {
				wantBreaching = append(wantBreaching, tk.Ref())
			}
		}
		// Answered: neither waiting nor about to breach its first response.
		answered := d.text(t, "+8613900003000", "my claim again")
		if _, err := d.Svc.Reply(ctx, d.LiNa, answered.Ref(), "We are on it"); err != nil {
			t.Fatal(err)
		}

		// Satisfaction: Li Na answered 5 yesterday and 3 today; Wang 4 today.
		survey := func(phone string, agent tickets.Actor, score string) {
			t.Helper()
			tk := d.text(t, phone, "claim paid?")
			if _, err := d.Svc.Assign(ctx, d.Admin, tk.Ref(), tickets.Assignment{AssigneeID: &agent.Agent.ID}); err != nil {
				t.Fatal(err)
			}
			d.Resolve(t, tk)
			if res, err := d.Svc.Intake(ctx, tickettest.SMS(phone, score, "")); err != nil || !res.Answered {
				t.Fatalf("answer %s: %+v %v", score, res, err)
			}
		}
		survey("+8613900004000", d.LiNa, "5")
		d.at(t, now)
		survey("+8613900004001", d.LiNa, "3")
		survey("+8613900004002", d.Wang, "4")

		claims, compl := d.Claims.ID, d.Complaints.ID
		type agentFig struct {
			online    bool
			load      int
			responses int64
			average   float64
		}
		cases := []struct {
			name       string
			viewer     tickets.Actor
			team       *int64
			waiting    map[string]int64 // "team/channel" → n
			oldest     time.Duration
			breaching  []string
			complaints []int // working days left, in order
			overdue    int64
			agents     map[string]agentFig // by name; nil: not shown
		}{
			{
				name: "admin, every team", viewer: d.Admin,
				waiting: map[string]int64{"Complaints/sms": 4, "Claims/sms": 5}, oldest: 24*time.Hour + 10*time.Minute,
				breaching: wantBreaching, complaints: []int{-2, 0, 1}, overdue: 1,
				agents: map[string]agentFig{"li.na": {true, 6, 1, 3}, "zhang.wei": {}, "chen": {}, "wang": {false, 0, 1, 4}},
			},
			{
				name: "claims supervisor, every team: the queue, but only his team's people", viewer: d.Chen,
				waiting: map[string]int64{"Complaints/sms": 4, "Claims/sms": 5}, oldest: 24*time.Hour + 10*time.Minute,
				breaching: wantBreaching, complaints: []int{-2, 0, 1}, overdue: 1,
				agents: map[string]agentFig{"li.na": {true, 6, 1, 3}, "zhang.wei": {}, "chen": {}},
			},
			{
				name: "claims supervisor, the complaints team: no one's figures", viewer: d.Chen, team: &compl,
				waiting: map[string]int64{"Complaints/sms": 4}, oldest: 24*time.Hour + 10*time.Minute,
				complaints: []int{-2, 0, 1}, overdue: 1,
			},
			{
				name: "admin, the claims team", viewer: d.Admin, team: &claims,
				waiting: map[string]int64{"Claims/sms": 5}, oldest: 24*time.Hour + 5*time.Minute,
				breaching: wantBreaching,
				agents:    map[string]agentFig{"li.na": {true, 6, 1, 3}, "zhang.wei": {}, "chen": {}},
			},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				f, err := d.rep.Floor(ctx, tc.viewer.Agent, tc.team)
				if err != nil {
					t.Fatal(err)
				}
				waiting := map[string]int64{}
				var total int64
				for _, g := range f.Waiting {
					waiting[g.TeamName+"/"+string(g.Channel)] += g.N
					total += g.N
				}
				if fmt.Sprint(waiting) != fmt.Sprint(tc.waiting) || f.WaitingTotal != total {
					t.Errorf("waiting %v (total %d), want %v", waiting, f.WaitingTotal, tc.waiting)
				}
				if f.OldestWait() != tc.oldest {
					t.Errorf("oldest wait %v, want %v", f.OldestWait(), tc.oldest)
				}
				var refs []string
				for _, b := range f.Breaching {
					if b.Kind != "first_response" || !b.DueAt.After(now) || b.DueAt.After(now.Add(reports.FloorHorizon)) {
						t.Errorf("breaching %s: %s due %v", b.Ref(), b.Kind, b.DueAt)
					}
					refs = append(refs, b.Ref())
				}
				if !slices.Equal(refs, tc.breaching) || f.BreachingN != int64(len(tc.breaching)) {
					t.Errorf("breaching within the hour %v (%d), want %v", refs, f.BreachingN, tc.breaching)
				}
				var left []int
				for _, c := range f.Complaints {
					left = append(left, c.DaysLeft)
				}
				if !slices.Equal(left, tc.complaints) || f.ComplaintsN != int64(len(tc.complaints)) || f.Overdue != tc.overdue {
					t.Errorf("complaints due this week: days left %v (%d, %d overdue), want %v (%d overdue)", left, f.ComplaintsN, f.Overdue, tc.complaints, tc.overdue)
				}
				if f.AgentsShown != (tc.agents != nil) {
					t.Fatalf("agents shown %v, want %v", f.AgentsShown, tc.agents != nil)
				}
				got := map[string]agentFig{}
				online := 0
				for _, a := range f.Agents {
					got[a.Email[:len(a.Email)-len("@example.com")]] = agentFig{a.Online, a.Load, a.CSAT.Responses, a.CSAT.Average}
					if a.Online {
						online++
					}
				}
				if len(tc.agents) > 0 && fmt.Sprint(got) != fmt.Sprint(tc.agents) || f.Online != online {
					t.Errorf("agents %v (%d online), want %v", got, f.Online, tc.agents)
				}
			})
		}

		// Agents and complaint officers do not watch the floor; an unknown team is refused.
		for _, who := range []tickets.Actor{d.LiNa, d.Wang} {
			if _, err := d.rep.Floor(ctx, who.Agent, nil); !errors.Is(err, tickets.ErrForbidden) {
				t.Errorf("%s: %v, want forbidden", who.Agent.Email, err)
			}
		}
		bad := int64(999)
		if _, err := d.rep.Floor(ctx, d.Admin.Agent, &bad); !errors.Is(err, tickets.ErrInvalid) {
			t.Errorf("unknown team: %v, want invalid", err)
		}
	})
}
