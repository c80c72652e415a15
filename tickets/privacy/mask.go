// Package privacy is how Hotline handles customers' personal information in everyday
// views: phone numbers, ID card numbers, bank card numbers and email addresses are masked
// wherever staff read them (the console, Slack, exports, logs), and revealed on purpose,
// one value at a time, by the roles allowed to, each reveal an audit event ("pii.revealed")
// in the transaction that returns the value.
//
// The masking functions are pure and know nothing of tickets; stored text is never
// rewritten, only what is shown.
package privacy

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Kinds of values found in text.
const (
	KindPhone    = "phone"
	KindIDCard   = "id_card"
	KindBankCard = "bank_card"
	KindEmail    = "email"
)

// A Found is a personal value in a text: what it is and where (byte offsets).
type Found struct {
	Kind       string
	Start, End int
}

// digit is r's value when r is a decimal digit, ASCII or fullwidth (a Chinese IME types
// either), else -1.
func digit(r rune) int {
	switch {
	case r >= '0' && r <= '9':
		return int(r - '0')
	case r >= '０' && r <= '９':
		return int(r - '０')
	}
	return -1
}

// word reports whether r continues a word: a letter, a digit or an underscore. A number
// glued to one (P2026001234567, CL-2026-1147's parts, x13800138000) is an identifier, not
// a person's number.
func word(r rune) bool {
	return digit(r) >= 0 || r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' ||
		r >= 'ａ' && r <= 'ｚ' || r >= 'Ａ' && r <= 'Ｚ'
}

// MainlandMobile reports whether digits (ASCII) are a mainland mobile number: 11 digits
// starting 13–19.
func MainlandMobile(digits string) bool {
	return len(digits) == 11 && digits[0] == '1' && digits[1] >= '3' && digits[1] <= '9' && allDigits(digits)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// idWeights are GB 11643's weights of an ID card number's first 17 digits.
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// ValidIDCard reports whether s (ASCII) is an 18-character resident ID card number whose
// check character (0–9 or X) is right under GB 11643.
func ValidIDCard(s string) bool {
	if len(s) != 18 || !allDigits(s[:17]) {
		return false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(s[i]-'0') * idWeights[i]
	}
	want := "10X98765432"[sum%11]
	got := s[17]
	if got == 'x' {
		got = 'X'
	}
	return got == want
}

// Luhn reports whether digits (ASCII) pass the Luhn check.
func Luhn(digits string) bool {
	if !allDigits(digits) {
		return false
	}
	sum := 0
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if (len(digits)-i)%2 == 0 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// BankCard reports whether digits (ASCII) look like a payment card number: 13–19 digits
// with a card network's first digit (2 for Mastercard's 2-series, 3–6: Amex, JCB, Visa,
// Mastercard, UnionPay, Discover) passing the Luhn check. The prefix keeps most ordinary
// long numbers (a numeric policy number) from being taken for one.
func BankCard(digits string) bool {
	return len(digits) >= 13 && len(digits) <= 19 && digits[0] >= '2' && digits[0] <= '6' && Luhn(digits)
}

// run is a candidate number in a text: its bytes [start, end), its digits (ASCII; an ID
// card's X kept as 'X'), and whether it began with '+'.
type run struct {
	start, end int
	digits     string
	plus       bool
	// positions of each digit in the text, so masking can replace them where they are.
	at []int
}

// runs finds the numbers in s that stand alone: digits, possibly grouped by single spaces
// or hyphens (138 0013 8000, 6222-0212-3456-7890), possibly after a '+', possibly ending in
// X, not glued to a word on either side.
func runs(s string) []run {
	var out []run
	prev := rune(0)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		startsHere := false
		plus := false
		if digit(r) >= 0 && !word(prev) && prev != '-' && prev != '.' && prev != '/' {
			startsHere = true
		} else if (r == '+' || r == '＋') && !word(prev) && i+n < len(s) {
			if r2, _ := utf8.DecodeRuneInString(s[i+n:]); digit(r2) >= 0 {
				startsHere, plus = true, true
			}
		}
		if !startsHere {
			prev = r
			i += n
			continue
		}
		ru := run{start: i, plus: plus}
		var b strings.Builder
		j := i
		if plus {
			j += n
		}
		end := j
		for j < len(s) {
			c, cn := utf8.DecodeRuneInString(s[j:])
			if d := digit(c); d >= 0 {
				b.WriteByte(byte('0' + d))
				ru.at = append(ru.at, j)
				j += cn
				end = j
				continue
			}
			if (c == 'X' || c == 'x') && b.Len() == 17 {
				b.WriteByte('X')
				ru.at = append(ru.at, j)
				j += cn
				end = j
				break
			}
			// A single separator between digit groups; "+86 138…" too.
			if c == ' ' || c == '-' {
				if j+cn < len(s) {
					if c2, _ := utf8.DecodeRuneInString(s[j+cn:]); digit(c2) >= 0 {
						j += cn
						continue
					}
				}
			}
			break
		}
		ru.end, ru.digits = end, b.String()
		next := rune(0)
		if end < len(s) {
			next, _ = utf8.DecodeRuneInString(s[end:])
		}
		// Glued to a word after it, or a decimal's point: an identifier or an amount.
		glued := word(next) || next == '.' && end+1 < len(s) && digit(rune(s[end+1])) >= 0
		if !glued {
			out = append(out, ru)
		}
		if end == i { // a '+' alone; cannot happen, but never loop
			end = i + n
		}
		prev, _ = utf8.DecodeLastRuneInString(s[:end])
		i = end
	}
	return out
}

// classify says what a run's digits are, or "".
func classify(digits string, plus bool) string {
	switch {
	case plus:
		if len(digits) >= 8 && len(digits) <= 15 && allDigits(digits) {
			return KindPhone
		}
	case len(digits) == 18 && ValidIDCard(digits):
		return KindIDCard
	case MainlandMobile(digits):
		return KindPhone
	case BankCard(digits):
		return KindBankCard
	}
	return ""
}

// emailRE finds email addresses; a masked one (zh***@…) no longer matches, as '*' is not
// part of an address's local part here.
var emailRE = regexp.MustCompile(`[A-Za-z0-9][A-Za-z0-9._%+\-]*@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}`)

// piece is a value found in a text, with how to mask it.
type piece struct {
	Found
	r *run // numbers: the run (or part of one) found
}

// find lists the personal values in s, in order, not overlapping.
func find(s string) []piece {
	var out []piece
	var emails [][]int
	for _, e := range emailRE.FindAllStringIndex(s, -1) {
		// "a@b.cc@d.ee": the second address would start inside the first's domain.
		if e[0] > 0 && s[e[0]-1] == '@' {
			continue
		}
		emails = append(emails, e)
	}
	inEmail := func(a, b int) bool {
		for _, e := range emails {
			if a < e[1] && b > e[0] {
				return true
			}
		}
		return false
	}
	for _, ru := range runs(s) {
		if inEmail(ru.start, ru.end) {
			continue
		}
		if k := classify(ru.digits, ru.plus); k != "" {
			r := ru
			out = append(out, piece{Found{k, ru.start, ru.end}, &r})
			continue
		}
		// Two numbers side by side ("13800138000 2026"): try each group on its own.
		if ru.plus {
			continue
		}
		for _, g := range groups(s, ru) {
			if k := classify(g.digits, false); k != "" {
				r := g
				out = append(out, piece{Found{k, g.start, g.end}, &r})
			}
		}
	}
	for _, e := range emails {
		out = append(out, piece{Found: Found{KindEmail, e[0], e[1]}})
	}
	// In text order.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Start < out[j-1].Start; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// groups splits a run at its separators.
func groups(s string, ru run) []run {
	var out []run
	cur := run{start: -1}
	var b strings.Builder
	flush := func() {
		if cur.start >= 0 {
			cur.digits = b.String()
			out = append(out, cur)
		}
		cur, b = run{start: -1}, strings.Builder{}
	}
	for k, p := range ru.at {
		if k > 0 && p != ru.at[k-1]+runeLen(s, ru.at[k-1]) {
			flush()
		}
		if cur.start < 0 {
			cur.start = p
		}
		cur.at = append(cur.at, p)
		cur.end = p + runeLen(s, p)
		b.WriteByte(ru.digits[k])
	}
	flush()
	return out
}

func runeLen(s string, i int) int {
	_, n := utf8.DecodeRuneInString(s[i:])
	return n
}

// Find lists the personal values in text (phone numbers, valid ID card numbers, card
// numbers passing Luhn, email addresses), in order. A checker of logs uses it.
func Find(text string) []Found {
	ps := find(text)
	out := make([]Found, len(ps))
	for i, p := range ps {
		out[i] = p.Found
	}
	return out
}

// MaskText is text with every personal value in it masked, the rest as written: what staff
// see of a message body, a subject or a log line. Masking one number can leave its
// neighbours reading as another (digits grouped differently), so it masks again until
// nothing changes: text masked twice reads as text masked once. Each pass that changes
// anything hides at least one digit; a bound keeps a hot path safe all the same.
func MaskText(text string) string {
	for range 8 {
		masked := maskOnce(text)
		if masked == text {
			break
		}
		text = masked
	}
	return text
}

// maskOnce masks the personal values find sees in text, once.
func maskOnce(text string) string {
	ps := find(text)
	if len(ps) == 0 {
		return text
	}
	var b strings.Builder
	last := 0
	for _, p := range ps {
		if p.Start < last {
			continue
		}
		b.WriteString(text[last:p.Start])
		seg := text[p.Start:p.End]
		if p.Kind == KindEmail {
			b.WriteString(MaskEmail(seg))
		} else {
			b.WriteString(maskRun(text, p.r, p.Kind))
		}
		last = p.End
	}
	b.WriteString(text[last:])
	return b.String()
}

// maskRun writes a number as found, its separators kept, the digits it hides as '*'.
func maskRun(text string, r *run, kind string) string {
	n := len(r.digits)
	keepHead, keepTail := 0, 4
	switch kind {
	case KindPhone:
		keepHead = n - 8 // 138****8000; +86 138****8000 (8613800138000: 5)
		if r.plus && strings.HasPrefix(r.digits, "86") && MainlandMobile(r.digits[2:]) {
			keepHead = 5
		}
	case KindIDCard:
		keepHead = 4 // 3101**********1234
	case KindBankCard:
		keepHead = 4 // 6222 **** **** 7890
	}
	keepHead = max(keepHead, 0)
	hide := map[int]bool{}
	for k, p := range r.at {
		if k >= keepHead && k < n-keepTail {
			hide[p] = true
		}
	}
	var b strings.Builder
	seg := text[r.start:r.end]
	for i, c := range seg {
		if hide[r.start+i] {
			b.WriteByte('*')
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// MaskPhone masks a phone number as stored (E.164, +8613800138000 → +86 138****8000) or as
// typed (13800138000 → 138****8000); something else is masked as text.
func MaskPhone(v string) string {
	d := strings.TrimPrefix(v, "+")
	if strings.HasPrefix(v, "+") && allDigits(d) && len(d) >= 8 {
		if strings.HasPrefix(d, "86") && MainlandMobile(d[2:]) {
			return "+86 " + d[2:5] + "****" + d[9:]
		}
		return "+" + d[:len(d)-8] + "****" + d[len(d)-4:]
	}
	if MainlandMobile(v) {
		return v[:3] + "****" + v[7:]
	}
	return MaskText(v)
}

// MaskEmail masks an address's local part after its first two characters (one when it is
// short): zhang.wei@example.com → zh***@example.com.
func MaskEmail(v string) string {
	at := strings.LastIndexByte(v, '@')
	if at <= 0 {
		return MaskText(v)
	}
	keep := 2
	if at <= 2 {
		keep = 1
	}
	return v[:keep] + "***" + v[at:]
}

// MaskValue masks an identity's value by its kind ("phone", "email", "wechat", …): a
// WeChat openid keeps its first six characters.
func MaskValue(kind, v string) string {
	switch kind {
	case KindPhone:
		return MaskPhone(v)
	case KindEmail:
		return MaskEmail(v)
	case "wechat":
		if utf8.RuneCountInString(v) > 8 {
			return string([]rune(v)[:6]) + "…"
		}
		return v
	}
	return MaskText(v)
}
