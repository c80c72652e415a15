package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	gosmtp "github.com/emersion/go-smtp"
)

// DefaultSendTimeout bounds one Send when ctx has no deadline of its own.
const DefaultSendTimeout = 2 * time.Minute

// Sender submits outbound mail to one SMTP relay (a submission server or a provider
// such as SES or Postmark), one connection per message.
//
// It is built on net/smtp rather than go-smtp's client because STARTTLS must be
// opportunistic on one connection ("upgrade if offered"), and go-smtp v0.25 can only
// start TLS as part of dialling.
type Sender struct {
	addr        string // host:port
	host        string
	implicitTLS bool
	insecure    bool
	username    string
	password    string
	hasAuth     bool
	from        string
	helo        string
	timeout     time.Duration
	redacted    string
}

// NewSender parses an SMTP_URL:
//
//	smtp://user:pass@host:587            STARTTLS when the server offers it (default port 587)
//	smtps://user:pass@host:465           implicit TLS (default port 465)
//	smtp+insecure://, smtps+insecure://  the same without certificate checks (tests only)
//
// Query parameters, all optional: from (default envelope sender), helo (our name in
// EHLO; default the host name), timeout (a Go duration for one Send without a ctx
// deadline; default 2m). User and password must be percent-encoded.
func NewSender(rawURL string) (*Sender, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("parse SMTP URL: %w", redactURLError(err))
	}
	s := &Sender{timeout: DefaultSendTimeout}
	port := "587"
	switch strings.ToLower(u.Scheme) {
	case "smtp":
	case "smtps":
		s.implicitTLS, port = true, "465"
	case "smtp+insecure":
		s.insecure = true
	case "smtps+insecure":
		s.implicitTLS, s.insecure, port = true, true, "465"
	default:
		return nil, fmt.Errorf("SMTP URL scheme %q: want smtp, smtps, smtp+insecure or smtps+insecure", u.Scheme)
	}
	s.host = u.Hostname()
	if s.host == "" {
		return nil, errors.New("SMTP URL has no host")
	}
	if p := u.Port(); p != "" {
		port = p
	}
	s.addr = net.JoinHostPort(s.host, port)
	if u.User != nil {
		s.username = u.User.Username()
		s.password, _ = u.User.Password()
		s.hasAuth = s.username != ""
	}

	q := u.Query()
	for k := range q {
		switch k {
		case "from", "helo", "timeout":
		default:
			return nil, fmt.Errorf("SMTP URL: unknown parameter %q (want from, helo or timeout)", k)
		}
	}
	s.from = q.Get("from")
	if err := checkLine("from", s.from); err != nil {
		return nil, err
	}
	s.helo = q.Get("helo")
	if s.helo == "" {
		if h, err := os.Hostname(); err == nil && h != "" {
			s.helo = h
		} else {
			s.helo = "localhost"
		}
	}
	if err := checkLine("helo", s.helo); err != nil {
		return nil, err
	}
	if t := q.Get("timeout"); t != "" {
		d, err := time.ParseDuration(t)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("SMTP URL: timeout %q is not a positive duration", t)
		}
		s.timeout = d
	}
	s.redacted = u.Redacted()
	return s, nil
}

// From returns the default envelope sender from the URL's from parameter, if any.
func (s *Sender) From() string { return s.from }

// String describes the relay without its password, for logs.
func (s *Sender) String() string { return s.redacted }

// Send delivers raw, an RFC 5322 message with CRLF line endings, to the recipients in
// to, with from as the envelope sender (the URL's from parameter when empty). The
// message is sent as is: headers such as To and Cc are the caller's business, so a
// recipient only in to is a Bcc. Any refused recipient aborts the whole message, so
// nothing is half sent; see IsPermanent for whether to retry.
func (s *Sender) Send(ctx context.Context, from string, to []string, raw []byte) error {
	if from == "" {
		from = s.from
	}
	if from == "" {
		return permanent("no envelope sender: pass one or set ?from= in the SMTP URL")
	}
	if len(to) == 0 {
		return permanent("no recipients")
	}
	if err := checkLine("from", from); err != nil {
		return err
	}
	for _, rcpt := range to {
		if rcpt == "" {
			return permanent("empty recipient address")
		}
		if err := checkLine("recipient", rcpt); err != nil {
			return err
		}
	}

	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.timeout)
		defer cancel()
	}
	err := s.send(ctx, from, to, raw)
	if err != nil {
		// Cancellation and the deadline surface as network errors; say which it was.
		if cerr := ctx.Err(); cerr != nil {
			return fmt.Errorf("smtp send via %s: %w: %w", s.addr, cerr, err)
		}
		if dl, _ := ctx.Deadline(); !time.Now().Before(dl) {
			// The connection's deadline can fire a moment before ctx records it.
			return fmt.Errorf("smtp send via %s: %w: %w", s.addr, context.DeadlineExceeded, err)
		}
	}
	return err
}

func (s *Sender) send(ctx context.Context, from string, to []string, raw []byte) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return fmt.Errorf("dial smtp %s: %w", s.addr, err)
	}
	defer conn.Close()
	// net/smtp takes no context: the deadline bounds every read and write, and closing
	// the connection interrupts it when ctx is cancelled.
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	tlsCfg := &tls.Config{ServerName: s.host, InsecureSkipVerify: s.insecure, MinVersion: tls.VersionTLS12}
	var nc net.Conn = conn
	if s.implicitTLS {
		tc := tls.Client(conn, tlsCfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("smtp tls handshake with %s: %w", s.addr, err)
		}
		nc = tc
	}

	c, err := smtp.NewClient(nc, s.host)
	if err != nil {
		return fmt.Errorf("smtp greeting from %s: %w", s.addr, err)
	}
	defer c.Close()
	if err := c.Hello(s.helo); err != nil {
		return fmt.Errorf("smtp EHLO: %w", err)
	}
	encrypted := s.implicitTLS
	if !encrypted {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tlsCfg); err != nil {
				return fmt.Errorf("smtp STARTTLS with %s: %w", s.addr, err)
			}
			encrypted = true
		}
	}

	if s.hasAuth {
		if !encrypted && !isLoopbackHost(s.host) {
			return permanent(fmt.Sprintf("refusing to send credentials to %s: it offers no STARTTLS (use smtps:// or drop the user)", s.addr))
		}
		if ok, _ := c.Extension("AUTH"); !ok {
			return permanent(fmt.Sprintf("%s does not offer AUTH but the SMTP URL has credentials", s.addr))
		}
		if err := c.Auth(plainAuth{username: s.username, password: s.password}); err != nil {
			return fmt.Errorf("smtp AUTH PLAIN as %q: %w", s.username, err)
		}
	}

	if ok, param := c.Extension("SIZE"); ok {
		if limit, err := strconv.ParseInt(param, 10, 64); err == nil && limit > 0 && int64(len(raw)) > limit {
			return permanent(fmt.Sprintf("message is %d bytes, more than the %d %s accepts", len(raw), limit, s.addr))
		}
	}
	if err := c.Mail(from); err != nil {
		return fmt.Errorf("smtp MAIL FROM <%s>: %w", from, err)
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt); err != nil {
			return fmt.Errorf("smtp RCPT TO <%s>: %w", rcpt, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp DATA: %w", err)
	}
	if _, err := w.Write(raw); err != nil {
		return fmt.Errorf("smtp DATA write: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp end of DATA: %w", err)
	}
	// The relay has taken the message with its 250; failing now would make the caller
	// retry and send it twice, so a failed QUIT is ignored.
	_ = c.Quit()
	return nil
}

// IsPermanent reports whether retrying err cannot help: the server answered 5xx (e.g.
// 550 unknown user, 552 too large, 535 bad credentials), or the message or settings
// are unusable. Replies 4xx, network errors and timeouts are temporary.
func IsPermanent(err error) bool {
	if err == nil {
		return false
	}
	var pe *permanentError
	if errors.As(err, &pe) {
		return true
	}
	var tpErr *textproto.Error
	if errors.As(err, &tpErr) {
		return tpErr.Code >= 500 && tpErr.Code < 600
	}
	var smtpErr *gosmtp.SMTPError
	if errors.As(err, &smtpErr) {
		return smtpErr.Code >= 500 && smtpErr.Code < 600
	}
	return false
}

type permanentError struct{ msg string }

func (e *permanentError) Error() string { return e.msg }

func permanent(msg string) error { return &permanentError{msg: msg} }

// plainAuth is AUTH PLAIN (RFC 4616). Send decides itself whether the connection is
// safe for it, so unlike smtp.PlainAuth it does not second-guess the host name.
type plainAuth struct{ username, password string }

func (a plainAuth) Start(*smtp.ServerInfo) (string, []byte, error) {
	return "PLAIN", []byte("\x00" + a.username + "\x00" + a.password), nil
}

func (a plainAuth) Next(_ []byte, more bool) ([]byte, error) {
	if more {
		return nil, errors.New("unexpected challenge after AUTH PLAIN")
	}
	return nil, nil
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkLine refuses CR and LF, which would let an address inject SMTP commands.
func checkLine(what, v string) error {
	if strings.ContainsAny(v, "\r\n") {
		return permanent(fmt.Sprintf("%s %q contains a line break", what, v))
	}
	return nil
}

// redactURLError keeps a password out of url.Parse's error, which quotes the input.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
