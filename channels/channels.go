// Package channels holds the contracts between Hotline and the providers customers use
// (Twilio SMS and voice, WeChat official accounts, email), with one package per channel.
// A channel verifies its provider's signatures, parses its wire format into an Inbound
// for tickets.Service.Intake, and sends agents' replies; it knows nothing of tickets.
package channels

import (
	"context"
	"errors"

	"github.com/hotlinedesk/hotline/tickets"
)

// Inbound is a customer's message as a channel parsed it. The type is the domain's, so
// tickets depends on no channel.
type Inbound = tickets.Inbound

// Outbound is a message to send to a customer.
type Outbound struct {
	MessageID  int64  // Hotline's message id, for status callbacks and idempotency
	To         string // phone number (E.164), email address or WeChat openid
	Body       string
	Subject    string   // email only
	Ref        string   // the ticket's reference, e.g. HL-000123, for an email subject
	InReplyTo  string   // email only: the Message-ID being answered
	References []string // email only: the thread's earlier Message-IDs
	// Files are the agent's attachments: an email's attachments, a WeChat image, MMS media.
	Files []File
}

// File is a file sent with a message. URL is a signed public address of it, for a
// provider that fetches the file itself (Twilio's MediaUrl); "" when Hotline has none.
type File struct {
	Filename    string
	ContentType string
	Content     []byte
	URL         string
}

// Sender delivers outbound messages on one channel.
type Sender interface {
	// Send hands the message to the provider and returns the provider's id for it.
	// A PermanentError means retrying cannot help (an opted-out number, a closed window).
	Send(ctx context.Context, msg Outbound) (providerID string, err error)
}

// PermanentError is a refusal that retrying will not change.
type PermanentError struct{ Reason string }

func (e *PermanentError) Error() string { return e.Reason }

// IsPermanent reports whether err is a PermanentError.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}
