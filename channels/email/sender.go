package email

import (
	"context"

	"github.com/hotlinedesk/hotline/channels"
)

// Sender sends agents' replies by email: Compose builds the message with Hotline's own
// Message-ID and the thread's headers, and send hands it to an SMTP relay.
type Sender struct {
	from      Address
	domain    string
	send      func(ctx context.Context, from string, to []string, raw []byte) error
	permanent func(error) bool
}

// NewSender sends from the given address; permanent says which send errors retrying cannot
// fix (an SMTP 5xx).
func NewSender(from Address, domain string, send func(ctx context.Context, from string, to []string, raw []byte) error, permanent func(error) bool) *Sender {
	return &Sender{from: from, domain: domain, send: send, permanent: permanent}
}

// Send composes and sends the reply, and returns its Message-ID: the customer's answer will
// name it in In-Reply-To.
func (s *Sender) Send(ctx context.Context, msg channels.Outbound) (string, error) {
	raw, id, err := Compose(Outgoing{From: s.from, To: Address{Addr: msg.To}, Subject: ReplySubject(msg.Subject), Ref: msg.Ref,
		Text: msg.Body, InReplyTo: msg.InReplyTo, References: msg.References, Domain: s.domain, Files: msg.Files})
	if err != nil {
		return "", &channels.PermanentError{Reason: "cannot compose the email: " + err.Error()}
	}
	if err := s.send(ctx, s.from.Addr, []string{msg.To}, raw); err != nil {
		if s.permanent(err) {
			return "", &channels.PermanentError{Reason: "the mail server refused the email: " + err.Error()}
		}
		return "", err
	}
	return id, nil
}
