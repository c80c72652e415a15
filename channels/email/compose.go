package email

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hotlinedesk/hotline/channels"
	"github.com/hotlinedesk/hotline/tickets"
)

// Outgoing is an agent's reply to send by email.
type Outgoing struct {
	From, To Address
	Subject  string // e.g. ReplySubject of the customer's subject
	// Ref is the ticket reference ("HL-000123"); it is added to the subject as
	// "[HL-000123]" unless the subject already names it.
	Ref        string
	Text       string // the reply as plain text
	InReplyTo  string // the Message-ID answered, with or without brackets
	References []string
	Domain     string    // for the Message-ID; the From address's domain when empty
	Date       time.Time // now when zero
	// Files are attached after the text (multipart/mixed), base64, named by RFC 2231.
	Files []channels.File
}

const (
	maxLine       = 78  // where header lines are folded when they can be
	maxReferences = 30  // ids kept in References: the first and the most recent
	maxIDLen      = 250 // longer ids are dropped from References
)

// Compose builds the raw RFC 5322 message (CRLF line endings) for an outgoing reply and
// returns it with its new Message-ID (without brackets). The body is multipart/alternative:
// the text as UTF-8 quoted-printable, and an HTML rendering with paragraphs as <p> and
// line breaks as <br>. Names and subjects outside ASCII are RFC 2047 encoded. The message
// is not marked Auto-Submitted: agents' replies are written by people.
func Compose(m Outgoing) ([]byte, string, error) {
	from, err := checkAddress("From", m.From.Addr)
	if err != nil {
		return nil, "", err
	}
	to, err := checkAddress("To", m.To.Addr)
	if err != nil {
		return nil, "", err
	}
	text := strings.ReplaceAll(normalizeNewlines(cleanText(m.Text)), "\x00", "")
	if strings.TrimSpace(text) == "" {
		return nil, "", errors.New("email: the reply has no text")
	}
	domain := strings.TrimSpace(m.Domain)
	if domain == "" {
		_, domain, _ = strings.Cut(from, "@")
	}
	if domain == "" || strings.ContainsAny(domain, " \t\r\n<>@\"") || !utf8.ValidString(domain) {
		return nil, "", fmt.Errorf("email: domain %q is not valid for a Message-ID", domain)
	}
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}

	subject := cleanLine(m.Subject)
	if ref := strings.TrimSpace(m.Ref); ref != "" {
		if !subjectHasRef(subject, ref) {
			if subject == "" {
				subject = "[" + ref + "]"
			} else {
				subject += " [" + ref + "]"
			}
		}
	}

	var rnd [16]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, "", fmt.Errorf("email: message id: %w", err)
	}
	id := hex.EncodeToString(rnd[:]) + "@" + domain

	var refs []string
	for _, r := range append(append([]string{}, m.References...), m.InReplyTo) {
		for _, id := range parseIDs(r) {
			if len(id) <= maxIDLen {
				refs = append(refs, id)
			}
		}
	}
	refs = dedupeKeepLast(refs)
	if len(refs) > maxReferences {
		refs = append(refs[:1], refs[len(refs)-maxReferences+1:]...)
	}
	var inReplyTo string
	if ids := parseIDs(m.InReplyTo); len(ids) > 0 && len(ids[0]) <= maxIDLen {
		inReplyTo = ids[0]
	}

	var buf bytes.Buffer
	writeField(&buf, "Date", date.Format(time.RFC1123Z))
	writeField(&buf, "From", formatAddress(m.From.Name, from))
	writeField(&buf, "To", formatAddress(m.To.Name, to))
	writeField(&buf, "Subject", encodeText(subject, len("Subject: ")))
	writeField(&buf, "Message-ID", "<"+id+">")
	if inReplyTo != "" {
		writeField(&buf, "In-Reply-To", "<"+inReplyTo+">")
	}
	if len(refs) > 0 {
		bracketed := make([]string, len(refs))
		for i, r := range refs {
			bracketed[i] = "<" + r + ">"
		}
		writeField(&buf, "References", foldWords(bracketed, len("References: ")))
	}
	writeField(&buf, "MIME-Version", "1.0")

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	alternative := "multipart/alternative;\r\n boundary=\"" + mw.Boundary() + `"`
	for _, p := range []struct{ ctype, content string }{
		{"text/plain; charset=UTF-8", text},
		{"text/html; charset=UTF-8", textToHTML(text)},
	} {
		pw, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {p.ctype},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, "", err
		}
		qp := quotedprintable.NewWriter(pw)
		if _, err := qp.Write([]byte(p.content)); err != nil {
			return nil, "", err
		}
		if err := qp.Close(); err != nil {
			return nil, "", err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, "", err
	}
	if len(m.Files) == 0 {
		writeField(&buf, "Content-Type", alternative)
	} else {
		mixed, err := withFiles(body.Bytes(), alternative, m.Files)
		if err != nil {
			return nil, "", err
		}
		body.Reset()
		body.Write(mixed.body)
		writeField(&buf, "Content-Type", "multipart/mixed;\r\n boundary=\""+mixed.boundary+`"`)
	}
	buf.WriteString("\r\n")
	buf.Write(body.Bytes())
	buf.WriteString("\r\n")
	return buf.Bytes(), id, nil
}

// subjectHasRef reports whether the subject already names the reference, in any case
// and zero padding.
func subjectHasRef(subject, ref string) bool {
	if _, ok := tickets.ParseRef(ref); !ok {
		return strings.Contains(strings.ToLower(subject), strings.ToLower(ref))
	}
	want, _ := tickets.ParseRef(ref)
	return slices.Contains(tickets.RefsIn(subject), want)
}

func checkAddress(field, addr string) (string, error) {
	addr = strings.TrimSpace(addr)
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Name != "" || !strings.Contains(a.Address, "@") {
		return "", fmt.Errorf("email: %s address %q is not valid", field, addr)
	}
	return a.Address, nil
}

func dedupeKeepLast(ids []string) []string {
	seen := map[string]bool{}
	out := make([]string, 0, len(ids))
	for i := len(ids) - 1; i >= 0; i-- {
		if !seen[ids[i]] {
			seen[ids[i]] = true
			out = append(out, ids[i])
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

func writeField(buf *bytes.Buffer, name, value string) {
	buf.WriteString(name)
	buf.WriteString(": ")
	buf.WriteString(value)
	buf.WriteString("\r\n")
}

var atext = regexp.MustCompile(`^[A-Za-z0-9!#$%&'*+/=?^_{|}~ -]*$`)

// formatAddress writes "Name <addr>", the name quoted when needed and RFC 2047 encoded
// when it is not ASCII.
func formatAddress(name, addr string) string {
	name = cleanLine(name)
	if name == "" {
		return addr
	}
	switch {
	case needsEncoding(name):
		return encodeWords(name, len("From: ")) + " <" + addr + ">"
	case atext.MatchString(name) && !strings.Contains(name, "=?"):
		return name + " <" + addr + ">"
	default:
		q := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name)
		return `"` + q + `" <` + addr + ">"
	}
}

func needsEncoding(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x7f || (c < ' ' && c != '\t') {
			return true
		}
	}
	return strings.Contains(s, "=?")
}

// encodeText writes an unstructured header value: as it is, folded at spaces, when it is
// ASCII; else as UTF-8 B encoded-words.
func encodeText(s string, used int) string {
	if !needsEncoding(s) {
		words := strings.Split(s, " ")
		long := false
		for _, w := range words {
			long = long || len(w) > 900
		}
		if !long {
			return foldWords(words, used)
		}
	}
	return encodeWords(s, used)
}

// encodeWords encodes s as "=?UTF-8?B?…?=" words of at most 75 characters, never splitting
// a character, folded onto continuation lines.
func encodeWords(s string, used int) string {
	const maxRaw = 45 // 60 base64 characters plus "=?UTF-8?B?" and "?=" makes 72
	var words []string
	for len(s) > 0 {
		n := min(len(s), maxRaw)
		for n < len(s) && n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		if n == 0 {
			n = min(len(s), maxRaw)
		}
		words = append(words, "=?UTF-8?B?"+base64.StdEncoding.EncodeToString([]byte(s[:n]))+"?=")
		s = s[n:]
	}
	return foldWords(words, used)
}

// foldWords joins words with spaces, folding before a word that would take the line past
// 78 characters. Unfolding gives back the words joined by single spaces, empty words (runs
// of spaces) included.
func foldWords(words []string, used int) string {
	var b strings.Builder
	line := used
	for i, w := range words {
		if i > 0 {
			if w != "" && words[i-1] != "" && line+1+len(w) > maxLine {
				b.WriteString("\r\n ")
				line = 1
			} else {
				b.WriteByte(' ')
				line++
			}
		}
		b.WriteString(w)
		line += len(w)
	}
	return b.String()
}

// textToHTML renders plain text as HTML: the text escaped, blank-line separated paragraphs
// as <p>, line breaks as <br>.
func textToHTML(text string) string {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html>\n<head><meta charset=\"utf-8\"></head>\n<body>\n")
	for _, para := range splitParagraphs(text) {
		lines := strings.Split(para, "\n")
		for i, l := range lines {
			lines[i] = html.EscapeString(l)
		}
		b.WriteString("<p>")
		b.WriteString(strings.Join(lines, "<br>\n"))
		b.WriteString("</p>\n")
	}
	b.WriteString("</body>\n</html>\n")
	return b.String()
}

var blankLines = regexp.MustCompile(`\n[ \t]*\n(?:[ \t]*\n)*`)

func splitParagraphs(text string) []string {
	var out []string
	for _, p := range blankLines.Split(strings.Trim(text, "\n"), -1) {
		if strings.TrimSpace(p) != "" {
			out = append(out, strings.TrimRight(p, " \t"))
		}
	}
	return out
}
