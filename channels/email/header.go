package email

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"net/mail"
	"net/textproto"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// field is one header field, its value unfolded but not decoded.
type field struct {
	Key   string // canonical, e.g. "Message-Id"
	Value string
}

// header is a message's or a MIME part's header fields, in order.
type header []field

// maxFields bounds the fields of one header. A real message has a few dozen, a few
// hundred Received lines at the very most (Postfix bounces a message after 50 hops), so
// a header with thousands of fields is a mail loop or an attack.
const maxFields = 5000

// Get returns the first value of the field, or "".
func (h header) Get(key string) string {
	key = textproto.CanonicalMIMEHeaderKey(key)
	for _, f := range h {
		if f.Key == key {
			return f.Value
		}
	}
	return ""
}

// Has reports whether the field is present, even empty.
func (h header) Has(key string) bool {
	key = textproto.CanonicalMIMEHeaderKey(key)
	return slices.ContainsFunc(h, func(f field) bool { return f.Key == key })
}

// Values returns all the values of the field.
func (h header) Values(key string) []string {
	key = textproto.CanonicalMIMEHeaderKey(key)
	var vs []string
	for _, f := range h {
		if f.Key == key {
			vs = append(vs, f.Value)
		}
	}
	return vs
}

// parseHeader splits b into its header fields and the body after the blank line. It is
// lenient: a line that is neither a field nor a continuation ends the header there, and a
// header with no blank line after it has an empty body. A header of more than maxFields
// fields is an error (ErrTooManyFields): what its later fields say (its sender, its
// Content-Type) cannot be known without reading them all, and taking them for the body
// would show header lines as the sender's text.
func parseHeader(b []byte) (header, []byte, bool, error) {
	var h header
	// The last field's value as it is unfolded: appending each continuation line to a
	// string would copy the whole value again for every line.
	var value []byte
	done := func(rest []byte, clean bool) (header, []byte, bool, error) {
		if len(h) > 0 {
			h[len(h)-1].Value = string(value)
		}
		return h, rest, clean, nil
	}
	rest := b
	for len(rest) > 0 {
		line, next, _ := bytes.Cut(rest, []byte("\n"))
		l := bytes.TrimSuffix(line, []byte("\r"))
		if len(bytes.TrimRight(l, " \t")) == 0 {
			if len(l) > 0 && len(h) > 0 && len(next) > 0 && (next[0] == ' ' || next[0] == '\t') {
				// A whitespace-only continuation line; keep going.
				rest = next
				continue
			}
			return done(next, true)
		}
		if l[0] == ' ' || l[0] == '\t' {
			if len(h) == 0 {
				// Leading whitespace before any field: not a header.
				return done(rest, false)
			}
			value = append(value, l...)
			rest = next
			continue
		}
		colon := bytes.IndexByte(l, ':')
		if colon <= 0 || !validKey(bytes.TrimRight(l[:colon], " \t")) {
			// Not a field: the header ended without its blank line.
			return done(rest, false)
		}
		if len(h) >= maxFields {
			return nil, nil, false, ErrTooManyFields
		}
		if len(h) > 0 {
			h[len(h)-1].Value = string(value)
		}
		key := textproto.CanonicalMIMEHeaderKey(string(bytes.TrimRight(l[:colon], " \t")))
		h = append(h, field{Key: key})
		value = append(value[:0], l[colon+1:]...)
		rest = next
	}
	return done(nil, true)
}

func validKey(k []byte) bool {
	if len(k) == 0 || len(k) > 200 {
		return false
	}
	for _, c := range k {
		if c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	return true
}

// fieldValue trims an unfolded value.
// It works on bytes, so raw 8-bit text in another charset survives for decoding.
func trimValue(v string) string {
	if strings.ContainsAny(v, "\r\n") {
		v = strings.NewReplacer("\r", "", "\n", "").Replace(v)
	}
	return strings.TrimSpace(v)
}

var encodedWord = regexp.MustCompile(`=\?([^?\s]{1,80})\?([bBqQ])\?([^?]*)\?=`)

// decodeHeader decodes RFC 2047 encoded-words and raw 8-bit text in a header value into
// UTF-8. Adjacent encoded-words in one charset are joined before conversion, so a
// character split across two words survives. hint is the charset for raw 8-bit bytes.
func decodeHeader(v, hint string) string {
	v = trimValue(v)
	if !strings.Contains(v, "=?") {
		return cleanText(decode8bit(v, hint))
	}
	var out strings.Builder
	var pendCharset string
	var pend []byte
	flush := func() {
		if pend != nil {
			s, _ := decodeCharset(pendCharset, pend)
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
			out.WriteString(decode8bit(gap, hint))
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
	out.WriteString(decode8bit(v[last:], hint))
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

// parseParams splits a structured header value such as a Content-Type into its lower-cased
// value and parameters. It is lenient where mime.ParseMediaType is strict (duplicate or
// malformed parameters), decodes RFC 2231 extended values and continuations in any
// charset, and decodes encoded-words and raw 8-bit text that clients put in plain values.
func parseParams(v, hint string) (string, map[string]string) {
	v = trimValue(v)
	parts := splitUnquoted(v, ';')
	value := strings.ToLower(strings.TrimSpace(parts[0]))
	if i := strings.IndexAny(value, " \t"); i >= 0 {
		value = value[:i]
	}
	params := map[string]string{}
	type segment struct {
		n        int
		extended bool
		value    string
	}
	segs := map[string][]segment{}
	for _, p := range parts[1:] {
		k, val, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		val = strings.TrimSpace(val)
		if k == "" {
			continue
		}
		if strings.HasPrefix(val, `"`) {
			val = unquote(val)
		}
		if i := strings.IndexByte(k, '*'); i >= 0 {
			name, rest := k[:i], k[i+1:]
			extended := strings.HasSuffix(rest, "*") || rest == ""
			rest = strings.TrimSuffix(rest, "*")
			n := 0
			if rest != "" {
				var err error
				if n, err = strconv.Atoi(rest); err != nil || n < 0 || n > 999 {
					continue
				}
			}
			segs[name] = append(segs[name], segment{n, extended, val})
			continue
		}
		if _, dup := params[k]; !dup {
			params[k] = val
		}
	}
	for name, ss := range segs {
		sort.SliceStable(ss, func(i, j int) bool { return ss[i].n < ss[j].n })
		var raw []byte
		charset := ""
		for i, s := range ss {
			if i > 0 && s.n == ss[i-1].n {
				continue // duplicate segment
			}
			val := s.value
			if s.extended {
				if i == 0 {
					if parts := strings.SplitN(val, "'", 3); len(parts) == 3 {
						charset, val = parts[0], parts[2]
					}
				}
				raw = append(raw, percentDecode(val)...)
			} else {
				raw = append(raw, val...)
			}
		}
		var s string
		if charset != "" {
			s, _ = decodeCharset(charset, raw)
		} else {
			s = decode8bit(string(raw), hint)
			if strings.Contains(s, "=?") {
				s = decodeHeader(s, hint)
			}
		}
		params[name] = cleanText(s) // an RFC 2231 value wins over a plain one
	}
	for k, val := range params {
		if _, ext := segs[k]; ext {
			continue
		}
		if k == "boundary" {
			continue // a boundary is compared byte for byte
		}
		params[k] = decodeHeader(val, hint)
	}
	return value, params
}

func percentDecode(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		out = append(out, s[i])
	}
	return out
}

// splitUnquoted splits s at sep outside double quotes.
func splitUnquoted(s string, sep byte) []string {
	var parts []string
	inQuote, escaped := false, false
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			escaped = false
		case c == '\\' && inQuote:
			escaped = true
		case c == '"':
			inQuote = !inQuote
		case c == sep && !inQuote:
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

// parseAddressList reads an address header, strictly when it can and by pattern when the
// header is malformed. Names are decoded; addresses are lower-cased.
func parseAddressList(v, hint string) []Address {
	v = trimValue(decode8bit(v, hint))
	if v == "" {
		return nil
	}
	var out []Address
	if list, err := addrParser.ParseList(v); err == nil {
		for _, a := range list {
			if addr := strings.ToLower(strings.TrimSpace(a.Address)); addr != "" {
				out = append(out, Address{Name: cleanName(decodeHeader(a.Name, hint)), Addr: cleanLine(addr)})
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
			out = append(out, Address{Name: cleanName(decodeHeader(name, hint)), Addr: cleanLine(addr)})
			continue
		}
		if m := bareAddr.FindString(part); m != "" {
			out = append(out, Address{Addr: cleanLine(strings.ToLower(strings.Trim(m, "."))), Name: ""})
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
