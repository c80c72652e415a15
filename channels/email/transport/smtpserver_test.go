package transport

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net/textproto"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

type envelope struct {
	from string
	to   []string
	raw  []byte
}

// inbox is a deliver callback for the listener that records envelopes.
type inbox struct {
	mu   sync.Mutex
	got  []envelope
	fail error
}

func (b *inbox) deliver(_ context.Context, from string, to []string, raw []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail != nil {
		return b.fail
	}
	b.got = append(b.got, envelope{from, to, raw})
	return nil
}

func (b *inbox) all() []envelope {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.got)
}

func startSMTPServer(t *testing.T, cfg SMTPConfig, deliver func(context.Context, string, []string, []byte) error) (addr string, logs *logBuffer) {
	t.Helper()
	if cfg.AcceptDomains == nil {
		cfg.AcceptDomains = []string{"hotline.example", "Support.Hotline.Example."}
	}
	cfg.Domain = "mx.hotline.example"
	lg, logs := newTestLogger()
	srv := NewSMTPServer(cfg, deliver, lg)
	ln := listen(t)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), logs
}

func dialSMTP(t *testing.T, addr string) *smtp.Client {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Hello("mail.customer.example"); err != nil {
		t.Fatal(err)
	}
	return c
}

func smtpCode(t *testing.T, err error) (int, smtp.EnhancedCode) {
	t.Helper()
	var se *smtp.SMTPError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not an SMTP reply", err, err)
	}
	return se.Code, se.EnhancedCode
}

func sendData(c *smtp.Client, raw []byte) error {
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(raw); err != nil {
		return err
	}
	return w.Close()
}

func TestSMTPServerDeliversExactBytesAndEnvelope(t *testing.T) {
	box := &inbox{}
	addr, _ := startSMTPServer(t, SMTPConfig{}, box.deliver)
	// Dot-stuffing, a bare "." lookalike, UTF-8 and trailing spaces must all survive.
	raw := crlf("From: Zhang Wei <zhang@customer.example>\nTo: support@hotline.example\nSubject: =?UTF-8?B?6YCA5qy+?=\n\n.starts with a dot\n..two dots\n . \n你好 \n")

	c := dialSMTP(t, addr)
	if err := c.Mail("zhang@customer.example", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("Support@HOTLINE.example", nil); err != nil {
		t.Fatalf("RCPT for an accepted domain (other case): %v", err)
	}
	if err := sendData(c, raw); err != nil {
		t.Fatalf("DATA: %v", err)
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}

	got := box.all()
	if len(got) != 1 {
		t.Fatalf("delivered %d messages", len(got))
	}
	if got[0].from != "zhang@customer.example" || !slices.Equal(got[0].to, []string{"Support@HOTLINE.example"}) {
		t.Errorf("envelope = %q -> %q", got[0].from, got[0].to)
	}
	if !bytes.Equal(got[0].raw, raw) {
		t.Errorf("bytes differ\n got %q\nwant %q", got[0].raw, raw)
	}
}

func TestSMTPServerMultipleRecipientsAndMessages(t *testing.T) {
	box := &inbox{}
	addr, _ := startSMTPServer(t, SMTPConfig{}, box.deliver)
	c := dialSMTP(t, addr)
	// Two messages on one connection, the first to two accepted domains (one written
	// with a trailing dot in the config) and a refused one, which is left out.
	if err := c.Mail("a@customer.example", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("billing@hotline.example", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("someone@elsewhere.example", nil); err == nil {
		t.Fatal("RCPT for a foreign domain was accepted")
	}
	if err := c.Rcpt("help@support.hotline.example", nil); err != nil {
		t.Fatal(err)
	}
	if err := sendData(c, crlf("Subject: first\n\nbody\n")); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("", nil); err != nil { // a bounce, null reverse path
		t.Fatal(err)
	}
	if err := c.Rcpt("support@hotline.example", nil); err != nil {
		t.Fatal(err)
	}
	if err := sendData(c, crlf("Subject: second\n\nbounce\n")); err != nil {
		t.Fatal(err)
	}

	got := box.all()
	if len(got) != 2 {
		t.Fatalf("delivered %d messages, want 2", len(got))
	}
	if want := []string{"billing@hotline.example", "help@support.hotline.example"}; got[0].from != "a@customer.example" || !slices.Equal(got[0].to, want) {
		t.Errorf("first envelope = %q -> %q, want a@customer.example -> %q", got[0].from, got[0].to, want)
	}
	if got[1].from != "" || !slices.Equal(got[1].to, []string{"support@hotline.example"}) {
		t.Errorf("second envelope = %q -> %q; recipients leaked from the first message?", got[1].from, got[1].to)
	}
}

func TestSMTPServerRefusesOtherDomainsAtRCPT(t *testing.T) {
	box := &inbox{}
	addr, _ := startSMTPServer(t, SMTPConfig{}, box.deliver)
	c := dialSMTP(t, addr)
	if err := c.Mail("spammer@example.net", nil); err != nil {
		t.Fatal(err)
	}
	for _, rcpt := range []string{"victim@gmail.example", "x@hotline.example.evil", "x@sub.hotline.example"} {
		err := c.Rcpt(rcpt, nil)
		if err == nil {
			t.Fatalf("RCPT %s accepted", rcpt)
		}
		if code, enh := smtpCode(t, err); code != 550 || enh != (smtp.EnhancedCode{5, 1, 1}) {
			t.Errorf("RCPT %s: got %d %v, want 550 5.1.1", rcpt, code, enh)
		}
	}
	// With no accepted recipient there is nothing to send.
	if _, err := c.Data(); err == nil {
		t.Fatal("DATA accepted without recipients")
	}
	if len(box.all()) != 0 {
		t.Error("something was delivered")
	}
}

func TestSMTPServerNoAcceptDomainsRefusesAll(t *testing.T) {
	addr, logs := startSMTPServer(t, SMTPConfig{AcceptDomains: []string{}}, (&inbox{}).deliver)
	c := dialSMTP(t, addr)
	if err := c.Mail("a@customer.example", nil); err != nil {
		t.Fatal(err)
	}
	if code, _ := smtpCode(t, c.Rcpt("support@hotline.example", nil)); code != 550 {
		t.Errorf("code %d, want 550", code)
	}
	if !strings.Contains(logs.String(), "no AcceptDomains") {
		t.Error("no warning about the empty AcceptDomains")
	}
}

func TestSMTPServerRefusesOversized(t *testing.T) {
	box := &inbox{}
	addr, _ := startSMTPServer(t, SMTPConfig{MaxMessageBytes: 1024}, box.deliver)
	big := append(crlf("Subject: big\n\n"), bytes.Repeat([]byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd\r\n"), 64)...)

	c := dialSMTP(t, addr)
	if ok, size := c.Extension("SIZE"); !ok || size != "1024" {
		t.Errorf("EHLO SIZE = %v %q, want 1024", ok, size)
	}

	// Declared up front with SIZE=: refused at MAIL.
	err := c.Mail("a@customer.example", &smtp.MailOptions{Size: int64(len(big))})
	if code, enh := smtpCode(t, err); code != 552 || enh != (smtp.EnhancedCode{5, 3, 4}) {
		t.Errorf("MAIL SIZE=%d: got %d %v, want 552 5.3.4", len(big), code, enh)
	}

	// Undeclared: refused at the end of DATA, and the connection stays usable.
	if err := c.Mail("a@customer.example", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("support@hotline.example", nil); err != nil {
		t.Fatal(err)
	}
	err = sendData(c, big)
	if code, enh := smtpCode(t, err); code != 552 || enh != (smtp.EnhancedCode{5, 3, 4}) {
		t.Errorf("DATA of %d bytes: got %d %v, want 552 5.3.4", len(big), code, enh)
	}
	if len(box.all()) != 0 {
		t.Fatal("oversized message was delivered")
	}

	small := crlf("Subject: small\n\nfits\n")
	if err := c.Mail("a@customer.example", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("support@hotline.example", nil); err != nil {
		t.Fatal(err)
	}
	if err := sendData(c, small); err != nil {
		t.Fatalf("small message after a refused one: %v", err)
	}
	if got := box.all(); len(got) != 1 || !bytes.Equal(got[0].raw, small) {
		t.Errorf("delivered %d messages", len(got))
	}
}

func TestSMTPServerDeliverFailureIsTemporary(t *testing.T) {
	box := &inbox{fail: errors.New("database is down: secret detail")}
	addr, logs := startSMTPServer(t, SMTPConfig{}, box.deliver)
	c := dialSMTP(t, addr)
	if err := c.Mail("a@customer.example", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("support@hotline.example", nil); err != nil {
		t.Fatal(err)
	}
	err := sendData(c, crlf("Subject: hi\n\nbody\n"))
	code, enh := smtpCode(t, err)
	if code != 451 || enh != (smtp.EnhancedCode{4, 3, 0}) {
		t.Errorf("got %d %v, want 451 4.3.0", code, enh)
	}
	if strings.Contains(err.Error(), "secret detail") {
		t.Errorf("internal error leaked to the sender: %v", err)
	}
	if !strings.Contains(logs.String(), "secret detail") {
		t.Error("the deliver error was not logged")
	}

	// The sender retries later, the store is back: now it is acknowledged.
	box.mu.Lock()
	box.fail = nil
	box.mu.Unlock()
	if err := c.Mail("a@customer.example", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("support@hotline.example", nil); err != nil {
		t.Fatal(err)
	}
	if err := sendData(c, crlf("Subject: hi\n\nbody\n")); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if len(box.all()) != 1 {
		t.Error("retry not delivered exactly once")
	}
}

func TestSMTPServerDeliverPanicIsTemporary(t *testing.T) {
	addr, _ := startSMTPServer(t, SMTPConfig{}, func(context.Context, string, []string, []byte) error { panic("bug") })
	c := dialSMTP(t, addr)
	if err := c.Mail("a@customer.example", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("support@hotline.example", nil); err != nil {
		t.Fatal(err)
	}
	if code, _ := smtpCode(t, sendData(c, crlf("Subject: hi\n\nbody\n"))); code != 451 {
		t.Errorf("got %d, want 451", code)
	}
	if err := c.Noop(); err != nil {
		t.Errorf("connection unusable after a panic: %v", err)
	}
}

func TestSMTPServerMaxRecipients(t *testing.T) {
	addr, _ := startSMTPServer(t, SMTPConfig{MaxRecipients: 2}, (&inbox{}).deliver)
	c := dialSMTP(t, addr)
	if err := c.Mail("a@customer.example", nil); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"a@hotline.example", "b@hotline.example"} {
		if err := c.Rcpt(r, nil); err != nil {
			t.Fatal(err)
		}
	}
	if code, _ := smtpCode(t, c.Rcpt("c@hotline.example", nil)); code != 452 {
		t.Errorf("third recipient: got %d, want 452 (temporary: the sender sends it again)", code)
	}
}

func TestSMTPServerRefusesAuth(t *testing.T) {
	addr, _ := startSMTPServer(t, SMTPConfig{}, (&inbox{}).deliver)
	c := dialSMTP(t, addr)
	if ok, _ := c.Extension("AUTH"); ok {
		t.Error("AUTH advertised")
	}
	err := c.Auth(sasl.NewPlainClient("", "user", "pass"))
	if code, enh := smtpCode(t, err); code != 502 || enh != (smtp.EnhancedCode{5, 7, 0}) {
		t.Errorf("AUTH: got %d %v, want 502 5.7.0", code, enh)
	}
	if err := c.Noop(); err != nil {
		t.Errorf("connection unusable after AUTH: %v", err)
	}
}

func TestSMTPServerGreetingAndStartTLS(t *testing.T) {
	box := &inbox{}
	addr, _ := startSMTPServer(t, SMTPConfig{TLSConfig: testTLSConfig(t)}, box.deliver)

	// The greeting names our host (raw, to see the banner itself).
	tc, err := textproto.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_, banner, err := tc.ReadResponse(220)
	tc.Close()
	if err != nil || !strings.HasPrefix(banner, "mx.hotline.example ") {
		t.Errorf("banner %q, %v", banner, err)
	}

	c, err := smtp.DialStartTLS(addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.TLSConnectionState(); !ok {
		t.Fatal("not encrypted")
	}
	if err := c.SendMail("a@customer.example", []string{"support@hotline.example"}, bytes.NewReader(crlf("Subject: tls\n\nx\n"))); err != nil {
		t.Fatal(err)
	}
	if len(box.all()) != 1 {
		t.Error("not delivered over TLS")
	}
}
