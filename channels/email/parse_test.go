package email

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

type wantAttachment struct {
	Filename, ContentType string
	Size                  int64
	Inline                bool
	ContentID             string
}

// TestParseFixtures checks what an agent sees of each client's message: who wrote, the
// subject, the new text without the quoted conversation, the files, and whether it is a
// machine's message.
func TestParseFixtures(t *testing.T) {
	tests := []struct {
		file        string
		from        Address
		to          []Address
		cc          []Address
		subject     string
		date        time.Time
		messageID   string
		threadIDs   []string
		text        string   // exact
		quotedHas   []string // substrings of Quoted; none means Quoted is empty
		htmlHas     string
		attachments []wantAttachment
		autoReply   bool
		bounce      *Bounce
		language    string
		defects     bool
	}{
		{
			file:      "outlook_reply.eml",
			from:      Address{"Emily Carter", "emily.carter@contoso.com"},
			to:        []Address{{"Hotline Support", "support@hotline.example"}},
			subject:   "RE: Refund for order 88213 [HL-000123]",
			date:      time.Date(2026, 11, 26, 1, 14, 19, 0, time.UTC),
			messageID: "SEZPR06MB69594F1C0E2A7B3D9C8E11A2B7C40@SEZPR06MB6959.apcprd06.prod.outlook.com",
			threadIDs: []string{"a3f1c9e07b2d4e5f8a9b0c1d2e3f4a5b@hotline.example"},
			text: "Hi,\n\nI've checked again this morning and the refund for order 88213 still hasn't arrived. " +
				"The bank says nothing was sent on 18 November.\n\nCould you please send me the transfer reference?\n\n" +
				"Best regards,\nEmily Carter\nProcurement | Contoso Ltd.\nTel: +86 21 5555 0199",
			quotedHas: []string{"-----Original Message-----", "From: Hotline Support", "We have issued the refund of ¥1,280.00."},
			htmlHas:   `<p class="MsoNormal">Hi,<o:p></o:p></p>`,
			language:  "en-US",
		},
		{
			file:      "outlook_reply_zh.eml",
			from:      Address{"王芳", "wangfang@example.cn"},
			to:        []Address{{"Hotline 客服", "support@hotline.example"}},
			subject:   "回复: 发票问题 [HL-000456]",
			messageID: "TYZPR03MB7152D0F4A9B5E2C36ABCD1234E9F8@TYZPR03MB7152.apcprd03.prod.outlook.com",
			threadIDs: []string{"b7e2d1c0f9a84b3c8d7e6f5a4b3c2d1e@hotline.example"},
			text:      "您好，\n\n发票抬头写错了，应该是“上海某某贸易有限公司”，税号 91310000MA1FL5XX2K。麻烦重新开一张。\n\n谢谢！\n王芳",
			quotedHas: []string{"________________________________\n发件人: Hotline 客服", "发送时间: 2026年11月25日 10:02", "发票已开具"},
			htmlHas:   `<div id="divRplyFwdMsg"`,
			language:  "zh-CN",
		},
		{
			file:      "gmail_reply.eml",
			from:      Address{"Zhang San", "zhang.san.1988@gmail.com"},
			to:        []Address{{"Hotline Support", "support@hotline.example"}},
			subject:   "Re: Router keeps dropping Wi-Fi [HL-000789]",
			date:      time.Date(2026, 11, 26, 3, 40, 0, 0, time.UTC),
			messageID: "CAJx8f5Y3k2Qv9W0Zt+Hn7pG4a1X_r6bLm2Ee8uTq0sD4fVz9Ag@mail.gmail.com",
			threadIDs: []string{"c0ffee01d2e3f4a5b6c7d8e9f0a1b2c3@hotline.example", "a3f1c9e07b2d4e5f8a9b0c1d2e3f4a5b@hotline.example"},
			text:      "Thanks, I tried the firmware update but it still drops every 20 minutes or\nso. The status light turns orange when it happens.\n\nZhang",
			quotedHas: []string{"On Tue, Nov 25, 2026 at 10:02\u202fAM Hotline Support <support@hotline.example>\nwrote:", "> Hello Zhang,", ">> My router keeps dropping Wi-Fi."},
			htmlHas:   `class="gmail_quote"`,
		},
		{
			file:      "apple_mail_reply.eml",
			from:      Address{"李娜", "lina@icloud.com"},
			to:        []Address{{"Hotline Support", "support@hotline.example"}},
			cc:        []Address{{"张伟", "zhangwei@example.cn"}},
			subject:   "Re: 退货取件 [HL-000321]",
			messageID: "5E3B8C21-9A7F-4D10-B2C4-1F6E8D9A7C35@icloud.com",
			threadIDs: []string{"9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a@hotline.example"},
			// format=flowed; delsp=yes: the soft breaks inside the Chinese sentence vanish.
			text:      "好的，我明天上午在家，快递员可以直接上门取件。地址不变，还是浦东新区张江路 88 号 3 栋 1202 室。\n\n李娜",
			quotedHas: []string{"> 在 2026年11月25日，10:02，Hotline 客服 <support@hotline.example> 写道：", "> 李女士您好"},
			htmlHas:   `<blockquote type="cite">`,
		},
		{
			file:      "gbk.eml",
			from:      Address{gbkName, "chenzhe_1990@163.com"},
			to:        []Address{{"support@hotline.example", "support@hotline.example"}},
			subject:   gbkSubject,
			date:      time.Date(2026, 11, 25, 4, 31, 7, 0, time.UTC),
			messageID: "4c1d2e3f.5a6b.19a7c8d9e0f.Coremail.chenzhe_1990@163.com",
			threadIDs: []string{"7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d@hotline.example"},
			text:      gbkReply,
			quotedHas: []string{gbkQuote},
			htmlHas:   "<div>我上周五下的订单到现在还没有发货，客服电话一直占线。</div>",
			language:  "zh-CN",
		},
		{
			file:      "gb18030.eml",
			from:      Address{gb18030Name, "liuji@example.com.cn"},
			to:        []Address{{"", "support@hotline.example"}},
			subject:   gb18030Subject,
			messageID: "20261126164500.GA4821@example.com.cn",
			text:      gb18030Reply,
			language:  "zh-CN",
		},
		{
			file:      "big5.eml",
			from:      Address{big5Name, "ming.huang@example.com.tw"},
			to:        []Address{{"Hotline", "support@hotline.example"}},
			subject:   big5Subject,
			messageID: "TY0PR04MB6123E5A1B2C3D4E5F6A7B8C9D0E1F2@TY0PR04MB6123.apcprd04.prod.outlook.com",
			threadIDs: []string{"1f2e3d4c5b6a79880@hotline.example", "0a1b2c3d4e5f6a7b@hotline.example"},
			text:      big5Reply,
			quotedHas: []string{big5Quote},
			language:  "zh-TW",
		},
		{
			file:      "html_only.eml",
			from:      Address{"Chen, Jing", "chen.jing@example.org"},
			to:        []Address{{"", "support@hotline.example"}},
			subject:   "Cannot log in to the customer portal",
			messageID: "20261127000544.3F1A2B@forms.example.org",
			text: "Login problem\n\nHello,\n\nSince Monday I get \"Invalid token\" when I log in — tried Chrome & Edge.\n" +
				"Account: chen.jing@example.org\nOrder: <none>\n\n- Cleared cookies\n- Reset password\n\nThanks,\nChen Jing",
			htmlHas:   "<h2>Login&nbsp;problem</h2>",
			autoReply: false,
		},
		{
			file:      "attachments.eml",
			from:      Address{"周杰", "zhou.jie@example.cn"},
			to:        []Address{{"", "support@hotline.example"}},
			subject:   "发票和截图",
			messageID: "1a2b3c4d.5e6f.7a8b.9c0d.e1f2a3b4c5d6@example.cn",
			text:      "您好，附件是发票和付款截图，请核对。\n\n周杰",
			htmlHas:   `<img src="cid:image001.png@01DB4F2A.6C3B9E10" alt="截图">`,
			attachments: []wantAttachment{
				{"image001.png", "image/png", 70, true, "image001.png@01DB4F2A.6C3B9E10"},
				{"发票.pdf", "application/pdf", 329, false, ""},
				{"2026年11月对账单-上海某某贸易有限公司.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 772, false, ""},
			},
		},
		{
			file:        "forwarded_rfc822.eml",
			from:        Address{"Olivia Brown", "olivia.brown@fabrikam.example"},
			to:          []Address{{"", "support@hotline.example"}},
			subject:     "Fwd: Your order has shipped",
			messageID:   "f1e2d3c4b5a69788@fabrikam.example",
			text:        "The tracking number in the message below does not work. Can you check?\n\nOlivia",
			attachments: []wantAttachment{{"Your order has shipped.eml", "message/rfc822", 275, false, ""}},
		},
		{
			file:      "bounce_dsn.eml",
			from:      Address{"Mail Delivery System", "mailer-daemon@mx.hotline.example"},
			to:        []Address{{"", "support@hotline.example"}},
			subject:   "Undelivered Mail Returned to Sender",
			messageID: "4Xq9Zb1HkLz9t0@mx.hotline.example",
			autoReply: true,
			bounce: &Bounce{
				OriginalMessageID: "e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9@hotline.example",
				Recipient:         "no.such.user@example.cn",
				Status:            "5.1.1",
				Action:            "failed",
				Diagnostic:        "550 5.1.1 <no.such.user@example.cn>: Recipient address rejected: User unknown in virtual mailbox table",
			},
			attachments: []wantAttachment{
				{"attachment-1.txt", "message/delivery-status", 480, false, ""},
				{"attachment-2.txt", "text/rfc822-headers", 515, false, ""},
			},
		},
		{
			file:      "bounce_classic.eml",
			from:      Address{"Mail Delivery Subsystem", "postmaster@mail.example.net"},
			to:        []Address{{"", "support@hotline.example"}},
			subject:   "Mail delivery failed: returning message to sender",
			messageID: "E1tGx7Q-0004aB-2c@mail.example.net",
			autoReply: true,
			bounce: &Bounce{
				OriginalMessageID: "0f9e8d7c6b5a4f3e@hotline.example",
				Recipient:         "old.customer@example.net",
				Status:            "5.2.2",
				Action:            "failed",
				Diagnostic:        "552 5.2.2 Mailbox full",
			},
			attachments: []wantAttachment{{"Your ticket [HL-000222].eml", "message/rfc822", 274, false, ""}},
		},
		{
			file:      "auto_reply.eml",
			from:      Address{"刘燕", "liuyan@example.cn"},
			to:        []Address{{"Hotline Support", "support@hotline.example"}},
			subject:   "自动回复: 退货问题 [HL-000555]",
			messageID: "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6@example.cn",
			threadIDs: []string{"5555aaaa5555bbbb@hotline.example"},
			text:      "我正在休假，12月1日返回，期间不查看邮件。",
			autoReply: true,
			language:  "zh-CN",
		},
		{
			file:      "out_of_office.eml",
			from:      Address{"Marco Rossi", "marco.rossi@example.it"},
			to:        []Address{{"", "support@hotline.example"}},
			subject:   "Out of Office: Re: Invoice copy [HL-000601]",
			messageID: "ooo-1795846200-7788@example.it",
			// Soft line break joined; =96 is an en dash in Windows-1252, which mail labelled
			// ISO-8859-1 uses.
			text: "I am out of the office until Monday, 1 December. For urgent matters please contact my colleague Chiara Bianchi (chiara.bianchi@example.it).\n\n" +
				"Cordiali saluti / Best regards,\nMarco Rossi – Responsabile acquisti",
			autoReply: true,
		},
		{
			file:      "suppress_only.eml",
			from:      Address{"Anna Schmidt", "anna.schmidt@example.de"},
			to:        []Address{{"", "support@hotline.example"}},
			subject:   "Question about delivery times",
			messageID: "sup-only-1@example.de",
			text:      "How long does delivery to Germany take?\n\nAnna",
			autoReply: false, // X-Auto-Response-Suppress and Auto-Submitted: no are not auto-replies
		},
		{
			// No MIME header, 8-bit Latin-1 in the subject, the name and the body.
			file:      "latin1_undeclared.eml",
			from:      Address{"João Silva", "joao.silva@example.com.br"},
			to:        []Address{{"", "suporte@hotline.example"}},
			subject:   "Formação da equipe - pedido 4471",
			date:      time.Date(2026, 11, 30, 17, 12, 9, 0, time.UTC),
			messageID: "20261130171209.4471@webmail.example.com.br",
			text: "Bom dia,\n\nGostaria de confirmar a data da formação da equipe em São Paulo.\n" +
				"O Sr. Müller vai participar, e o café será servido às 9h.\n\nObrigado,\nJoão",
		},
		{
			// UTF-8 labelled iso-8859-1 (the text), gb2312 (the HTML and the name).
			file:      "mislabelled_utf8.eml",
			from:      Address{"王芳", "wangfang@example.cn"},
			to:        []Address{{"", "support@hotline.example"}},
			subject:   "发票抬头 – Formação",
			messageID: "mislabelled-1@mail.example.cn",
			text:      "您好，\n\n发票抬头请改为“上海某某贸易有限公司”。Formação concluída.\n\n王芳",
			htmlHas:   "<div>发票抬头请改为“上海某某贸易有限公司”。Formação concluída.</div>",
			language:  "", // the labels are wrong, so they say nothing of the language
		},
		{
			// Lines of only white space inside folded fields (obs-FWS).
			file:      "obs_fws.eml",
			from:      Address{"Priya Natarajan", "priya.n@example.org"},
			to:        []Address{{"", "support@hotline.example"}},
			subject:   "Order 5521 - wrong size delivered",
			date:      time.Date(2026, 12, 2, 7, 59, 58, 0, time.UTC),
			messageID: "obs-fws-5521@example.org",
			text:      "Hello, I ordered size M and received size XL. Can I exchange it?\n\nPriya",
		},
		{
			// iPhone Mail: the text as an inline note.txt beside a photo.
			file:        "inline_note.eml",
			from:        Address{"李娜", "lina@icloud.com"},
			to:          []Address{{"", "support@hotline.example"}},
			subject:     "包裹破损",
			messageID:   "7C1D2E3F-4A5B-6C7D-8E9F-0A1B2C3D4E5F@icloud.com",
			text:        "包裹到了，但是外箱破损，里面的杯子碎了一个。照片见附件。\n\n李娜",
			attachments: []wantAttachment{{"IMG_2041.jpeg", "image/jpeg", 22, true, ""}},
		},
		{
			file:      "malformed_broken_boundary.eml",
			from:      Address{"Wei Zhang", "wei.zhang@example.cn"},
			to:        []Address{{"", "support@hotline.example"}},
			subject:   "Broken boundary",
			messageID: "broken-boundary-1@example.cn",
			text:      "The screen stays black after the update.",
			htmlHas:   "<p>The screen stays black after the update.</p>",
			defects:   true,
		},
		{
			file:      "malformed_bad_base64.eml",
			from:      Address{"Lin Hui", "lin.hui@example.cn"},
			to:        []Address{{"", "support@hotline.example"}},
			subject:   "报错截图",
			messageID: "bad-b64-1@example.cn",
			text:      "应用一打开就闪退，截图见附件。",
			// enmime skips the padding in the middle of the damaged base64 and reads on.
			attachments: []wantAttachment{{"crash.jpg", "image/jpeg", 45, false, ""}},
			defects:     true,
		},
		{
			file:      "malformed_unknown_charset.eml",
			from:      Address{"José", "jose@example.es"},
			to:        []Address{{"", "support@hotline.example"}},
			subject:   "Hello world",
			messageID: "unknown-cs-1@example.es",
			text:      "The invoice total is wrong: 1.280,00 € instead of 980,00 €.",
			defects:   true, // unknown charset, unreadable date
		},
		{
			file:     "malformed_raw8bit.eml",
			from:     Address{"王小明", "xiaoming@example.cn"},
			to:       []Address{{"", "support@hotline.example"}},
			subject:  "退款进度",
			date:     time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC),
			text:     "this line is not a header\n\n请问我的退款到哪一步了？",
			language: "zh-CN",
			defects:  true,
		},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".eml"), func(t *testing.T) {
			m, err := Parse(readFixture(t, tt.file))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if m.From != tt.from {
				t.Errorf("From = %+v, want %+v", m.From, tt.from)
			}
			if !slices.Equal(m.To, tt.to) {
				t.Errorf("To = %+v, want %+v", m.To, tt.to)
			}
			if !slices.Equal(m.Cc, tt.cc) {
				t.Errorf("Cc = %+v, want %+v", m.Cc, tt.cc)
			}
			if m.Subject != tt.subject {
				t.Errorf("Subject = %q, want %q", m.Subject, tt.subject)
			}
			if !tt.date.IsZero() && !m.Date.Equal(tt.date) {
				t.Errorf("Date = %v, want %v", m.Date, tt.date)
			}
			if m.MessageID != tt.messageID {
				t.Errorf("MessageID = %q, want %q", m.MessageID, tt.messageID)
			}
			if got := m.ThreadIDs(); !slices.Equal(got, tt.threadIDs) {
				t.Errorf("ThreadIDs = %q, want %q", got, tt.threadIDs)
			}
			if tt.text != "" && m.Text != tt.text {
				t.Errorf("Text =\n%s\nwant\n%s", m.Text, tt.text)
			}
			if len(tt.quotedHas) == 0 && m.Quoted != "" {
				t.Errorf("Quoted = %q, want none", m.Quoted)
			}
			for _, q := range tt.quotedHas {
				if !strings.Contains(m.Quoted, q) {
					t.Errorf("Quoted lacks %q:\n%s", q, m.Quoted)
				}
			}
			if !strings.Contains(m.HTML, tt.htmlHas) || (tt.htmlHas == "" && m.HTML != "") {
				t.Errorf("HTML lacks %q: %.200q", tt.htmlHas, m.HTML)
			}
			var atts []wantAttachment
			for _, a := range m.Attachments {
				atts = append(atts, wantAttachment{a.Filename, a.ContentType, a.Size, a.Inline, a.ContentID})
				if int64(len(a.Content)) != a.Size {
					t.Errorf("attachment %q: Size %d but %d bytes of content", a.Filename, a.Size, len(a.Content))
				}
			}
			if !slices.Equal(atts, tt.attachments) {
				t.Errorf("Attachments =\n%+v\nwant\n%+v", atts, tt.attachments)
			}
			if m.AutoReply != tt.autoReply {
				t.Errorf("AutoReply = %v, want %v", m.AutoReply, tt.autoReply)
			}
			switch {
			case tt.bounce == nil && m.Bounce != nil:
				t.Errorf("Bounce = %+v, want none", m.Bounce)
			case tt.bounce != nil && (m.Bounce == nil || *m.Bounce != *tt.bounce):
				t.Errorf("Bounce = %+v, want %+v", m.Bounce, tt.bounce)
			}
			if m.Language != tt.language {
				t.Errorf("Language = %q, want %q", m.Language, tt.language)
			}
			if (len(m.Defects) > 0) != tt.defects {
				t.Errorf("Defects = %q, want some: %v", m.Defects, tt.defects)
			}
		})
	}
}

// TestParseAttachmentContent checks the decoded bytes, not only their count.
func TestParseAttachmentContent(t *testing.T) {
	m, err := Parse(readFixture(t, "attachments.eml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Attachments[0].Content; string(got[:8]) != "\x89PNG\r\n\x1a\n" {
		t.Errorf("inline image starts %q, want the PNG signature", got[:8])
	}
	if got := string(m.Attachments[1].Content); !strings.HasPrefix(got, "%PDF-1.4\n") || !strings.HasSuffix(got, "%%EOF\n") {
		t.Errorf("PDF content = %.40q…", got)
	}
	fwd, err := Parse(readFixture(t, "forwarded_rfc822.eml"))
	if err != nil {
		t.Fatal(err)
	}
	inner, err := Parse(fwd.Attachments[0].Content)
	if err != nil {
		t.Fatalf("the attached message does not parse: %v", err)
	}
	if inner.MessageID != "shipped-88213@hotline.example" || inner.Text != "Tracking number: SF1234567890123" {
		t.Errorf("attached message = %q %q", inner.MessageID, inner.Text)
	}
}

// TestParseMalformed feeds broken input: Parse returns an error or its best reading, and
// never panics.
func TestParseMalformed(t *testing.T) {
	nested := "From: a@example.com\nContent-Type: multipart/mixed; boundary=b0\n\n"
	for i := 0; i < 40; i++ {
		nested += "--b" + string(rune('0'+i%10)) + "\nContent-Type: multipart/mixed; boundary=b" + string(rune('0'+(i+1)%10)) + "\n\n"
	}
	many := "From: a@example.com\nContent-Type: multipart/mixed; boundary=x\n\n" + strings.Repeat("--x\nContent-Type: text/plain\n\nhi\n", 1500) + "--x--\n"
	tests := []struct {
		name    string
		raw     string
		err     error
		text    string
		defects bool
	}{
		{name: "empty", raw: "", err: ErrNoHeader},
		{name: "blank lines", raw: "\r\n\r\n\r\n", err: ErrNoHeader},
		{name: "not an email", raw: "%PDF-1.4\nbinary", err: ErrNoHeader},
		{name: "no from", raw: string(readFixture(t, "malformed_no_from.eml")), err: ErrNoFrom},
		{name: "from without address", raw: "From: Just A Name\nSubject: hi\n\nbody", err: ErrNoFrom},
		{name: "sender instead of from", raw: "Sender: robot@example.com\n\nhello", text: "hello"},
		{name: "header only", raw: "From: a@example.com\nSubject: nothing", text: ""},
		{name: "mbox envelope", raw: "From a@example.com Mon Nov 24 10:00:00 2026\nFrom: a@example.com\n\nhello", text: "hello"},
		{name: "multipart without boundary", raw: "From: a@example.com\nContent-Type: multipart/mixed\n\njust text", text: "just text", defects: true},
		{name: "multipart never closed", raw: "From: a@example.com\nContent-Type: multipart/mixed; boundary=q\n\n--q\nContent-Type: text/plain\n\ncut short", text: "cut short", defects: true},
		{name: "part header without blank line", raw: "From: a@example.com\nContent-Type: multipart/mixed; boundary=q\n\n--q\nContent-Type: text/plain\nhello there\n--q--\n", text: "hello there", defects: true},
		{name: "bad quoted-printable", raw: "From: a@example.com\nContent-Transfer-Encoding: quoted-printable\n\n100% =ZZ sure =\n", text: "100% =ZZ sure"},
		{name: "unknown transfer encoding", raw: "From: a@example.com\nContent-Transfer-Encoding: x-uuencode\n\nbegin 644 a", text: "begin 644 a", defects: true},
		{name: "bad content type", raw: "From: a@example.com\nContent-Type: garbage\n\nplain words", text: "plain words", defects: true},
		{name: "damaged utf-8 declared utf-8", raw: "From: a@example.com\nContent-Type: text/plain; charset=utf-8\n\nbad \xe5\x8f byte 发票", text: "bad \uFFFD byte 发票"},
		{name: "NUL bytes", raw: "From: a@example.com\nSubject: a\x00b\n\nx\x00y", text: "xy"},
		{name: "deep nesting", raw: nested, defects: true},
		{name: "too many parts", raw: many, defects: true},
		{name: "truncated encoded word", raw: "From: =?UTF-8?B?5byg?= <a@example.com>\nSubject: =?UTF-8?B?5byg\n\nx", text: "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.raw))
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if tt.text != "" && m.Text != tt.text {
				t.Errorf("Text = %q, want %q", m.Text, tt.text)
			}
			if (len(m.Defects) > 0) != tt.defects {
				t.Errorf("Defects = %q, want some: %v", m.Defects, tt.defects)
			}
		})
	}

	t.Run("too large", func(t *testing.T) {
		raw := make([]byte, MaxSize+1)
		if _, err := Parse(raw); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("err = %v, want ErrTooLarge", err)
		}
	})
}

func TestAutoReplyHeaders(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"Auto-Submitted: auto-replied", true},
		{"Auto-Submitted: auto-generated", true},
		{"Auto-Submitted: auto-replied; owner-email=\"x@example.com\"", true},
		{"Auto-Submitted: no", false},
		{"Auto-Submitted: No", false},
		{"X-Autoreply: yes", true},
		{"X-Autorespond: Out of office", true},
		{"Precedence: bulk", true},
		{"Precedence: junk", true},
		{"Precedence: list", true},
		{"Precedence: auto_reply", true},
		{"Precedence: first-class", false},
		{"X-Auto-Response-Suppress: All", false},
		{"X-Auto-Response-Suppress: DR, RN, NRN, OOF, AutoReply", false},
		{"Return-Path: <>", true},
		{"Return-Path: <a@example.com>", false},
		{"X-Mailer: Foxmail", false},
	}
	for _, tt := range tests {
		m, err := Parse([]byte("From: a@example.com\n" + tt.header + "\n\nhello\n"))
		if err != nil {
			t.Fatal(err)
		}
		if m.AutoReply != tt.want {
			t.Errorf("%s: AutoReply = %v, want %v", tt.header, m.AutoReply, tt.want)
		}
	}
}

func TestBouncePermanent(t *testing.T) {
	for _, tt := range []struct {
		b    *Bounce
		want bool
	}{
		{nil, false},
		{&Bounce{Action: "failed", Status: "5.1.1"}, true},
		{&Bounce{Action: "delayed", Status: "4.4.7"}, false},
		{&Bounce{Action: "failed", Status: "4.2.2"}, false},
		{&Bounce{Action: "failed"}, true},
	} {
		if got := tt.b.Permanent(); got != tt.want {
			t.Errorf("%+v.Permanent() = %v, want %v", tt.b, got, tt.want)
		}
	}
}

func TestDelayedDSN(t *testing.T) {
	raw := strings.ReplaceAll(string(readFixture(t, "bounce_dsn.eml")), "Action: failed\r\nStatus: 5.1.1", "Action: delayed\r\nStatus: 4.4.1")
	m, err := Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if m.Bounce == nil || m.Bounce.Action != "delayed" || m.Bounce.Status != "4.4.1" || m.Bounce.Permanent() {
		t.Errorf("Bounce = %+v, want a delayed, temporary one", m.Bounce)
	}
}

// TestObsoleteFolding reads headers folded with lines of only white space (RFC 5322
// obs-FWS): such a line continues the field. Before, it ended the header, and the fields
// after it (From among them) became the body.
func TestObsoleteFolding(t *testing.T) {
	tests := []struct {
		name, raw     string
		subject, text string
		to            string
	}{
		{"space line inside a folded subject", "Subject: Hello\r\n \r\n world\r\nFrom: a@b.c\r\n\r\nbody", "Hello world", "body", ""},
		{"space line before the next field", "Subject: Hello\r\n \r\nFrom: a@b.c\r\n\r\nbody", "Hello", "body", ""},
		{"tab line before the next field", "From: a@b.c\r\nSubject: Hello\r\n\t\r\nTo: x@y.z\r\n\r\nbody", "Hello", "body", "x@y.z"},
		{"several white lines, LF only", "From: a@b.c\nSubject: Hello\n  \n\t \nTo: x@y.z\n\nbody", "Hello", "body", "x@y.z"},
		{"in a part's header", "From: a@b.c\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain;\r\n \r\n charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
			b64("Grüße aus München") + "\r\n--b--\r\n", "", "Grüße aus München", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.raw))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if m.From.Addr != "a@b.c" || strings.Join(strings.Fields(m.Subject), " ") != tt.subject || m.Text != tt.text {
				t.Errorf("from %q subject %q text %q, want a@b.c %q %q", m.From.Addr, m.Subject, m.Text, tt.subject, tt.text)
			}
			if tt.to != "" && (len(m.To) != 1 || m.To[0].Addr != tt.to) {
				t.Errorf("To = %+v, want %s", m.To, tt.to)
			}
		})
	}
}

// TestInlineTextWithFilename takes plain text shown inline under a file name for the
// body when there is no other, as Apple Mail and some phones send it. Before, it became an
// attachment and the ticket had no text.
func TestInlineTextWithFilename(t *testing.T) {
	part := func(disposition, text string) string {
		return "--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Disposition: " + disposition + "\r\n\r\n" + text + "\r\n"
	}
	const head = "From: a@example.com\r\nSubject: Refund\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
	tests := []struct {
		name  string
		raw   string
		text  string
		files []string
	}{
		{"inline with a file name, alone", head + part(`inline; filename="note.txt"`, "Where is my refund?") + "--b--\r\n", "Where is my refund?", nil},
		{"inline with a file name, beside a photo",
			head + part(`inline; filename="note.txt"`, "The parcel arrived broken, see the photo.") +
				"--b\r\nContent-Type: image/jpeg\r\nContent-Disposition: inline; filename=\"IMG_0001.jpg\"\r\nContent-Transfer-Encoding: base64\r\n\r\n/9j/4AAQ\r\n--b--\r\n",
			"The parcel arrived broken, see the photo.", []string{"IMG_0001.jpg"}},
		{"named by Content-Type alone",
			"From: a@example.com\r\nContent-Type: text/plain; charset=utf-8; name=\"message.txt\"\r\n\r\nPlease call me back.\r\n", "Please call me back.", nil},
		{"single part, inline with a file name",
			"From: a@example.com\r\nContent-Type: text/plain; charset=gbk\r\nContent-Disposition: inline; filename=\"note.txt\"\r\n\r\n" +
				string(mustEncode(t, simplifiedchinese.GBK, "请尽快退款")) + "\r\n", "请尽快退款", nil},
		{"a text body beside it: it stays a file",
			head + "--b\r\nContent-Type: text/plain\r\n\r\nSee the attached note.\r\n" + part(`inline; filename="note.txt"`, "order 88213") + "--b--\r\n",
			"See the attached note.", []string{"note.txt"}},
		{"an attachment stays one", head + part(`attachment; filename="log.txt"`, "line 1") + "--b--\r\n", "", []string{"log.txt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.raw))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			var files []string
			for _, a := range m.Attachments {
				files = append(files, a.Filename)
			}
			if m.Text != tt.text || !slices.Equal(files, tt.files) {
				t.Errorf("text %q, files %q; want %q, %q", m.Text, files, tt.text, tt.files)
			}
		})
	}
}
