package tickets_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/deadlines"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// DeadlineStats follows three SMS tickets (first response due at +24h, resolution at +48h)
// through time: due within the hour, past but not yet swept, breached and open, and
// breached then resolved.
func TestDeadlineStats(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		clock := tickettest.NewClock(t0)
		svc := tickettest.Service(db, clock)
		cps := complaints.New(svc)
		svc.SetComplaints(cps) // as app does: a missed resolution opens a complaint
		admin := adminActor(t, svc)
		var refs []string
		for i := range 3 {
			res, err := svc.Intake(ctx, sms(fmt.Sprintf("+86138001380%02d", i), "claim status?", fmt.Sprintf("SM%d", i)))
			if err != nil {
				t.Fatal(err)
			}
			refs = append(refs, res.Ticket.Ref())
		}

		type counts struct{ firstSoon, firstOver, resSoon, resOver, complaintOver, openBreached int }
		for _, step := range []struct {
			name string
			at   time.Duration // since t0
			do   func(t *testing.T)
			want counts
		}{
			{name: "nothing due yet", at: 0},
			{name: "first responses due within the hour", at: 23*time.Hour + 30*time.Minute, want: counts{firstSoon: 3}},
			{name: "past due, no sweep yet", at: 24*time.Hour + time.Minute, want: counts{firstOver: 3}},
			{name: "swept: breached and open", at: 24*time.Hour + time.Minute, do: sweep(svc), want: counts{openBreached: 3}},
			{name: "one resolved", at: 24*time.Hour + 2*time.Minute, do: func(t *testing.T) {
				if _, err := svc.SetStatus(ctx, admin, refs[0], tickets.StatusResolved, "answered by phone"); err != nil {
					t.Fatal(err)
				}
			}, want: counts{openBreached: 2}},
			{name: "resolutions due within the hour", at: 47*time.Hour + 30*time.Minute, want: counts{resSoon: 2, openBreached: 2}},
			{name: "resolutions past due", at: 48*time.Hour + time.Minute, want: counts{resOver: 2, openBreached: 2}},
			{name: "resolutions swept open complaints", at: 48*time.Hour + time.Minute, do: sweep(svc), want: counts{openBreached: 2}},
			{name: "complaints past their decision deadline", at: 40 * 24 * time.Hour, want: counts{complaintOver: 2, openBreached: 2}},
			{name: "complaints swept: breached", at: 40 * 24 * time.Hour, do: func(t *testing.T) {
				if _, err := cps.Sweep(ctx); err != nil {
					t.Fatal(err)
				}
			}, want: counts{openBreached: 2}},
		} {
			clock.Advance(t0.Add(step.at).Sub(clock.Now()))
			if step.do != nil {
				step.do(t)
			}
			st, err := svc.DeadlineStats(ctx, time.Hour)
			if err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
			got := counts{st.DueSoon[tickets.KindFirstResponse], st.Overdue[tickets.KindFirstResponse], st.DueSoon[tickets.KindResolution],
				st.Overdue[tickets.KindResolution], st.Overdue[tickets.KindComplaint], st.OpenBreached}
			if got != step.want {
				t.Errorf("%s: got %+v, want %+v", step.name, got, step.want)
			}
		}
	})
}

func sweep(svc *tickets.Service) func(t *testing.T) {
	return func(t *testing.T) {
		t.Helper()
		if _, err := deadlines.New(svc).Sweep(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}
