package webhooks

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/channels/email"
	"github.com/hotlinedesk/hotline/channels/email/transport"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/delivery"
)

// ErrRejected marks mail that can never be stored (not an email, no sender, invalid
// content): the webhook answers 400, the SMTP listener 554 with the reason, and the IMAP
// poller leaves it unread and flagged; none of them retries it forever or drops it.
var ErrRejected = transport.ErrRejected

// Email takes raw RFC 5322 messages from all three ways in (the webhook, IMAP polling,
// the SMTP listener) down one path.
type Email struct {
	svc      *tickets.Service
	delivery *delivery.Service // bounces, and the messages a reply answers
	// Secret authenticates the webhook: Authorization: Bearer <secret>.
	Secret string
	log    *slog.Logger
}

// NewEmail builds the email intake.
func NewEmail(svc *tickets.Service, secret string, log *slog.Logger) *Email {
	return &Email{svc: svc, delivery: delivery.New(svc), Secret: secret, log: log}
}

// Register mounts POST /webhooks/email. The secret is checked before the body (up to the
// SMTP listener's limit, 25 MiB) is read, so a sender without it costs a header's worth.
func (h *Email) Register(app *fiber.App) {
	app.Post("/webhooks/email", h.authorize, api.AdmitBody, h.webhook)
}

func (h *Email) authorize(c *fiber.Ctx) error {
	scheme, token, _ := strings.Cut(c.Get(fiber.HeaderAuthorization), " ")
	if h.Secret == "" || !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(token), []byte(h.Secret)) != 1 {
		return forbidden("missing or wrong Authorization: Bearer <EMAIL_WEBHOOK_SECRET>")
	}
	return c.Next()
}

func (h *Email) webhook(c *fiber.Ctx) error {
	err := h.Deliver(c.UserContext(), c.Body())
	if errors.Is(err, ErrRejected) {
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	if err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusAccepted)
}

// Deliver stores one raw message: a bounce marks the message it returns as failed (when it
// quotes or answers one Hotline sent), an auto-reply is dropped (answering it could loop),
// anything else becomes a ticket message, threaded by In-Reply-To/References or the
// [HL-000123] in the subject, else a new ticket; a message with a subject and no text is
// stored with the subject as its text. Delivering the same Message-ID again changes nothing.
func (h *Email) Deliver(ctx context.Context, raw []byte) error {
	m, err := email.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrRejected, err)
	}
	if b := m.Bounce; b != nil {
		if !b.Permanent() {
			h.log.Info("delivery delayed", "message_id", b.OriginalMessageID, "status", b.Status)
			return nil
		}
		ours, err := h.delivery.Bounced(ctx, tickets.ChannelEmail, b.OriginalMessageID, strings.TrimSpace(fmt.Sprintf("bounced: %s %s", b.Status, b.Diagnostic)))
		if err == nil && !ours {
			h.log.Info("bounce for a message Hotline did not send", "message_id", b.OriginalMessageID)
		}
		return err
	}
	if m.AutoReply {
		h.log.Info("auto-reply dropped", "from_domain", domainOf(m.From.Addr))
		return nil
	}
	in := email.ToInbound(m)
	if in.ProviderMessageID == "" { // no Message-ID: the content itself tells retries apart
		sum := sha256.Sum256(raw)
		in.ProviderMessageID = "sha256:" + hex.EncodeToString(sum[:16])
	}
	if in.TicketID, err = h.delivery.TicketOfMessage(ctx, tickets.ChannelEmail, m.ThreadIDs()); err != nil {
		return err
	}
	if _, err := h.svc.Intake(ctx, in); err != nil {
		if errors.Is(err, tickets.ErrInvalid) {
			return fmt.Errorf("%w: %s", ErrRejected, tickets.Reason(err))
		}
		return err
	}
	return nil
}

func domainOf(addr string) string {
	_, d, _ := strings.Cut(addr, "@")
	return d
}
