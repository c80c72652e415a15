package email

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// Hotline walks a message's MIME structure before enmime reads it, without decoding
// anything, for what enmime does not do:
//
//   - Limits. enmime has none on header fields, parts or nesting, and gives every part it
//     finds a Part, a header map and a 4 KB read buffer: a 25 MB message of a million empty
//     parts would cost gigabytes. Here a header of more than maxFields fields is refused
//     before it is read, and parts past maxParts or nested deeper than maxDepth are cut out
//     of what enmime reads; they are accounted for in Message.Omitted.
//   - Repairs that keep the sender's words. A header that ends without its blank line gets
//     one (enmime would take the body's first line for a header line); a multipart whose
//     declared boundary is never used is read with the boundary it does use, or as text.
//
// It edits a copy only when it must; the copy holds what enmime is to read, no more.

const (
	// maxFields bounds the fields of one header. A real message has a few dozen, a few
	// hundred Received lines at the very most (Postfix bounces a message after 50 hops), so
	// a header with thousands of fields is a mail loop or an attack.
	maxFields = 5000
	// maxPartFields bounds the fields of all the parts' headers together: a part has a few
	// (Content-Type, -Disposition, -Transfer-Encoding, -ID), and enmime keeps every field of
	// every part, so a thousand parts of 4,000 fields each would cost half a gigabyte.
	maxPartFields = 10 * maxParts
	maxDepth      = 20   // nested multiparts
	maxParts      = 1000 // MIME entities in one message, the message itself included
)

// shaper is one walk over a raw message.
type shaper struct {
	raw        []byte
	out        []byte // the edited message; nil while nothing is edited
	pos        int    // raw[:pos] is already in out
	fields     int    // the top-level header's fields
	partFields int    // the fields of the parts' headers, together
	parts      int
	charsets   []string // declared charsets: the message's, then its text parts', in order
	omitted    Omitted
	defects    []string
	err        error
}

// shape walks raw and returns the message for enmime to read.
func shape(raw []byte) *shaper {
	s := &shaper{raw: raw}
	s.entity(0, len(raw), 0, "")
	if s.out != nil {
		s.out = append(s.out, s.raw[s.pos:]...)
	}
	return s
}

// message is what enmime reads.
func (s *shaper) message() []byte {
	if s.out != nil {
		return s.out
	}
	return s.raw
}

func (s *shaper) defect(format string, args ...any) {
	if len(s.defects) < maxDefects {
		s.defects = append(s.defects, fmt.Sprintf(format, args...))
	}
}

// edit replaces raw[start:end] with text in what enmime reads. Edits come in order.
func (s *shaper) edit(start, end int, text string) {
	if s.out == nil {
		// Sized for what comes before the edit: most of a message past the limits is left
		// out, and the rest grows as it is copied.
		s.out = make([]byte, 0, start+len(text)+4096)
	}
	s.out = append(s.out, s.raw[s.pos:start]...)
	s.out = append(s.out, text...)
	s.pos = end
}

// headerShape is where a header's parts are, as offsets into raw.
type headerShape struct {
	fields    int
	bodyStart int
	noBlank   bool // the header ended at a line that is not a field, without its blank line
	start     int
	white     bool // it has lines of only white space (obsolete folding)
	ct        span // the Content-Type field, its lines whole; empty when none
	ctValue   string
}

type span struct{ start, end int }

// scanHeader finds the end of the header at raw[start:end] and counts its fields, as
// enmime will read it: a line starting with a space or tab continues the field, even a
// line of only whitespace (RFC 5322 obsolete folding); an empty line ends the header.
// Unlike enmime, a line that is neither ends it too: it is the body, its blank line
// missing. Only the first maxFields+1 fields are looked at: ok is false past them.
func (s *shaper) scanHeader(start, end int) (headerShape, bool) {
	h := headerShape{bodyStart: end, start: start}
	inCT := false
	for pos := start; pos < end; {
		next := end
		lineEnd := end
		if i := bytes.IndexByte(s.raw[pos:end], '\n'); i >= 0 {
			lineEnd, next = pos+i, pos+i+1
		}
		line := bytes.TrimSuffix(s.raw[pos:lineEnd], []byte("\r"))
		switch {
		case len(line) == 0:
			h.bodyStart = next
			return h, true
		case line[0] == ' ' || line[0] == '\t':
			if h.fields == 0 {
				h.bodyStart, h.noBlank = pos, true
				return h, true
			}
			if len(bytes.TrimLeft(line, " \t")) == 0 {
				h.white = true
			}
			if inCT {
				h.ct.end = next
				h.ctValue += " " + string(bytes.TrimSpace(line))
			}
		case isField(line):
			if h.fields++; h.fields > maxFields {
				return h, false
			}
			inCT = h.ct.end == 0 && len(line) > 13 && strings.EqualFold(string(line[:13]), "content-type:")
			if inCT {
				h.ct = span{pos, next}
				h.ctValue = string(line[13:])
			}
		default:
			h.bodyStart, h.noBlank = pos, true
			return h, true
		}
		pos = next
	}
	return h, true
}

// editHeader makes the header enmime reads: lines of only white space dropped (enmime
// would add a space for each), the Content-Type field replaced by ct when ct is not "",
// and the blank line added where the header lacks it.
func (s *shaper) editHeader(h headerShape, ct string) {
	if h.white || ct != "" {
		for pos := h.start; pos < h.bodyStart; {
			next := h.bodyStart
			if i := bytes.IndexByte(s.raw[pos:h.bodyStart], '\n'); i >= 0 {
				next = pos + i + 1
			}
			switch {
			case ct != "" && pos == h.ct.start:
				s.edit(h.ct.start, h.ct.end, ct)
				next = h.ct.end
			case pos > h.start && len(bytes.Trim(s.raw[pos:next], " \t\r\n")) == 0 && next < h.bodyStart:
				s.edit(pos, next, "")
			}
			pos = next
		}
	}
	if h.noBlank {
		s.edit(h.bodyStart, h.bodyStart, "\r\n")
	}
}

// isField reports whether a header line starts a field: a name of printable ASCII, then a
// colon.
func isField(line []byte) bool {
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 || colon > 200 {
		return false
	}
	for _, c := range bytes.TrimRight(line[:colon], " \t") {
		if c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// entity walks the MIME entity at raw[start:end].
func (s *shaper) entity(start, end, depth int, parent string) {
	s.parts++
	h, ok := s.scanHeader(start, end)
	if !ok {
		s.err = fmt.Errorf("%w: more than %d fields in one header", ErrTooManyFields, maxFields)
		return
	}
	if depth > 0 {
		if s.partFields += h.fields; s.partFields > maxPartFields {
			s.err = fmt.Errorf("%w: more than %d fields in the headers of its parts", ErrTooManyFields, maxPartFields)
			return
		}
	}
	if depth == 0 {
		s.fields = h.fields
		if h.noBlank && h.fields > 0 {
			s.defect("the message header is malformed")
		}
	} else if h.noBlank {
		s.defect("a part of %s has a malformed header", parent)
	}
	ctype, params := mediaType(h.ctValue)
	if cs := normCharset(params["charset"]); cs != "" && (depth == 0 || strings.HasPrefix(ctype, "text/")) && !slices.Contains(s.charsets, cs) {
		s.charsets = append(s.charsets, cs)
	}
	if !strings.HasPrefix(ctype, "multipart/") {
		s.editHeader(h, "")
		return
	}
	body := s.raw[h.bodyStart:end]
	boundary := params["boundary"]
	if depth >= maxDepth {
		s.defect("MIME nesting deeper than %d; not kept", maxDepth)
		s.omitted.TooDeep = true
		s.omit(ctype, params, nil, body)
		s.editHeader(h, "")
		s.edit(h.bodyStart, end, "")
		return
	}
	if _, _, ok := nextDelimiter(body, 0, boundary); !ok {
		// The declared boundary is not used: the one the parts use, else the body is text.
		if b := sniffBoundary(body); b != "" && b != boundary {
			s.defect("multipart boundary %q not found; used %q", boundary, b)
			s.editHeader(h, fmt.Sprintf("Content-Type: %s; boundary=%q\r\n", ctype, b))
			boundary = b
		} else {
			s.defect("%s has no parts (boundary %q); read as text", ctype, boundary)
			ct := "Content-Type: text/plain\r\n"
			if cs := params["charset"]; cs != "" {
				ct = fmt.Sprintf("Content-Type: text/plain; charset=%q\r\n", cs)
			}
			s.editHeader(h, ct)
			return
		}
	} else {
		s.editHeader(h, "")
	}
	closed := eachPart(body, boundary, func(lead, pStart, pEnd int) {
		if s.err != nil {
			return
		}
		off := h.bodyStart
		if s.parts >= maxParts {
			// Past the limit: only note what the part was, without reading it.
			if s.parts++; s.parts == maxParts+1 {
				s.defect("more than %d MIME parts; the rest were not kept", maxParts)
			}
			s.omitPart(off+pStart, off+pEnd)
			s.edit(off+lead, off+pEnd, "")
			return
		}
		s.entity(off+pStart, off+pEnd, depth+1, ctype)
	})
	if !closed && s.parts <= maxParts {
		s.defect("%s is not closed by its final boundary", ctype)
	}
}

// nextDelimiter finds the first delimiter line of boundary in body at or after pos, as
// enmime recognises one: at the start of a line, "--" and the boundary, then white space
// or "--" (the close delimiter). It returns where the line starts and where the next
// begins.
func nextDelimiter(body []byte, pos int, boundary string) (at, next int, ok bool) {
	if boundary == "" {
		return 0, 0, false
	}
	delim := "--" + boundary
	for pos <= len(body) {
		i := bytes.Index(body[pos:], []byte(delim))
		if i < 0 {
			return 0, 0, false
		}
		i += pos
		pos = i + len(delim)
		if i > 0 && body[i-1] != '\n' {
			continue // not at the start of a line
		}
		rest := body[i+len(delim):]
		if len(rest) > 0 && rest[0] != ' ' && rest[0] != '\t' && rest[0] != '\r' && rest[0] != '\n' && !bytes.HasPrefix(rest, []byte("--")) {
			continue // a longer boundary that starts with this one
		}
		next = len(body)
		if j := bytes.IndexByte(rest, '\n'); j >= 0 {
			next = i + len(delim) + j + 1
		}
		return i, next, true
	}
	return 0, 0, false
}

// eachPart calls fn with each part of a multipart body, in order: where its delimiter's
// line break starts (lead: cutting from there to end removes the part whole), where its
// content starts and ends. It reports whether the close delimiter ended the parts. It
// keeps nothing itself, so a body of a million empty parts costs a scan.
func eachPart(body []byte, boundary string, fn func(lead, start, end int)) (closed bool) {
	start, lead := -1, 0
	for pos := 0; ; {
		at, next, ok := nextDelimiter(body, pos, boundary)
		if !ok {
			break
		}
		isClose := bytes.HasPrefix(body[at+2+len(boundary):], []byte("--"))
		// The line break before a delimiter belongs to the delimiter.
		end := at
		if end > 0 && body[end-1] == '\n' {
			end--
			if end > 0 && body[end-1] == '\r' {
				end--
			}
		}
		if start >= 0 {
			end = max(end, start)
			fn(lead, start, end)
		}
		if isClose {
			return true
		}
		lead, start, pos = end, next, next
	}
	if start >= 0 && start < len(body) {
		// No close delimiter: the last part runs to the end.
		fn(lead, start, len(body))
	}
	return false
}

// sniffBoundary finds the boundary a multipart body actually uses: the first line that
// looks like a delimiter and recurs.
func sniffBoundary(body []byte) string {
	tried := 0
	for line := range bytes.Lines(body) {
		l := bytes.TrimRight(line, " \t\r\n")
		if len(l) < 4 || len(l) > 200 || !bytes.HasPrefix(l, []byte("--")) {
			continue
		}
		b := string(bytes.TrimSuffix(l[2:], []byte("--")))
		if strings.TrimLeft(b, "-") == "" || strings.ContainsAny(b, "\"\\") {
			continue
		}
		if tried++; tried > 20 {
			return "" // a real boundary shows near the top; don't count the body over and over
		}
		if bytes.Count(body, []byte("--"+b)) >= 2 {
			return b
		}
	}
	return ""
}
