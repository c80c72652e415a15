package email

import (
	"fmt"
	"strings"
)

// maxOmittedListed is how many of the parts not kept are named in the note on the
// message; the rest are only counted.
const maxOmittedListed = 20

// Omitted is what a message carried that was not kept: its parts past the limit on MIME
// parts in one message (maxParts) or nested deeper than maxDepth. ToInbound notes it in the
// text, so that the agent knows the customer sent more than the ticket shows.
type Omitted struct {
	Count int   // parts not kept
	Bytes int64 // their size: decoded for the listed ones, as sent for the rest
	// Files are the first of them (at most maxOmittedListed): name, type and size, no
	// content. A multipart not kept is listed as its type and how many parts it holds.
	Files   []Attachment
	TooMany bool // the message had more than maxParts parts
	TooDeep bool // it nested multiparts deeper than maxDepth
}

// omitPart notes the part at raw[start:end], past the limit on parts. Only the first few
// are read, for their names; the rest are counted, so that a message of a million empty
// parts costs a scan.
func (s *shaper) omitPart(start, end int) {
	o := &s.omitted
	o.TooMany = true
	if len(o.Files) >= maxOmittedListed {
		o.Count++
		o.Bytes += int64(end - start)
		return
	}
	hs, _ := s.scanHeader(start, end)
	h := readHeader(s.raw[start:hs.bodyStart])
	ctype, params := mediaType(h.Get("Content-Type"))
	s.omit(ctype, params, h, s.raw[hs.bodyStart:end])
}

// omit notes a part that is not kept: a file by its name, type and size, a multipart by
// its type and how many parts it holds (which are not read).
func (s *shaper) omit(ctype string, params map[string]string, h header, body []byte) {
	o := &s.omitted
	if !strings.Contains(ctype, "/") {
		ctype = "text/plain"
	}
	ctype = truncateUTF8(cleanLine(ctype), 100)
	var f Attachment
	n := 1
	if strings.HasPrefix(ctype, "multipart/") {
		n = 0
		eachPart(body, params["boundary"], func(int, int, int) { n++ })
		n = max(n, 1)
		parts := "parts"
		if n == 1 {
			parts = "part"
		}
		f = Attachment{Filename: fmt.Sprintf("%s (%d %s)", ctype, n, parts), ContentType: ctype, Size: int64(len(body))}
	} else {
		name := partFilename(h, s.charsets)
		if name == "" {
			name = defaultFilename(ctype, body, s.parts, s.charsets)
		}
		f = Attachment{Filename: safeFilename(name), ContentType: ctype, Size: decodedSize(h.Get("Content-Transfer-Encoding"), body)}
	}
	o.Count += n
	o.Bytes += f.Size
	if len(o.Files) < maxOmittedListed {
		o.Files = append(o.Files, f)
	}
}

// decodedSize is the size of a part's content once decoded, without decoding it.
func decodedSize(cte string, body []byte) int64 {
	if !strings.EqualFold(strings.TrimSpace(cte), "base64") {
		return int64(len(body))
	}
	n := 0
	for _, c := range body {
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' {
			n++
		}
	}
	return int64(n * 3 / 4)
}

// omittedNote tells the agent, in English and Chinese, what the message carried that was
// not kept, and names the first of those files; "" when everything was kept.
func omittedNote(o Omitted) string {
	if o.Count == 0 {
		return ""
	}
	var en, zh []string
	if o.TooMany {
		en = append(en, fmt.Sprintf("over the limit of %d parts in one email", maxParts))
		zh = append(zh, fmt.Sprintf("超出每封邮件 %d 个部分的上限", maxParts))
	}
	if o.TooDeep {
		en = append(en, fmt.Sprintf("nested deeper than %d levels", maxDepth))
		zh = append(zh, fmt.Sprintf("嵌套超过 %d 层", maxDepth))
	}
	size, noun := formatSize(o.Bytes), "attachments"
	if o.Count == 1 {
		noun = "attachment"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "[Not kept: %d %s (%s), %s]\n", o.Count, noun, size, strings.Join(en, "; "))
	fmt.Fprintf(&b, "[未保存：%d 个附件（%s），%s]\n", o.Count, size, strings.Join(zh, "；"))
	for i, f := range o.Files {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s (%s)", f.Filename, formatSize(f.Size))
	}
	if rest := o.Count - len(o.Files); rest > 0 {
		fmt.Fprintf(&b, " … and %d more / 另有 %d 个", rest, rest)
	}
	return b.String()
}

// formatSize writes a size for people: 512 B, 48 KB, 3.2 MB.
func formatSize(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%d KB", (n+1<<9)>>10)
	default:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	}
}
