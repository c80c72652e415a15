package email

import (
	"regexp"
	"slices"
	"strings"
)

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
