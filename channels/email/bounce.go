package email

import (
	"regexp"
	"strings"
)

var (
	statusCode   = regexp.MustCompile(`\b([245]\.\d{1,3}\.\d{1,3})\b`)
	smtpReply    = regexp.MustCompile(`\b[45]\d\d[ -]`)
	inlineMsgID  = regexp.MustCompile(`(?im)^\s*Message-ID:\s*<([^<>\s]+)>`)
	daemonLocals = []string{"mailer-daemon", "postmaster", "mail-daemon", "maildaemon", "mailerdaemon"}
)

// isDaemon reports whether an address is a mail system's own.
func isDaemon(addr string) bool {
	local, _, _ := strings.Cut(strings.ToLower(addr), "@")
	for _, d := range daemonLocals {
		if local == d {
			return true
		}
	}
	return false
}

// dsnBounce reads a message/delivery-status body (RFC 3464): the per-message fields, then
// one block per recipient. The first failed recipient is reported, else the first delayed
// one, else the first.
func dsnBounce(dsn []byte) *Bounce {
	text := normalizeNewlines(cleanText(string(dsn)))
	var blocks []header
	for blk := range strings.SplitSeq(text, "\n\n") {
		if strings.TrimSpace(blk) == "" {
			continue
		}
		h := readHeader([]byte(strings.TrimLeft(blk, "\n") + "\n\n"))
		if len(h) > 0 {
			blocks = append(blocks, h)
		}
		if len(blocks) > 200 {
			break
		}
	}
	var pick header
	rank := 0
	for _, h := range blocks {
		if !has(h, "Final-Recipient") && !has(h, "Original-Recipient") && !has(h, "Action") {
			continue // the per-message block
		}
		r := 1
		switch strings.ToLower(trimValue(h.Get("Action"))) {
		case "failed":
			r = 3
		case "delayed":
			r = 2
		}
		if r > rank {
			pick, rank = h, r
		}
	}
	if pick == nil {
		return nil
	}
	b := &Bounce{
		Recipient:  dsnAddress(pick.Get("Final-Recipient")),
		Action:     strings.ToLower(cleanLine(pick.Get("Action"))),
		Diagnostic: collapseSpace(cleanLine(dsnValue(pick.Get("Diagnostic-Code")))),
	}
	if b.Recipient == "" {
		b.Recipient = dsnAddress(pick.Get("Original-Recipient"))
	}
	if m := statusCode.FindString(pick.Get("Status")); m != "" {
		b.Status = m
	} else if m := statusCode.FindString(b.Diagnostic); m != "" {
		b.Status = m
	}
	return b
}

// dsnValue drops the type of a typed DSN field ("smtp; 550 …", "rfc822; a@b").
func dsnValue(v string) string {
	v = trimValue(v)
	if t, rest, ok := strings.Cut(v, ";"); ok && !strings.ContainsAny(t, " @") {
		return strings.TrimSpace(rest)
	}
	return v
}

func dsnAddress(v string) string {
	return strings.ToLower(strings.Trim(cleanLine(dsnValue(v)), "<>"))
}

// classicBounce reads a non-DSN bounce from its human-readable text.
func classicBounce(text, subject, daemon string) *Bounce {
	b := &Bounce{Action: "failed"}
	if m := statusCode.FindString(text); m != "" {
		b.Status = m
	}
	for line := range strings.Lines(text) {
		l := strings.TrimSpace(line)
		if (b.Status != "" && strings.Contains(l, b.Status)) || (b.Status == "" && smtpReply.MatchString(l)) {
			b.Diagnostic = truncateUTF8(collapseSpace(cleanLine(l)), 500)
			break
		}
	}
	for _, m := range bareAddr.FindAllString(text, 20) {
		m = strings.ToLower(strings.Trim(m, ".<>"))
		if m != daemon && !isDaemon(m) {
			b.Recipient = m
			break
		}
	}
	lower := strings.ToLower(subject + "\n" + text)
	if strings.HasPrefix(b.Status, "4.") || strings.Contains(lower, "delayed") || strings.Contains(lower, "delay)") ||
		strings.Contains(lower, "will retry") || strings.Contains(lower, "延迟") {
		if !strings.HasPrefix(b.Status, "5.") {
			b.Action = "delayed"
		}
	}
	return b
}

// originalMessageID is the Message-ID of the message a bounce returned.
func originalMessageID(original []byte) string {
	if original == nil {
		return ""
	}
	h := readHeader(original)
	if ids := parseIDs(h.Get("Message-Id")); len(ids) > 0 {
		return ids[0]
	}
	return ""
}

func collapseSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

var (
	// bounceSubject is how mail systems title a delivery failure (Postfix, Exim, sendmail,
	// qmail, Exchange, Domino, Gmail, Chinese providers). A forwarded one ("Fwd: …") is a
	// person's message and does not match.
	bounceSubject = regexp.MustCompile(`(?i)^\s*(returned mail|undeliver(able|ed)|delivery (status notification|failure|failed|has failed|notification|report)|mail delivery (failed|failure|system)|failure notice|mail system error|non[- ]?delivery|message delivery failure|could not send message|系统退信|退信|投递失败|邮件未送达|无法投递|发送失败)`)
	// dsnText is the evidence of a delivery report written out in the text: RFC 3464
	// fields, an SMTP reply with an enhanced status code, or a session transcript.
	dsnText = regexp.MustCompile(`(?im)^\s*(final-recipient|original-recipient|diagnostic-code|reporting-mta|remote-mta|action:\s*(failed|delayed))\b|\b[45]\d\d[ -][245]\.\d{1,3}\.\d{1,3}\b|^\s*<<<\s*[45]\d\d\b|^\s*-+\s*(the following address|transcript of session)`)
	// autoReplySubject is a vacation reply sent without RFC 3834 headers (Apple's
	// "Auto reply:", Outlook's "Automatic reply:", QQ and Netease's "自动回复:").
	autoReplySubject = regexp.MustCompile(`(?i)^\s*(auto(matic)?[ -]?reply|auto[ -]?response|out of (the )?office( reply| autoreply)?|abwesenheitsnotiz|réponse automatique|respuesta automática|自动回复|自動回覆|自动答复|自動回復)\s*([:：]|$)`)
)

// isBounce weighs the evidence real bounces carry: a delivery-status report or an
// X-Failed-Recipients header alone; else a daemon's or null sender, a bounce's subject,
// DSN fields in the text or a returned message, two of them together.
func isBounce(h header, w *walker, subject, text string, daemon bool) bool {
	if w.reportType == "delivery-status" || w.dsn != nil || has(h, "X-Failed-Recipients") {
		return true
	}
	evidence := 0
	for _, ok := range []bool{
		daemon,
		bounceSubject.MatchString(subject),
		dsnText.MatchString(text),
		w.original != nil || inlineMsgID.MatchString(text),
	} {
		if ok {
			evidence++
		}
	}
	return evidence >= 2
}

// failedRecipient is the first address of X-Failed-Recipients (Exim, Gmail).
func failedRecipient(h header) string {
	if m := bareAddr.FindString(h.Get("X-Failed-Recipients")); m != "" {
		return strings.ToLower(strings.Trim(m, ".<>"))
	}
	return ""
}
