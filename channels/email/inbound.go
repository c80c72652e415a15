package email

import (
	"strings"

	"github.com/hotlinedesk/hotline/tickets"
)

// MaxInboundBody is the longest body ToInbound passes on, the most tickets.Intake stores.
const MaxInboundBody = 64 << 10

// ToInbound turns a parsed email into the message tickets.Service.Intake stores: the
// sender's address as the email identity, the new text (rendered from the HTML when the
// message has no plain text; the subject when there is no text at all) as the body, and the attachments' metadata, with no URL. A
// body longer than MaxInboundBody is cut at a character boundary and marked as cut. Parts
// that were not kept (Message.Omitted) are noted at the end of the body, in English and
// Chinese, with the names and sizes of the first of them.
// ReceivedAt is left zero (the time of intake), since the Date header is the sender's
// clock; TicketID is left for the channel to resolve from ThreadIDs.
func ToInbound(m *Message) tickets.Inbound {
	body := m.Text
	if strings.TrimSpace(body) == "" && m.HTML != "" {
		body, _ = SplitQuote(HTMLToText(m.HTML))
	}
	if strings.TrimSpace(body) == "" {
		// "Please call me back" in the subject and nothing below is a customer's whole
		// message: it is stored with the subject as its text, never refused or dropped.
		body = m.Subject
	}
	// What was not kept is noted after the text, so that it survives a cut.
	note := omittedNote(m.Omitted)
	limit := MaxInboundBody
	if note != "" {
		limit -= len(note) + len("\n\n")
	}
	if len(body) > limit {
		const mark = "\n[…]"
		body = truncateUTF8(body, limit-len(mark)) + mark
	}
	switch {
	case note == "":
	case strings.TrimSpace(body) == "":
		body = note
	default:
		body += "\n\n" + note
	}
	in := tickets.Inbound{
		Channel:           tickets.ChannelEmail,
		ProviderMessageID: m.MessageID,
		From:              tickets.IdentityEmail,
		Address:           m.From.Addr,
		Name:              m.From.Name,
		Locale:            m.Language,
		Subject:           m.Subject,
		Body:              body,
	}
	for _, a := range m.Attachments {
		in.Attachments = append(in.Attachments, tickets.NewAttachment{
			Filename:    a.Filename,
			ContentType: a.ContentType,
			SizeBytes:   a.Size,
			Content:     a.Content,
		})
	}
	return in
}
