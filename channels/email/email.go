// Package email is the email wire format for Hotline: it parses the RFC 5322 messages
// customers send (MIME, RFC 2047 and RFC 2231 encodings, Chinese charsets, quoted replies,
// bounces and auto-replies) and composes agents' replies. It does no I/O: fetching and
// sending mail belong to channels/email/transport.
package email

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"
)

// MaxSize is the largest raw message Parse accepts.
const MaxSize = 25 << 20

var (
	// ErrTooLarge is returned for a message over MaxSize.
	ErrTooLarge = errors.New("email: message is larger than the limit")
	// ErrNoHeader is returned for input that has no header fields: not an email.
	ErrNoHeader = errors.New("email: message has no header")
	// ErrNoFrom is returned for a message with no sender address in From (or Sender).
	ErrNoFrom = errors.New("email: message has no From address")
	// ErrTooManyFields is returned for a message whose header, or a part's, has more
	// fields than any real email (see maxFields).
	ErrTooManyFields = fmt.Errorf("email: a header has more than %d fields; no real email has that many", maxFields)
	// ErrLongMessageID is returned for a Message-ID longer than an email line can carry.
	ErrLongMessageID = errors.New("email: Message-ID is longer than an email line can carry")
)

// Address is a mailbox: a display name and an address.
type Address struct {
	Name string // decoded display name; may be empty
	Addr string // lower-cased, e.g. zhang.san@example.com
}

// String formats the address for people to read ("Name <addr>").
func (a Address) String() string {
	if a.Name == "" {
		return a.Addr
	}
	return a.Name + " <" + a.Addr + ">"
}

// Message is a parsed email.
type Message struct {
	MessageID  string   // without angle brackets
	InReplyTo  []string // without angle brackets
	References []string // oldest first, as in the header
	From       Address
	ReplyTo    []Address // where the sender wants replies, when it is not From
	To, Cc     []Address
	Subject    string // decoded
	Date       time.Time
	// Text is what the sender wrote, with the quoted earlier conversation removed. It comes
	// from the text/plain part, or is rendered from the HTML part when there is none.
	Text string
	// Quoted is the quoted earlier conversation removed from Text.
	Quoted string
	// HTML is the HTML body, converted to UTF-8 but otherwise as sent.
	HTML        string
	Attachments []Attachment
	// Omitted is what came with the message but was not kept, being past the limits on
	// MIME parts; ToInbound notes it in the text.
	Omitted Omitted
	// AutoReply says a machine sent the message: an out-of-office or other auto-reply
	// (Auto-Submitted other than "no", X-Autoreply, X-Autorespond, Precedence bulk, junk,
	// list or auto_reply, an empty Return-Path), a bounce or a read receipt. Answering it
	// risks a mail loop.
	AutoReply bool
	// Bounce is set for a delivery failure report.
	Bounce *Bounce
	// Language is the Content-Language, or the language a CJK charset implies ("zh-CN" for
	// GBK, "zh-TW" for Big5); empty when unknown.
	Language string
	// Defects lists what was malformed and how it was read, for logs; empty for a
	// well-formed message.
	Defects []string
}

// Attachment is a file that came with a message, inline images and attached messages
// included.
type Attachment struct {
	Filename    string // decoded, without any directory
	ContentType string // lower-cased media type without parameters, e.g. "application/pdf"
	Size        int64  // bytes, decoded
	Inline      bool   // shown in the body (Content-Disposition inline, or a related part with a Content-ID)
	ContentID   string // without angle brackets; what the HTML refers to as cid:…
	Content     []byte
}

// Bounce describes a delivery status notification or a mail system's bounce.
type Bounce struct {
	OriginalMessageID string // the Message-ID of the message that was not delivered
	Recipient         string // the address that failed
	Status            string // enhanced status code, e.g. "5.1.1"
	Action            string // "failed" or "delayed" (DSN values, lower-cased)
	Diagnostic        string // the remote server's reply, e.g. "550 5.1.1 user unknown"
}

// Permanent reports whether the failure will not go away by retrying.
func (b *Bounce) Permanent() bool {
	return b != nil && b.Action != "delayed" && !strings.HasPrefix(b.Status, "4.")
}

// Parse reads a raw RFC 5322 message. Malformed structure is read as well as it can be and
// noted in Defects; Parse returns an error only for input too large, without a header,
// without a sender, with a header of more fields than any email has, or with a Message-ID
// longer than any email carries.
func Parse(raw []byte) (m *Message, err error) {
	if len(raw) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(raw), MaxSize)
	}
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("email: malformed message: %v", r)
		}
	}()
	raw = skipEnvelope(raw)
	h, body, clean, err := parseHeader(raw)
	if err != nil {
		return nil, err
	}
	if len(h) == 0 {
		return nil, ErrNoHeader
	}
	m = &Message{}
	if !clean {
		m.Defects = append(m.Defects, "the message header is malformed")
	}
	w := &walker{msg: m}
	if _, params := parseParams(h.Get("Content-Type"), ""); params["charset"] != "" {
		w.hint = params["charset"]
	}
	c := w.walk(h, body, 0, "")
	if w.err != nil {
		return nil, w.err
	}
	hint := w.hint

	from := parseAddressList(h.Get("From"), hint)
	if len(from) == 0 {
		from = parseAddressList(h.Get("Sender"), hint)
	}
	if len(from) == 0 {
		return nil, ErrNoFrom
	}
	m.From = from[0]
	m.ReplyTo = parseAddressList(h.Get("Reply-To"), hint)
	m.To = parseAddressList(strings.Join(h.Values("To"), ", "), hint)
	m.Cc = parseAddressList(strings.Join(h.Values("Cc"), ", "), hint)
	m.Subject = cleanLine(decodeHeader(h.Get("Subject"), hint))
	var ok bool
	if m.Date, ok = parseDate(h.Get("Date")); !ok {
		w.defect("unreadable Date %q", cleanLine(h.Get("Date")))
	}
	if ids := parseIDs(h.Get("Message-Id")); len(ids) > 0 {
		m.MessageID = ids[0]
	} else if n := overlongID(h.Get("Message-Id")); n > 0 {
		// Refused rather than stored under a made-up id: no mail system writes such an id,
		// and the sender is told why (a 400, or a bounce from SMTP).
		return nil, fmt.Errorf("%w: %d characters, at most %d fit on a 998-character line (RFC 5322)", ErrLongMessageID, n, maxMessageIDLen)
	}
	m.InReplyTo = parseIDs(h.Get("In-Reply-To"))
	m.References = parseIDs(strings.Join(h.Values("References"), " "))

	text := strings.Join(trimAll(c.text), "\n\n")
	m.HTML = cleanText(strings.Join(c.html, "\n"))
	if strings.TrimSpace(text) == "" && m.HTML != "" {
		text = HTMLToText(m.HTML)
	}
	m.Text, m.Quoted = SplitQuote(cleanText(text))

	if lang := cleanLine(h.Get("Content-Language")); lang != "" {
		m.Language, _, _ = strings.Cut(lang, ",")
		m.Language = strings.TrimSpace(m.Language)
	} else {
		m.Language = languageOfCharset(hint)
	}

	m.AutoReply = autoSubmitted(h) || w.reportType == "disposition-notification" || w.mdn
	if w.reportType == "delivery-status" && w.dsn != nil {
		m.Bounce = dsnBounce(w.dsn)
	}
	if m.Bounce == nil && (w.reportType == "delivery-status" || isDaemon(m.From.Addr)) {
		if w.original != nil || inlineMsgID.MatchString(text) {
			m.Bounce = classicBounce(text, m.Subject, m.From.Addr)
		}
	}
	if m.Bounce != nil {
		m.Bounce.OriginalMessageID = originalMessageID(w.original)
		if m.Bounce.OriginalMessageID == "" {
			if sm := inlineMsgID.FindStringSubmatch(text); sm != nil {
				m.Bounce.OriginalMessageID = cleanID(sm[1])
			}
		}
		m.AutoReply = true
	}
	return m, nil
}

// skipEnvelope drops an mbox "From " line and leading blank lines.
func skipEnvelope(raw []byte) []byte {
	raw = bytes.TrimLeft(raw, "\r\n")
	if bytes.HasPrefix(raw, []byte("From ")) {
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			return raw[i+1:]
		}
	}
	return raw
}

func trimAll(ss []string) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if s = strings.Trim(s, "\n"); strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}

// autoSubmitted reads the headers that mark an automatic message (RFC 3834 and the
// vendors' own). X-Auto-Response-Suppress only asks others not to auto-reply, so it does
// not count.
func autoSubmitted(h header) bool {
	if h.Has("Auto-Submitted") {
		v, _, _ := strings.Cut(strings.ToLower(trimValue(h.Get("Auto-Submitted"))), ";")
		if v = strings.TrimSpace(v); v != "no" && v != "" {
			return true
		}
	}
	for _, k := range []string{"X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Reply", "X-Autogenerated", "X-Autoreply-From", "X-Mail-Autoreply"} {
		if v := strings.ToLower(trimValue(h.Get(k))); h.Has(k) && v != "no" && v != "false" {
			return true
		}
	}
	switch strings.ToLower(trimValue(h.Get("Precedence"))) {
	case "bulk", "junk", "list", "auto_reply", "auto-reply":
		return true
	}
	if h.Has("Return-Path") && strings.Trim(trimValue(h.Get("Return-Path")), " <>") == "" {
		return true
	}
	return false
}
