package email

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

// normCharset lower-cases a MIME charset label and drops quotes and an RFC 2231 language
// suffix ("utf-8*en").
func normCharset(label string) string {
	label = strings.ToLower(strings.Trim(strings.TrimSpace(label), `"'`))
	if i := strings.IndexByte(label, '*'); i >= 0 {
		label = label[:i]
	}
	return label
}

// lookupCharset finds the decoder for a MIME charset label. It returns (nil, true) for
// UTF-8 and ASCII, which need no conversion, and (nil, false) for a label it does not know.
func lookupCharset(label string) (encoding.Encoding, bool) {
	switch label = normCharset(label); label {
	case "", "utf-8", "utf8", "us-ascii", "ascii", "us", "ansi_x3.4-1968", "iso646-us", "csascii", "unicode-1-1-utf-8", "x-unknown", "unknown-8bit", "default":
		return nil, true
	case "gb2312", "gbk", "x-gbk", "cp936", "ms936", "windows-936", "euc-cn", "x-euc-cn", "gb_2312-80", "csgb2312", "chinese", "csgbk", "x-gb2312":
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

// decodeCharset converts text in the named charset to valid UTF-8. known is false when the
// charset is not recognised; the text is then decoded by guessing.
func decodeCharset(label string, b []byte) (s string, known bool) {
	enc, known := lookupCharset(label)
	switch {
	case !known:
		return guessDecode(b), false
	case enc == nil:
		if utf8.Valid(b) {
			return string(b), true
		}
		if l := normCharset(label); l == "" || strings.Contains(l, "ascii") || l == "us" || l == "x-unknown" || l == "unknown-8bit" || l == "default" {
			// Undeclared 8-bit text: most often GBK from a Chinese client.
			return guessDecode(b), true
		}
		return strings.ToValidUTF8(string(b), "\uFFFD"), true
	}
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		return guessDecode(b), true
	}
	if enc == simplifiedchinese.GBK && bytes.Contains(out, []byte("\uFFFD")) && !bytes.Contains(b, []byte("\uFFFD")) {
		// Mail labelled gb2312/gbk often carries GB18030-only characters.
		if alt, err := simplifiedchinese.GB18030.NewDecoder().Bytes(b); err == nil && bytes.Count(alt, []byte("\uFFFD")) < bytes.Count(out, []byte("\uFFFD")) {
			out = alt
		}
	}
	return strings.ToValidUTF8(string(out), "\uFFFD"), true
}

// guessDecode decodes 8-bit text whose charset is unknown: UTF-8 when it is valid, else
// GB18030 when that reads cleanly as mostly Chinese, else Windows-1252.
func guessDecode(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	if out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(b); err == nil && !bytes.Contains(out, []byte("\uFFFD")) {
		var han, other int
		for _, r := range string(out) {
			switch {
			case r < utf8.RuneSelf:
			case unicode.Is(unicode.Han, r) || unicode.IsPunct(r) || (r >= 0x3000 && r <= 0x303F) || (r >= 0xFF00 && r <= 0xFFEF):
				han++
			default:
				other++
			}
		}
		if han > 0 && han >= 2*other {
			return string(out)
		}
	}
	out, err := charmap.Windows1252.NewDecoder().Bytes(b)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return string(out)
}

// decode8bit turns a header value that may carry raw 8-bit bytes into UTF-8, reading them
// in the message's charset when they are not UTF-8.
func decode8bit(s, hint string) string {
	if utf8.ValidString(s) {
		return s
	}
	if hint != "" {
		if enc, ok := lookupCharset(hint); ok && enc != nil {
			if out, _ := decodeCharset(hint, []byte(s)); !strings.Contains(out, "\uFFFD") {
				return out
			}
		}
	}
	return guessDecode([]byte(s))
}

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
