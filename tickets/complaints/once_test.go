package complaints_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/deadlines"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// complaintSpy records what the service hands the job system after its commits.
type complaintSpy struct {
	mu        sync.Mutex
	timers    []tickets.Timer
	delivered []int64
}

func (s *complaintSpy) Schedule(_ context.Context, ts []tickets.Timer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.timers = append(s.timers, ts...)
	return nil
}

func (s *complaintSpy) Deliver(_ context.Context, ids []int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delivered = append(s.delivered, ids...)
	return nil
}

// complaintClocks is how many complaints had a decision clock scheduled.
func (s *complaintSpy) complaintClocks() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := map[int64]bool{}
	for _, t := range s.timers {
		if t.Kind == "complaint" {
			ids[t.ID] = true
		}
	}
	return len(ids)
}

// complaintTrail is what a ticket's complaints left behind, as the officers, the customer
// and the audit trail see it.
type complaintTrail struct {
	open, all   int // complaints on the ticket
	opened      int // complaint.opened events
	assigned    int // complaint.assigned notices to officers
	receipts    int // "complaint received" messages queued to the customer
	delivered   int // of those, handed to the sender
	clocks      int // complaints whose decision clock was scheduled
	complaintID int64
}

func (tr complaintTrail) String() string {
	return fmt.Sprintf("%d open of %d complaints, %d opened events, %d officer notices, %d receipts queued (%d handed to the sender), %d decision clocks",
		tr.open, tr.all, tr.opened, tr.assigned, tr.receipts, tr.delivered, tr.clocks)
}

func trailOf(t *testing.T, db *bun.DB, spy *complaintSpy, ticketID int64) complaintTrail {
	t.Helper()
	ctx := context.Background()
	var tr complaintTrail
	var cs []*complaints.Complaint
	if err := db.NewSelect().Model(&cs).Where("ticket_id = ?", ticketID).OrderExpr("id").Scan(ctx); err != nil {
		t.Fatal(err)
	}
	tr.all = len(cs)
	for _, c := range cs {
		if c.Open() {
			tr.open++
			tr.complaintID = c.ID
		}
	}
	var err error
	if tr.opened, err = db.NewSelect().Table("events").Where("entity = 'ticket' AND entity_id = ? AND kind = 'complaint.opened'", ticketID).Count(ctx); err != nil {
		t.Fatal(err)
	}
	if tr.assigned, err = db.NewSelect().Table("notices").Where("ticket_id = ? AND kind = 'complaint.assigned'", ticketID).Count(ctx); err != nil {
		t.Fatal(err)
	}
	var receipts []int64
	if err := db.NewSelect().Table("messages").Column("id").
		Where("ticket_id = ? AND direction = ? AND body LIKE ?", ticketID, tickets.DirectionOutbound, "%"+tickets.ComplaintRefPrefix+"%").
		Scan(ctx, &receipts); err != nil {
		t.Fatal(err)
	}
	tr.receipts = len(receipts)
	spy.mu.Lock()
	for _, id := range spy.delivered {
		for _, r := range receipts {
			if id == r {
				tr.delivered++
			}
		}
	}
	spy.mu.Unlock()
	tr.clocks = spy.complaintClocks()
	return tr
}

// The one complaint a ticket may have open is held by the database: six members of staff
// opening a complaint on one ticket at the same moment leave one complaint, given to one
// officer, with one receipt to the customer, one decision clock and one "opened" event; the
// others are told it is already open and shown it.
func TestOpenComplaintRaceOpensOne(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := receiptDesk(t, db)
		d.Officer(t, "officer1@example.com")
		d.Officer(t, "officer2@example.com")
		spy := &complaintSpy{}
		d.Svc.SetScheduler(spy)
		// A few tickets in turn: each is one race, so a lucky interleaving cannot hide a gap.
		for round := range 3 {
			tk := d.Ticket(t, fmt.Sprintf("+86138001380%02d", round))
			spy.mu.Lock()
			spy.timers, spy.delivered = nil, nil
			spy.mu.Unlock()

			const staff = 6
			var (
				start = make(chan struct{})
				wg    sync.WaitGroup
				got   [staff]*complaints.Complaint
				errs  [staff]error
			)
			for i := range staff {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					got[i], errs[i] = d.cps.Open(ctx, d.LiNa, complaints.NewComplaint{TicketRef: tk.Ref(), Summary: fmt.Sprintf("complaint from desk %d", i)})
				}()
			}
			close(start)
			wg.Wait()

			tr := trailOf(t, db, spy, tk.ID)
			if tr.open != 1 || tr.all != 1 || tr.opened != 1 || tr.assigned != 1 || tr.receipts != 1 || tr.delivered != 1 || tr.clocks != 1 {
				t.Errorf("round %d: %v; want one of each", round, tr)
			}
			opened, already := 0, 0
			for i := range staff {
				switch {
				case errs[i] == nil:
					opened++
				case errors.Is(errs[i], tickets.ErrConflict):
					already++
					if got[i] == nil || got[i].ID != tr.complaintID || !strings.Contains(errs[i].Error(), got[i].Ref()) {
						t.Errorf("round %d: a losing opener was shown %v (%v), want the open complaint", round, got[i], errs[i])
					}
				default:
					t.Errorf("round %d: opener %d failed: %v", round, i, errs[i])
				}
			}
			if opened != 1 || already != staff-1 {
				t.Errorf("round %d: %d openers opened a complaint and %d were told it was open; want 1 and %d", round, opened, already, staff-1)
			}
		}
	})
}

// Every door that opens a complaint goes through the same guard: staff logging one, the
// breach sweep opening one on a late resolution, and the customer texting 投诉, all at
// once on one ticket, leave one complaint, one officer, one receipt, one clock and one
// "opened" event; the breach itself is still recorded once.
func TestComplaintOpenersRaceOpensOne(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := receiptDesk(t, db)
		d.Officer(t, "officer1@example.com")
		d.Officer(t, "officer2@example.com")
		spy := &complaintSpy{}
		d.Svc.SetScheduler(spy)
		const rounds = 4
		tks := make([]*tickets.Ticket, rounds)
		// One ticket an hour, answered at once: each round's ticket is the only one whose
		// resolution (48h; a complaint when missed) has just become late.
		for i := range tks {
			tks[i] = d.Ticket(t, fmt.Sprintf("+86139001390%02d", i))
			if _, err := d.Svc.Reply(ctx, d.LiNa, tks[i].Ref(), "looking into it"); err != nil {
				t.Fatal(err)
			}
			d.Clock.Advance(time.Hour)
		}
		for round, tk := range tks {
			d.Clock.Advance(tickettest.T0.Add(time.Duration(round)*time.Hour + 48*time.Hour + time.Minute).Sub(d.Clock.Now()))
			spy.mu.Lock()
			spy.timers, spy.delivered = nil, nil
			spy.mu.Unlock()
			var (
				start = make(chan struct{})
				wg    sync.WaitGroup
				errs  = make(chan error, 3)
			)
			run := func(name string, fn func() error) {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					if err := fn(); err != nil && !errors.Is(err, tickets.ErrConflict) {
						errs <- fmt.Errorf("%s: %w", name, err)
					}
				}()
			}
			run("staff", func() error {
				_, err := d.cps.Open(ctx, d.LiNa, complaints.NewComplaint{TicketRef: tk.Ref(), Summary: "customer called to complain"})
				return err
			})
			run("sweep", func() error {
				_, err := deadlines.New(d.Svc).Sweep(ctx)
				return err
			})
			run("customer", func() error {
				_, err := d.Svc.Intake(ctx, tickettest.SMS(fmt.Sprintf("+86139001390%02d", round), "我要投诉，太慢了", fmt.Sprintf("SM-complain-%d", round)))
				return err
			})
			close(start)
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Errorf("round %d: %v", round, err)
			}
			// Whatever the sweep had not reached yet in this round, the next sweep does.
			if _, err := deadlines.New(d.Svc).Sweep(ctx); err != nil {
				t.Fatal(err)
			}
			tr := trailOf(t, db, spy, tk.ID)
			if tr.open != 1 || tr.all != 1 || tr.opened != 1 || tr.assigned != 1 || tr.receipts != 1 || tr.delivered != 1 || tr.clocks != 1 {
				t.Errorf("round %d: %v; want one of each", round, tr)
			}
			breaches, err := db.NewSelect().Table("events").Where("entity_id = ? AND kind = 'sla.breached'", tk.ID).Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if breaches != 1 {
				t.Errorf("round %d: the late resolution was recorded %d times, want once", round, breaches)
			}
		}
	})
}

// The rule holds whatever writes the row: the database itself refuses a second open
// complaint on a ticket, while decided and closed ones may sit beside the open one. A
// decided complaint cannot be reopened while another is open: staff are told which.
func TestOneOpenComplaintHeldByDatabase(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		officer := tickets.AgentActor(d.Officer(t, "officer@example.com"))
		tk := d.Ticket(t, "+8613800138000")
		first, err := d.cps.Open(ctx, d.LiNa, complaints.NewComplaint{TicketRef: tk.Ref(), Summary: "nobody called back"})
		if err != nil {
			t.Fatal(err)
		}

		copyAs := func(status tickets.ComplaintStatus) error {
			_, err := db.NewRaw(`INSERT INTO complaints (ticket_id, source, summary, received_at, due_at, deadline_at, status, created_at, updated_at)
				SELECT ticket_id, source, summary, received_at, due_at, deadline_at, ?, created_at, updated_at FROM complaints WHERE id = ?`,
				string(status), first.ID).Exec(ctx)
			return err
		}
		for _, tc := range []struct {
			status  tickets.ComplaintStatus
			refused bool
		}{
			{tickets.ComplaintReceived, true},
			{tickets.ComplaintInvestigating, true},
			{tickets.ComplaintDecided, false},
			{tickets.ComplaintClosed, false},
		} {
			if err := copyAs(tc.status); (err != nil) != tc.refused {
				t.Errorf("a second complaint, %s, beside an open one: error %v, want refused %v", tc.status, err, tc.refused)
			}
		}

		// Decide the first; a second opens; the first cannot be reopened beside it.
		if _, err := d.cps.Decide(ctx, officer, first.Ref(), "We apologise.", "upheld"); err != nil {
			t.Fatal(err)
		}
		second, err := d.cps.Open(ctx, d.LiNa, complaints.NewComplaint{TicketRef: tk.Ref(), Summary: "still waiting"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = d.cps.SetStatus(ctx, officer, first.Ref(), tickets.ComplaintInvestigating, "customer disputes the decision")
		if !errors.Is(err, tickets.ErrConflict) || !strings.Contains(err.Error(), second.Ref()) {
			t.Errorf("reopening %s beside open %s: %v, want a conflict naming %s", first.Ref(), second.Ref(), err, second.Ref())
		}
		if c, err := d.cps.Complaint(ctx, first.Ref()); err != nil || c.Status != tickets.ComplaintDecided {
			t.Errorf("after the refused reopening %s is %v (%v), want decided", first.Ref(), c.Status, err)
		}
		// Once the second is decided, the first may be reopened.
		if _, err := d.cps.Decide(ctx, officer, second.Ref(), "Paid today.", "upheld"); err != nil {
			t.Fatal(err)
		}
		if _, err := d.cps.SetStatus(ctx, officer, first.Ref(), tickets.ComplaintInvestigating, "customer disputes the decision"); err != nil {
			t.Errorf("reopening %s alone: %v", first.Ref(), err)
		}
	})
}
