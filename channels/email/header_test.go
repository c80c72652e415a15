package email

import (
	"slices"
	"testing"
	"time"
)

func TestDecodeHeader(t *testing.T) {
	tests := []struct {
		name, in, hint, want string
	}{
		{"plain", "Hello world", "", "Hello world"},
		{"utf-8 B", "=?UTF-8?B?5Y+R56Wo6Zeu6aKY?=", "", "发票问题"},
		{"utf-8 Q lower case", "=?utf-8?q?Caf=C3=A9_au_lait?=", "", "Café au lait"},
		{"gb2312 B", "=?gb2312?B?zfW3vA==?=", "", "王芳"},
		{"GBK B", "=?GBK?B?19S2r7vYuLQ6IM3Lu/XOysziIFtITC0wMDA1NTVd?=", "", "自动回复: 退货问题 [HL-000555]"},
		{"gb2312 label, GBK-only character", "=?gb2312?B?s8KGtA==?=", "", "陈喆"},
		{"GB18030 four-byte character", "=?GB18030?B?wfWVNLI1?=", "", "刘𠮷"},
		{"Big5", "=?big5?B?tsCn06n6?=", "", "黃志明"},
		{"iso-8859-1 Q", "=?ISO-8859-1?Q?Jos=E9_Garc=EDa?=", "", "José García"},
		{"adjacent words join", "=?UTF-8?B?5Y+R?= =?UTF-8?B?56Wo?=", "", "发票"},
		{"folded words join", "=?UTF-8?B?5Y+R?=\r\n\t=?UTF-8?B?56Wo?=", "", "发票"},
		{"character split across words", "=?UTF-8?B?5Y+R5w==?= =?UTF-8?B?pag=?=", "", "发票"},
		{"GBK character split across words", "=?GBK?B?tqm1pTIwMjYxMTI1LTAwNDK7?= =?GBK?B?ucO709C3orv1o6zH676hv+y0psDt?=", "", "订单20261125-0042还没有发货，请尽快处理"},
		{"text between words kept", "Re: =?UTF-8?B?5Y+R56Wo?= [HL-000123]", "", "Re: 发票 [HL-000123]"},
		{"different charsets adjacent", "=?GBK?B?zfW3vA==?= =?UTF-8?B?5Y+R56Wo?=", "", "王芳发票"},
		{"missing padding", "=?UTF-8?B?5Y+R56Wo6Zeu6aKY5Zue?=", "", "发票问题回"},
		{"rfc 2231 language in word", "=?UTF-8*zh-CN?B?5Y+R56Wo?=", "", "发票"},
		{"unknown charset, ASCII inside", "=?x-klingon?Q?Hello?= world", "", "Hello world"},
		{"broken base64 kept as is", "=?UTF-8?B?!!!?=", "", "=?UTF-8?B?!!!?="},
		{"unterminated word kept", "=?UTF-8?B?5Y+R", "", "=?UTF-8?B?5Y+R"},
		{"raw utf-8", "发票问题", "", "发票问题"},
		{"raw GBK with hint", "\xcd\xf5\xb7\xbc", "gbk", "王芳"},
		{"raw GBK guessed", "\xcd\xcb\xbf\xee\xbd\xf8\xb6\xc8", "", "退款进度"},
		{"raw Latin-1 guessed", "Jos\xe9 Garc\xeda", "", "José García"},
		{"NUL dropped", "=?UTF-8?Q?a=00b?=", "", "ab"},
	}
	for _, tt := range tests {
		if got := decodeHeader(tt.in, tt.hint); got != tt.want {
			t.Errorf("%s: decodeHeader(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

// TestPartFilename reads file names as clients write them: RFC 2231 in any charset,
// encoded-words, raw 8-bit bytes in the message's charset.
func TestPartFilename(t *testing.T) {
	tests := []struct {
		name, disposition, ctype, want string
	}{
		{"plain", `attachment; filename="invoice.pdf"`, "", "invoice.pdf"},
		{"folded", "attachment;\r\n\tfilename=\"a b.pdf\"", "", "a b.pdf"},
		{"rfc 2231 utf-8", `attachment; filename*=UTF-8''%E5%8F%91%E7%A5%A8.pdf`, "", "发票.pdf"},
		{"rfc 2231 continuations", "attachment;\r\n\tfilename*0*=UTF-8''%E5%AF%B9%E8%B4%A6;\r\n\tfilename*1*=%E5%8D%95.xlsx", "", "对账单.xlsx"},
		{"rfc 2231 GBK charset", `attachment; filename*=gbk'zh-cn'%B7%A2%C6%B1.pdf`, "", "发票.pdf"},
		{"rfc 2231 wins over plain", `attachment; filename="fallback.pdf"; filename*=UTF-8''%E5%8F%91%E7%A5%A8.pdf`, "", "发票.pdf"},
		{"encoded-word in quoted name", "", `application/pdf; name="=?UTF-8?B?5Y+R56WoLnBkZg==?="`, "发票.pdf"},
		{"encoded-word GBK name", "", `application/pdf; name="=?gb2312?B?t6LGsS5wZGY=?="`, "发票.pdf"},
		{"raw GBK name with hint", "attachment; filename=\"\xb7\xa2\xc6\xb1.pdf\"", "", "发票.pdf"},
		{"semicolon inside quotes", `attachment; filename="a;b.txt"`, "", "a;b.txt"},
		{"escaped quote", `attachment; filename="say \"hi\".txt"`, "", `say "hi".txt`},
		{"disposition wins over type", `attachment; filename="a.pdf"`, `application/pdf; name="b.pdf"`, "a.pdf"},
		{"none", "inline", "text/plain", ""},
	}
	for _, tt := range tests {
		h := header{}
		if tt.disposition != "" {
			h.Set("Content-Disposition", tt.disposition)
		}
		if tt.ctype != "" {
			h.Set("Content-Type", tt.ctype)
		}
		if got := partFilename(h, []string{"gbk"}); got != tt.want {
			t.Errorf("%s: partFilename = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestParseAddressList(t *testing.T) {
	tests := []struct {
		in   string
		want []Address
	}{
		{"Zhang San <Zhang.San@Example.COM>", []Address{{"Zhang San", "zhang.san@example.com"}}},
		{`"Chen, Jing" <chen.jing@example.org>, li@example.cn`, []Address{{"Chen, Jing", "chen.jing@example.org"}, {"", "li@example.cn"}}},
		{"=?gb2312?B?zfW3vA==?= <wangfang@example.cn>", []Address{{"王芳", "wangfang@example.cn"}}},
		{`"=?utf-8?B?5byg5Lyf?=" <zhangwei@example.cn>`, []Address{{"张伟", "zhangwei@example.cn"}}},
		{"=?GBK?B?s8I=?= =?GBK?B?hrQ=?= <chenzhe@163.com>", []Address{{"陈喆", "chenzhe@163.com"}}},
		{"王小明 <xiaoming@example.cn>", []Address{{"王小明", "xiaoming@example.cn"}}},
		{"MAILER-DAEMON@mx.example.com (Mail Delivery System)", []Address{{"Mail Delivery System", "mailer-daemon@mx.example.com"}}},
		{"undisclosed-recipients:;", nil},
		// Malformed, read by pattern.
		{"zhang@example.com <zhang@example.com>", []Address{{"zhang@example.com", "zhang@example.com"}}},
		{"Li Lei <li.lei@example.cn>, broken <<x>>, <wang@example.cn>", []Address{{"Li Lei", "li.lei@example.cn"}, {"", "wang@example.cn"}}},
		{"just a name", nil},
		{"", nil},
	}
	for _, tt := range tests {
		if got := parseAddressList(tt.in, nil); !slices.Equal(got, tt.want) {
			t.Errorf("parseAddressList(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestParseIDs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"<a@b>", []string{"a@b"}},
		{"<a@b> <c@d>\r\n <e@f>", []string{"a@b", "c@d", "e@f"}},
		{"<a@b><c@d>", []string{"a@b", "c@d"}},
		{"<a@b> <a@b>", []string{"a@b"}},
		{"a@b", []string{"a@b"}},
		{"a@b, c@d", []string{"a@b", "c@d"}},
		{"Your message of Mon <a@b>", []string{"a@b"}},
		{"<>", nil},
		{"", nil},
		{"not an id", nil},
	}
	for _, tt := range tests {
		if got := parseIDs(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("parseIDs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseDate(t *testing.T) {
	want := time.Date(2026, 11, 25, 2, 2, 0, 0, time.UTC)
	for _, in := range []string{
		"Wed, 25 Nov 2026 10:02:00 +0800",
		"Wed, 25 Nov 2026 10:02:00 +0800 (CST)",
		"25 Nov 2026 10:02:00 +0800",
		"Wed, 25 Nov 2026 02:02:00 GMT",
		"Wed, 25 Nov 2026 02:02:00 UT",
		"Wed,  25  Nov  2026  10:02:00  +0800",
		"2026-11-25 10:02:00 +0800",
	} {
		got, ok := parseDate(in)
		if !ok || !got.Equal(want) {
			t.Errorf("parseDate(%q) = %v %v, want %v", in, got, ok, want)
		}
	}
	if _, ok := parseDate("yesterday at noon"); ok {
		t.Error("parseDate read nonsense")
	}
}

func TestDecodeText(t *testing.T) {
	tests := []struct {
		label string
		in    string
		want  string
	}{
		{"utf-8", "发票", "发票"},
		{"", "plain", "plain"},
		{"us-ascii", "\xb7\xa2\xc6\xb1", "发票"}, // undeclared 8-bit GBK
		{"gb2312", "\xb7\xa2\xc6\xb1", "发票"},
		{"GB_2312-80", "\xb7\xa2\xc6\xb1", "发票"},
		{"cp936", "\xb7\xa2\xc6\xb1", "发票"},
		{"gb18030", "\x95\x34\xb2\x35", "𠮷"},
		{"gb2312", "\x95\x34\xb2\x35", "𠮷"}, // labelled gb2312, really GB18030
		{"big5", "\xb5\x6f\xb2\xbc", "發票"},
		{"iso-8859-1", "caf\xe9", "café"},
		{"windows-1252", "\x93hi\x94", "“hi”"},
		{"koi8-r", "\xf0\xd2\xc9\xd7\xc5\xd4", "Привет"},
		{"shift_jis", "\x93\xfa\x96\x7b", "日本"},
		{"euc-kr", "\xc7\xd1\xb1\xb9", "한국"},
		{"x-klingon", "plain ascii", "plain ascii"},
	}
	for _, tt := range tests {
		if got, _ := decodeText([]byte(tt.in), tt.label); got != tt.want {
			t.Errorf("decodeText(%q, %q) = %q, want %q", tt.in, tt.label, got, tt.want)
		}
	}
}
