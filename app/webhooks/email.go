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

	"github.com/hotlinedesk/hotline/channels/email"
	"github.com/hotlinedesk/hotline/tickets"
)

// ErrRejected marks mail that can never be stored (not an email, no sender, invalid
// content): the webhook answers 400, and IMAP and SMTP drop it rather than retry forever.
var ErrRejected = errors.New("mail rejected")

// Email takes raw RFC 5322 messages from all three ways in (the webhook, IMAP polling,
// the SMTP listener) down one path.
type Email struct {
	svc *tickets.Service
	// Secret authenticates the webhook: Authorization: Bearer <secret>.
	Secret string
	log    *slog.Logger
}

// NewEmail builds the email intake.
func NewEmail(svc *tickets.Service, secret string, log *slog.Logger) *Email {
	return &Email{svc: svc, Secret: secret, log: log}
}

// Register mounts POST /webhooks/email.
func (h *Email) Register(app *fiber.App) { app.Post("/webhooks/email", h.webhook) }

func (h *Email) webhook(c *fiber.Ctx) error {
	scheme, token, _ := strings.Cut(c.Get(fiber.HeaderAuthorization), " ")
	if h.Secret == "" || !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(token), []byte(h.Secret)) != 1 {
		return forbidden("missing or wrong Authorization: Bearer <EMAIL_WEBHOOK_SECRET>")
	}
	err := h.Deliver(c.UserContext(), c.Body())
	if errors.Is(err, ErrRejected) {
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	if err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusAccepted)
}

// Deliver stores one raw message: a bounce marks the message it returns as failed, an
// auto-reply is dropped (answering it could loop), anything else becomes a ticket message,
// threaded by In-Reply-To/References or the [HL-000123] in the subject. Delivering the same
// Message-ID again changes nothing.
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
		ours, err := h.svc.Bounced(ctx, tickets.ChannelEmail, b.OriginalMessageID, strings.TrimSpace(fmt.Sprintf("bounced: %s %s", b.Status, b.Diagnostic)))
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
	if in.TicketID, err = h.svc.TicketOfMessage(ctx, tickets.ChannelEmail, m.ThreadIDs()); err != nil {
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

// DeliverOrDrop is Deliver for IMAP and SMTP: mail that can never be stored is logged and
// dropped, so it neither blocks the mailbox nor bounces back and forth.
func (h *Email) DeliverOrDrop(ctx context.Context, raw []byte) error {
	err := h.Deliver(ctx, raw)
	if errors.Is(err, ErrRejected) {
		h.log.Warn("mail dropped", "err", err)
		return nil
	}
	return err
}

func domainOf(addr string) string {
	_, d, _ := strings.Cut(addr, "@")
	return d
}
