package tickets_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

func emailWith(sid, from string, atts ...tickets.NewAttachment) tickets.Inbound {
	return tickets.Inbound{Channel: tickets.ChannelEmail, From: tickets.IdentityEmail, Address: from,
		Subject: "发票", Body: "附件是发票", ProviderMessageID: sid, Attachments: atts}
}

func TestEmailAttachmentsAreKept(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		svc := tickettest.Service(db, tickettest.NewClock(t0))
		pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte{0, 0xff, 0x80}, 1000)...)
		invoice := tickets.NewAttachment{Filename: "发票.pdf", ContentType: "application/pdf", SizeBytes: int64(len(pdf)), Content: pdf}
		first, err := svc.Intake(ctx, emailWith("<a@x>", "zhou@example.cn", invoice))
		if err != nil {
			t.Fatal(err)
		}
		// The same file again, from someone else: kept once.
		second, err := svc.Intake(ctx, emailWith("<b@x>", "li@example.cn", invoice,
			tickets.NewAttachment{Filename: "photo.jpg", ContentType: "image/jpeg", URL: "https://api.twilio.com/media/ME1"}))
		if err != nil {
			t.Fatal(err)
		}
		var files int
		if err := db.NewSelect().TableExpr("attachment_files").ColumnExpr("COUNT(*)").Scan(ctx, &files); err != nil {
			t.Fatal(err)
		}
		if files != 1 {
			t.Errorf("%d files kept for one distinct file", files)
		}
		var atts [][]*tickets.Attachment
		for _, res := range []*tickets.IntakeResult{first, second} {
			d, err := svc.Ticket(ctx, res.Ticket.Ref())
			if err != nil {
				t.Fatal(err)
			}
			atts = append(atts, d.Messages[0].Attachments)
			a := d.Messages[0].Attachments[0]
			if !a.Stored() {
				t.Fatalf("attachment %+v is not kept", a)
			}
			got, content, err := svc.AttachmentFile(ctx, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Filename != "发票.pdf" || !bytes.Equal(content, pdf) {
				t.Errorf("file %q with %d bytes, want the invoice's %d", got.Filename, len(content), len(pdf))
			}
		}
		linked := atts[1][1]
		if linked.Stored() {
			t.Error("a file the provider keeps was marked as kept")
		}
		for _, id := range []int64{linked.ID, 999999} {
			if _, _, err := svc.AttachmentFile(ctx, id); !errors.Is(err, tickets.ErrNotFound) {
				t.Errorf("attachment %d: %v, want not found", id, err)
			}
		}
	})
}

func TestChangesAfter(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		svc := tickettest.Service(db, tickettest.NewClock(t0))
		start, err := svc.LastEventID(ctx)
		if err != nil {
			t.Fatal(err)
		}
		res, err := svc.Intake(ctx, sms("+8613800138000", "你好", "SM1"))
		if err != nil {
			t.Fatal(err)
		}
		admin, err := svc.CreateAgent(ctx, tickets.Actor{Kind: "system"}, tickets.NewAgent{Email: "a@x.test", Name: "A", Role: tickets.RoleAdmin, Password: "long-enough-pw"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := complaints.New(svc).Open(ctx, tickets.AgentActor(admin), complaints.NewComplaint{TicketRef: res.Ticket.Ref(), Summary: "slow"}); err != nil {
			t.Fatal(err)
		}
		cs, err := svc.ChangesAfter(ctx, start, 100)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for i, c := range cs {
			if i > 0 && c.ID <= cs[i-1].ID {
				t.Fatalf("changes out of order: %d after %d", c.ID, cs[i-1].ID)
			}
			if c.Ref() != res.Ticket.Ref() {
				t.Errorf("%s on %s %d names ticket %s, want %s", c.Kind, c.Entity, c.EntityID, c.Ref(), res.Ticket.Ref())
			}
			kinds = append(kinds, c.Entity+":"+c.Kind)
			// Whose change it is: the admin's complaint, the customer's message.
			if mine := c.ActorID != nil && *c.ActorID == admin.ID; mine != (c.Entity == "complaint" || c.Kind == "complaint.opened") {
				t.Errorf("%s on %s: actor %v, want the admin's (%d) only for the complaint", c.Kind, c.Entity, c.ActorID, admin.ID)
			}
		}
		want := map[string]bool{"ticket:ticket.created": false, "ticket:message.received": false, "ticket:complaint.opened": false}
		for _, k := range kinds {
			if _, ok := want[k]; ok {
				want[k] = true
			}
			if k == "agent:agent.created" {
				t.Error("an agent's event reached the ticket feed")
			}
		}
		for k, seen := range want {
			if !seen {
				t.Errorf("the feed lacks %s; it has %v", k, kinds)
			}
		}
		if last, _ := svc.LastEventID(ctx); last < cs[len(cs)-1].ID {
			t.Errorf("LastEventID %d is below the newest change %d", last, cs[len(cs)-1].ID)
		}
		if more, err := svc.ChangesAfter(ctx, cs[len(cs)-1].ID, 100); err != nil || len(more) != 0 {
			t.Errorf("after the newest change: %v %v", more, err)
		}
	})
}
