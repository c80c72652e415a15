package email

import (
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// headerMail is a message with fields extra header fields before its real body.
func headerMail(fields int, field string) []byte {
	var b strings.Builder
	b.WriteString("From: Zhang San <zhang.san@example.com>\r\nTo: support@hotline.example\r\nSubject: Refund\r\n" +
		"Message-ID: <refund-1@example.com>\r\nDate: Tue, 1 Dec 2026 10:00:00 +0800\r\n")
	for i := range fields {
		fmt.Fprintf(&b, field, i)
	}
	b.WriteString("\r\nWhere is my refund?\r\n")
	return []byte(b.String())
}

// A header with more fields than any real mail is refused; before, the fields past the
// limit were read as the message's text, and the agent saw header lines as the
// customer's words.
func TestParseHeaderFieldLimit(t *testing.T) {
	partWith := func(fields int) []byte {
		var b strings.Builder
		b.WriteString("From: zhang.san@example.com\r\nMessage-ID: <p@example.com>\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n")
		for i := range fields {
			fmt.Fprintf(&b, "X-Part-%d: x\r\n", i)
		}
		b.WriteString("\r\nWhere is my refund?\r\n--b--\r\n")
		return []byte(b.String())
	}
	tests := []struct {
		name    string
		raw     []byte
		refused bool
	}{
		{"6000 fields", headerMail(6000, "X-Trace-%d: relay hop\r\n"), true},
		{"5001 fields", headerMail(4996, "X-Trace-%d: relay hop\r\n"), true},
		{"5000 fields", headerMail(4995, "X-Trace-%d: relay hop\r\n"), false},
		{"300 Received lines, as a long relay path has", headerMail(300, "Received: from relay%d.example.net (relay.example.net [192.0.2.1])\r\n\tby mx.example.com with ESMTPS; Tue, 1 Dec 2026 10:00:00 +0800\r\n"), false},
		{"6000 fields in a part", partWith(6000), true},
		{"100 fields in a part", partWith(100), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(tt.raw)
			if tt.refused {
				if !errors.Is(err, ErrTooManyFields) || m != nil {
					var text string
					if m != nil {
						text = m.Text
					}
					t.Fatalf("Parse error %v, text %.60q; want ErrTooManyFields", err, text)
				}
				if !strings.Contains(err.Error(), "5000 fields") {
					t.Errorf("the reason does not say the limit: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Text != "Where is my refund?" || m.From.Addr != "zhang.san@example.com" {
				t.Errorf("text %.80q from %q, want the customer's words", m.Text, m.From.Addr)
			}
		})
	}
}

// Unfolding a long header is linear: a field folded over 200,000 lines (800 KB, well
// within the 25 MB a message may have) took 18 seconds to read, each line copying the
// value so far; now a few milliseconds.
func TestParseLongFoldedHeader(t *testing.T) {
	raw := "From: zhang.san@example.com\r\nSubject: x\r\n" + strings.Repeat(" x\r\n", 200_000) + "\r\nbody\r\n"
	start := time.Now()
	m, err := Parse([]byte(raw))
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("an 800 KB folded header took %v to read", took)
	}
	if err != nil || len(m.Subject) != 200_001*2-1 || m.Text != "body" {
		t.Errorf("Parse: %v, subject of %d bytes, text %q", err, len(m.Subject), m.Text)
	}
}

// A Message-ID longer than an email line can hold is refused with the reason; before, it
// was silently taken for no id at all.
func TestParseMessageIDLength(t *testing.T) {
	id := func(n int) string { return strings.Repeat("a", n-len("@example.com")) + "@example.com" }
	tests := []struct {
		name, header string
		want         string // the id read; "" with refused
		refused      bool
	}{
		{"ordinary", "Message-ID: <" + id(60) + ">", id(60), false},
		{"995 characters, folded onto its own line", "Message-ID:\r\n <" + id(995) + ">", id(995), false},
		{"996 characters", "Message-ID: <" + id(996) + ">", "", true},
		{"5000 characters", "Message-ID: <" + id(5000) + ">", "", true},
		{"5000 characters without brackets", "Message-ID: " + id(5000), "", true},
		{"none", "X-No-Id: 1", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := "From: zhang.san@example.com\r\n" + tt.header + "\r\n\r\nhello\r\n"
			m, err := Parse([]byte(raw))
			if tt.refused {
				if !errors.Is(err, ErrLongMessageID) || !strings.Contains(err.Error(), "998") {
					t.Fatalf("Parse error = %v, want ErrLongMessageID with the line limit", err)
				}
				return
			}
			if err != nil || m.MessageID != tt.want {
				t.Fatalf("Parse = %v; id of %d characters, want %d", err, len(m.MessageID), len(tt.want))
			}
		})
	}
	// An over-long id in In-Reply-To only costs the threading: the message is taken.
	m, err := Parse([]byte("From: zhang.san@example.com\r\nIn-Reply-To: <" + id(5000) + ">\r\n\r\nhello\r\n"))
	if err != nil || len(m.InReplyTo) != 0 || m.Text != "hello" {
		t.Errorf("long In-Reply-To: %v %q", err, m.InReplyTo)
	}
}

// invoiceMail is a customer's email with n scanned invoices attached, the text first.
func invoiceMail(n int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: =?UTF-8?B?546L6Iqz?= <wang.fang@example.cn>\r\nTo: support@hotline.example\r\nSubject: =?UTF-8?B?5Y+R56Wo5omr5o+P5Lu2?=\r\n"+
		"Message-ID: <invoices-%d@example.cn>\r\nDate: Tue, 1 Dec 2026 10:00:00 +0800\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: multipart/mixed; boundary=\"----=_Part_0_1234.5678\"\r\n\r\nThis is a multi-part message in MIME format.\r\n"+
		"------=_Part_0_1234.5678\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n",
		n, base64.StdEncoding.EncodeToString([]byte("您好，附件是本月全部发票的扫描件。")))
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "------=_Part_0_1234.5678\r\nContent-Type: application/pdf; name=\"invoice-%04d.pdf\"\r\n"+
			"Content-Disposition: attachment; filename=\"invoice-%04d.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n",
			i, i, base64.StdEncoding.EncodeToString(invoice(i)))
	}
	b.WriteString("------=_Part_0_1234.5678--\r\n")
	return []byte(b.String())
}

func invoice(i int) []byte {
	return []byte(strings.Repeat(fmt.Sprintf("%%PDF-1.4 invoice %04d\n", i), 60)) // 1,320 bytes
}

// Attachments past the limit on parts are not kept, but never vanish: the text the agent
// reads ends with a note, in English and Chinese, of how many and how large they were, and
// names the first of them.
func TestAttachmentsPastTheLimitAreNoted(t *testing.T) {
	const text = "您好，附件是本月全部发票的扫描件。"
	tests := []struct {
		name      string
		raw       []byte
		kept      int
		notKept   int
		listed    []string // names in the note
		unlisted  int      // counted in the note but not named
		omitNames []string // names that must not be in the note (kept ones)
	}{
		{name: "998 attachments: all kept", raw: invoiceMail(998), kept: 998},
		{name: "1005 attachments", raw: invoiceMail(1005), kept: 998, notKept: 7,
			listed: []string{"invoice-0999.pdf (1 KB)", "invoice-1005.pdf (1 KB)"}, omitNames: []string{"invoice-0998.pdf"}},
		{name: "1030 attachments", raw: invoiceMail(1030), kept: 998, notKept: 32,
			listed: []string{"invoice-0999.pdf", "invoice-1018.pdf"}, unlisted: 12, omitNames: []string{"invoice-1019.pdf"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			in := ToInbound(m)
			if len(in.Attachments) != tt.kept {
				t.Errorf("%d attachments kept, want %d", len(in.Attachments), tt.kept)
			}
			if !strings.HasPrefix(in.Body, text) {
				t.Errorf("the customer's text is gone: %.200q", in.Body)
			}
			if tt.notKept == 0 {
				if in.Body != text {
					t.Errorf("body %q, want only the text", in.Body)
				}
				return
			}
			for _, want := range append([]string{
				fmt.Sprintf("[Not kept: %d attachments (", tt.notKept), "over the limit of 1000 parts in one email",
				fmt.Sprintf("[未保存：%d 个附件（", tt.notKept), "超出每封邮件 1000 个部分的上限",
			}, tt.listed...) {
				if !strings.Contains(in.Body, want) {
					t.Errorf("the note lacks %q:\n%s", want, in.Body)
				}
			}
			for _, name := range tt.omitNames {
				if strings.Contains(in.Body, name) {
					t.Errorf("the note names %s:\n%s", name, in.Body)
				}
			}
			if more := fmt.Sprintf("and %d more / 另有 %d 个", tt.unlisted, tt.unlisted); (tt.unlisted > 0) != strings.Contains(in.Body, more) {
				t.Errorf("the note should say %q iff some are unnamed:\n%s", more, in.Body)
			}
		})
	}
}

// A multipart nested deeper than any client nests is not read, and said so.
func TestDeepNestingIsNoted(t *testing.T) {
	var b strings.Builder
	b.WriteString("From: wang.fang@example.cn\r\nMessage-ID: <deep@example.cn>\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n" +
		"--b0\r\nContent-Type: text/plain\r\n\r\nSee the file.\r\n")
	for i := 0; i < 25; i++ {
		fmt.Fprintf(&b, "--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n", i, i+1)
	}
	b.WriteString("--b25\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=deep.pdf\r\n\r\n%PDF\r\n--b25--\r\n")
	m, err := Parse([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	in := ToInbound(m)
	for _, want := range []string{"See the file.", "[Not kept: 1 attachment (", "nested deeper than 20 levels", "嵌套超过 20 层", "multipart/mixed (1 part) ("} {
		if !strings.Contains(in.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, in.Body)
		}
	}
}

// The note survives a text cut to the length tickets store.
func TestOmittedNoteSurvivesALongText(t *testing.T) {
	m := &Message{From: Address{"", "a@example.com"}, Text: strings.Repeat("退款", MaxInboundBody),
		Omitted: Omitted{Count: 2, Bytes: 3 << 20, TooMany: true, Files: []Attachment{{Filename: "a.pdf", Size: 1 << 20}, {Filename: "b.pdf", Size: 2 << 20}}}}
	in := ToInbound(m)
	if len(in.Body) > MaxInboundBody || !strings.Contains(in.Body, "[…]") || !strings.HasSuffix(in.Body, "a.pdf (1.0 MB), b.pdf (2.0 MB)") ||
		!strings.Contains(in.Body, "[Not kept: 2 attachments (3.0 MB)") {
		t.Errorf("body of %d bytes ends %q", len(in.Body), in.Body[max(0, len(in.Body)-300):])
	}
}

// The worst messages within MaxSize cost little more than their size: the limits hold
// before enmime reads anything (it has none of its own, and gives every part a buffer, a
// header map and a Part).
func TestLimitsBoundTheCost(t *testing.T) {
	build := func(head string, fill func(b *strings.Builder, i int)) []byte {
		var b strings.Builder
		b.WriteString(head)
		for i := 0; b.Len() < MaxSize-200; i++ {
			fill(&b, i)
		}
		return []byte(b.String())
	}
	multipart := "From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
	tests := []struct {
		name    string
		raw     []byte
		refused bool
	}{
		{"a million empty parts", build(multipart, func(b *strings.Builder, _ int) { b.WriteString("--b\r\n\r\nx\r\n") }), false},
		{"a million named parts", build(multipart, func(b *strings.Builder, i int) {
			fmt.Fprintf(b, "--b\r\nContent-Disposition: attachment; filename=\"f%d.pdf\"\r\n\r\nx\r\n", i)
		}), false},
		{"nesting 25 MB deep", build("From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n", func(b *strings.Builder, i int) {
			fmt.Fprintf(b, "--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n", i, i+1)
		}), false},
		{"100k header fields", headerMail(100_000, "X-Trace-%d: relay hop\r\n"), true},
		{"a million header fields", build("From: a@example.com\r\n", func(b *strings.Builder, i int) { fmt.Fprintf(b, "X-%d: v\r\n", i) }), true},
		{"4,000 fields in each of many parts", build(multipart, func(b *strings.Builder, i int) {
			if i%4000 == 0 {
				b.WriteString("--b\r\n")
			}
			fmt.Fprintf(b, "X-%d: v\r\n", i)
		}), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			m, err := Parse(tt.raw)
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%.1f MB message: %.1f MB allocated in %v", float64(len(tt.raw))/(1<<20), float64(alloc)/(1<<20), took)
			if tt.refused != errors.Is(err, ErrTooManyFields) {
				t.Fatalf("Parse error %v, refused %v", err, tt.refused)
			}
			if err == nil && m.Omitted.Count == 0 {
				t.Error("nothing was noted as not kept")
			}
			if alloc > MaxSize {
				t.Errorf("%.1f MB allocated for a %.1f MB message", float64(alloc)/(1<<20), float64(len(tt.raw))/(1<<20))
			}
		})
	}
}
