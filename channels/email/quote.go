package email

import (
	"regexp"
	"strings"
)

// unflow decodes format=flowed text (RFC 3676): lines ending in a space are joined with
// the next line of the same quote depth, and space-stuffing is removed. Quoted lines come
// out as "> text".
func unflow(s string, delsp bool) string {
	var out []string
	var cur strings.Builder
	curDepth, open := 0, false
	flush := func() {
		if open {
			line := cur.String()
			if curDepth > 0 {
				line = strings.TrimRight(strings.Repeat(">", curDepth)+" "+line, " ")
			}
			out = append(out, line)
			cur.Reset()
			open = false
		}
	}
	for _, line := range strings.Split(s, "\n") {
		depth := 0
		for depth < len(line) && line[depth] == '>' {
			depth++
		}
		text := line[depth:]
		text = strings.TrimPrefix(text, " ") // space-stuffing
		flowed := strings.HasSuffix(text, " ") && text != "-- "
		if open && depth != curDepth {
			flush()
		}
		if !open {
			curDepth, open = depth, true
		}
		if flowed && delsp {
			text = text[:len(text)-1]
		}
		cur.WriteString(text)
		if !flowed {
			flush()
		}
	}
	flush()
	return strings.Join(out, "\n")
}

const maxScanLines = 10000

var (
	// attribution is the line a client writes above a quoted reply, possibly wrapped over
	// up to three lines (joined with spaces before matching).
	attribution = regexp.MustCompile(`(?i)^\s*(?:` +
		`on\b.{4,400}\bwrote\s*:` + // Gmail, Apple Mail, Thunderbird
		`|在.{2,400}(?:写道|寫道)\s*[:：]?` + // Apple Mail and Gmail in Chinese
		`|.{0,300}[于於]\s*.{2,200}(?:写道|寫道)\s*[:：]?` + // Gmail in Chinese: 张三 <…> 于2026年11月25日周二 10:02写道：
		`|le\b.{4,400}\ba écrit\s*:` +
		`|am\b.{4,400}\bschrieb.{0,200}:` +
		`|el\b.{4,400}\bescribió.{0,200}:` +
		`)\s*$`)
	attributionHint = regexp.MustCompile(`(?i)^\s*(?:on|le|am|el|在)\b|wrote|写道|寫道|a écrit|schrieb|escribió|^\s*在`)
	// originalMessage is Outlook's and Foxmail's separator line.
	originalMessage = regexp.MustCompile(`(?i)^\s*[-=_*]{2,}\s*(?:original message|original|原始邮件|原始郵件|邮件原件|原邮件|message d'origine|ursprüngliche nachricht|mensaje original)\s*[-=_*]{2,}\s*$`)
	headerFrom      = regexp.MustCompile(`(?i)^\s*\*?\s*(?:from|发件人|發件人|寄件者|寄件人|de|von)\s*\*?\s*[:：]\s*\S`)
	headerOther     = regexp.MustCompile(`(?i)^\s*\*?\s*(sent|date|to|cc|subject|发送时间|發送時間|发送日期|日期|时间|時間|收件人|抄送|主题|主題|寄件日期|傳送時間|收件者|副本|主旨|envoyé|gesendet|an|betreff|objet|à|enviado|para|asunto)\s*\*?\s*[:：]`)
	underscores     = regexp.MustCompile(`^\s*_{20,}\s*$`)
)

// SplitQuote separates what the sender wrote from the earlier conversation their client
// quoted below it: the part from an attribution line ("On … wrote:", "在 … 写道："), an
// Outlook separator ("-----Original Message-----", "________________________________",
// a "From: … Sent: …" or "发件人: … 发送时间: …" header block) or a trailing block of
// ">"-quoted lines. Replies written between quoted lines are kept whole. When nothing would
// be left, the whole text is the reply and quoted is empty.
func SplitQuote(text string) (reply, quoted string) {
	text = normalizeNewlines(text)
	lines := strings.Split(text, "\n")
	cut := len(lines)

	// A trailing block of quoted lines, with the attribution above it.
	end := len(lines)
	for end > 0 && strings.TrimSpace(lines[end-1]) == "" {
		end--
	}
	if end > 0 && isQuoted(lines[end-1]) {
		q := end - 1
		for q > 0 && (isQuoted(lines[q-1]) || strings.TrimSpace(lines[q-1]) == "") {
			q--
		}
		for q < end && strings.TrimSpace(lines[q]) == "" {
			q++
		}
		cut = q
		if a := attributionAbove(lines, q); a >= 0 {
			cut = a
		}
	}

	// The reply is at the top: markers are looked for in the first maxScanLines lines only,
	// which bounds the work on huge texts (and not cutting never loses text).
	for i := 0; i < cut && i < maxScanLines; i++ {
		l := lines[i]
		if isQuoted(l) {
			continue
		}
		if len(l) > 1000 {
			continue // no separator or attribution is this long
		}
		// Cheap substring tests first: most lines are none of these.
		switch {
		case isSeparatorish(l) && originalMessage.MatchString(l):
			cut = i
		case strings.Contains(l, "____") && underscores.MatchString(l) && headerBlockAt(lines, nextNonBlank(lines, i+1)):
			cut = i
		case strings.ContainsAny(l, ":：") && headerBlockAt(lines, i):
			cut = i
		case attributionHint.MatchString(l):
			if n := attributionAt(lines, i); n > 0 && onlyQuotedAfter(lines, i+n) {
				cut = i
			}
		}
	}

	reply = strings.TrimRight(strings.Join(lines[:cut], "\n"), " \t\n")
	reply = strings.TrimLeft(reply, "\n")
	if strings.TrimSpace(reply) == "" {
		return strings.Trim(text, "\n"), ""
	}
	quoted = strings.Trim(strings.Join(lines[cut:], "\n"), " \t\n")
	return reply, quoted
}

func isSeparatorish(l string) bool {
	if len(l) > 200 || !(strings.Contains(l, "--") || strings.Contains(l, "==") || strings.Contains(l, "__") || strings.Contains(l, "**")) {
		return false
	}
	l = strings.ToLower(l)
	for _, w := range []string{"original", "原", "ursprüngliche", "mensaje", "message d"} {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}

func isQuoted(l string) bool { return strings.HasPrefix(strings.TrimLeft(l, " "), ">") }

func nextNonBlank(lines []string, i int) int {
	for i < len(lines) && strings.TrimSpace(lines[i]) == "" {
		i++
	}
	return i
}

// attributionAt reports how many lines (1 to 3) an attribution starting at line i spans,
// or 0.
func attributionAt(lines []string, i int) int {
	joined := ""
	for n := 1; n <= 3 && i+n <= len(lines); n++ {
		l := strings.TrimSpace(lines[i+n-1])
		if n > 1 && (l == "" || isQuoted(l)) {
			return 0
		}
		if len(joined)+len(l) > 600 {
			return 0
		}
		if joined != "" {
			joined += " "
		}
		joined += l
		if attributionEnd(joined) && attribution.MatchString(joined) {
			return n
		}
	}
	return 0
}

// attributionEnd is a cheap test that s ends the way an attribution does.
func attributionEnd(s string) bool {
	s = strings.TrimRight(s, " \t")
	return strings.HasSuffix(s, ":") || strings.HasSuffix(s, "：") || strings.HasSuffix(s, "写道") || strings.HasSuffix(s, "寫道")
}

// attributionAbove finds an attribution ending just above line q (blank lines between
// allowed), or returns -1. An unknown client's attribution is recognised by its shape:
// one short line ending in a colon that names a date or an address.
func attributionAbove(lines []string, q int) int {
	j := q - 1
	for j >= 0 && strings.TrimSpace(lines[j]) == "" {
		j--
	}
	if j < 0 {
		return -1
	}
	for start := j; start >= 0 && start > j-3; start-- {
		if n := attributionAt(lines, start); n > 0 && start+n-1 == j {
			return start
		}
	}
	l := strings.TrimSpace(lines[j])
	if (strings.HasSuffix(l, ":") || strings.HasSuffix(l, "：")) && len(l) <= 300 &&
		(strings.Contains(l, "@") || strings.ContainsAny(l, "0123456789")) {
		return j
	}
	return -1
}

// onlyQuotedAfter reports whether every non-blank line from i on is quoted: the reply is
// above the quote, not written between its lines.
func onlyQuotedAfter(lines []string, i int) bool {
	seen := false
	for _, l := range lines[i:] {
		if strings.TrimSpace(l) == "" {
			continue
		}
		if !isQuoted(l) {
			return false
		}
		seen = true
	}
	return seen
}

// headerBlockAt reports whether line i starts a quoted message's header block: a From
// line followed closely by at least two of Sent, To, Cc, Subject (or their translations).
func headerBlockAt(lines []string, i int) bool {
	if i >= len(lines) || !headerFrom.MatchString(lines[i]) {
		return false
	}
	seen := map[string]bool{}
	for j, n := i+1, 0; j < len(lines) && n < 8; j++ {
		l := lines[j]
		if strings.TrimSpace(l) == "" {
			if len(seen) > 0 {
				break
			}
			continue
		}
		n++
		if m := headerOther.FindStringSubmatch(l); m != nil {
			seen[strings.ToLower(m[1])] = true
		}
	}
	return len(seen) >= 2
}
