package email

import (
	"strings"

	"golang.org/x/net/html"
)

var blockTags = map[string]bool{
	"address": true, "article": true, "aside": true, "center": true, "dd": true, "details": true,
	"dialog": true, "div": true, "dl": true, "dt": true, "fieldset": true, "figcaption": true,
	"figure": true, "footer": true, "form": true, "header": true, "li": true, "main": true,
	"nav": true, "section": true, "summary": true, "tr": true, "caption": true, "tbody": true,
	"thead": true, "tfoot": true, "body": true, "html": true, "title": true,
}

// paragraphTags are blocks with a blank line around them.
var paragraphTags = map[string]bool{
	"p": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
	"ul": true, "ol": true, "table": true, "pre": true, "hr": true, "blockquote": true,
}

var skipTags = map[string]bool{
	"script": true, "style": true, "title": true, "template": true,
	"noscript": true, "iframe": true, "noembed": true, "noframes": true,
}

// textBuilder collects text as lines, each prefixed by its blockquote depth.
type textBuilder struct {
	lines        []string
	cur          strings.Builder
	curDepth     int
	depth        int
	pendingSpace bool
}

func (b *textBuilder) write(s string) {
	if s == "" {
		return
	}
	if b.cur.Len() == 0 {
		b.curDepth = b.depth
	} else if b.pendingSpace && !strings.HasSuffix(b.cur.String(), " ") {
		b.cur.WriteByte(' ')
	}
	b.pendingSpace = false
	b.cur.WriteString(s)
}

// text adds HTML character data, collapsing white space.
func (b *textBuilder) text(s string) {
	s = strings.ReplaceAll(s, "\u00a0", " ")
	lead := len(s) > 0 && isSpace(s[0])
	trail := len(s) > 0 && isSpace(s[len(s)-1])
	words := strings.Fields(s)
	if len(words) == 0 {
		if lead && b.cur.Len() > 0 {
			b.pendingSpace = true
		}
		return
	}
	if lead && b.cur.Len() > 0 {
		b.pendingSpace = true
	}
	b.write(strings.Join(words, " "))
	b.pendingSpace = trail
}

// pre adds preformatted text as it is.
func (b *textBuilder) pre(s string) {
	for i, l := range strings.Split(normalizeNewlines(s), "\n") {
		if i > 0 {
			b.newline()
		}
		if b.cur.Len() == 0 {
			b.curDepth = b.depth
		}
		b.cur.WriteString(strings.ReplaceAll(l, "\u00a0", " "))
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

func (b *textBuilder) newline() {
	depth := b.curDepth
	if b.cur.Len() == 0 {
		depth = b.depth
	}
	line := strings.TrimRight(b.cur.String(), " \t")
	if depth > 0 {
		line = strings.TrimRight(strings.Repeat(">", depth)+" "+line, " ")
	}
	b.lines = append(b.lines, line)
	b.cur.Reset()
	b.pendingSpace = false
}

// breakLine ends the current line if it has text.
func (b *textBuilder) breakLine() {
	if b.cur.Len() > 0 {
		b.newline()
	}
	b.pendingSpace = false
}

// paragraph leaves a blank line.
func (b *textBuilder) paragraph() {
	b.breakLine()
	if n := len(b.lines); n > 0 && strings.Trim(b.lines[n-1], "> ") != "" {
		b.lines = append(b.lines, "")
	}
}

func (b *textBuilder) String() string {
	b.breakLine()
	var out []string
	blank := true // drops leading blank lines
	for _, l := range b.lines {
		l = strings.TrimRight(l, " \t")
		if strings.Trim(l, ">") == "" && l != "" {
			l = strings.TrimRight(l, " ")
		}
		isBlank := strings.TrimSpace(l) == ""
		if isBlank && blank {
			continue
		}
		if isBlank {
			l = ""
		}
		blank = isBlank
		out = append(out, l)
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return strings.Join(out, "\n")
}

// HTMLToText renders an HTML body as readable plain text for agents and for SplitQuote.
// It stays Hotline's own rather than enmime's converter (github.com/inbucket/html2text),
// which renders for a terminal: headings underlined, bold as *bold*, link targets in
// brackets, addresses as "< a@b >", quoted lines re-wrapped; and it knows nothing of
// Word's one-line MsoNormal paragraphs. Here scripts, styles and comments are dropped,
// block elements and <br> become line breaks, entities are decoded, blockquotes are
// prefixed with "> ", list items with "- ", and runs of blank lines collapse into one.
func HTMLToText(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b textBuilder
	skip, inPre, msoOpen, msoMark := 0, 0, 0, 0
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return b.String()
		case html.TextToken:
			if skip > 0 {
				continue
			}
			if inPre > 0 {
				b.pre(string(z.Text()))
			} else {
				b.text(string(z.Text()))
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			start := tt != html.EndTagToken
			if tag == "p" && hasAttr && start && msoNormal(z) {
				// Word's paragraphs have no margins: each is one line.
				b.breakLine()
				msoOpen++
				msoMark = len(b.lines)
				continue
			}
			if tag == "p" && tt == html.EndTagToken && msoOpen > 0 {
				if b.cur.Len() == 0 && len(b.lines) == msoMark {
					b.newline() // an empty paragraph is a blank line
				}
				b.breakLine()
				msoOpen--
				continue
			}
			if skipTags[tag] {
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
				continue
			}
			if skip > 0 {
				continue
			}
			switch {
			case tag == "br":
				if start {
					b.newline()
				}
			case tag == "blockquote":
				b.paragraph()
				if tt == html.StartTagToken {
					b.depth++
				} else if tt == html.EndTagToken && b.depth > 0 {
					b.depth--
				}
			case tag == "pre":
				b.paragraph()
				if tt == html.StartTagToken {
					inPre++
				} else if tt == html.EndTagToken && inPre > 0 {
					inPre--
				}
			case tag == "li":
				b.breakLine()
				if start {
					b.write("- ")
				}
			case paragraphTags[tag]:
				b.paragraph()
			case blockTags[tag]:
				b.breakLine()
			case tag == "td" || tag == "th":
				if start && b.cur.Len() > 0 {
					b.pendingSpace = true
				}
			case tag == "img":
				// Images are attachments; their alt text says nothing the agent needs.
			}
		}
	}
}

// msoNormal reports whether the tag's class is Word's MsoNormal.
func msoNormal(z *html.Tokenizer) bool {
	for {
		key, val, more := z.TagAttr()
		if string(key) == "class" && strings.Contains(strings.ToLower(string(val)), "msonormal") {
			return true
		}
		if !more {
			return false
		}
	}
}
