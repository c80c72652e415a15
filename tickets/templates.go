package tickets

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"strings"
	"text/template"
	"time"

	"github.com/uptrace/bun"
)

// Customer notices Hotline sends by itself, by key. Each has a Chinese and an English
// wording; admins may replace either, and the stored wording wins over the default.
const (
	TemplateAcknowledged      = "ticket.acknowledged"
	TemplateResolved          = "ticket.resolved"
	TemplateComplaintReceived = "complaint.received"
	TemplateComplaintDecided  = "complaint.decided"
	TemplateComplaintExtended = "complaint.extended"
	// TemplateStageChanged tells the customer their ticket reached a progress stage
	// ({{.Stage}}, in their language; tickets/stages), with what is still missing when
	// documents are awaited ({{.Items}}).
	TemplateStageChanged = "ticket.stage"
	// TemplateDocumentsRequested lists the documents the customer still has to send.
	TemplateDocumentsRequested = "ticket.documents"
)

// TemplateData is what a wording may refer to: {{.Ref}}, {{.Complaint}}, {{.Due}},
// {{.Decision}}, {{.Reason}}, {{.Stage}}, {{.Items}}.
type TemplateData struct {
	Ref       string // the ticket, HL-000123
	Complaint string // the complaint, CP-000042
	Due       string // a date, in the calendar's zone
	Decision  string
	Reason    string
	Stage     string // a progress stage's name in the customer's language
	Items     string // the documents still missing, listed in the customer's language
}

var defaultTemplates = map[string][2]string{ // key → zh, en
	TemplateAcknowledged: {
		"您好，我们已收到您的信息，工单号 {{.Ref}}，回复时请注明。我们将在 {{.Due}} 前答复您。",
		"Thank you, we have your message. Your reference is {{.Ref}}; quote it when you write again. We will answer by {{.Due}}.",
	},
	TemplateResolved: {
		"您的工单 {{.Ref}} 已处理完毕。如仍有问题，直接回复即可。",
		"Your ticket {{.Ref}} has been resolved. If anything is still wrong, just reply.",
	},
	TemplateComplaintReceived: {
		"您的投诉已受理，编号 {{.Complaint}}（工单 {{.Ref}}），我们将在 {{.Due}} 前给您答复。",
		"We have received your complaint {{.Complaint}} (ticket {{.Ref}}) and will answer by {{.Due}}.",
	},
	TemplateComplaintDecided: {
		"关于您的投诉 {{.Complaint}} 的处理决定：{{.Decision}}",
		"Decision on your complaint {{.Complaint}}: {{.Decision}}",
	},
	TemplateComplaintExtended: {
		"您的投诉 {{.Complaint}} 需要更多时间处理，我们将在 {{.Due}} 前答复您。原因：{{.Reason}}",
		"Your complaint {{.Complaint}} needs more time; we will answer by {{.Due}}. Reason: {{.Reason}}",
	},
	TemplateStageChanged: {
		"您的工单 {{.Ref}} 进度更新：{{.Stage}}。{{if .Items}}还需要您提供：{{.Items}}。{{end}}",
		"Your ticket {{.Ref}} has moved on: {{.Stage}}.{{if .Items}} We still need from you: {{.Items}}.{{end}}",
	},
	TemplateDocumentsRequested: {
		"办理工单 {{.Ref}} 还需要您提供以下材料：{{.Items}}。请直接回复本消息并附上材料。",
		"To go on with ticket {{.Ref}} we need these documents from you: {{.Items}}. Please reply with them attached.",
	},
}

// MessageTemplate is an admin's wording of a notice in one language.
type MessageTemplate struct {
	bun.BaseModel `bun:"table:message_templates"`

	Key       string    `bun:",pk"`
	Locale    string    `bun:",pk"` // "zh" or "en"
	Body      string    `bun:",notnull"`
	UpdatedAt time.Time `bun:",notnull"`
}

// templateLocale is "en" for English-speaking customers and "zh" for everyone else.
func templateLocale(customerLocale string) string {
	if strings.HasPrefix(strings.ToLower(customerLocale), "en") {
		return "en"
	}
	return "zh"
}

// DefaultWordings are the notices' wordings as shipped, by key: Chinese, then English.
// Admins' wordings (MessageTemplate) take their place.
func DefaultWordings() map[string][2]string { return maps.Clone(defaultTemplates) }

// ParseTemplate parses a notice's wording as notices are worded: a variable that does not
// exist is an error when it is executed.
func ParseTemplate(body string) (*template.Template, error) {
	return template.New("").Option("missingkey=error").Parse(body)
}

// parsedWording parses a wording once: every new SMS ticket's acknowledgement is worded
// from one. A template is safe to execute concurrently.
func (s *Service) parsedWording(body string) (*template.Template, error) {
	if t, ok := s.wordings.Load(body); ok {
		return t.(*template.Template), nil
	}
	t, err := ParseTemplate(body)
	if err != nil {
		return nil, err
	}
	s.wordings.Store(body, t)
	return t, nil
}

// renderNotice words a notice for a customer in their language.
func (s *Service) renderNotice(ctx context.Context, db bun.IDB, key, customerLocale string, data TemplateData) (string, error) {
	locale := templateLocale(customerLocale)
	def, ok := defaultTemplates[key]
	if !ok {
		return "", fmt.Errorf("no template %q", key)
	}
	body := def[0]
	if locale == "en" {
		body = def[1]
	}
	r, err := s.loadRules(ctx, db)
	if err != nil {
		return "", err
	}
	if stored, ok := r.wordings[key+"/"+locale]; ok {
		body = stored
	}
	t, err := s.parsedWording(body)
	if err != nil {
		return "", fmt.Errorf("template %s/%s: %w", key, locale, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("template %s/%s: %w", key, locale, err)
	}
	return b.String(), nil
}

// Notice words a notice for a customer whose locale is customerLocale.
func (s *Service) Notice(ctx context.Context, key, customerLocale string, data TemplateData) (string, error) {
	return s.renderNotice(ctx, s.db, key, customerLocale, data)
}

// notify queues a notice to a ticket's customer on their reply channel, worded from its
// template in their language, and returns the message id to deliver after the commit.
func (s *Service) notify(ctx context.Context, tx bun.IDB, t *Ticket, key string, data TemplateData) (int64, error) {
	var locale string
	if err := tx.NewSelect().Table("customers").Column("locale").Where("id = ?", t.CustomerID).Scan(ctx, &locale); err != nil {
		return 0, fmt.Errorf("load customer locale: %w", err)
	}
	data.Ref = t.Ref()
	body, err := s.renderNotice(ctx, tx, key, locale, data)
	if err != nil {
		return 0, err
	}
	return s.tellCustomer(ctx, tx, t, body)
}

// CustomerNotices reports whether customers are told, unasked, that their email or WeChat
// message was received, that their ticket is resolved and that their complaint is received
// (Config.Notices).
func (s *Service) CustomerNotices() bool { return s.cfg.Notices }

// tellCustomer queues a message to the customer on the ticket's notice channel and returns
// its id, to be handed to the sender after the commit (0 when nothing can reach them).
func (s *Service) tellCustomer(ctx context.Context, tx bun.IDB, t *Ticket, body string) (int64, error) {
	ch, err := s.noticeChannel(ctx, tx, t)
	if err != nil {
		return 0, err
	}
	m := &Message{TicketID: t.ID, Direction: DirectionOutbound, Channel: ch, Body: body, DeliveryStatus: DeliveryQueued, CreatedAt: s.now()}
	if ch == "" { // kept, visibly undelivered, so the agent knows to call
		m.Channel, m.DeliveryStatus, m.DeliveryError = ChannelWeChat, DeliveryFailed, "not sent: WeChat's 48-hour window has closed and the customer has no phone number or email address"
	}
	if err := s.insertMessage(ctx, tx, m, nil); err != nil {
		return 0, err
	}
	if ch == "" {
		return 0, s.record(ctx, tx, systemActor, "ticket", t.ID, "delivery.failed", map[string]any{"message_id": m.ID, "error": m.DeliveryError})
	}
	return m.ID, s.record(ctx, tx, systemActor, "ticket", t.ID, "reply.queued", map[string]any{"message_id": m.ID, "channel": ch})
}

// noticeChannel is where a message nobody writes by hand goes: the customer's reply
// channel, or SMS or email when WeChat's 48-hour window has closed (the fallback is
// recorded on the ticket); "" when nothing reaches them.
func (s *Service) noticeChannel(ctx context.Context, tx bun.IDB, t *Ticket) (Channel, error) {
	ch, err := s.replyChannel(ctx, tx, t)
	if err != nil || ch != ChannelWeChat {
		return ch, err
	}
	closed := s.wechatWindowOpen(ctx, tx, t.CustomerID)
	if closed == nil {
		return ch, nil
	}
	for _, alt := range []Channel{ChannelSMS, ChannelEmail} {
		if s.canReach(ctx, tx, t.CustomerID, alt) == nil {
			return alt, s.record(ctx, tx, systemActor, "ticket", t.ID, "notice.fallback", map[string]any{"from": ChannelWeChat, "to": alt, "reason": "WeChat's 48-hour window has closed"})
		}
	}
	return "", nil
}
