package tickets

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/uptrace/bun"
)

// Why a message was not delivered, in words staff can act on, and the notice its author
// gets: written in the transaction that records the failure, once per message.

// Kinds of delivery failure; the console words them in both languages.
const (
	FailOptedOut       = "opted_out"        // the customer unsubscribed (STOP, 退订)
	FailNoProvider     = "no_provider"      // the channel is not configured
	FailNoAddress      = "no_address"       // the customer has no address on the channel
	FailBadAddress     = "bad_address"      // the number or openid is not valid or reachable
	FailUnreachable    = "unreachable"      // the handset is off or out of coverage
	FailBlocked        = "blocked"          // the carrier filtered it as spam
	FailWindowClosed   = "window_closed"    // WeChat's 48 hours have passed
	FailUnsubscribed   = "unsubscribed"     // the customer unfollowed the official account
	FailRateLimited    = "rate_limited"     // the provider's per-customer limit
	FailMediaRejected  = "media_rejected"   // the attachment's size or type
	FailMailRejected   = "mail_rejected"    // the mail server refused it, or it bounced
	FailGaveUp         = "gave_up"          // the provider kept failing; retries ran out
	FailUnknown        = "unknown"          // none of these: the raw code is shown
	FailNoMediaAddress = "no_media_address" // MMS without a public address to fetch from
)

// FailureReason is a delivery failure, classified: its Kind and the provider's code.
type FailureReason struct {
	Kind string
	Code string // the provider's error code, when it gave one
}

// failureEnglish is each kind as the author's notice says it.
var failureEnglish = map[string]string{
	FailOptedOut:       "the customer opted out of these messages",
	FailNoProvider:     "this channel is not configured",
	FailNoAddress:      "the customer has no address on this channel",
	FailBadAddress:     "the customer's number or account is not valid",
	FailUnreachable:    "the customer's phone is off or out of coverage",
	FailBlocked:        "the carrier blocked it as possible spam",
	FailWindowClosed:   "WeChat's 48-hour window had closed",
	FailUnsubscribed:   "the customer unfollowed the official account",
	FailRateLimited:    "the provider's limit of messages to this customer was reached",
	FailMediaRejected:  "the provider refused the attached file",
	FailMailRejected:   "the customer's mail server refused it",
	FailGaveUp:         "the provider kept failing and Hotline gave up",
	FailUnknown:        "an error Hotline does not know",
	FailNoMediaAddress: "Hotline has no public address the provider can fetch the file from",
}

// English is the reason in the words of the author's notice.
func (r FailureReason) English() string {
	s := failureEnglish[r.Kind]
	if r.Code != "" {
		s += " (" + r.Code + ")"
	}
	return s
}

// providerCodes are Twilio's and WeChat's documented error codes.
var providerCodes = map[string]string{
	// Twilio: REST refusals and status callbacks' ErrorCode.
	"21610": FailOptedOut, "21211": FailBadAddress, "21614": FailBadAddress, "21612": FailBadAddress,
	"21408": FailBadAddress, "30003": FailUnreachable, "30005": FailBadAddress, "30006": FailBadAddress,
	"30004": FailBlocked, "30007": FailBlocked, "30008": FailUnknown, "30019": FailMediaRejected,
	"11200": FailMediaRejected, "12300": FailMediaRejected, "21620": FailMediaRejected, "21623": FailMediaRejected,
	// WeChat's errcode.
	"45015": FailWindowClosed, "43004": FailUnsubscribed, "40003": FailBadAddress, "45047": FailRateLimited,
	"40004": FailMediaRejected, "40005": FailMediaRejected, "40006": FailMediaRejected, "40007": FailMediaRejected,
	"40009": FailMediaRejected, "45001": FailMediaRejected,
}

var codeIn = regexp.MustCompile(`\b(\d{5})\b`)

// DeliveryFailure classifies a failure as recorded on a message (delivery_error): a
// provider's code, or the words Hotline's sender used.
func DeliveryFailure(raw string) FailureReason {
	raw = strings.TrimSpace(raw)
	lower := strings.ToLower(raw)
	if m := codeIn.FindStringSubmatch(raw); m != nil {
		kind, ok := providerCodes[m[1]]
		if !ok {
			kind = FailUnknown
		}
		if strings.HasPrefix(lower, "gave up after retries") {
			kind = FailGaveUp
		}
		return FailureReason{Kind: kind, Code: m[1]}
	}
	for _, w := range []struct{ words, kind string }{
		{"gave up after retries", FailGaveUp},
		{"opted out", FailOptedOut},
		{"provider is configured", FailNoProvider},
		{"public address", FailNoMediaAddress},
		{"has no phone number", FailNoAddress},
		{"has no wechat openid", FailNoAddress},
		{"has no email", FailNoAddress},
		{"48 hours", FailWindowClosed},
		{"mail server refused", FailMailRejected},
		{"bounce", FailMailRejected},
		{"undeliverable", FailMailRejected},
		{"mailbox", FailMailRejected},
	} {
		if strings.Contains(lower, w.words) {
			return FailureReason{Kind: w.kind}
		}
	}
	return FailureReason{Kind: FailUnknown, Code: raw}
}

// deliveryFailed records a message's failure on its ticket and tells its author (a reply's
// agent; an automatic notice has none), in the transaction that marked it failed: the
// caller has won the conditional update, so this runs once per message.
func (s *Service) deliveryFailed(ctx context.Context, tx bun.IDB, m *Message, raw string, data map[string]any) error {
	if err := s.record(ctx, tx, systemActor, "ticket", m.TicketID, "delivery.failed", data); err != nil {
		return err
	}
	if m.AuthorID == nil {
		return nil
	}
	body := fmt.Sprintf("%s: your %s reply was not delivered: %s.", FormatRef(m.TicketID), m.Channel, DeliveryFailure(raw).English())
	return s.insertNotices(ctx, tx, []*Notice{{AgentID: *m.AuthorID, Kind: "delivery.failed", TicketID: &m.TicketID, Body: body}})
}

// FinalStatuses are the delivery statuses nothing moves on from.
func FinalStatuses() []string {
	var out []string
	for st, r := range deliveryRank {
		if r >= deliveryRank[DeliveryFailed] {
			out = append(out, st)
		}
	}
	return out
}

// StatusesBelow are the delivery statuses a report of rank may move a message on from.
func StatusesBelow(rank int) []string {
	var out []string
	for st, r := range deliveryRank {
		if r < rank {
			out = append(out, st)
		}
	}
	return out
}
