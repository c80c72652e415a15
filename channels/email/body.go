package email

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"path"
	"strings"
)

const (
	maxDepth = 20   // nested multiparts and messages
	maxParts = 1000 // MIME parts in one message
)

// decodeTransfer undoes a Content-Transfer-Encoding. Damaged input is decoded as far as it
// goes; the returned note says what was wrong.
func decodeTransfer(cte string, body []byte) ([]byte, string) {
	switch cte = strings.ToLower(strings.TrimSpace(cte)); cte {
	case "base64":
		return decodeBase64Body(body)
	case "quoted-printable":
		return decodeQP(body), ""
	case "", "7bit", "8bit", "binary", "7-bit", "8-bit":
		return body, ""
	default:
		return body, fmt.Sprintf("unknown Content-Transfer-Encoding %q left as it is", cte)
	}
}

// decodeBase64Body decodes a base64 body, skipping characters outside the alphabet and
// accepting chunks that were padded and concatenated.
func decodeBase64Body(body []byte) ([]byte, string) {
	clean := make([]byte, 0, len(body))
	bad := 0
	for _, c := range body {
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '+', c == '/', c == '=':
			clean = append(clean, c)
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
		default:
			bad++
		}
	}
	out := make([]byte, 0, len(clean)*3/4+3)
	truncated := false
	for len(clean) > 0 {
		// A chunk runs to its padding.
		end := bytes.IndexByte(clean, '=')
		var chunk []byte
		if end < 0 {
			chunk, clean = clean, nil
		} else {
			chunk = clean[:end]
			for end < len(clean) && clean[end] == '=' {
				end++
			}
			clean = clean[end:]
		}
		if len(chunk)%4 == 1 {
			chunk = chunk[:len(chunk)-1]
			truncated = true
		}
		at := len(out)
		out = append(out, make([]byte, base64.RawStdEncoding.DecodedLen(len(chunk)))...)
		n, err := base64.RawStdEncoding.Decode(out[at:], chunk)
		if err != nil {
			truncated = true
		}
		out = out[:at+n]
	}
	switch {
	case bad > 0:
		return out, fmt.Sprintf("base64 body had %d characters outside the alphabet; they were skipped", bad)
	case truncated:
		return out, "base64 body was truncated"
	}
	return out, ""
}

// decodeQP decodes quoted-printable leniently: an "=" not followed by two hex digits stays
// as it is, and trailing whitespace on a line is transport padding.
func decodeQP(body []byte) []byte {
	out := make([]byte, 0, len(body))
	for len(body) > 0 {
		line, rest, hasNL := bytes.Cut(body, []byte("\n"))
		body = rest
		crlf := bytes.HasSuffix(line, []byte("\r"))
		line = bytes.TrimRight(line, " \t\r")
		soft := bytes.HasSuffix(line, []byte("="))
		if soft {
			line = line[:len(line)-1]
		}
		for i := 0; i < len(line); i++ {
			if line[i] == '=' && i+2 < len(line) && isHex(line[i+1]) && isHex(line[i+2]) {
				out = append(out, unhex(line[i+1])<<4|unhex(line[i+2]))
				i += 2
				continue
			}
			out = append(out, line[i])
		}
		if hasNL && !soft {
			if crlf {
				out = append(out, '\r')
			}
			out = append(out, '\n')
		}
	}
	return out
}

// eachPart calls fn with each part of a multipart body delimited by boundary, in order,
// and returns how many there were and whether the final delimiter closed them. It keeps
// nothing itself, so a body of a million empty parts costs a scan, not a million slices.
func eachPart(body []byte, boundary string, fn func(part []byte)) (n int, closed bool) {
	if boundary == "" {
		return 0, false
	}
	delim := []byte("--" + boundary)
	var start = -1 // where the current part's content starts
	pos := 0
	for pos <= len(body) {
		i := bytes.Index(body[pos:], delim)
		if i < 0 {
			break
		}
		i += pos
		lineEnd := bytes.IndexByte(body[i:], '\n')
		if lineEnd < 0 {
			lineEnd = len(body)
		} else {
			lineEnd += i
		}
		if i > 0 && body[i-1] != '\n' {
			pos = i + len(delim)
			continue // not at the start of a line
		}
		tail := bytes.TrimRight(body[i+len(delim):lineEnd], " \t\r")
		isClose := bytes.Equal(tail, []byte("--"))
		if len(tail) != 0 && !isClose {
			pos = i + len(delim) // a longer boundary that starts with this one
			continue
		}
		if start >= 0 {
			end := i
			// The line break before a delimiter belongs to the delimiter.
			if end > start && body[end-1] == '\n' {
				end--
				if end > start && body[end-1] == '\r' {
					end--
				}
			}
			n++
			fn(body[start:end])
		}
		if isClose {
			return n, true
		}
		start = lineEnd + 1
		if start > len(body) {
			start = len(body)
		}
		pos = start
	}
	if start >= 0 && start < len(body) {
		// No closing delimiter: the last part runs to the end.
		n++
		fn(body[start:])
	}
	return n, false
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
		if strings.TrimLeft(b, "-") == "" {
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

// content is the text a MIME subtree contributes to the message body.
type content struct {
	text []string
	html []string
}

type walker struct {
	msg        *Message
	parts      int
	hint       string // the charset of the first text part, for raw 8-bit headers
	reportType string
	dsn        []byte // the message/delivery-status part
	original   []byte // the returned message (or its header) in a bounce
	mdn        bool
	err        error // a part's header was more than a header can be (ErrTooManyFields)
}

func (w *walker) defect(format string, args ...any) {
	if len(w.msg.Defects) < 50 {
		w.msg.Defects = append(w.msg.Defects, fmt.Sprintf(format, args...))
	}
}

// walk reads one MIME entity and its children.
func (w *walker) walk(h header, body []byte, depth int, parent string) content {
	w.parts++ // read (below) keeps this within maxParts
	ctype, params := parseParams(h.Get("Content-Type"), w.hint)
	if !strings.Contains(ctype, "/") {
		if ctype != "" {
			w.defect("malformed Content-Type %q read as text/plain", ctype)
		}
		ctype, params = "text/plain", map[string]string{"charset": params["charset"]}
		if parent == "multipart/digest" {
			ctype = "message/rfc822"
		}
	}
	disp, dparams := parseParams(h.Get("Content-Disposition"), w.hint)

	if strings.HasPrefix(ctype, "multipart/") {
		if depth >= maxDepth {
			w.defect("MIME nesting deeper than %d; not kept", maxDepth)
			w.omit(h, body)
			w.msg.Omitted.TooDeep = true
			return content{}
		}
		var res content
		report := ctype == "multipart/report" && w.reportType == ""
		if report { // before the parts, so that a report nested in this one does not win
			w.reportType = strings.ToLower(params["report-type"])
		}
		read := func(p []byte) {
			if w.err != nil {
				return
			}
			if w.parts >= maxParts {
				// Past the limit: only note what the part was, without reading it.
				w.parts++
				if w.parts == maxParts+1 {
					w.defect("more than %d MIME parts; the rest were not kept", maxParts)
				}
				w.omitPart(p)
				return
			}
			ph, pb, clean, err := parseHeader(p)
			if err != nil {
				w.err = err
				return
			}
			if !clean {
				w.defect("a part of %s has a malformed header", ctype)
			}
			c := w.walk(ph, pb, depth+1, ctype)
			if ctype == "multipart/alternative" {
				// Prefer the plain text, keep the richest HTML.
				if len(res.text) == 0 {
					res.text = c.text
				}
				if len(c.html) > 0 {
					res.html = c.html
				}
				return
			}
			res.text = append(res.text, c.text...)
			res.html = append(res.html, c.html...)
		}
		boundary := params["boundary"]
		n, closed := eachPart(body, boundary, read)
		if n == 0 {
			if b := sniffBoundary(body); b != "" && b != boundary {
				w.defect("multipart boundary %q not found; used %q", boundary, b)
				n, closed = eachPart(body, b, read)
			}
		}
		if n == 0 {
			if report {
				w.reportType = "" // not a report after all
			}
			w.defect("%s has no parts (boundary %q); read as text", ctype, boundary)
			s, _ := decodeCharset(params["charset"], body)
			return content{text: []string{normalizeNewlines(cleanText(s))}}
		}
		if !closed && w.parts <= maxParts {
			w.defect("%s is not closed by its final boundary", ctype)
		}
		return res
	}

	data, note := decodeTransfer(h.Get("Content-Transfer-Encoding"), body)
	if note != "" {
		w.defect("%s: %s", ctype, note)
	}
	filename := dparams["filename"]
	if filename == "" {
		filename = params["name"]
	}
	isBody := (ctype == "text/plain" || ctype == "text/html") && disp != "attachment" && filename == ""
	if isBody {
		charset := params["charset"]
		if charset != "" && w.hint == "" {
			w.hint = charset
		}
		s, known := decodeCharset(charset, data)
		if !known {
			w.defect("unknown charset %q; text decoded by guess", charset)
		}
		s = normalizeNewlines(cleanText(s))
		if ctype == "text/html" {
			return content{html: []string{s}}
		}
		if strings.EqualFold(params["format"], "flowed") {
			s = unflow(s, strings.EqualFold(params["delsp"], "yes"))
		}
		return content{text: []string{s}}
	}

	switch ctype {
	case "message/delivery-status", "message/global-delivery-status":
		if w.dsn == nil {
			w.dsn = data
		}
	case "message/rfc822", "message/global", "text/rfc822-headers", "message/rfc822-headers", "message/global-headers":
		if w.original == nil {
			w.original = data
		}
	case "message/disposition-notification":
		w.mdn = true
	}
	cid := strings.Trim(trimValue(h.Get("Content-Id")), "<> \t")
	inline := disp == "inline" || (disp == "" && cid != "" && parent == "multipart/related")
	if filename == "" {
		filename = defaultFilename(ctype, data, len(w.msg.Attachments)+1, w.hint)
	}
	w.msg.Attachments = append(w.msg.Attachments, Attachment{
		Filename:    safeFilename(filename),
		ContentType: ctype,
		Size:        int64(len(data)),
		Inline:      inline,
		ContentID:   cleanLine(cid),
		Content:     data,
	})
	return content{}
}

var extensions = map[string]string{
	"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg", "image/jpg": ".jpg", "image/gif": ".gif",
	"image/webp": ".webp", "image/bmp": ".bmp", "image/heic": ".heic", "text/plain": ".txt", "text/html": ".html",
	"text/calendar": ".ics", "text/csv": ".csv", "message/rfc822": ".eml", "message/global": ".eml",
	"text/rfc822-headers": ".txt", "message/delivery-status": ".txt", "application/zip": ".zip",
	"audio/mpeg": ".mp3", "audio/amr": ".amr", "video/mp4": ".mp4", "application/pkcs7-signature": ".p7s",
	"application/pgp-signature": ".asc", "application/ms-tnef": ".dat",
}

// defaultFilename names a part that came without a name: an attached message after its
// subject, anything else after its position and type.
func defaultFilename(ctype string, data []byte, n int, hint string) string {
	ext := extensions[ctype]
	if ctype == "message/rfc822" || ctype == "message/global" {
		h, _, _, _ := parseHeader(data)
		if subj := cleanLine(decodeHeader(h.Get("Subject"), hint)); subj != "" {
			if len(subj) > 100 {
				subj = truncateUTF8(subj, 100)
			}
			return subj + ext
		}
		return "message" + ext
	}
	return fmt.Sprintf("attachment-%d%s", n, ext)
}

// safeFilename keeps the last element of a path and drops characters that are unsafe in
// file names.
func safeFilename(name string) string {
	name = cleanLine(name)
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base(name)
	name = strings.Map(func(r rune) rune {
		switch r {
		case '/', ':', '*', '?', '"', '<', '>', '|':
			return '_'
		}
		return r
	}, name)
	name = strings.Trim(name, " .")
	if name == "" {
		name = "attachment"
	}
	return truncateUTF8(name, 255)
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

func normalizeNewlines(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}
