package email

import (
	"bytes"
	"encoding/base64"
	"flag"
	"fmt"
	"mime/quotedprintable"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

var update = flag.Bool("update", false, "rewrite the generated CJK fixtures in testdata/")

// The texts of the generated fixtures, which the parse tests compare against.
const (
	gbkName    = "陈喆" // 喆 is in GBK but not in GB2312, as real "gb2312" mail often has
	gbkSubject = "订单20261125-0042还没有发货，请尽快处理"
	gbkReply   = "你好，\n\n我上周五下的订单到现在还没有发货，客服电话一直占线。\n请尽快处理，谢谢！\n\n陈喆"
	gbkQuote   = "Hotline 客服 <support@hotline.example> 于2026年11月25日周二 10:02写道：\n> 您好，您的订单已进入发货队列。\n>\n> Hotline 客服"

	gb18030Name    = "刘𠮷"
	gb18030Subject = "姓名里的生僻字“𠮷”显示成问号 €"
	gb18030Reply   = "你们系统里我的名字显示成了“刘?”，正确的是“刘𠮷”（土字头的吉）。\n发票抬头也要用这个字。"

	big5Name    = "黃志明"
	big5Subject = "回覆: 保固維修進度查詢 [HL-000777]"
	big5Reply   = "您好：\n\n請問我的筆電送修已經兩週了，目前維修進度如何？\n\n黃志明 敬上"
	big5Quote   = "寄件者: Hotline 客服 <support@hotline.example>\n寄件日期: 2026年11月20日 下午 03:15\n收件者: 黃志明 <ming.huang@example.com.tw>\n主旨: 保固維修進度查詢 [HL-000777]\n\n黃先生您好，我們已收到您的筆電。"
)

func mustEncode(t testing.TB, enc encoding.Encoding, s string) []byte {
	t.Helper()
	b, err := enc.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatalf("encode %q: %v", s, err)
	}
	return b
}

func bWord(charset string, b []byte) string {
	return "=?" + charset + "?B?" + base64.StdEncoding.EncodeToString(b) + "?="
}

func qWord(charset string, b []byte) string {
	var s strings.Builder
	for _, c := range b {
		switch {
		case c == ' ':
			s.WriteByte('_')
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			s.WriteByte(c)
		default:
			fmt.Fprintf(&s, "=%02X", c)
		}
	}
	return "=?" + charset + "?Q?" + s.String() + "?="
}

func base64Lines(b []byte) string {
	s := base64.StdEncoding.EncodeToString(b)
	var out strings.Builder
	for len(s) > 76 {
		out.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	return out.String() + s + "\r\n"
}

func qpBody(b []byte) string {
	var out bytes.Buffer
	w := quotedprintable.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.String() + "\r\n"
}

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// cjkFixtures builds the fixtures in Chinese legacy charsets with golang.org/x/text, so
// their bytes are what a GBK, GB18030 or Big5 mailer sends.
func cjkFixtures(t testing.TB) map[string][]byte {
	gbk := simplifiedchinese.GBK
	subj := mustEncode(t, gbk, gbkSubject)
	// NetEase splits long subjects into several encoded-words, here inside a character.
	split := len(mustEncode(t, gbk, "订单20261125-0042")) + 1 // inside 还
	gbkBody := mustEncode(t, gbk, crlf(gbkReply+"\n\n"+gbkQuote+"\n"))
	gbkHTML := mustEncode(t, gbk, "<div>你好，</div><div><br></div><div>我上周五下的订单到现在还没有发货，客服电话一直占线。</div><div>请尽快处理，谢谢！</div><div><br></div><div>陈喆</div>")
	gbkMsg := crlf(`Received: from 163.com (m16-44.mail.163.com [220.181.16.44])
	by mx.hotline.example (Postfix) with ESMTP id 4Xr2Lm0Qz8z1
	for <support@hotline.example>; Tue, 25 Nov 2026 12:31:09 +0800 (CST)
Date: Tue, 25 Nov 2026 12:31:07 +0800 (CST)
From: "`+bWord("GBK", mustEncode(t, gbk, gbkName))+`" <chenzhe_1990@163.com>
To: "support@hotline.example" <support@hotline.example>
Subject: `+bWord("GBK", subj[:split])+"\n\t"+bWord("GBK", subj[split:])+`
X-Priority: 3
X-Mailer: Coremail Webmail Server Version XT5.0.14 build 20230109(dcb5de15)
In-Reply-To: <7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d@hotline.example>
References: <7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d@hotline.example>
Content-Type: multipart/alternative; 
	boundary="----=_Part_123456_789012345.1795926667890"
MIME-Version: 1.0
Message-ID: <4c1d2e3f.5a6b.19a7c8d9e0f.Coremail.chenzhe_1990@163.com>
X-Coremail-Locale: zh_CN

------=_Part_123456_789012345.1795926667890
Content-Type: text/plain; charset=gb2312
Content-Transfer-Encoding: base64

`) + base64Lines(gbkBody) + crlf(`
------=_Part_123456_789012345.1795926667890
Content-Type: text/html; charset=GBK
Content-Transfer-Encoding: base64

`) + base64Lines(gbkHTML) + crlf(`
------=_Part_123456_789012345.1795926667890--
`)

	gb := simplifiedchinese.GB18030
	gbMsg := crlf(`Date: Wed, 26 Nov 2026 16:45:00 +0800
From: `+bWord("GB18030", mustEncode(t, gb, gb18030Name))+` <liuji@example.com.cn>
To: support@hotline.example
Subject: `+qWord("GB18030", mustEncode(t, gb, gb18030Subject))+`
Message-ID: <20261126164500.GA4821@example.com.cn>
MIME-Version: 1.0
Content-Type: text/plain; charset="GB18030"
Content-Transfer-Encoding: quoted-printable
X-Mailer: Foxmail 7.2.25.375[cn]

`) + qpBody(mustEncode(t, gb, crlf(gb18030Reply+"\n")))

	b5 := traditionalchinese.Big5
	b5Msg := crlf(`From: =?big5?B?`+base64.StdEncoding.EncodeToString(mustEncode(t, b5, big5Name))+`?= <ming.huang@example.com.tw>
To: "Hotline" <support@hotline.example>
Subject: `+bWord("big5", mustEncode(t, b5, big5Subject))+`
Thread-Topic: `+bWord("big5", mustEncode(t, b5, "保固維修進度查詢 [HL-000777]"))+`
Date: Thu, 27 Nov 2026 09:12:45 +0800
Message-ID: <TY0PR04MB6123E5A1B2C3D4E5F6A7B8C9D0E1F2@TY0PR04MB6123.apcprd04.prod.outlook.com>
In-Reply-To: <1f2e3d4c5b6a79880@hotline.example>
References: <0a1b2c3d4e5f6a7b@hotline.example>
 <1f2e3d4c5b6a79880@hotline.example>
Content-Language: zh-TW
MIME-Version: 1.0
Content-Type: text/plain; charset="big5"
Content-Transfer-Encoding: quoted-printable

`) + qpBody(mustEncode(t, b5, crlf(big5Reply+"\n\n"+big5Quote+"\n")))

	return map[string][]byte{
		"gbk.eml":     []byte(gbkMsg),
		"gb18030.eml": []byte(gbMsg),
		"big5.eml":    []byte(b5Msg),
	}
}

// TestCJKFixturesGenerated keeps the generated fixtures in testdata/ in step with the
// generator; run with -update after changing it.
func TestCJKFixturesGenerated(t *testing.T) {
	for name, want := range cjkFixtures(t) {
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -run TestCJKFixturesGenerated -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what the generator makes; run go test -run TestCJKFixturesGenerated -update", path)
		}
	}
}
