package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Defaults for SMTPConfig's zero values.
const (
	DefaultMaxMessageBytes = 25 << 20 // 25 MiB, what the large mailbox providers accept
	DefaultMaxRecipients   = 100      // the minimum RFC 5321 4.5.3.1.8 says to accept
	DefaultSMTPTimeout     = 5 * time.Minute
	DefaultDeliverTimeout  = 2 * time.Minute
)

// SMTPConfig configures the inbound (MX) listener.
type SMTPConfig struct {
	Addr            string   // listen address, e.g. ":25"
	Domain          string   // our host name, for the greeting; default "localhost"
	AcceptDomains   []string // recipient domains we take mail for (case-insensitive); none means refuse all
	MaxMessageBytes int64    // default DefaultMaxMessageBytes
	MaxRecipients   int      // per message; default DefaultMaxRecipients
	ReadTimeout     time.Duration
	WriteTimeout    time.Duration
	// DeliverTimeout bounds one deliver call; the sender waits for our reply meanwhile.
	DeliverTimeout time.Duration
	// TLSConfig, if set, lets senders upgrade with STARTTLS.
	TLSConfig *tls.Config
}

// Replies the listener gives. Delivery failures are temporary on purpose: the sending
// server keeps the message and retries, so nothing is lost while our store is down.
var (
	errRelayDenied = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "Recipient address rejected: we do not accept mail for that domain"}
	errTempFailure = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary failure storing the message, try again later"}
	errLineTooLong = &smtp.SMTPError{Code: 500, EnhancedCode: smtp.EnhancedCode{5, 5, 2}, Message: "Line too long"}
	errNoAuth      = &smtp.SMTPError{Code: 502, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication not supported here; this is an inbound MX"}
)

// NewSMTPServer returns an inbound SMTP server that accepts mail for cfg.AcceptDomains
// and passes each message, with its envelope, to deliver. It replies 250 only after
// deliver returned nil, 554 when deliver's error wraps ErrRejected, and 451 otherwise. Start it with ListenAndServe or Serve; stop it
// with Shutdown or Close.
func NewSMTPServer(cfg SMTPConfig, deliver func(ctx context.Context, from string, to []string, raw []byte) error, log *slog.Logger) *smtp.Server {
	if cfg.Domain == "" {
		cfg.Domain = "localhost"
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if cfg.MaxRecipients <= 0 {
		cfg.MaxRecipients = DefaultMaxRecipients
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = DefaultSMTPTimeout
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultSMTPTimeout
	}
	if cfg.DeliverTimeout <= 0 {
		cfg.DeliverTimeout = DefaultDeliverTimeout
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "smtp-in")

	domains := make(map[string]bool, len(cfg.AcceptDomains))
	for _, d := range cfg.AcceptDomains {
		if d = normDomain(d); d != "" {
			domains[d] = true
		}
	}
	if len(domains) == 0 {
		log.Warn("no AcceptDomains configured: every recipient will be refused")
	}

	be := &inboundBackend{domains: domains, deliver: deliver, log: log, maxBytes: cfg.MaxMessageBytes, deliverTimeout: cfg.DeliverTimeout}
	s := smtp.NewServer(be)
	s.Addr = cfg.Addr
	s.Domain = cfg.Domain
	s.MaxMessageBytes = cfg.MaxMessageBytes
	s.MaxRecipients = cfg.MaxRecipients
	s.ReadTimeout = cfg.ReadTimeout
	s.WriteTimeout = cfg.WriteTimeout
	s.TLSConfig = cfg.TLSConfig
	s.EnableSMTPUTF8 = true // we store bytes as they are, so UTF-8 addresses cost nothing
	// No mechanism is offered, so this exposes nothing; it only makes an AUTH attempt
	// get "502 not supported" instead of a misleading "523 TLS required".
	s.AllowInsecureAuth = true
	s.ErrorLog = slogPrinter{log}
	return s
}

type inboundBackend struct {
	domains        map[string]bool
	deliver        func(ctx context.Context, from string, to []string, raw []byte) error
	log            *slog.Logger
	maxBytes       int64
	deliverTimeout time.Duration
}

func (b *inboundBackend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	remote := ""
	if nc := c.Conn(); nc != nil {
		remote = nc.RemoteAddr().String()
	}
	return &inboundSession{be: b, log: b.log.With("remote", remote, "helo", c.Hostname())}, nil
}

// inboundSession holds one SMTP transaction's envelope.
type inboundSession struct {
	be   *inboundBackend
	log  *slog.Logger
	from string
	to   []string
}

var _ smtp.AuthSession = (*inboundSession)(nil)

func (s *inboundSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from, s.to = from, nil
	return nil
}

func (s *inboundSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	at := strings.LastIndexByte(to, '@')
	if at < 0 || !s.be.domains[normDomain(to[at+1:])] {
		s.log.Info("recipient refused", "from_domain", domainOf(s.from), "to_domain", domainOf(to))
		return errRelayDenied
	}
	s.to = append(s.to, to)
	return nil
}

func (s *inboundSession) Data(r io.Reader) (err error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		var smtpErr *smtp.SMTPError
		switch {
		case errors.As(err, &smtpErr): // e.g. 552 5.3.4 message too large
			s.log.Info("message refused", "from_domain", domainOf(s.from), "err", err)
			return smtpErr
		case errors.Is(err, smtp.ErrTooLongLine):
			return errLineTooLong
		default:
			s.log.Warn("reading message failed", "from", s.from, "err", err)
			return errTempFailure
		}
	}
	if int64(len(raw)) > s.be.maxBytes { // go-smtp enforces this already; deliver relies on it
		return smtp.ErrDataTooLarge
	}

	ctx, cancel := context.WithTimeout(context.Background(), s.be.deliverTimeout)
	defer cancel()
	defer func() {
		// A panicking deliver must not take the listener down or be acknowledged.
		if v := recover(); v != nil {
			s.log.Error("deliver panicked", "from", s.from, "panic", v)
			err = errTempFailure
		}
	}()
	to := append([]string(nil), s.to...)
	if err := s.be.deliver(ctx, s.from, to, raw); err != nil {
		if errors.Is(err, ErrRejected) {
			// Permanent, with the reason: the sender's server bounces the message to the
			// sender, who learns why, rather than retrying it for days.
			s.log.Info("message refused", "from_domain", domainOf(s.from), "bytes", len(raw), "reason", err)
			return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Message refused: " + replyText(err.Error())}
		}
		// The cause stays in our log; the sender only learns to retry.
		s.log.Error("deliver failed; answered 451", "from", s.from, "to", to, "bytes", len(raw), "err", err)
		return errTempFailure
	}
	s.log.Info("message accepted", "from_domain", domainOf(s.from), "recipients", len(to), "bytes", len(raw))
	return nil
}

func (s *inboundSession) Reset() { s.from, s.to = "", nil }

func (s *inboundSession) Logout() error { return nil }

// AuthMechanisms offers none: senders to an MX do not authenticate.
func (s *inboundSession) AuthMechanisms() []string { return nil }

func (s *inboundSession) Auth(string) (sasl.Server, error) { return nil, errNoAuth }

// replyText makes a reason fit an SMTP reply line: printable ASCII, bounded.
func replyText(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r > '~' {
			return '?'
		}
		return r
	}, s)
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

func normDomain(d string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(d), "."))
}

// slogPrinter lets go-smtp's Printf-style error log go to slog.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Printf(format string, v ...any) { p.log.Warn(fmt.Sprintf(format, v...)) }
func (p slogPrinter) Println(v ...any)               { p.log.Warn(strings.TrimSuffix(fmt.Sprintln(v...), "\n")) }

// domainOf keeps logs free of people's addresses: only the domain is logged at info level.
func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return ""
}
