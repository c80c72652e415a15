package reports_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/reports"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

func TestCSATReport(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := surveyDesk(t, db)
		answers := []struct {
			phone string
			agent tickets.Actor
			score string // "" leaves the survey unanswered
		}{
			{"+8613900000001", d.LiNa, "5"},
			{"+8613900000002", d.LiNa, "3 一般"},
			{"+8613900000003", d.Wang, "4分"},
			{"+8613900000004", d.ZhangWei, ""},
			{"+8613900000005", d.Wang, "1"},
		}
		for _, a := range answers {
			tk := d.Ticket(t, a.phone)
			if _, err := d.Svc.Assign(ctx, d.Admin, tk.Ref(), tickets.Assignment{AssigneeID: &a.agent.Agent.ID}); err != nil {
				t.Fatal(err)
			}
			d.Resolve(t, tk)
			if a.score != "" {
				if res, err := d.Svc.Intake(ctx, tickettest.SMS(a.phone, a.score, "")); err != nil || !res.Answered {
					t.Fatalf("answer %s: %+v %v", a.score, res, err)
				}
			}
			d.Clock.Advance(time.Minute)
		}
		r, err := d.rep.CSAT(ctx, tickettest.T0.Add(-time.Hour), tickettest.T0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
		if r.Responses != 4 || !near(r.Average, 13.0/4) || !near(r.SatisfiedShare, 0.5) {
			t.Errorf("totals: %d %v %v", r.Responses, r.Average, r.SatisfiedShare)
		}
		if want := map[int]int64{1: 1, 2: 0, 3: 1, 4: 1, 5: 1}; !equalMaps(r.Distribution, want) {
			t.Errorf("distribution %v", r.Distribution)
		}
		if len(r.ByAgent) != 2 {
			t.Fatalf("by agent %+v", r.ByAgent)
		}
		byAgent := map[int64]reports.CSATGroup{}
		for _, g := range r.ByAgent {
			byAgent[g.ID] = g
		}
		if g := byAgent[d.LiNa.Agent.ID]; g.Responses != 2 || !near(g.Average, 4) || !near(g.SatisfiedShare, 0.5) || g.Email != "li.na@example.com" {
			t.Errorf("li.na: %+v", g)
		}
		if g := byAgent[d.Wang.Agent.ID]; g.Responses != 2 || !near(g.Average, 2.5) || !near(g.SatisfiedShare, 0.5) {
			t.Errorf("wang: %+v", g)
		}
		if len(r.ByTeam) != 2 || r.ByTeam[0].Name != "Claims" || r.ByTeam[0].Responses != 2 || r.ByTeam[1].Name != "Complaints" || !near(r.ByTeam[1].Average, 2.5) {
			t.Errorf("by team %+v", r.ByTeam)
		}
		// Outside the period: nothing.
		r, err = d.rep.CSAT(ctx, tickettest.T0.Add(time.Hour), tickettest.T0.Add(2*time.Hour))
		if err != nil || r.Responses != 0 || r.Average != 0 || len(r.ByAgent) != 0 || r.Distribution[5] != 0 {
			t.Errorf("empty period: %+v %v", r, err)
		}
		// Refused as the service refuses: invalid, with the reason the API shows (400).
		if _, err := d.rep.CSAT(ctx, tickettest.T0, tickettest.T0.Add(-time.Hour)); !errors.Is(err, tickets.ErrInvalid) || tickets.Reason(err) != "from must be before to" {
			t.Errorf("from after to: %v (reason %q)", err, tickets.Reason(err))
		}
		// The default period is the last 30 days.
		d.Clock.Advance(29 * 24 * time.Hour)
		if r, err := d.rep.CSAT(ctx, time.Time{}, time.Time{}); err != nil || r.Responses != 4 {
			t.Errorf("default period: %+v %v", r, err)
		}
		d.Clock.Advance(2 * 24 * time.Hour)
		if r, err := d.rep.CSAT(ctx, time.Time{}, time.Time{}); err != nil || r.Responses != 0 {
			t.Errorf("default period a month later: %+v %v", r, err)
		}
	})
}

func equalMaps(a, b map[int]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
