package email

import (
	"strings"
	"testing"

	"encoding/base64"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

// TestCharsetRule reads text by Hotline's rule: valid UTF-8 first, then the declared
// charsets as hints, then GB18030 for Chinese, a detector, Windows-1252. Before, undeclared
// 8-bit text was taken for GB18030 whenever it decoded ("Formação" became "Forma玢o"), a
// label beat valid UTF-8, and a part without a charset ignored the message's.
func TestCharsetRule(t *testing.T) {
	latin1 := func(s string) string { return string(mustEncode(t, charmap.ISO8859_1, s)) }
	cp1252 := func(s string) string { return string(mustEncode(t, charmap.Windows1252, s)) }
	gbk := func(s string) string { return string(mustEncode(t, simplifiedchinese.GBK, s)) }
	tests := []struct {
		name   string
		in     string
		labels []string // the part's own first, then the message's
		want   string
	}{
		// Undeclared Latin text, short and long.
		{"Formação undeclared", latin1("Formação"), nil, "Formação"},
		{"Müller undeclared", latin1("Müller"), nil, "Müller"},
		{"café undeclared", latin1("café"), nil, "café"},
		{"Élodie undeclared", latin1("Élodie wrote"), nil, "Élodie wrote"},
		{"São Paulo as us-ascii", latin1("Formação em São Paulo"), []string{"us-ascii"}, "Formação em São Paulo"},
		{"German sentence undeclared", latin1("Sehr geehrte Damen und Herren, die Lieferung für Herrn Müller ist noch nicht angekommen. Grüße aus München"), nil,
			"Sehr geehrte Damen und Herren, die Lieferung für Herrn Müller ist noch nicht angekommen. Grüße aus München"},
		{"Windows-1252 quotes undeclared", cp1252("“Formação” – naïve café"), nil, "“Formação” – naïve café"},
		// Undeclared Chinese, short and long.
		{"short GBK undeclared", gbk("退款"), nil, "退款"},
		{"GBK sentence undeclared", gbk("请问我的退款到哪一步了？"), nil, "请问我的退款到哪一步了？"},
		{"GBK mixed with Latin undeclared", gbk("你好，我的iPhone 15订单还没有发货"), nil, "你好，我的iPhone 15订单还没有发货"},
		{"short Big5 undeclared", string(mustEncode(t, traditionalchinese.Big5, "維修進度")), nil, "維修進度"},
		{"EUC-JP labelled ISO-2022-JP", string(mustEncode(t, japanese.EUCJP, "次のあて先へのメッセージはエラーのため送信できませんでした。")), []string{"iso-2022-jp"},
			"次のあて先へのメッセージはエラーのため送信できませんでした。"},
		// Mislabelled UTF-8: valid UTF-8 with multibyte characters is UTF-8.
		{"UTF-8 labelled iso-8859-1", "Formação", []string{"iso-8859-1"}, "Formação"},
		{"UTF-8 labelled gb2312", "发票问题 Formação", []string{"gb2312"}, "发票问题 Formação"},
		{"UTF-8 labelled big5", "請問維修進度", []string{"big5"}, "請問維修進度"},
		{"UTF-8 labelled windows-1252", "Müller – “café”", []string{"windows-1252"}, "Müller – “café”"},
		// GBK that happens to be valid UTF-8 (two-byte sequences only) keeps its label.
		{"GBK 谢谢 labelled gbk", gbk("谢谢"), []string{"gbk"}, "谢谢"},
		// Declared UTF-8 that is not: another charset mislabelled; damaged UTF-8 stays.
		{"Latin-1 labelled utf-8", latin1("Müller"), []string{"utf-8"}, "Müller"},
		{"damaged UTF-8", "发票\xe5\x8f", []string{"utf-8"}, "发票\uFFFD"},
		// A part without a charset reads in the message's.
		{"no charset, message's koi8-r", string(mustEncode(t, charmap.KOI8R, "Привет")), []string{"", "koi8-r"}, "Привет"},
		{"no charset, message's big5", string(mustEncode(t, traditionalchinese.Big5, "維修")), []string{"", "big5"}, "維修"},
		{"no charset, message's iso-8859-5", string(mustEncode(t, charmap.ISO8859_5, "Привет")), []string{"", "iso-8859-5"}, "Привет"},
		{"own charset before the message's", latin1("café"), []string{"iso-8859-1", "gbk"}, "café"},
		// Kept: GB18030 characters under a gb2312 label, Big5, HZ.
		{"gb2312 label, GB18030 character", string(mustEncode(t, simplifiedchinese.GB18030, "刘𠮷")), []string{"gb2312"}, "刘𠮷"},
		{"Big5", string(mustEncode(t, traditionalchinese.Big5, "黃志明")), []string{"big5"}, "黃志明"},
		{"HZ", string(mustEncode(t, simplifiedchinese.HZGB2312, "发票问题")), []string{"hz-gb-2312"}, "发票问题"},
		{"Windows-1251 undeclared", string(mustEncode(t, charmap.Windows1251, "Здравствуйте, у меня вопрос по заказу номер 123. Когда он будет доставлен?")), nil,
			"Здравствуйте, у меня вопрос по заказу номер 123. Когда он будет доставлен?"},
	}
	for _, tt := range tests {
		if got, used := decodeText([]byte(tt.in), tt.labels...); got != tt.want {
			t.Errorf("%s: decodeText = %q (read as %s), want %q", tt.name, got, used, tt.want)
		}
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// TestCharsetsInMessages checks the rule where the charsets come from: a body without a
// label, a header of raw 8-bit bytes, a part without a charset beside one with.
func TestCharsetsInMessages(t *testing.T) {
	latin1 := func(s string) string { return string(mustEncode(t, charmap.ISO8859_1, s)) }
	koi8 := func(s string) string { return string(mustEncode(t, charmap.KOI8R, s)) }
	tests := []struct {
		name          string
		raw           string
		subject, text string
	}{
		{"undeclared Latin-1 body and subject",
			"From: a@example.com\r\nSubject: " + latin1("Formação") + "\r\n\r\n" + latin1("Caro Sr. Müller, o café chegou.") + "\r\n",
			"Formação", "Caro Sr. Müller, o café chegou."},
		{"undeclared Latin-1 words alone",
			"From: a@example.com\r\nSubject: " + latin1("Müller") + "\r\n\r\n" + latin1("Formação") + "\r\n",
			"Müller", "Formação"},
		{"undeclared Latin-1 café",
			"From: a@example.com\r\nSubject: " + latin1("café") + "\r\n\r\n" + latin1("Müller") + "\r\n",
			"café", "Müller"},
		{"undeclared short GBK",
			"From: a@example.com\r\nSubject: " + string(mustEncode(t, simplifiedchinese.GBK, "退款")) + "\r\n\r\n" + string(mustEncode(t, simplifiedchinese.GBK, "请问我的退款到哪一步了？")) + "\r\n",
			"退款", "请问我的退款到哪一步了？"},
		{"UTF-8 labelled gb2312",
			"From: a@example.com\r\nContent-Type: text/plain; charset=gb2312\r\nContent-Transfer-Encoding: 8bit\r\n\r\nFormação 你好\r\n",
			"", "Formação 你好"},
		{"mislabelled UTF-8 body",
			"From: a@example.com\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\nFormação em São Paulo\r\n",
			"", "Formação em São Paulo"},
		{"mislabelled UTF-8 encoded-word",
			"From: a@example.com\r\nSubject: =?gb2312?B?" + b64("发票问题") + "?=\r\n\r\nx\r\n",
			"发票问题", "x"},
		{"plain part without charset reads in the HTML part's",
			"From: a@example.com\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
				koi8("Привет") + "\r\n--b\r\nContent-Type: text/html; charset=koi8-r\r\n\r\n<p>" + koi8("Привет") + "</p>\r\n--b--\r\n",
			"", "Привет"},
		{"part without charset reads in the message's",
			"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b; charset=koi8-r\r\n\r\n--b\r\n\r\n" + koi8("Добрый день") + "\r\n--b--\r\n",
			"", "Добрый день"},
	}
	for _, tt := range tests {
		m, err := Parse([]byte(tt.raw))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if m.Subject != tt.subject || m.Text != tt.text {
			t.Errorf("%s: subject %q text %q, want %q %q", tt.name, m.Subject, m.Text, tt.subject, tt.text)
		}
		if strings.ContainsRune(m.Text, '\uFFFD') {
			t.Errorf("%s: replacement characters in %q", tt.name, m.Text)
		}
	}
}
