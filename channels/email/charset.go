package email

import (
	"bytes"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gogs/chardet"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/transform"
)

// Hotline reads every text the same way, bodies and header values alike (decodeText):
//
//  1. Valid UTF-8 is UTF-8, whatever the label says: clients label UTF-8 as iso-8859-1 or
//     gb2312 often, and legacy text is almost never valid UTF-8 by chance. The exception is
//     a CJK label on bytes whose UTF-8 reading has only two-byte characters (GBK "谢谢" is
//     the valid UTF-8 "лл"): then the label wins if its reading is clean Chinese.
//  2. Otherwise the declared charsets are hints, the part's own first, then the message's
//     and its other parts': the first that reads the bytes cleanly wins.
//  3. Undeclared text is what a detector (github.com/gogs/chardet) finds when it is sure;
//     else GB18030 or Big5 when it reads as Chinese (the detector is unsure of short
//     text); else what the detector finds when it is fairly sure; else Windows-1252.
//
// enmime applies its own rule (the declared charset, or the detector's once a part has 100
// characters, the label losing to it), so Parse asks it for the bytes as sent.

// detectLimit is how much of a text the detector reads: enough to tell a charset, and the
// cost stays the same for a 25 MB part.
const detectLimit = 64 << 10

// normCharset lower-cases a MIME charset label and drops quotes and an RFC 2231 language
// suffix ("utf-8*en").
func normCharset(label string) string {
	label = strings.ToLower(strings.Trim(strings.TrimSpace(label), `"'`))
	if i := strings.IndexByte(label, '*'); i >= 0 {
		label = label[:i]
	}
	return label
}

// undeclared reports whether a label says nothing about 8-bit bytes: none, or ASCII.
func undeclared(label string) bool {
	switch label {
	case "", "us-ascii", "ascii", "us", "ansi_x3.4-1968", "iso646-us", "csascii", "x-unknown", "unknown-8bit", "unknown", "default":
		return true
	}
	return false
}

// lookupCharset finds the decoder for a MIME charset label (x/text's index knows more
// labels than enmime's table, and Hotline needs the CJK aliases mail uses). It returns
// (nil, true) for UTF-8 and ASCII, which need no conversion, and (nil, false) for a label
// it does not know.
func lookupCharset(label string) (encoding.Encoding, bool) {
	switch label = normCharset(label); {
	case undeclared(label):
		return nil, true
	case label == "utf-8" || label == "utf8" || label == "unicode-1-1-utf-8" || label == "utf8mb4":
		return nil, true
	}
	switch label {
	case "gb2312", "gbk", "x-gbk", "cp936", "ms936", "windows-936", "euc-cn", "x-euc-cn", "gb_2312-80", "gb_2312", "csgb2312", "chinese", "csgbk", "x-gb2312":
		return simplifiedchinese.GBK, true
	case "gb18030", "x-gb18030", "gb-18030":
		return simplifiedchinese.GB18030, true
	case "big5", "x-big5", "big-5", "csbig5", "cn-big5", "cp950", "ms950", "windows-950", "big5-hkscs", "x-x-big5":
		return traditionalchinese.Big5, true
	case "hz-gb-2312", "hz":
		return simplifiedchinese.HZGB2312, true
	}
	if e, err := htmlindex.Get(label); err == nil && e != nil {
		return e, true
	}
	for _, idx := range []*ianaindex.Index{ianaindex.MIME, ianaindex.IANA} {
		if e, err := idx.Encoding(label); err == nil && e != nil {
			return e, true
		}
	}
	return nil, false
}

// knownCharset reports whether Hotline can read text in the label's charset.
func knownCharset(label string) bool {
	_, ok := lookupCharset(label)
	return ok
}

// sevenBit charsets write non-ASCII text in ASCII bytes, so ASCII is no proof of ASCII.
func sevenBit(label string) bool {
	return label == "hz-gb-2312" || label == "hz" || label == "utf-7" || strings.HasPrefix(label, "iso-2022-")
}

// multiByteCJK reports whether an encoding is one of the CJK double-byte charsets.
func multiByteCJK(enc encoding.Encoding) bool {
	switch enc {
	case simplifiedchinese.GBK, simplifiedchinese.GB18030, traditionalchinese.Big5:
		return true
	}
	if enc == nil {
		return false
	}
	name, err := htmlindex.Name(enc)
	return err == nil && (name == "shift_jis" || name == "euc-jp" || name == "euc-kr")
}

// decodeText turns text in an uncertain charset into valid UTF-8 by the rule above. labels
// are the charsets declared for it, its own first; used is the charset it was read in.
func decodeText(b []byte, labels ...string) (s, used string) {
	own := ""
	if len(labels) > 0 {
		own = normCharset(labels[0])
	}
	if sevenBit(own) {
		if enc, ok := lookupCharset(own); ok && enc != nil {
			if s, ok := decodeClean(enc, b); ok {
				return s, own
			}
		}
	}
	if isASCII(b) {
		return string(b), "us-ascii"
	}
	if utf8.Valid(b) {
		if enc, _ := lookupCharset(own); multiByteCJK(enc) && !hasWideUTF8(b) {
			if s, ok := decodeCJK(enc, b); ok && readsAsCJK(s) {
				return s, own
			}
		}
		return string(b), "utf-8"
	}
	for _, label := range labels {
		label = normCharset(label)
		enc, ok := lookupCharset(label)
		switch {
		case !ok || undeclared(label):
			continue
		case enc == nil:
			// Declared UTF-8 and damaged (a character cut in two): keep the rest. Declared
			// UTF-8 without one valid UTF-8 character is another charset mislabelled.
			if hasMultiByteUTF8(b) {
				return strings.ToValidUTF8(string(b), "\uFFFD"), "utf-8"
			}
			continue
		}
		if s, ok := decodeCJK(enc, b); ok {
			return s, label
		}
	}
	// A detector sure of itself knows better than the guess below (EUC-JP labelled
	// ISO-2022-JP reads as Chinese in GB18030 too); on short text it is unsure, and
	// Chinese is the likelier reading.
	found, confidence := detect(b)
	if found != nil && confidence >= 90 {
		return found.s, found.label
	}
	for _, cjk := range []struct {
		enc   encoding.Encoding
		label string
	}{{simplifiedchinese.GB18030, "gb18030"}, {traditionalchinese.Big5, "big5"}} {
		if readsAs(cjk.enc, b) {
			if s, ok := decodeClean(cjk.enc, b); ok {
				return s, cjk.label
			}
		}
	}
	if found != nil && confidence >= 50 {
		return found.s, found.label
	}
	// Windows-1252 reads every byte; mail labelled ISO-8859-1 means it too.
	s, _ = decodeClean(charmap.Windows1252, b)
	return s, "windows-1252"
}

// decodeCJK is decodeClean, reading text labelled GBK as GB18030 when it carries
// characters only GB18030 has, as mail labelled gb2312 often does.
func decodeCJK(enc encoding.Encoding, b []byte) (string, bool) {
	if s, ok := decodeClean(enc, b); ok {
		return s, true
	}
	if enc == simplifiedchinese.GBK {
		return decodeClean(simplifiedchinese.GB18030, b)
	}
	return "", false
}

// decodeClean decodes b into valid UTF-8, reporting whether every byte was read (no
// U+FFFD that b did not already hold). It writes the text once, for parts of megabytes.
func decodeClean(enc encoding.Encoding, b []byte) (string, bool) {
	var out strings.Builder
	out.Grow(len(b) + len(b)/2)
	if _, err := io.Copy(&out, transform.NewReader(bytes.NewReader(b), enc.NewDecoder())); err != nil {
		return "", false
	}
	s := out.String()
	if !utf8.ValidString(s) {
		return strings.ToValidUTF8(s, "\uFFFD"), false
	}
	return s, strings.Count(s, "\uFFFD") <= bytes.Count(b, []byte("\uFFFD"))
}

// detection is text read in the charset the detector found.
type detection struct{ label, s string }

// detect asks the detector for the charset of undeclared text, on its first detectLimit
// bytes. An answer counts when it reads those bytes cleanly, as letters rather than
// symbols (short text fools the detector: four Big5 characters "are" KOI8-R box drawing).
func detect(b []byte) (*detection, int) {
	head := b
	if len(head) > detectLimit {
		head = head[:detectLimit]
	}
	r, err := chardet.NewTextDetector().DetectBest(head)
	if err != nil || r == nil {
		return nil, 0
	}
	label := strings.ToLower(r.Charset)
	if label == "utf-8" || label == "iso-8859-1" {
		return nil, 0 // not UTF-8 (checked before); ISO-8859-1 is the fallback's
	}
	enc, known := lookupCharset(label)
	if !known || enc == nil {
		return nil, 0
	}
	if s, ok := decodeClean(enc, head); !ok || !mostlyLetters(s) {
		return nil, 0
	}
	s, _ := decodeClean(enc, b)
	return &detection{label, s}, r.Confidence
}

// mostlyLetters reports whether the non-ASCII characters of s are mostly letters.
func mostlyLetters(s string) bool {
	var letters, other int
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
		case unicode.IsLetter(r) || unicode.IsMark(r) || isCJK(r):
			letters++
		default:
			other++
		}
	}
	return letters >= 4*other
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// hasWideUTF8 reports whether valid UTF-8 holds a character of three bytes or more: the
// CJK range, which legacy double-byte text does not form by chance.
func hasWideUTF8(b []byte) bool {
	for _, c := range b {
		if c >= 0xE0 {
			return true
		}
	}
	return false
}

// hasMultiByteUTF8 reports whether b holds at least one valid UTF-8 character of more than
// one byte.
func hasMultiByteUTF8(b []byte) bool {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r != utf8.RuneError && n > 1 {
			return true
		}
		b = b[n:]
	}
	return false
}

// readsAs reports whether text reads as Chinese in a Chinese charset, judged on its start,
// so that a long Latin text is not decoded twice.
func readsAs(enc encoding.Encoding, b []byte) bool {
	if len(b) > detectLimit {
		// Cut at a space or line break: double-byte characters hold neither.
		if i := bytes.LastIndexAny(b[:detectLimit], " \n"); i > 0 {
			b = b[:i]
		}
	}
	s, ok := decodeClean(enc, b)
	return ok && readsAsCJK(s)
}

// readsAsCJK reports whether decoded text is Chinese (or Japanese, Korean) rather than
// Latin text read in a CJK charset: mostly CJK characters, in runs of their own. The
// accented letters of Latin text pair up into single CJK characters inside Latin words
// ("Formação" in GB18030 is "Forma玢o").
func readsAsCJK(s string) bool {
	var cjk, other, runs, lone int
	prev, runLen, runTouches := rune(0), 0, false
	endRun := func(next rune) {
		if runLen == 0 {
			return
		}
		runs++
		if runLen == 1 && (runTouches || isLatinLetter(next)) {
			lone++
		}
		runLen, runTouches = 0, false
	}
	for _, r := range s {
		switch {
		case isCJK(r):
			if runLen == 0 {
				runTouches = isLatinLetter(prev)
			}
			runLen++
			cjk++
		default:
			endRun(r)
			if r >= utf8.RuneSelf && !unicode.IsSpace(r) {
				other++
			}
		}
		prev = r
	}
	endRun(0)
	return cjk >= 2 && cjk >= 2*other && lone*4 <= runs
}

func isCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) ||
		(r >= 0x3000 && r <= 0x303F) || (r >= 0xFF00 && r <= 0xFFEF)
}

func isLatinLetter(r rune) bool { return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' }

// languageOfCharset guesses the language a CJK charset implies.
func languageOfCharset(label string) string {
	enc, _ := lookupCharset(label)
	switch enc {
	case simplifiedchinese.GBK, simplifiedchinese.GB18030, simplifiedchinese.HZGB2312:
		return "zh-CN"
	case traditionalchinese.Big5:
		return "zh-TW"
	}
	return ""
}
