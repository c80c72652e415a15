package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	netsmtp "net/smtp"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-smtp"

	"github.com/hotlinedesk/hotline/channels/email"
	"github.com/hotlinedesk/hotline/channels/email/transport/imaptest"
)

// relay is an SMTP server standing in for the company's mail relay; it keeps what it gets.
type relay struct {
	mu   sync.Mutex
	msgs [][]byte
}

type relaySession struct{ r *relay }

func (s relaySession) Mail(string, *smtp.MailOptions) error { return nil }
func (s relaySession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s relaySession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.r.mu.Lock()
	s.r.msgs = append(s.r.msgs, b)
	s.r.mu.Unlock()
	return err
}
func (s relaySession) Reset()        {}
func (s relaySession) Logout() error { return nil }

func (r *relay) received() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.msgs...)
}

func listenLocal(t *testing.T) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

type literal struct{ *bytes.Reader }

func (l literal) Size() int64 { return l.Reader.Size() }

func mailFixture(t *testing.T, name string) []byte {
	b, err := os.ReadFile(filepath.Join("..", "channels", "email", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

// Mail arrives by the webhook, by Hotline's own SMTP listener and by IMAP polling; an
// agent's reply leaves through the SMTP relay with the thread's headers; the customer's
// answer to it comes back onto the same ticket; a bounce of it marks it failed.
func TestEmailThreeWaysInAndOneOut(t *testing.T) {
	// The company's relay, for replies.
	rel := &relay{}
	relaySrv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return relaySession{rel}, nil }))
	relaySrv.Domain = "relay.test"
	relayLn := listenLocal(t)
	go relaySrv.Serve(relayLn)
	defer relaySrv.Close()

	// The support mailbox, polled over IMAP.
	imapAddr, user := imaptest.Start(t, "support", "mailbox-password")

	smtpAddr := freeAddr(t)
	base := startHotline(t, map[string]string{
		"EMAIL_WEBHOOK_SECRET": "hook-secret", "EMAIL_FROM": "客服 Support <support@desk.example.com>",
		"SMTP_URL":         "smtp://" + relayLn.Addr().String(),
		"IMAP_URL":         "imap://support:mailbox-password@" + imapAddr + "/INBOX",
		"EMAIL_POLL_EVERY": "200ms", "SMTP_LISTEN_ADDR": smtpAddr, "SMTP_ACCEPT_DOMAINS": "desk.example.com",
	})
	var login struct{ Token string }
	call(t, "POST", base+"/api/v1/auth/login", "", map[string]string{"email": "admin@example.com", "password": "e2e-admin-password"}, 200, &login)
	type ticket struct {
		Ref, Channel, Subject string
		Customer              struct{ Email string }
		Messages              []struct {
			Direction, Body string
			DeliveryStatus  string `json:"delivery_status"`
		} `json:"messages"`
	}
	list := func() []ticket {
		var l struct{ Items []ticket }
		call(t, "GET", base+"/api/v1/tickets", login.Token, nil, 200, &l)
		return l.Items
	}

	// 1. The webhook.
	req, _ := http.NewRequest("POST", base+"/webhooks/email", bytes.NewReader(mailFixture(t, "html_only.eml")))
	req.Header.Set("Authorization", "Bearer hook-secret")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 202 {
		t.Fatalf("webhook: %v %v", err, res.Status)
	}
	res.Body.Close()

	// 2. Hotline's SMTP listener, as another mail server delivers to it.
	gbk := mailFixture(t, "gbk.eml")
	if err := netsmtp.SendMail(smtpAddr, nil, "chenzhe_1990@163.com", []string{"support@desk.example.com"}, gbk); err != nil {
		t.Fatalf("SMTP delivery: %v", err)
	}
	if err := netsmtp.SendMail(smtpAddr, nil, "x@example.com", []string{"someone@elsewhere.example"}, gbk); err == nil {
		t.Error("the SMTP listener accepted mail for a domain that is not ours")
	}

	// 3. The mailbox.
	appendMail := func(raw []byte) {
		if _, err := user.Append("INBOX", literal{bytes.NewReader(raw)}, &imap.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	appendMail(crlf("From: Wang Fang <wang.fang@example.com>\nTo: support@desk.example.com\nSubject: =?UTF-8?B?55CG6LWU6L+b5bqm?=\nMessage-ID: <first-question@example.com>\nDate: Wed, 25 Nov 2026 10:00:00 +0800\nContent-Type: text/plain; charset=UTF-8\n\n我上周提交的理赔，现在进度如何？\n"))
	waitFor(t, 10*time.Second, func() bool { return len(list()) == 3 })

	var wang ticket
	for _, tk := range list() {
		if tk.Customer.Email == "wa***@example.com" { // masked in the API
			wang = tk
		}
	}
	if wang.Subject != "理赔进度" || wang.Channel != "email" {
		t.Fatalf("the mailbox's message: %+v", wang)
	}

	// The agent answers: the reply leaves through the relay, threaded.
	// Each of the three new email tickets was acknowledged with its reference.
	waitFor(t, 10*time.Second, func() bool { return len(rel.received()) == 3 })
	for _, raw := range rel.received() {
		ack, err := email.Parse(raw)
		if err != nil || !strings.Contains(ack.Text, "我们已收到您的信息") || !strings.Contains(ack.Subject, "[HL-") {
			t.Errorf("acknowledgement: %v %+v", err, ack)
		}
	}
	call(t, "POST", base+"/api/v1/tickets/"+wang.Ref+"/replies", login.Token, map[string]string{"body": "您好，您的理赔已进入审核，预计两个工作日内完成。"}, 201, nil)
	waitFor(t, 10*time.Second, func() bool { return len(rel.received()) == 4 })
	sent, err := email.Parse(rel.received()[3])
	if err != nil {
		t.Fatal(err)
	}
	if sent.Subject != "Re: 理赔进度 ["+wang.Ref+"]" || sent.From.Addr != "support@desk.example.com" || sent.From.Name != "客服 Support" ||
		strings.Join(sent.InReplyTo, ",") != "first-question@example.com" || !strings.HasSuffix(strings.Join(sent.References, ","), "first-question@example.com") ||
		sent.Text != "您好，您的理赔已进入审核，预计两个工作日内完成。" || sent.HTML == "" || sent.AutoReply {
		t.Errorf("the reply as the customer receives it: %+v", sent)
	}
	ourID := sent.MessageID
	if !strings.HasSuffix(ourID, "@desk.example.com") {
		t.Fatalf("our Message-ID %q", ourID)
	}

	// The customer answers from another client, without the reference in the subject.
	appendMail(crlf(fmt.Sprintf("From: Wang Fang <wang.fang@example.com>\nTo: support@desk.example.com\nSubject: Re: thanks\nMessage-ID: <answer@example.com>\nIn-Reply-To: <%s>\nReferences: <first-question@example.com> <%s>\nContent-Type: text/plain; charset=UTF-8\n\n谢谢，我等你们的消息。\n\nOn Wed, 25 Nov 2026 at 10:05, Support wrote:\n> 您好，您的理赔已进入审核\n", ourID, ourID)))
	var detail ticket
	waitFor(t, 10*time.Second, func() bool {
		call(t, "GET", base+"/api/v1/tickets/"+wang.Ref, login.Token, nil, 200, &detail)
		return len(detail.Messages) == 4 // question, acknowledgement, reply, answer
	})
	if last := detail.Messages[3]; last.Direction != "inbound" || last.Body != "谢谢，我等你们的消息。" {
		t.Errorf("the customer's answer on %s: %+v", wang.Ref, last)
	}
	if len(list()) != 3 {
		t.Error("the answer opened a new ticket")
	}

	// The relay later returns our reply as undeliverable.
	bounce := crlf(fmt.Sprintf("From: MAILER-DAEMON@relay.test\nTo: support@desk.example.com\nSubject: Undelivered Mail Returned to Sender\nMessage-ID: <bounce-1@relay.test>\nAuto-Submitted: auto-replied\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n--B\nContent-Type: text/plain\n\nThe mail could not be delivered.\n--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; relay.test\n\nFinal-Recipient: rfc822; wang.fang@example.com\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\n--B\nContent-Type: text/rfc822-headers\n\nMessage-ID: <%s>\nFrom: support@desk.example.com\n--B--\n", ourID))
	if err := netsmtp.SendMail(smtpAddr, nil, "", []string{"support@desk.example.com"}, bounce); err != nil {
		t.Fatalf("bounce delivery: %v", err)
	}
	waitFor(t, 10*time.Second, func() bool {
		call(t, "GET", base+"/api/v1/tickets/"+wang.Ref, login.Token, nil, 200, &detail)
		return detail.Messages[2].DeliveryStatus == "failed"
	})
	if n := len(list()); n != 3 {
		t.Errorf("%d tickets after the bounce, want 3", n)
	}

	// More clients' mail, each way in: four new customers, and two auto-replies dropped.
	appendMail(mailFixture(t, "apple_mail_reply.eml"))
	appendMail(mailFixture(t, "auto_reply.eml"))
	appendMail(mailFixture(t, "outlook_reply.eml"))
	for _, f := range []string{"attachments.eml", "out_of_office.eml"} {
		if err := netsmtp.SendMail(smtpAddr, nil, "sender@example.com", []string{"support@desk.example.com"}, mailFixture(t, f)); err != nil {
			t.Fatalf("SMTP %s: %v", f, err)
		}
	}
	req, _ = http.NewRequest("POST", base+"/webhooks/email", bytes.NewReader(mailFixture(t, "gmail_reply.eml")))
	req.Header.Set("Authorization", "Bearer hook-secret")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 202 {
		t.Fatalf("webhook gmail: %v", err)
	}
	waitFor(t, 10*time.Second, func() bool { return len(list()) == 7 })
	time.Sleep(500 * time.Millisecond) // the auto-replies were polled with the others: still 7
	subjects := map[string]bool{}
	for _, tk := range list() {
		subjects[tk.Subject] = true
	}
	for _, want := range []string{"RE: Refund for order 88213 [HL-000123]", "Re: Router keeps dropping Wi-Fi [HL-000789]", "发票和截图"} {
		if !subjects[want] {
			t.Errorf("no ticket %q among %v", want, subjects)
		}
	}
	if n := len(list()); n != 7 {
		t.Errorf("%d tickets, want 7: auto-replies and out-of-office notices make none", n)
	}
}
