package webhooks_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/channels/email/transport"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// refundMail is a customer's email with extra header lines (each a format taking its
// number) before its text.
func refundMail(messageID string, extra int, field string) []byte {
	var b strings.Builder
	b.WriteString("From: Zhang San <zhang.san@example.com>\r\nTo: support@desk.example.com\r\nSubject: Refund for order 88213\r\n" +
		"Message-ID: <" + messageID + ">\r\nDate: Tue, 1 Dec 2026 10:00:00 +0800\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n")
	for i := range extra {
		fmt.Fprintf(&b, field, i)
	}
	b.WriteString("\r\nThe refund for order 88213 has not arrived.\r\n")
	return []byte(b.String())
}

// Mail no real mail system sends is refused with a 400 and its reason, and stores nothing;
// before, header lines past the limit became the ticket's text, and an over-long
// Message-ID was stored under a made-up id.
func TestEmailWebhookRefusesWhatNoMailCarries(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newMailDesk(t, db)
		tests := []struct {
			name   string
			raw    []byte
			status int
			says   string
		}{
			{"6000 header fields", refundMail("a1@example.com", 6000, "X-Spam-Trace-%d: scored\r\n"), 400, "more than 5000 fields"},
			{"a Message-ID of 5000 characters", refundMail(strings.Repeat("x", 5000)+"@example.com", 0, ""), 400, "Message-ID is longer than an email line can carry"},
			{"300 Received lines", refundMail("a2@example.com", 300, "Received: from relay%d.example.net by mx.example.com; Tue, 1 Dec 2026 10:00:00 +0800\r\n"), 202, ""},
		}
		for _, tt := range tests {
			before := d.count(t, "messages")
			status, body := d.post(t, "Bearer "+mailSecret, tt.raw)
			if status != tt.status {
				t.Errorf("%s: %d %s, want %d", tt.name, status, body, tt.status)
				continue
			}
			stored := d.count(t, "messages") - before
			if tt.status != 202 {
				var e struct{ Error string }
				if err := json.Unmarshal([]byte(body), &e); err != nil || !strings.Contains(e.Error, tt.says) {
					t.Errorf("%s: body %s, want a JSON error saying %q", tt.name, body, tt.says)
				}
				if stored != 0 {
					t.Errorf("%s: refused, yet %d messages stored", tt.name, stored)
				}
				continue
			}
			var m tickets.Message
			if err := d.db.NewSelect().Model(&m).Order("id DESC").Limit(1).Scan(context.Background()); err != nil {
				t.Fatal(err)
			}
			if stored != 1 || m.Body != "The refund for order 88213 has not arrived." {
				t.Errorf("%s: %d stored, body %.100q", tt.name, stored, m.Body)
			}
		}
	})
}

// invoiceMail is a customer's email with n scanned invoices attached, the text first.
func invoiceMail(n int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: =?UTF-8?B?546L6Iqz?= <wang.fang@example.cn>\r\nTo: support@desk.example.com\r\nSubject: =?UTF-8?B?5Y+R56Wo5omr5o+P5Lu2?=\r\n"+
		"Message-ID: <invoices-%d@example.cn>\r\nDate: Tue, 1 Dec 2026 10:00:00 +0800\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: multipart/mixed; boundary=\"----=_Part_0_1234.5678\"\r\n\r\n"+
		"------=_Part_0_1234.5678\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n您好，附件是本月全部发票的扫描件。\r\n", n)
	for i := 1; i <= n; i++ {
		pdf := strings.Repeat(fmt.Sprintf("%%PDF-1.4 invoice %04d\n", i), 60)
		fmt.Fprintf(&b, "------=_Part_0_1234.5678\r\nContent-Type: application/pdf; name=\"invoice-%04d.pdf\"\r\n"+
			"Content-Disposition: attachment; filename=\"invoice-%04d.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n",
			i, i, base64.StdEncoding.EncodeToString([]byte(pdf)))
	}
	b.WriteString("------=_Part_0_1234.5678--\r\n")
	return []byte(b.String())
}

// An email with more attachments than Hotline keeps is taken: the customer's text, the
// files within the limit, and a note naming those that were not kept, which the agent
// reads in the ticket; before, they vanished without a word.
func TestEmailWebhookNotesAttachmentsNotKept(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newMailDesk(t, db)
		if status, body := d.post(t, "Bearer "+mailSecret, invoiceMail(1003)); status != 202 {
			t.Fatalf("%d %s", status, body)
		}
		td, err := d.svc.Ticket(ctx, "HL-000001")
		if err != nil {
			t.Fatal(err)
		}
		m := td.Messages[0]
		if len(m.Attachments) != 998 || m.Attachments[997].Filename != "invoice-0998.pdf" || m.Attachments[0].SizeBytes != 1320 {
			t.Errorf("%d attachments kept, want invoice-0001.pdf to invoice-0998.pdf", len(m.Attachments))
		}
		for _, want := range []string{
			"您好，附件是本月全部发票的扫描件。",
			"[Not kept: 5 attachments (6 KB), over the limit of 1000 parts in one email]",
			"[未保存：5 个附件（6 KB），超出每封邮件 1000 个部分的上限]",
			"invoice-0999.pdf (1 KB), invoice-1000.pdf (1 KB), invoice-1001.pdf (1 KB), invoice-1002.pdf (1 KB), invoice-1003.pdf (1 KB)",
		} {
			if !strings.Contains(m.Body, want) {
				t.Errorf("the message the agent reads lacks %q:\n%s", want, m.Body)
			}
		}
	})
}

// Hotline's SMTP listener, wired to the email intake as the server wires it, refuses for
// good, with the reason, what can never be stored; before, it answered 250 and dropped it.
func TestSMTPListenerRefusesWhatNoMailCarries(t *testing.T) {
	d := newMailDesk(t, tickettest.SQLite(t))
	srv := transport.NewSMTPServer(transport.SMTPConfig{AcceptDomains: []string{"desk.example.com"}},
		func(ctx context.Context, _ string, _ []string, raw []byte) error { return d.mail.Deliver(ctx, raw) }, tickettest.Logger())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln) //nolint:errcheck
	t.Cleanup(func() { srv.Close() })

	tests := []struct {
		name string
		raw  []byte
		code int // 0: accepted
		says string
	}{
		{"6000 header fields", refundMail("s1@example.com", 6000, "X-Spam-Trace-%d: scored\r\n"), 554, "more than 5000 fields"},
		// Longer lines go-smtp refuses itself (500 5.5.2 line too long).
		{"a Message-ID of 1500 characters", refundMail(strings.Repeat("x", 1500)+"@example.com", 0, ""), 554, "Message-ID is longer"},
		{"no sender", []byte("Subject: hi\r\nMessage-ID: <s2@example.com>\r\n\r\nhello\r\n"), 554, "no From address"},
		{"an ordinary email", refundMail("s3@example.com", 0, ""), 0, ""},
	}
	for _, tt := range tests {
		c, err := smtp.Dial(ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		err = c.SendMail("zhang.san@example.com", []string{"support@desk.example.com"}, strings.NewReader(string(tt.raw)))
		c.Close()
		var se *smtp.SMTPError
		switch {
		case tt.code == 0 && err != nil:
			t.Errorf("%s: %v, want it accepted", tt.name, err)
		case tt.code != 0 && (!errors.As(err, &se) || se.Code != tt.code || se.EnhancedCode != (smtp.EnhancedCode{5, 6, 0}) || !strings.Contains(se.Message, tt.says)):
			t.Errorf("%s: %v, want %d 5.6.0 saying %q", tt.name, err, tt.code, tt.says)
		}
	}
	if n := d.count(t, "messages"); n != 1 {
		t.Errorf("%d messages stored, want only the ordinary one", n)
	}
}
