package aftercare_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

func followUpStatuses(t *testing.T, care *aftercare.Service, ticketID int64) map[int64][]aftercare.FollowUpStatus {
	t.Helper()
	fs, err := care.FollowUps(context.Background(), aftercare.FollowUpFilter{TicketID: ticketID})
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64][]aftercare.FollowUpStatus{}
	for _, f := range fs {
		out[f.OffsetSeconds] = append(out[f.OffsetSeconds], f.Status)
	}
	return out
}

func TestFollowUps(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		loc := tickettest.Shanghai(t)
		tk := d.Ticket(t, "+8613700000001")
		if _, err := d.Svc.Assign(ctx, d.Admin, tk.Ref(), tickets.Assignment{AssigneeID: &d.LiNa.Agent.ID}); err != nil {
			t.Fatal(err)
		}
		loose := d.Ticket(t, "+8613700000002") // nobody's
		d.Resolve(t, tk)
		d.Resolve(t, loose)

		// Resolved at 17:30 in Shanghai: due the end of that day, a week and a month later.
		fs, err := d.care.FollowUps(ctx, aftercare.FollowUpFilter{AssigneeID: &d.LiNa.Agent.ID})
		if err != nil {
			t.Fatal(err)
		}
		want := []struct {
			offset time.Duration
			due    string
		}{
			{0, "2026-11-25T23:59:59+08:00"},
			{7 * 24 * time.Hour, "2026-12-02T23:59:59+08:00"},
			{30 * 24 * time.Hour, "2026-12-25T23:59:59+08:00"},
		}
		if len(fs) != len(want) {
			t.Fatalf("%d follow-ups for li.na, want %d", len(fs), len(want))
		}
		for i, w := range want {
			f := fs[i]
			if f.Offset() != w.offset || f.DueAt.In(loc).Format(time.RFC3339) != w.due || f.TicketID != tk.ID ||
				f.Status != aftercare.FollowUpOpen || f.Assignee == nil || f.Assignee.ID != d.LiNa.Agent.ID {
				t.Errorf("follow-up %d: offset %v due %s ticket %d status %s", i, f.Offset(), f.DueAt.In(loc).Format(time.RFC3339), f.TicketID, f.Status)
			}
			// Every call shows the number to ring, not only the customer's first.
			if f.Ticket == nil || f.Ticket.Customer == nil || f.Ticket.Customer.Identity(tickets.IdentityPhone) != "+8613700000001" {
				t.Errorf("follow-up %d does not carry the customer's number: %+v", i, f.Ticket)
			}
		}
		filters := []struct {
			name string
			f    aftercare.FollowUpFilter
			want int
		}{
			{"unassigned", aftercare.FollowUpFilter{Unassigned: true}, 3},
			{"due tomorrow", aftercare.FollowUpFilter{DueBefore: ptr(tickettest.T0.Add(24 * time.Hour))}, 2},
			{"li.na due this week", aftercare.FollowUpFilter{AssigneeID: &d.LiNa.Agent.ID, DueBefore: ptr(tickettest.T0.Add(8 * 24 * time.Hour))}, 2},
			{"done", aftercare.FollowUpFilter{Statuses: []aftercare.FollowUpStatus{aftercare.FollowUpDone}}, 0},
			{"all", aftercare.FollowUpFilter{}, 6},
		}
		for _, c := range filters {
			got, err := d.care.FollowUps(ctx, c.f)
			if err != nil || len(got) != c.want {
				t.Errorf("%s: %d follow-ups (%v), want %d", c.name, len(got), err, c.want)
			}
			for i := 1; i < len(got); i++ {
				if got[i].DueAt.Before(got[i-1].DueAt) {
					t.Errorf("%s: not ordered by due time", c.name)
				}
			}
		}
		if _, err := d.care.FollowUps(ctx, aftercare.FollowUpFilter{Statuses: []aftercare.FollowUpStatus{"late"}}); !errors.Is(err, tickets.ErrInvalid) {
			t.Errorf("unknown status: %v", err)
		}

		// Completing: the assignee or their supervisor, with a note, once.
		sameDay, week, month := fs[0], fs[1], fs[2]
		complete := []struct {
			name string
			by   tickets.Actor
			id   int64
			note string
			want error
		}{
			{"another agent", d.ZhangWei, sameDay.ID, "called", tickets.ErrForbidden},
			{"another team's agent", d.Wang, sameDay.ID, "called", tickets.ErrForbidden},
			{"no note", d.LiNa, sameDay.ID, "  ", tickets.ErrInvalid},
			{"assignee", d.LiNa, sameDay.ID, "called, customer happy", nil},
			{"twice", d.LiNa, sameDay.ID, "again", tickets.ErrConflict},
			{"supervisor", d.Chen, week.ID, "left a voicemail", nil},
			{"unknown", d.Admin, 999999, "x", tickets.ErrNotFound},
		}
		for _, c := range complete {
			f, err := d.care.CompleteFollowUp(ctx, c.by, c.id, c.note)
			if c.want != nil {
				if !errors.Is(err, c.want) {
					t.Errorf("%s: %v, want %v", c.name, err, c.want)
				}
				continue
			}
			if err != nil || f.Status != aftercare.FollowUpDone || f.CompletedAt == nil || *f.CompletedBy != c.by.Agent.ID || f.Note != c.note {
				t.Errorf("%s: %+v %v", c.name, f, err)
			}
		}
		if kinds := eventKinds(mustDetail(t, d.Svc, tk.Ref()).Events); !slices.Contains(kinds, "followup.scheduled") || !slices.Contains(kinds, "followup.completed") {
			t.Errorf("ticket events %v", kinds)
		}

		// Reopened: the month's call is cancelled; resolved again, only it comes back.
		if _, err := d.Svc.SetStatus(ctx, d.LiNa, tk.Ref(), tickets.StatusOpen, "customer called back"); err != nil {
			t.Fatal(err)
		}
		if got := followUpStatuses(t, d.care, tk.ID); !slices.Equal(got[int64(month.Offset()/time.Second)], []aftercare.FollowUpStatus{"cancelled"}) ||
			!slices.Equal(got[0], []aftercare.FollowUpStatus{"done"}) {
			t.Errorf("after reopening: %v", got)
		}
		if _, err := d.care.CompleteFollowUp(ctx, d.LiNa, month.ID, "x"); !errors.Is(err, tickets.ErrConflict) {
			t.Errorf("completing a cancelled follow-up: %v", err)
		}
		d.Clock.Advance(48 * time.Hour)
		d.Resolve(t, tk)
		got := followUpStatuses(t, d.care, tk.ID)
		if !slices.Equal(got[0], []aftercare.FollowUpStatus{"done"}) || !slices.Equal(got[7*24*3600], []aftercare.FollowUpStatus{"done"}) ||
			len(got[30*24*3600]) != 2 {
			t.Errorf("after resolving again: %v", got)
		}
		fresh, _ := d.care.FollowUps(ctx, aftercare.FollowUpFilter{TicketID: tk.ID, Statuses: []aftercare.FollowUpStatus{aftercare.FollowUpOpen}})
		if len(fresh) != 1 || fresh[0].DueAt.In(loc).Format(time.RFC3339) != "2026-12-27T23:59:59+08:00" {
			t.Errorf("new follow-ups %+v", fresh)
		}
		if n := tickettest.CountEvents(t, db, "followup.cancelled"); n != 1 {
			t.Errorf("%d followup.cancelled events", n)
		}
	})
}

func TestFollowUpOffsetsConfigurable(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		d.configure(aftercare.Config{FollowUpOffsets: []time.Duration{3 * 24 * time.Hour}})
		tk := d.Ticket(t, "+8613700000003")
		d.Resolve(t, tk)
		fs, err := d.care.FollowUps(ctx, aftercare.FollowUpFilter{TicketID: tk.ID})
		if err != nil || len(fs) != 1 || fs[0].Offset() != 72*time.Hour || fs[0].AssigneeID != nil {
			t.Errorf("follow-ups %+v %v", fs, err)
		}
	})
}
