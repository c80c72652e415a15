package email

import (
	"regexp"
	"slices"
	"strings"

	"github.com/hotlinedesk/hotline/tickets"
)

var subjectRef = regexp.MustCompile(`(?i)\bHL-(\d{1,12})\b`)

// RefFromSubject finds a ticket reference in a subject, "[HL-000123]" or "hl-123", and
// returns it in canonical form ("HL-000123"), or "" when there is none.
func RefFromSubject(subject string) string {
	for _, m := range subjectRef.FindAllStringSubmatch(subject, -1) {
		if id, ok := tickets.ParseRef(tickets.RefPrefix + m[1]); ok {
			return tickets.FormatRef(id)
		}
	}
	return ""
}

// ThreadIDs lists the message ids this message answers, newest first and without
// duplicates: In-Reply-To, then References from the last to the first. A channel looks
// them up to thread the message to the ticket of an earlier reply.
func (m *Message) ThreadIDs() []string {
	var ids []string
	add := func(id string) {
		if id != "" && id != m.MessageID && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	for _, id := range m.InReplyTo {
		add(id)
	}
	for _, id := range slices.Backward(m.References) {
		add(id)
	}
	return ids
}

var replyPrefix = regexp.MustCompile(`(?i)^\s*(re|aw|sv|vs|antw|回复|回覆|答复)\s*[:：]`)

// ReplySubject is the subject of a reply to a message with this subject: "Re: " is added
// unless the subject already starts with a reply prefix (Re:, 回复:, 答复: …).
func ReplySubject(subject string) string {
	subject = strings.TrimSpace(subject)
	if replyPrefix.MatchString(subject) {
		return subject
	}
	return "Re: " + subject
}
