// Package transport moves raw email (RFC 5322 bytes) in and out of Hotline: it polls an
// IMAP mailbox, listens for inbound SMTP as an MX, and submits outbound mail to a relay.
//
// It never parses MIME and knows nothing of tickets: every inbound path ends in a
// deliver callback, and a message is acknowledged (\Seen and cursor on IMAP, 250 on
// SMTP) only after that callback returned nil, so a failure means "try again later",
// never "lost".
package transport
