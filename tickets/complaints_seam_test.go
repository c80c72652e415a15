package tickets_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/deadlines"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// stubComplaints stands in for package complaints: it records what the core asks it to
// open, writes an audit event in the core's transaction, and hands back a timer and a
// receipt for after the commit.
type stubComplaints struct {
	mu    sync.Mutex
	asked []tickets.ComplaintRequest
	next  int64
	fail  error
}

var errComplaints = errors.New("complaints failed")

func (c *stubComplaints) OpenInTx(ctx context.Context, tx tickets.Tx, actor tickets.Actor, cs []tickets.ComplaintRequest) ([]*tickets.OpenedComplaint, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.asked = append(c.asked, cs...)
	if c.fail != nil {
		return nil, c.fail
	}
	var out []*tickets.OpenedComplaint
	for _, r := range cs {
		c.next++
		if _, err := tx.NewInsert().Model(&tickets.Event{Entity: "ticket", EntityID: r.TicketID, Kind: "stub.complaint", ActorKind: actor.Kind,
			Actor: actor.Kind, Data: "{}", CreatedAt: r.ReceivedAt}).Exec(ctx); err != nil {
			return nil, err
		}
		out = append(out, &tickets.OpenedComplaint{ID: c.next, TicketID: r.TicketID, Receipt: 1000 + c.next,
			Timers: []tickets.Timer{{Kind: "complaint", ID: c.next, At: r.ReceivedAt.Add(time.Hour), Due: r.ReceivedAt.Add(time.Hour)}}})
	}
	return out, nil
}

// handedOver reports whether the job system was given the timer kind/id and the message
// delivered after the commits.
func handedOver(sched *tickettest.Scheduler, kind string, id int64, delivered int64) bool {
	timer := slices.ContainsFunc(sched.Timers(), func(t tickets.Timer) bool { return t.Kind == kind && t.ID == id })
	return timer && slices.Contains(sched.Delivered(), delivered)
}

// Intake and the breach sweep open complaints through the seam, in their own transactions,
// and hand the complaints' timers and receipts to the job system after the commit; an
// error there rolls the change back.
func TestComplaintsSeam(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		cs := &stubComplaints{}
		d.svc.SetComplaints(cs)
		sched := &tickettest.Scheduler{}
		d.svc.SetScheduler(sched)

		// The customer's words, and the phone menu's option.
		res, err := d.svc.Intake(ctx, sms("+8613800138000", "我要投诉！", "S1"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Complaint == nil || res.Complaint.TicketID != res.Ticket.ID || res.Complaint.Ref() != "CP-000001" {
			t.Fatalf("intake's complaint: %+v", res.Complaint)
		}
		ivr := sms("+8613800138001", "please call me back", "S1b")
		ivr.ComplaintSource = tickets.SourceIVR
		if _, err := d.svc.Intake(ctx, ivr); err != nil {
			t.Fatal(err)
		}
		if _, err := d.svc.Intake(ctx, sms("+8613800138002", "where is my claim?", "S2")); err != nil {
			t.Fatal(err)
		}
		if len(cs.asked) != 2 || cs.asked[0].Source != tickets.SourceCustomer || cs.asked[0].Summary != "我要投诉！" || !cs.asked[0].ReceivedAt.Equal(res.Message.CreatedAt) ||
			cs.asked[1].Source != tickets.SourceIVR {
			t.Errorf("intake asked for %+v", cs.asked)
		}
		if !handedOver(sched, "complaint", 1, 1001) || !handedOver(sched, "complaint", 2, 1002) {
			t.Errorf("after intake the job system has timers %v and messages %v", sched.Timers(), sched.Delivered())
		}
		if n := tickettest.CountEvents(t, db, "stub.complaint"); n != 2 {
			t.Errorf("%d complaints recorded in intake's transactions, want 2", n)
		}

		// A missed resolution, whose default policy opens a complaint.
		tk := d.ticket(t, "+8613800138003")
		if _, err := d.svc.Reply(ctx, d.liNa, tk.Ref(), "looking into it"); err != nil {
			t.Fatal(err)
		}
		cs.asked = nil
		d.clock.Advance(48*time.Hour + time.Minute)
		if _, err := deadlines.New(d.svc).Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		var breached []tickets.ComplaintRequest
		for _, r := range cs.asked {
			if r.TicketID == tk.ID {
				breached = append(breached, r)
			}
		}
		if len(breached) != 1 || breached[0].Source != tickets.SourceSLABreach || breached[0].Summary != tk.Ref()+" missed its resolution deadline" {
			t.Errorf("the sweep asked for %+v", cs.asked)
		}

		// Complaints that fail fail the change: the message is not stored, so its sender
		// retries.
		cs.fail = errComplaints
		if _, err := d.svc.Intake(ctx, sms("+8613800138004", "投诉", "S3")); !errors.Is(err, errComplaints) {
			t.Errorf("intake with failing complaints: %v", err)
		}
		if n, _ := db.NewSelect().Table("messages").Where("provider_message_id = 'S3'").Count(ctx); n != 0 {
			t.Errorf("the message was stored though its complaint failed")
		}
	})
}

// Without complaints plugged in, nothing opens one: the message is stored and the breach
// recorded all the same.
func TestNoComplaintsPluggedIn(t *testing.T) {
	ctx := context.Background()
	db := tickettest.SQLite(t)
	d := newDesk(t, db)
	res, err := d.svc.Intake(ctx, sms("+8613800138000", "我要投诉！", "S1"))
	if err != nil || res.Complaint != nil {
		t.Fatalf("intake without complaints: %+v, %v", res, err)
	}
	if _, err := d.svc.Reply(ctx, d.liNa, res.Ticket.Ref(), "looking into it"); err != nil {
		t.Fatal(err)
	}
	d.clock.Advance(48*time.Hour + time.Minute)
	if r, err := deadlines.New(d.svc).Sweep(ctx); err != nil || r.Breaches != 1 {
		t.Errorf("sweep without complaints: %+v, %v", r, err)
	}
	if n, _ := db.NewSelect().Table("complaints").Count(ctx); n != 0 {
		t.Errorf("%d complaints opened with none plugged in", n)
	}
}
