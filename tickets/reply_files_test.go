package tickets_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/delivery"
	"github.com/hotlinedesk/hotline/tickets/files"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// Tiny files whose first bytes are what their names say.
var (
	pngFile = append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...)
	pdfFile = []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
)

// sized is a PNG of n bytes.
func sized(n int) []byte { return append(bytes.Clone(pngFile[:8]), make([]byte, n-8)...) }

// customerOn opens a ticket from a new customer (n) writing on ch.
func customerOn(t *testing.T, d *tickettest.Desk, ch tickets.Channel, n int) *tickets.Ticket {
	t.Helper()
	in := map[tickets.Channel]tickets.Inbound{
		tickets.ChannelSMS:    tickettest.SMS(fmt.Sprintf("+86138001380%02d", n), "my claim?", ""),
		tickets.ChannelEmail:  {Channel: tickets.ChannelEmail, From: tickets.IdentityEmail, Address: fmt.Sprintf("wu%d@example.com", n), Subject: "claim", Body: "my claim?"},
		tickets.ChannelWeChat: {Channel: tickets.ChannelWeChat, From: tickets.IdentityWeChat, Address: fmt.Sprintf("oOPENID%d", n), Body: "my claim?"},
	}[ch]
	res, err := d.Svc.Intake(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return res.Ticket
}

func TestReplyFilesWithinChannelLimits(t *testing.T) {
	cases := []struct {
		name   string
		ch     tickets.Channel
		files  []tickets.ReplyFile
		refuse string // words of the refusal; "" means stored
	}{
		{"picture by MMS", tickets.ChannelSMS, []tickets.ReplyFile{{Filename: "claim form.png", Content: pngFile}}, ""},
		{"PDF by email", tickets.ChannelEmail, []tickets.ReplyFile{{Filename: "policy.pdf", Content: pdfFile}, {Filename: "photo.PNG", Content: pngFile}}, ""},
		{"picture on WeChat", tickets.ChannelWeChat, []tickets.ReplyFile{{Filename: `C:\Users\li\photo.png`, Content: pngFile}}, ""},
		{"PDF by MMS", tickets.ChannelSMS, []tickets.ReplyFile{{Filename: "policy.pdf", Content: pdfFile}}, "sms takes only gif, jpeg, jpg, png"},
		{"PDF on WeChat", tickets.ChannelWeChat, []tickets.ReplyFile{{Filename: "policy.pdf", Content: pdfFile}}, "wechat takes only jpeg, jpg, png"},
		{"two pictures on WeChat", tickets.ChannelWeChat, []tickets.ReplyFile{{Filename: "a.png", Content: pngFile}, {Filename: "b.png", Content: pngFile}}, "at most 1 file"},
		{"MMS over 5 MB", tickets.ChannelSMS, []tickets.ReplyFile{{Filename: "big.png", Content: sized(5<<20 + 1)}}, "at most 5.0 MB"},
		{"MMS over 5 MB in all", tickets.ChannelSMS, []tickets.ReplyFile{{Filename: "a.png", Content: sized(3 << 20)}, {Filename: "b.png", Content: sized(3 << 20)}}, "at most 5.0 MB"},
		{"email over 10 MB", tickets.ChannelEmail, []tickets.ReplyFile{{Filename: "a.png", Content: sized(6 << 20)}, {Filename: "b.png", Content: sized(6 << 20)}}, "at most 10.0 MB"},
		{"text named as a picture", tickets.ChannelEmail, []tickets.ReplyFile{{Filename: "evil.png", Content: []byte("<script>alert(1)</script>")}}, "not the image/png"},
		{"program", tickets.ChannelEmail, []tickets.ReplyFile{{Filename: "setup.exe", Content: []byte("MZ")}}, "email takes only"},
		{"empty file", tickets.ChannelEmail, []tickets.ReplyFile{{Filename: "a.txt"}}, "is empty"},
		{"no name", tickets.ChannelEmail, []tickets.ReplyFile{{Filename: "", Content: pdfFile}}, "no usable name"},
	}
	// Agents' files are kept in the database, or put in the file store before the reply's
	// transaction: the same checks and the same files either way.
	for _, where := range []string{tickets.FileInDB, tickets.FileInStore} {
		t.Run(where, func(t *testing.T) { replyFilesWithinChannelLimits(t, cases, where) })
	}
}

func replyFilesWithinChannelLimits(t *testing.T, cases []struct {
	name   string
	ch     tickets.Channel
	files  []tickets.ReplyFile
	refuse string
}, where string) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		clock := tickettest.NewClock(tickettest.T0)
		d := tickettest.NewDesk(t, tickettest.Service(db, clock), clock)
		if where == tickets.FileInStore {
			store, err := files.NewLocal(t.TempDir(), clock.Now)
			if err != nil {
				t.Fatal(err)
			}
			d.Svc.SetFileStore(store)
		}
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				tk := customerOn(t, d, tc.ch, i)
				m, err := d.Svc.ReplyWith(ctx, d.LiNa, tk.Ref(), tickets.ReplyInput{Body: "please see the file", Files: tc.files})
				if tc.refuse != "" {
					if !errors.Is(err, tickets.ErrInvalid) || !strings.Contains(tickets.Reason(err), tc.refuse) {
						t.Fatalf("err = %v, want a refusal saying %q", err, tc.refuse)
					}
					for _, msg := range d.Detail(t, tk.Ref()).Messages {
						if msg.Direction == tickets.DirectionOutbound {
							t.Fatalf("a refused reply was stored: %+v", msg)
						}
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if m.Channel != tc.ch {
					t.Fatalf("sent on %s, want %s", m.Channel, tc.ch)
				}
				files, err := d.Svc.OutgoingFiles(ctx, m.ID)
				if err != nil {
					t.Fatal(err)
				}
				if len(files) != len(tc.files) {
					t.Fatalf("%d files to send, want %d", len(files), len(tc.files))
				}
				for i, f := range files {
					if !bytes.Equal(f.Content, tc.files[i].Content) || strings.ContainsAny(f.Filename, `/\`) {
						t.Errorf("file %d = %q (%d bytes), want the agent's %q", i, f.Filename, len(f.Content), tc.files[i].Filename)
					}
					// The agent's copy is the one the console serves, with its safe headers.
					a, content, err := d.Svc.AttachmentFile(ctx, f.AttachmentID)
					if err != nil || !bytes.Equal(content, f.Content) || a.MessageID != m.ID {
						t.Errorf("attachment %d served as %+v, %v", f.AttachmentID, a, err)
					}
					if _, sf, err := d.Svc.AttachmentStream(ctx, f.AttachmentID); err != nil || sf.Location != where {
						t.Errorf("attachment %d kept in %+v (%v), want %s", f.AttachmentID, sf, err, where)
					}
				}
			})
		}
	})
}

func TestFailedSendTellsTheAuthorOnce(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		clock := tickettest.NewClock(tickettest.T0)
		d := tickettest.NewDesk(t, tickettest.Service(db, clock), clock)
		notices := func(a tickets.Actor) []*tickets.Notice {
			t.Helper()
			ns, err := d.Svc.Notices(ctx, a.Agent.ID, false, 50)
			if err != nil {
				t.Fatal(err)
			}
			var out []*tickets.Notice
			for _, n := range ns {
				if n.Kind == "delivery.failed" {
					out = append(out, n)
				}
			}
			return out
		}

		// Two status callbacks for one message, at once: one failure, one notice.
		tk := customerOn(t, d, tickets.ChannelSMS, 0)
		m, err := d.Svc.Reply(ctx, d.LiNa, tk.Ref(), "we called you")
		if err != nil {
			t.Fatal(err)
		}
		if err := delivery.New(d.Svc).MarkSent(ctx, m.ID, "SM0001", "sent"); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				status := []string{"undelivered", "failed"}[i%2]
				_, errs[i] = delivery.New(d.Svc).UpdateDelivery(ctx, tickets.ChannelSMS, "SM0001", status, "30003")
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if n := tickettest.CountEvents(t, db, "delivery.failed"); n != 1 {
			t.Fatalf("%d delivery.failed events, want 1", n)
		}
		ns := notices(d.LiNa)
		if len(ns) != 1 || *ns[0].TicketID != tk.ID || !strings.Contains(ns[0].Body, "phone is off or out of coverage (30003)") {
			t.Fatalf("Li Na's notices = %+v, want one saying the phone was unreachable", ns)
		}
		if others := notices(d.ZhangWei); len(others) != 0 {
			t.Fatalf("Zhang Wei, who did not write it, was told: %+v", others)
		}

		// The sender's refusal and a late bounce race on another reply: still one notice.
		m2, err := d.Svc.Reply(ctx, d.LiNa, tk.Ref(), "and texted")
		if err != nil {
			t.Fatal(err)
		}
		claim, err := delivery.New(d.Svc).ClaimSend(ctx, m2.ID)
		if err != nil || claim == nil {
			t.Fatalf("claim = %v, %v", claim, err)
		}
		wg.Add(2)
		go func() {
			defer wg.Done()
			errs[0] = delivery.New(d.Svc).RecordSendFailed(ctx, claim, "Twilio refused the message: 21610 unsubscribed")
		}()
		go func() {
			defer wg.Done()
			errs[1] = delivery.New(d.Svc).MarkFailed(ctx, m2.ID, "Twilio refused the message: 21610 unsubscribed")
		}()
		wg.Wait()
		if err := errors.Join(errs[:2]...); err != nil {
			t.Fatal(err)
		}
		if ns := notices(d.LiNa); len(ns) != 2 || !strings.Contains(ns[0].Body, "opted out") {
			t.Fatalf("Li Na's notices = %+v, want a second one saying the customer opted out", ns)
		}
		if n := tickettest.CountEvents(t, db, "delivery.failed"); n != 2 {
			t.Fatalf("%d delivery.failed events, want 2", n)
		}
	})
}

func TestDeliveryFailureReasons(t *testing.T) {
	for _, tc := range []struct {
		raw        string
		kind, code string
	}{
		{"30003", tickets.FailUnreachable, "30003"},
		{"30007", tickets.FailBlocked, "30007"},
		{"Twilio refused the message: 21610 Attempt to send to unsubscribed recipient", tickets.FailOptedOut, "21610"},
		{"WeChat error 43004: require subscribe", tickets.FailUnsubscribed, "43004"},
		{"WeChat refused: more than 48 hours since the customer's last message", tickets.FailWindowClosed, ""},
		{"not sent: the customer opted out of sms messages", tickets.FailOptedOut, ""},
		{"not sent: no wechat provider is configured", tickets.FailNoProvider, ""},
		{"the mail server refused the email: 550 5.1.1 user unknown", tickets.FailMailRejected, ""},
		{"gave up after retries: send SMS: dial tcp: timeout", tickets.FailGaveUp, ""},
		{"gave up after retries: WeChat error 45009: api freq out of limit", tickets.FailGaveUp, "45009"},
		{"63018", tickets.FailUnknown, "63018"},
		{"something odd", tickets.FailUnknown, "something odd"},
	} {
		if got := tickets.DeliveryFailure(tc.raw); got.Kind != tc.kind || got.Code != tc.code {
			t.Errorf("DeliveryFailure(%q) = %+v, want %s %q", tc.raw, got, tc.kind, tc.code)
		}
	}
}

func TestMediaLinks(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		clock := tickettest.NewClock(tickettest.T0)
		d := tickettest.NewDesk(t, tickettest.Service(db, clock), clock)
		tk := customerOn(t, d, tickets.ChannelSMS, 0)
		m, err := d.Svc.ReplyWith(ctx, d.LiNa, tk.Ref(), tickets.ReplyInput{Body: "your form", Files: []tickets.ReplyFile{{Filename: "form.png", Content: pngFile}}})
		if err != nil {
			t.Fatal(err)
		}
		id := m.Attachments[0].ID
		path, err := d.Svc.MediaPath(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(path, "/") // "", "media", id, expires, signature
		if len(parts) != 5 || parts[1] != "media" || len(parts[4]) < 40 {
			t.Fatalf("path = %q", path)
		}
		open := func(id int64, exp, sig string) error {
			a, content, err := d.Svc.MediaByLink(ctx, id, exp, sig)
			if err == nil && (a.ID != id || !bytes.Equal(content, pngFile)) {
				t.Fatalf("served %+v", a)
			}
			return err
		}
		if err := open(id, parts[3], parts[4]); err != nil {
			t.Fatalf("the signed link: %v", err)
		}
		for _, tc := range []struct {
			name string
			try  func() error
		}{
			{"no signature", func() error { return open(id, parts[3], "") }},
			{"another signature", func() error { return open(id, parts[3], strings.Repeat("A", len(parts[4]))) }},
			{"another file", func() error { return open(id-1, parts[3], parts[4]) }},
			{"a later expiry", func() error { return open(id, parts[3]+"0", parts[4]) }},
			{"a garbled expiry", func() error { return open(id, "soon", parts[4]) }},
			{"after it expired", func() error { clock.Advance(tickets.MediaLinkTTL + time.Second); return open(id, parts[3], parts[4]) }},
		} {
			if err := tc.try(); !errors.Is(err, tickets.ErrNotFound) {
				t.Errorf("%s: err = %v, want not found", tc.name, err)
			}
		}
	})
}
