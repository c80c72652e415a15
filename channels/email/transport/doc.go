// Package transport moves raw email (RFC 5322 bytes) in and out of Hotline: it polls an
// IMAP mailbox, listens for inbound SMTP as an MX, and submits outbound mail to a relay.
//
// It never parses MIME and knows nothing of tickets: every inbound path ends in a
// deliver callback, and a message is acknowledged (\Seen and cursor on IMAP, 250 on
// SMTP) only after that callback returned nil, so a failure means "try again later",
// never "lost". A message that can never be stored (the callback's error wraps
// ErrRejected) is refused instead: the SMTP listener answers 554 with the reason, so the
// sender's server returns it to the sender; the IMAP poller leaves it unread and flagged
// in the mailbox for a person to see, and goes on to the next.
package transport

import "errors"

// ErrRejected marks, wrapped in a deliver callback's error with its reason, a message that
// can never be stored: not an email, no sender, a header or Message-ID no mail carries.
// Retrying it would fail the same way forever.
var ErrRejected = errors.New("mail rejected")
