package complaints_test

import (
	"context"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/access"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/deadlines"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// What customers learn of their complaint, from the doors' status answers: by SMS or
// WeChat, on the status page and on the phone. They see its latest complaint; the phone
// menu reads out the deadline of the one still open, even when a later one was decided.
func TestCustomerSeesTheirComplaint(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		if err := deadlines.New(d.Svc).SeedHolidays(ctx); err != nil {
			t.Fatal(err)
		}
		doors := access.New(d.Svc, access.Config{}) // where customers ask
		officer := tickets.AgentActor(d.Officer(t, "officer@example.com"))
		tk := d.Ticket(t, "+8613800138000")
		status := func() *access.TicketStatus {
			t.Helper()
			st, err := doors.PublicStatus(ctx, tk.Ref(), "8000")
			if err != nil {
				t.Fatal(err)
			}
			return st
		}
		caller := func() *access.ComplaintStatusView {
			t.Helper()
			got, c, err := doors.CallerStatus(ctx, tk.ID, "+8613800138000")
			if err != nil || got == nil || got.ID != tk.ID {
				t.Fatalf("caller's status: %v %v", got, err)
			}
			return c
		}
		if st := status(); st.Complaint != nil || caller() != nil {
			t.Errorf("a ticket without complaints shows %+v", st.Complaint)
		}

		first, err := d.cps.Open(ctx, d.LiNa, complaints.NewComplaint{TicketRef: tk.Ref(), Summary: "nobody called back"})
		if err != nil {
			t.Fatal(err)
		}
		if st := status(); st.Complaint == nil || st.Complaint.Ref != "CP-000001" || st.Complaint.Status != tickets.ComplaintReceived ||
			st.Complaint.Decision != "" || !st.Complaint.Deadline.Equal(first.DeadlineAt) {
			t.Errorf("status page shows %+v, want CP-000001 received, due %v", st.Complaint, first.DeadlineAt)
		}
		if c := caller(); c == nil || c.Ref != first.Ref() || !c.Deadline.Equal(first.DeadlineAt) {
			t.Errorf("phone menu reads %+v, want %s due %v", c, first.Ref(), first.DeadlineAt)
		}
		sts, err := doors.CustomerStatus(ctx, tickets.IdentityPhone, "13800138000", "")
		if err != nil {
			t.Fatal(err)
		}
		if text := doors.StatusText(sts, false); !strings.Contains(text, "；投诉 CP-000001 将于 12-09 前答复") {
			t.Errorf("status text %q", text)
		}
		if text := doors.StatusText(sts, true); !strings.Contains(text, "; complaint CP-000001 decided by 12-09") {
			t.Errorf("status text %q", text)
		}

		// Decided: the customer reads the decision; no deadline is read out any more.
		if _, err := d.cps.Decide(ctx, officer, first.Ref(), "We apologise; a manager will call.", "upheld"); err != nil {
			t.Fatal(err)
		}
		if st := status(); st.Complaint == nil || st.Complaint.Status != tickets.ComplaintDecided || st.Complaint.Decision != "We apologise; a manager will call." {
			t.Errorf("after the decision the status page shows %+v", st.Complaint)
		}
		if c := caller(); c != nil {
			t.Errorf("the phone menu reads a decided complaint's deadline: %+v", c)
		}
		sts, _ = doors.CustomerStatus(ctx, tickets.IdentityPhone, "13800138000", "")
		if text := doors.StatusText(sts, false); strings.Contains(text, "投诉") {
			t.Errorf("status text names a decided complaint: %q", text)
		}

		// A second complaint, decided; the first reopened: the page shows the latest, the
		// phone the open one.
		second, err := d.cps.Open(ctx, d.LiNa, complaints.NewComplaint{TicketRef: tk.Ref(), Summary: "still waiting"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.cps.Decide(ctx, officer, second.Ref(), "Paid today.", "upheld"); err != nil {
			t.Fatal(err)
		}
		if _, err := d.cps.SetStatus(ctx, officer, first.Ref(), tickets.ComplaintInvestigating, "customer disputes the decision"); err != nil {
			t.Fatal(err)
		}
		if st := status(); st.Complaint == nil || st.Complaint.Ref != second.Ref() {
			t.Errorf("status page shows %+v, want the latest, %s", st.Complaint, second.Ref())
		}
		if c := caller(); c == nil || c.Ref != first.Ref() || c.Status != tickets.ComplaintInvestigating {
			t.Errorf("phone menu reads %+v, want the open %s", c, first.Ref())
		}
	})
}
