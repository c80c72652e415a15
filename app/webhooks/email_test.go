package webhooks_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/app/webhooks"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/delivery"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

const mailSecret = "mail-webhook-secret"

type mailDesk struct {
	svc  *tickets.Service
	app  *fiber.App
	db   *bun.DB
	mail *webhooks.Email
}

func newMailDesk(t *testing.T, db *bun.DB) *mailDesk {
	t.Helper()
	svc := tickettest.Service(db, tickettest.NewClock(t0))
	svc.SetComplaints(complaints.New(svc)) // as app wires it
	log := tickettest.Logger()
	mail := webhooks.NewEmail(svc, mailSecret, log)
	return &mailDesk{svc: svc, db: db, mail: mail, app: api.New(api.Config{Service: svc, Log: log, Webhooks: []interface{ Register(*fiber.App) }{mail}})}
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "channels", "email", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (d *mailDesk) post(t *testing.T, auth string, raw []byte) (int, string) {
	t.Helper()
	req := httptest.NewRequest("POST", "/webhooks/email", bytes.NewReader(raw))
	req.Header.Set("Content-Type", "message/rfc822")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := d.app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func (d *mailDesk) count(t *testing.T, table string) int {
	n, err := d.db.NewSelect().Table(table).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestEmailWebhookAuth(t *testing.T) {
	d := newMailDesk(t, tickettest.SQLite(t))
	raw := fixture(t, "gmail_reply.eml")
	for _, auth := range []string{"", "Bearer wrong", "Basic " + mailSecret, mailSecret, "Bearer " + mailSecret + "x"} {
		if status, _ := d.post(t, auth, raw); status != 403 {
			t.Errorf("Authorization %q: %d, want 403", auth, status)
		}
	}
	if n := d.count(t, "messages"); n != 0 {
		t.Errorf("refused requests stored %d messages", n)
	}
	closed := webhooks.NewEmail(d.svc, "", tickettest.Logger())
	app := api.New(api.Config{Service: d.svc, Webhooks: []interface{ Register(*fiber.App) }{closed}})
	req := httptest.NewRequest("POST", "/webhooks/email", bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer ")
	if res, _ := app.Test(req, -1); res.StatusCode != 403 {
		t.Errorf("with no secret configured: %d, want 403", res.StatusCode)
	}
}

func TestEmailThroughTheWebhook(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newMailDesk(t, db)
		cases := []struct {
			file, subject, name, email, text string
			attachments                      int
		}{
			{"gmail_reply.eml", "Re: Router keeps dropping Wi-Fi [HL-000789]", "Zhang San", "zhang.san.1988@gmail.com", "", 0},
			{"gbk.eml", "", "", "chenzhe_1990@163.com", "", 0},
			{"outlook_reply.eml", "RE: Refund for order 88213 [HL-000123]", "Emily Carter", "emily.carter@contoso.com", "", 0},
			{"html_only.eml", "Cannot log in to the customer portal", "Chen, Jing", "chen.jing@example.org", "", 0},
			{"attachments.eml", "发票和截图", "周杰", "zhou.jie@example.cn", "", 2},
		}
		for i, c := range cases {
			status, body := d.post(t, "Bearer "+mailSecret, fixture(t, c.file))
			if status != 202 {
				t.Fatalf("%s: %d %s", c.file, status, body)
			}
			td, err := d.svc.Ticket(ctx, tickets.FormatRef(int64(i+1)))
			if err != nil {
				t.Fatalf("%s: %v", c.file, err)
			}
			m := td.Messages[0]
			if td.Channel != tickets.ChannelEmail || td.Customer.Identity(tickets.IdentityEmail) != c.email || (c.name != "" && td.Customer.Name != c.name) {
				t.Errorf("%s: channel %s customer %q <%s>", c.file, td.Channel, td.Customer.Name, td.Customer.Identity(tickets.IdentityEmail))
			}
			if c.subject != "" && td.Subject != c.subject {
				t.Errorf("%s: subject %q, want %q", c.file, td.Subject, c.subject)
			}
			if strings.TrimSpace(m.Body) == "" || strings.Contains(m.Body, "\n> ") {
				t.Errorf("%s: body %q, want the new text without the quoted reply", c.file, m.Body)
			}
			if len(m.Attachments) < c.attachments {
				t.Errorf("%s: %d attachments, want %d", c.file, len(m.Attachments), c.attachments)
			}
		}
		// GBK: the subject and the name arrive as Chinese, not mojibake.
		gbk, _ := d.svc.Ticket(ctx, "HL-000002")
		if !strings.Contains(gbk.Subject, "订单") || !strings.ContainsRune(gbk.Customer.Name, '陈') {
			t.Errorf("GBK message: subject %q name %q", gbk.Subject, gbk.Customer.Name)
		}
		// The same Message-ID again changes nothing.
		d.post(t, "Bearer "+mailSecret, fixture(t, "gmail_reply.eml"))
		if n := d.count(t, "messages"); n != len(cases) {
			t.Errorf("%d messages after a duplicate, want %d", n, len(cases))
		}
		// Not an email at all.
		if status, body := d.post(t, "Bearer "+mailSecret, []byte("hello, this is not a message")); status != 400 {
			t.Errorf("garbage: %d %s", status, body)
		}
	})
}

func TestEmailLoopsAndBounces(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newMailDesk(t, db)
		for _, f := range []string{"auto_reply.eml", "out_of_office.eml"} {
			if status, body := d.post(t, "Bearer "+mailSecret, fixture(t, f)); status != 202 {
				t.Errorf("%s: %d %s", f, status, body)
			}
		}
		if n := d.count(t, "tickets"); n != 0 {
			t.Errorf("auto-replies made %d tickets", n)
		}
		// A reply Hotline sent, later returned by the recipient's server.
		res, err := d.svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelEmail, From: tickets.IdentityEmail, Address: "someone@example.com", Body: "hi", ProviderMessageID: "first@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		admin, _ := d.svc.CreateAgent(ctx, tickets.Actor{Kind: "system"}, tickets.NewAgent{Email: "a@example.com", Role: tickets.RoleAdmin, Password: "long enough password"})
		m, err := d.svc.Reply(ctx, tickets.AgentActor(admin), res.Ticket.Ref(), "our answer")
		if err != nil {
			t.Fatal(err)
		}
		delivery.New(d.svc).MarkSent(ctx, m.ID, "e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9@hotline.example", "sent") //nolint:errcheck
		if status, body := d.post(t, "Bearer "+mailSecret, fixture(t, "bounce_dsn.eml")); status != 202 {
			t.Fatalf("bounce: %d %s", status, body)
		}
		var got tickets.Message
		d.db.NewSelect().Model(&got).Where("id = ?", m.ID).Scan(ctx) //nolint:errcheck
		if got.DeliveryStatus != "failed" || !strings.Contains(got.DeliveryError, "5.1.1") {
			t.Errorf("bounced message: %s %q", got.DeliveryStatus, got.DeliveryError)
		}
		if n := d.count(t, "tickets"); n != 1 {
			t.Errorf("the bounce made a ticket")
		}
	})
}

// A customer's answer threads by In-Reply-To to the ticket of the message it answers, or by
// the reference in its subject.
func TestEmailThreading(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newMailDesk(t, db)
		admin, _ := d.svc.CreateAgent(ctx, tickets.Actor{Kind: "system"}, tickets.NewAgent{Email: "a@example.com", Role: tickets.RoleAdmin, Password: "long enough password"})
		first, _ := d.svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelEmail, From: tickets.IdentityEmail, Address: "zhang.san.1988@gmail.com", Subject: "Router keeps dropping Wi-Fi", Body: "help", ProviderMessageID: "orig@gmail.com"})
		m, _ := d.svc.Reply(ctx, tickets.AgentActor(admin), first.Ticket.Ref(), "Please restart it.")
		delivery.New(d.svc).MarkSent(ctx, m.ID, "c0ffee01d2e3f4a5b6c7d8e9f0a1b2c3@hotline.example", "sent") //nolint:errcheck
		// Another ticket for the same customer is now their newest active one.
		if _, err := d.svc.CreateTicket(ctx, tickets.AgentActor(admin), tickets.NewTicket{Email: "zhang.san.1988@gmail.com", Subject: "Another question by phone"}); err != nil {
			t.Fatal(err)
		}
		d.svc.SetStatus(ctx, tickets.AgentActor(admin), first.Ticket.Ref(), tickets.StatusPending, "") //nolint:errcheck

		// gmail_reply.eml answers the Message-ID Hotline sent: it lands on the first ticket.
		d.post(t, "Bearer "+mailSecret, fixture(t, "gmail_reply.eml"))
		td, _ := d.svc.Ticket(ctx, first.Ticket.Ref())
		if len(td.Messages) != 3 || td.Status != tickets.StatusOpen {
			for _, m := range td.Messages {
				t.Logf("%s %s %q %v", m.Direction, m.Channel, m.Body, m.ProviderMessageID)
			}
			t.Errorf("the reply went elsewhere: %s has %d messages, status %s", td.Ref(), len(td.Messages), td.Status)
		}
	})
}

// A customer's email with a few megabytes of attachments is taken, as by SMTP.
func TestEmailWebhookTakesLargeMessages(t *testing.T) {
	d := newMailDesk(t, tickettest.SQLite(t))
	pdf := bytes.Repeat([]byte("%PDF-1.7 scanned invoice page\n"), 100_000) // 3 MB
	var b bytes.Buffer
	b.WriteString("From: Li Lei <li.lei@example.com>\r\nTo: support@desk.example.com\r\nSubject: Invoices\r\nMessage-ID: <big@example.com>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"X\"\r\n\r\n--X\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nScans attached.\r\n" +
		"--X\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"scan.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(pdf)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--X--\r\n")
	if status, body := d.post(t, "Bearer "+mailSecret, b.Bytes()); status != 202 {
		t.Fatalf("a %d MB email: %d %s", b.Len()>>20, status, body)
	}
	td, err := d.svc.Ticket(context.Background(), "HL-000001")
	if err != nil || len(td.Messages[0].Attachments) != 1 || td.Messages[0].Attachments[0].SizeBytes != int64(len(pdf)) {
		t.Errorf("large email stored: %v %+v", err, td)
	}
}
