package email

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/jhillyerd/enmime/v2"
	"github.com/jhillyerd/enmime/v2/mediatype"
)

// content is the text a MIME subtree contributes to the message body.
type content struct {
	text []string
	html []string
}

// walker reads the part tree enmime made into a Message: the body text, the files, and
// the parts a bounce or a receipt carries.
type walker struct {
	msg        *Message
	hints      []string // the message's declared charsets
	reportType string
	dsn        []byte // the message/delivery-status part
	original   []byte // the returned message (or its header) in a bounce
	mdn        bool
	// notes are the attachments that are plain text shown inline under a file name, as
	// Apple Mail and some phones send the body: the body when there is no other.
	notes []note
}

type note struct {
	at     int // in msg.Attachments
	params map[string]string
}

func (w *walker) defect(format string, args ...any) {
	if len(w.msg.Defects) < maxDefects {
		w.msg.Defects = append(w.msg.Defects, fmt.Sprintf(format, args...))
	}
}

// walk reads one MIME entity and its children.
func (w *walker) walk(p *enmime.Part, parent string) content {
	ctype := p.ContentType
	ctHeader := p.Header.Get("Content-Type")
	_, params := mediaType(ctHeader)
	if !strings.Contains(ctype, "/") {
		if v := trimValue(ctHeader); v != "" {
			w.defect("malformed Content-Type %q read as text/plain", truncateUTF8(cleanLine(v), 100))
		}
		ctype = "text/plain"
		if parent == "multipart/digest" {
			ctype = "message/rfc822"
		}
	}

	if strings.HasPrefix(ctype, "multipart/") {
		if ctype == "multipart/report" && w.reportType == "" {
			// Before the parts, so that a report nested in this one does not win.
			w.reportType = strings.ToLower(params["report-type"])
		}
		var res content
		for c := p.FirstChild; c != nil; c = c.NextSibling {
			c := w.walk(c, ctype)
			if ctype == "multipart/alternative" {
				// Prefer the plain text, keep the richest HTML.
				if len(res.text) == 0 {
					res.text = c.text
				}
				if len(c.html) > 0 {
					res.html = c.html
				}
				continue
			}
			res.text = append(res.text, c.text...)
			res.html = append(res.html, c.html...)
		}
		return res
	}

	data := p.Content
	filename := partFilename(p.Header, w.hints)
	disp, _ := mediaType(p.Header.Get("Content-Disposition"))
	if (ctype == "text/plain" || ctype == "text/html") && disp != "attachment" && filename == "" {
		s := w.text(data, params)
		if ctype == "text/html" {
			return content{html: []string{s}}
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
	cid := strings.Trim(trimValue(p.Header.Get("Content-Id")), "<> \t")
	inline := disp == "inline" || (disp == "" && cid != "" && parent == "multipart/related")
	if ctype == "text/plain" && disp != "attachment" {
		w.notes = append(w.notes, note{len(w.msg.Attachments), params})
	}
	if filename == "" {
		filename = defaultFilename(ctype, data, len(w.msg.Attachments)+1, w.hints)
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

// text decodes a text part's bytes (enmime hands them over as sent, see Parse).
func (w *walker) text(data []byte, params map[string]string) string {
	charset := normCharset(params["charset"])
	if charset != "" && !knownCharset(charset) {
		w.defect("unknown charset %q; text decoded by guess", truncateUTF8(cleanLine(charset), 100))
	}
	s, _ := decodeText(data, append([]string{charset}, w.hints...)...)
	s = normalizeNewlines(cleanText(s))
	if strings.EqualFold(params["format"], "flowed") {
		s = unflow(s, strings.EqualFold(params["delsp"], "yes"))
	}
	return s
}

// takeNotes makes the inline plain-text files the body, for a message that has no other:
// they are what the sender wrote.
func (w *walker) takeNotes() []string {
	var texts []string
	keep := w.msg.Attachments[:0:0]
	for i, a := range w.msg.Attachments {
		if len(w.notes) > 0 && w.notes[0].at == i {
			n := w.notes[0]
			w.notes = w.notes[1:]
			if s := w.text(a.Content, n.params); strings.TrimSpace(s) != "" {
				texts = append(texts, s)
				continue
			}
		}
		keep = append(keep, a)
	}
	w.msg.Attachments = keep
	return texts
}

// mediaType reads a Content-Type or Content-Disposition value with enmime's lenient
// parser: the lower-cased value and its parameters (RFC 2231 ones decoded when they are
// UTF-8). A value it cannot read gives its first word and no parameters.
func mediaType(v string) (string, map[string]string) {
	v = semicolon(trimValue(v))
	mtype, params, _, err := mediatype.Parse(v)
	if err != nil || params == nil {
		if err != nil {
			mtype, _, _ = strings.Cut(v, ";")
			mtype = strings.ToLower(strings.TrimSpace(mtype))
			if i := strings.IndexAny(mtype, " \t"); i >= 0 {
				mtype = mtype[:i]
			}
		}
		params = map[string]string{}
	}
	return mtype, params
}

// semicolon puts back the ';' a parameter lost after the type ("text/plain
// charset=utf-8", left by a fold that dropped it): enmime's parser reads such a value as
// application/octet-stream, and the sender's text would become a file.
func semicolon(v string) string {
	head, _, _ := strings.Cut(v, ";")
	i := strings.IndexAny(head, " \t")
	if i > 0 && strings.Contains(head[:i], "/") && !strings.Contains(head[:i], "=") && strings.Contains(head[i:], "=") {
		return head[:i] + ";" + v[i:]
	}
	return v
}

// extParam is an RFC 2231 extended parameter value (name*=charset'lang'%XX or a
// continuation name*0*=…).
var extParam = regexp.MustCompile(`(?i)(?:^|;)\s*((?:file)?name)\*(\d*)\*?\s*=\s*"?([^";]*)`)

// partFilename is a part's file name: Content-Disposition's filename, else Content-Type's
// name, decoded. Raw 8-bit names are read in the message's charsets before enmime parses
// the value (Go's parser would turn their bytes into U+FFFD), and RFC 2231 names in a
// charset other than UTF-8, which Go's parser drops, are decoded here.
func partFilename(h header, hints []string) string {
	for _, field := range []string{"Content-Disposition", "Content-Type"} {
		v := decode8bit(h.Get(field), hints)
		_, params := mediaType(v)
		name := params["filename"]
		if field == "Content-Type" {
			name = params["name"]
		}
		if name == "" {
			name = extendedName(v, hints)
		}
		if name = cleanText(decodeHeader(name, hints...)); strings.TrimSpace(name) != "" {
			return name
		}
	}
	return ""
}

// extendedName decodes an RFC 2231 file name in any charset, its continuations in order of
// appearance.
func extendedName(v string, hints []string) string {
	var raw []byte
	charset := ""
	for i, m := range extParam.FindAllStringSubmatch(v, 100) {
		val := m[3]
		if i == 0 {
			if parts := strings.SplitN(val, "'", 3); len(parts) == 3 {
				charset, val = parts[0], parts[2]
			}
		}
		raw = append(raw, percentDecode(val)...)
	}
	if raw == nil {
		return ""
	}
	s, _ := decodeText(raw, append([]string{charset}, hints...)...)
	return s
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
func defaultFilename(ctype string, data []byte, n int, hints []string) string {
	ext := extensions[ctype]
	if ctype == "message/rfc822" || ctype == "message/global" {
		h := readHeader(data)
		if subj := cleanLine(decodeHeader(h.Get("Subject"), hints...)); subj != "" {
			return truncateUTF8(subj, 100) + ext
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
