package email

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"net/mail"
	"net/textproto"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jhillyerd/enmime/v2"
)

// header is a message's or a MIME part's header fields as enmime read them: unfolded
// (obsolete folding with whitespace-only lines included), not decoded.
type header = textproto.MIMEHeader

// has reports whether the field is present, even empty.
func has(h header, key string) bool {
	_, ok := h[textproto.CanonicalMIMEHeaderKey(key)]
	return ok
}

// ignoreDefects is an enmime.ErrorCollector for headers read on the side (a returned
// message's, a delivery report's), whose flaws are not the message's.
type ignoreDefects struct{}

func (ignoreDefects) AddError(string, string, ...any)   {}
func (ignoreDefects) AddWarning(string, string, ...any) {}

// readHeader reads the header at the start of b with enmime's lenient reader.
func readHeader(b []byte) header {
	h, _ := enmime.ReadHeader(bufio.NewReader(bytes.NewReader(b)), ignoreDefects{})
	return h
}

// trimValue trims an unfolded value.
func trimValue(v string) string {
	if strings.ContainsAny(v, "\r\n") {
		v = strings.NewReplacer("\r", "", "\n", "").Replace(v)
	}
	return strings.TrimSpace(v)
}

var encodedWord = regexp.MustCompile(`=\?([^?\s]{1,80})\?([bBqQ])\?([^?]*)\?=`)

// decodeHeader decodes RFC 2047 encoded-words and raw 8-bit text in a header value into
// UTF-8. enmime decodes each encoded-word alone (Go's mime.WordDecoder), which breaks the
// character that NetEase and others split across two words, and leaves raw 8-bit bytes as
// they are: here adjacent encoded-words in one charset are joined before conversion, and
// every text is read by decodeText. hints are the message's charsets, for raw 8-bit text.
func decodeHeader(v string, hints ...string) string {
	v = trimValue(v)
	if !strings.Contains(v, "=?") {
		return cleanText(decode8bit(v, hints))
	}
	var out strings.Builder
	var pendCharset string
	var pend []byte
	flush := func() {
		if pend != nil {
			s, _ := decodeText(pend, append([]string{pendCharset}, hints...)...)
			out.WriteString(s)
			pend, pendCharset = nil, ""
		}
	}
	last := 0
	prevEncoded := false
	for _, m := range encodedWord.FindAllStringSubmatchIndex(v, -1) {
		gap := v[last:m[0]]
		charset := normCharset(v[m[2]:m[3]])
		raw, ok := decodeWord(v[m[4]:m[5]], v[m[6]:m[7]])
		if !ok {
			continue // keep the undecodable word as it is, with the gap
		}
		if !(prevEncoded && strings.TrimSpace(gap) == "") {
			flush()
			out.WriteString(decode8bit(gap, hints))
		}
		if pend != nil && charset != pendCharset {
			flush()
		}
		pendCharset = charset
		if pend == nil {
			pend = []byte{}
		}
		pend = append(pend, raw...)
		last = m[1]
		prevEncoded = true
	}
	flush()
	out.WriteString(decode8bit(v[last:], hints))
	return cleanText(out.String())
}

// decodeWord decodes an encoded-word's text.
func decodeWord(enc, text string) ([]byte, bool) {
	if enc == "b" || enc == "B" {
		b, err := decodeBase64Lenient(text)
		return b, err == nil
	}
	var out []byte
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case c == '_':
			out = append(out, ' ')
		case c == '=' && i+2 < len(text) && isHex(text[i+1]) && isHex(text[i+2]):
			out = append(out, unhex(text[i+1])<<4|unhex(text[i+2]))
			i += 2
		default:
			out = append(out, c)
		}
	}
	return out, true
}

// decodeBase64Lenient decodes base64 that may lack padding or carry whitespace.
func decodeBase64Lenient(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
	s = strings.TrimRight(s, "=")
	if len(s)%4 == 1 {
		return nil, errors.New("truncated base64")
	}
	return base64.RawStdEncoding.DecodeString(s)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// cleanText makes decoded text safe to store: valid UTF-8 with no NUL bytes.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return s
}

// cleanLine is cleanText for one-line values: control characters become spaces.
func cleanLine(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == 0:
			return -1
		case r < ' ' || r == 0x7f:
			return ' '
		}
		return r
	}, cleanText(s))
	return strings.TrimSpace(s)
}

// decode8bit reads a header value that may carry raw 8-bit bytes, in the message's
// charsets when they are not UTF-8.
func decode8bit(s string, hints []string) string {
	if isASCII([]byte(s)) {
		return s
	}
	out, _ := decodeText([]byte(s), hints...)
	return out
}

var errNoCharset = errors.New("charset left for later")

// addrParser parses address lists without decoding encoded-words in other charsets; the
// names are decoded afterwards by decodeHeader, which joins split characters.
var addrParser = mail.AddressParser{WordDecoder: &mime.WordDecoder{
	CharsetReader: func(string, io.Reader) (io.Reader, error) { return nil, errNoCharset },
}}

var (
	angleAddr = regexp.MustCompile(`<\s*([^<>\s@]+@[^<>\s]+)\s*>`)
	bareAddr  = regexp.MustCompile(`[^\s<>"'(),;:\[\]]+@[^\s<>"'(),;:\[\]]+\.[^\s<>"'(),;:\[\]]+`)
)

// parseAddressList reads an address header: strictly when it can, then as enmime repairs
// it (missing commas), then by pattern. Names are decoded; addresses are lower-cased.
func parseAddressList(v string, hints []string) []Address {
	v = trimValue(decode8bit(v, hints))
	if v == "" {
		return nil
	}
	var out []Address
	if list, err := addrParser.ParseList(v); err == nil {
		for _, a := range list {
			if addr := strings.ToLower(strings.TrimSpace(a.Address)); addr != "" {
				out = append(out, Address{Name: cleanName(decodeHeader(a.Name, hints...)), Addr: cleanLine(addr)})
			}
		}
		return out
	}
	for _, part := range splitAddresses(v) {
		part = strings.TrimSpace(part)
		if m := angleAddr.FindStringSubmatchIndex(part); m != nil {
			addr := strings.ToLower(part[m[2]:m[3]])
			name := strings.TrimSpace(part[:m[0]])
			if strings.HasPrefix(name, `"`) {
				name = unquote(name)
			}
			out = append(out, Address{Name: cleanName(decodeHeader(name, hints...)), Addr: cleanLine(addr)})
			continue
		}
		if m := bareAddr.FindString(part); m != "" {
			out = append(out, Address{Addr: cleanLine(strings.ToLower(strings.Trim(m, "."))), Name: ""})
		}
	}
	// enmime repairs a list that lacks its commas ("a@example.com b@example.com"), which
	// the pattern reads as one address.
	if list, err := enmime.ParseAddressList(v); err == nil && len(list) > len(out) {
		var repaired []Address
		for _, a := range list {
			if addr := strings.ToLower(strings.TrimSpace(a.Address)); addr != "" && !slices.ContainsFunc(repaired, func(r Address) bool { return r.Addr == addr }) {
				repaired = append(repaired, Address{Name: cleanName(decodeHeader(a.Name, hints...)), Addr: cleanLine(addr)})
			}
		}
		if len(repaired) > len(out) {
			return repaired
		}
	}
	return out
}

// splitAddresses splits a malformed address list at commas outside quotes and brackets.
func splitAddresses(s string) []string {
	var parts []string
	inQuote, depth, start := false, 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			inQuote = !inQuote
		case inQuote:
		case c == '<':
			depth++
		case c == '>' && depth > 0:
			depth--
		case (c == ',' || c == ';') && depth == 0:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// unquote removes the quotes of a quoted-string and its backslash escapes; an unterminated
// quote runs to the end.
func unquote(s string) string {
	s = strings.TrimPrefix(s, `"`)
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			i++
			b.WriteByte(s[i])
			continue
		}
		if c == '"' {
			break
		}
		b.WriteByte(c)
	}
	return b.String()
}

func cleanName(name string) string {
	return strings.TrimSpace(strings.Trim(cleanLine(name), `"'`))
}

var dateLayouts = []string{
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 MST",
	"Mon, 2 Jan 2006 15:04 -0700",
	"2 Jan 2006 15:04:05 -0700",
	"2 Jan 2006 15:04:05 MST",
	"Mon, 2 Jan 06 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 -0700 MST",
	"Mon Jan 2 15:04:05 2006",
	"Mon Jan 2 15:04:05 MST 2006",
	"Mon, 2 Jan 2006 15:04:05",
	"2006-01-02 15:04:05 -0700",
	time.RFC3339,
}

var dateComment = regexp.MustCompile(`\s*\([^)]*\)\s*$`)

// parseDate reads a Date header; the zero time when it cannot.
func parseDate(v string) (time.Time, bool) {
	v = trimValue(v)
	if v == "" {
		return time.Time{}, true
	}
	if t, err := mail.ParseDate(v); err == nil {
		return t, true
	}
	s := strings.Join(strings.Fields(dateComment.ReplaceAllString(v, "")), " ")
	s = strings.Replace(s, " UT", " UTC", 1)
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	if s != v {
		if t, err := mail.ParseDate(s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

var msgIDPattern = regexp.MustCompile(`<([^<>]*)>`)

const (
	maxIDs = 200
	// maxMessageIDLen is the longest message id an email can carry: RFC 5322 (2.1.1) limits
	// a line to 998 characters and an id is never folded, so " <id>" on a line of its own
	// holds at most 995.
	maxMessageIDLen = 995
)

// parseIDs reads the message ids of a Message-ID, In-Reply-To or References header,
// without angle brackets. Ids written without brackets are accepted.
func parseIDs(v string) []string {
	v = trimValue(v)
	var ids []string
	for _, m := range msgIDPattern.FindAllStringSubmatch(v, maxIDs) {
		if id := cleanID(m[1]); id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 && !strings.ContainsAny(v, "<>") {
		for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' }) {
			if id := cleanID(f); id != "" && strings.Contains(id, "@") && !slices.Contains(ids, id) && len(ids) < maxIDs {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

func cleanID(s string) string {
	s = strings.Join(strings.Fields(cleanLine(s)), "")
	if len(s) > maxMessageIDLen {
		return ""
	}
	return s
}

// overlongID returns the length of an id in v that is longer than any email carries (which
// parseIDs leaves out), or 0.
func overlongID(v string) int {
	v = trimValue(v)
	tokens := msgIDPattern.FindAllStringSubmatch(v, maxIDs)
	if len(tokens) == 0 {
		for _, f := range strings.Fields(v) {
			tokens = append(tokens, []string{f, f})
		}
	}
	for _, t := range tokens {
		if n := len(strings.Join(strings.Fields(cleanLine(t[1])), "")); n > maxMessageIDLen {
			return n
		}
	}
	return 0
}
