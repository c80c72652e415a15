package transport

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// relay is an in-process go-smtp server standing in for the outbound relay. It records
// each transaction exactly as it arrived.
type relay struct {
	addr string

	user, pass string // AUTH PLAIN required when set
	tempFail   bool   // answer 451 at the end of DATA

	mu   sync.Mutex
	txns []relayTxn
}

type relayTxn struct {
	from     string
	to       []string
	raw      []byte
	tls      bool
	authUser string
}

func (r *relay) transactions() []relayTxn {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]relayTxn(nil), r.txns...)
}

type relaySession struct {
	r        *relay
	conn     *smtp.Conn
	authUser string
	txn      relayTxn
}

func (s *relaySession) AuthMechanisms() []string {
	if s.r.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *relaySession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.r.user || pass != s.r.pass {
			return smtp.ErrAuthFailed
		}
		s.authUser = user
		return nil
	}), nil
}

func (s *relaySession) Mail(from string, _ *smtp.MailOptions) error {
	if s.r.user != "" && s.authUser == "" {
		return smtp.ErrAuthRequired
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.txn = relayTxn{from: from, tls: isTLS, authUser: s.authUser}
	return nil
}

func (s *relaySession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if strings.HasPrefix(to, "nobody@") {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}
	}
	if strings.HasPrefix(to, "busy@") {
		return &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 2, 1}, Message: "Mailbox busy"}
	}
	s.txn.to = append(s.txn.to, to)
	return nil
}

func (s *relaySession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.r.tempFail {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
	}
	s.txn.raw = raw
	s.r.mu.Lock()
	s.r.txns = append(s.r.txns, s.txn)
	s.r.mu.Unlock()
	return nil
}

func (s *relaySession) Reset()        { s.txn = relayTxn{} }
func (s *relaySession) Logout() error { return nil }

type relayMode int

const (
	relayPlain relayMode = iota
	relayStartTLS
	relayImplicitTLS
)

func startRelay(t *testing.T, r *relay, mode relayMode, maxBytes int64) *relay {
	t.Helper()
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &relaySession{r: r, conn: c}, nil
	}))
	srv.Domain = "relay.test"
	srv.AllowInsecureAuth = true // plain-text AUTH happens only on 127.0.0.1 here
	srv.MaxMessageBytes = maxBytes
	srv.ErrorLog = slogPrinter{slog.New(slog.DiscardHandler)}
	ln := listen(t)
	switch mode {
	case relayStartTLS:
		srv.TLSConfig = testTLSConfig(t)
	case relayImplicitTLS:
		srv.TLSConfig = testTLSConfig(t)
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	r.addr = ln.Addr().String()
	return r
}

var testReply = crlf("From: Hotline Support <support@hotline.example>\nTo: customer@example.org\nSubject: Re: HL-000123\nIn-Reply-To: <abc@example.org>\n\nHello,\n.this line starts with a dot\nRegards\n")

func mustSender(t *testing.T, rawURL string) *Sender {
	t.Helper()
	s, err := NewSender(rawURL)
	if err != nil {
		t.Fatalf("NewSender(%q): %v", rawURL, err)
	}
	return s
}

func ctx5s(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSenderPlainNoAuth(t *testing.T) {
	r := startRelay(t, &relay{}, relayPlain, 0)
	s := mustSender(t, "smtp://"+r.addr+"?from=support@hotline.example&helo=desk.hotline.example")
	to := []string{"customer@example.org", "cc@example.org"}
	if err := s.Send(ctx5s(t), "", to, testReply); err != nil {
		t.Fatal(err)
	}
	txns := r.transactions()
	if len(txns) != 1 {
		t.Fatalf("relay saw %d transactions", len(txns))
	}
	got := txns[0]
	if got.from != "support@hotline.example" {
		t.Errorf("MAIL FROM %q, want the URL's from", got.from)
	}
	if strings.Join(got.to, ",") != strings.Join(to, ",") {
		t.Errorf("RCPT TO %q, want %q", got.to, to)
	}
	if !bytes.Equal(got.raw, testReply) {
		t.Errorf("bytes differ\n got %q\nwant %q", got.raw, testReply)
	}
	if got.tls || got.authUser != "" {
		t.Errorf("tls=%v auth=%q on a plain relay", got.tls, got.authUser)
	}

	// An explicit from wins over the URL's.
	if err := s.Send(ctx5s(t), "bounces+42@hotline.example", to[:1], testReply); err != nil {
		t.Fatal(err)
	}
	if got := r.transactions()[1].from; got != "bounces+42@hotline.example" {
		t.Errorf("MAIL FROM %q", got)
	}
}

func TestSenderStartTLSAndAuth(t *testing.T) {
	r := startRelay(t, &relay{user: "apikey", pass: "p@ss:w/rd"}, relayStartTLS, 0)
	s := mustSender(t, "smtp+insecure://apikey:p%40ss%3Aw%2Frd@"+r.addr)
	if err := s.Send(ctx5s(t), "support@hotline.example", []string{"customer@example.org"}, testReply); err != nil {
		t.Fatal(err)
	}
	txns := r.transactions()
	if len(txns) != 1 || !txns[0].tls || txns[0].authUser != "apikey" || !bytes.Equal(txns[0].raw, testReply) {
		t.Fatalf("relay saw %+v, want one encrypted, authenticated transaction", txns)
	}
	if strings.Contains(s.String(), "p%40ss") || strings.Contains(s.String(), "p@ss") {
		t.Errorf("String() shows the password: %s", s)
	}

	// smtp:// verifies the certificate: a self-signed one is refused, and that is not
	// a 5xx, so the caller may retry once the relay is fixed.
	strict := mustSender(t, "smtp://apikey:p%40ss%3Aw%2Frd@"+r.addr)
	err := strict.Send(ctx5s(t), "support@hotline.example", []string{"customer@example.org"}, testReply)
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("Send with an unverifiable certificate = %v, want a STARTTLS error", err)
	}
	if IsPermanent(err) {
		t.Errorf("TLS failure classified permanent: %v", err)
	}
}

func TestSenderImplicitTLS(t *testing.T) {
	r := startRelay(t, &relay{user: "u", pass: "p"}, relayImplicitTLS, 0)
	s := mustSender(t, "smtps+insecure://u:p@"+r.addr+"?from=support@hotline.example")
	if err := s.Send(ctx5s(t), "", []string{"customer@example.org"}, testReply); err != nil {
		t.Fatal(err)
	}
	if txns := r.transactions(); len(txns) != 1 || !txns[0].tls || txns[0].authUser != "u" {
		t.Fatalf("relay saw %+v", txns)
	}
}

func TestSenderWrongPasswordIsPermanent(t *testing.T) {
	r := startRelay(t, &relay{user: "u", pass: "right"}, relayStartTLS, 0)
	err := mustSender(t, "smtp+insecure://u:wrong@"+r.addr).Send(ctx5s(t), "support@hotline.example", []string{"customer@example.org"}, testReply)
	if err == nil || !IsPermanent(err) || !strings.Contains(err.Error(), "535") {
		t.Fatalf("err = %v (permanent %v), want a permanent 535", err, IsPermanent(err))
	}
	if len(r.transactions()) != 0 {
		t.Error("message sent despite failed AUTH")
	}
}

func TestSenderUnknownRecipientIsPermanent(t *testing.T) {
	r := startRelay(t, &relay{}, relayPlain, 0)
	s := mustSender(t, "smtp://"+r.addr+"?from=support@hotline.example")
	err := s.Send(ctx5s(t), "", []string{"customer@example.org", "nobody@example.org"}, testReply)
	if err == nil || !IsPermanent(err) {
		t.Fatalf("err = %v, want permanent", err)
	}
	if !strings.Contains(err.Error(), "nobody@example.org") || !strings.Contains(err.Error(), "550") {
		t.Errorf("error does not name the recipient and code: %v", err)
	}
	if len(r.transactions()) != 0 {
		t.Error("message half-sent to the good recipient")
	}
}

func TestSenderTemporaryFailures(t *testing.T) {
	r := startRelay(t, &relay{tempFail: true}, relayPlain, 0)
	s := mustSender(t, "smtp://"+r.addr+"?from=support@hotline.example")
	err := s.Send(ctx5s(t), "", []string{"customer@example.org"}, testReply)
	if err == nil || IsPermanent(err) || !strings.Contains(err.Error(), "451") {
		t.Fatalf("451 at DATA: err = %v (permanent %v), want temporary", err, IsPermanent(err))
	}
	err = s.Send(ctx5s(t), "", []string{"busy@example.org"}, testReply)
	if err == nil || IsPermanent(err) {
		t.Fatalf("450 at RCPT: err = %v, want temporary", err)
	}
}

func TestSenderTooLargeIsPermanent(t *testing.T) {
	r := startRelay(t, &relay{}, relayPlain, 64)
	err := mustSender(t, "smtp://"+r.addr).Send(ctx5s(t), "support@hotline.example", []string{"customer@example.org"}, testReply)
	if err == nil || !IsPermanent(err) {
		t.Fatalf("err = %v, want permanent (relay's SIZE is 64)", err)
	}
}

func TestSenderNetworkErrorsAreTemporary(t *testing.T) {
	// A port nobody listens on.
	ln := listen(t)
	addr := ln.Addr().String()
	ln.Close()
	err := mustSender(t, "smtp://"+addr).Send(ctx5s(t), "support@hotline.example", []string{"customer@example.org"}, testReply)
	if err == nil || IsPermanent(err) {
		t.Fatalf("connection refused: err = %v, want temporary", err)
	}

	// A server that accepts and never greets: the context bounds the wait.
	silent := listen(t)
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = mustSender(t, "smtp://"+silent.Addr().String()).Send(ctx, "support@hotline.example", []string{"customer@example.org"}, testReply)
	if !errors.Is(err, context.DeadlineExceeded) || IsPermanent(err) {
		t.Fatalf("silent server: err = %v, want a temporary deadline error", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Send took %v despite a 200ms deadline", d)
	}
}

func TestSenderRefusesBadInput(t *testing.T) {
	s := mustSender(t, "smtp://127.0.0.1:1")
	for name, call := range map[string]func() error{
		"no from":       func() error { return s.Send(ctx5s(t), "", []string{"a@example.org"}, testReply) },
		"no recipients": func() error { return s.Send(ctx5s(t), "a@hotline.example", nil, testReply) },
		"crlf in rcpt": func() error {
			return s.Send(ctx5s(t), "a@hotline.example", []string{"a@example.org>\r\nRCPT TO:<evil@example.org"}, testReply)
		},
	} {
		if err := call(); err == nil || !IsPermanent(err) {
			t.Errorf("%s: err = %v, want permanent", name, err)
		}
	}
}

func TestNewSender(t *testing.T) {
	for _, tc := range []struct {
		url      string
		addr     string
		implicit bool
		insecure bool
		user     string
		from     string
		err      string
	}{
		{url: "smtp://mail.example.com", addr: "mail.example.com:587"},
		{url: "smtps://u:p@mail.example.com", addr: "mail.example.com:465", implicit: true, user: "u"},
		{url: "SMTP://mail.example.com:2525?from=support%40hotline.example", addr: "mail.example.com:2525", from: "support@hotline.example"},
		{url: "smtp+insecure://127.0.0.1:25", addr: "127.0.0.1:25", insecure: true},
		{url: "smtps+insecure://[::1]:4650", addr: "[::1]:4650", implicit: true, insecure: true},
		{url: "http://mail.example.com", err: "scheme"},
		{url: "smtp://", err: "no host"},
		{url: "smtp://mail.example.com?form=x", err: "unknown parameter"},
		{url: "smtp://mail.example.com?timeout=soon", err: "timeout"},
		{url: "smtp://mail.example.com?from=a%0d%0aRSET", err: "line break"},
	} {
		s, err := NewSender(tc.url)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err = %v, want %q", tc.url, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		if s.addr != tc.addr || s.implicitTLS != tc.implicit || s.insecure != tc.insecure || s.username != tc.user || s.From() != tc.from {
			t.Errorf("%s: got addr=%s implicit=%v insecure=%v user=%q from=%q", tc.url, s.addr, s.implicitTLS, s.insecure, s.username, s.From())
		}
	}

	// A malformed URL's error must not echo the password.
	_, err := NewSender("smtp://user:hunter2@host:port:bad")
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("err = %v", err)
	}
}

func TestIsPermanent(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("boom"), false},
		{fmt.Errorf("send: %w", &smtp.SMTPError{Code: 550}), true},
		{fmt.Errorf("send: %w", &smtp.SMTPError{Code: 421}), false},
		{&net.OpError{Op: "dial", Err: errors.New("refused")}, false},
		{context.DeadlineExceeded, false},
	} {
		if got := IsPermanent(tc.err); got != tc.want {
			t.Errorf("IsPermanent(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestIsLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{"localhost": true, "127.0.0.1": true, "127.0.0.2": true, "::1": true, "mail.example.com": false, "10.0.0.1": false} {
		if got := isLoopbackHost(host); got != want {
			t.Errorf("isLoopbackHost(%q) = %v", host, got)
		}
	}
}
