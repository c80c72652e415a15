package email

import (
	"slices"
	"testing"
)

func TestSplitQuote(t *testing.T) {
	tests := []struct {
		name          string
		in            string
		reply, quoted string
	}{
		{
			name:   "gmail",
			in:     "Sounds good.\n\nOn Tue, Nov 25, 2026 at 10:02 AM Hotline <support@hotline.example> wrote:\n\n> Shall we call you?\n>\n",
			reply:  "Sounds good.",
			quoted: "On Tue, Nov 25, 2026 at 10:02 AM Hotline <support@hotline.example> wrote:\n\n> Shall we call you?\n>",
		},
		{
			name:   "gmail attribution wrapped over two lines",
			in:     "Yes please.\n\nOn Tue, Nov 25, 2026 at 10:02 AM Hotline Support <\nsupport@hotline.example> wrote:\n\n> Shall we call you?",
			reply:  "Yes please.",
			quoted: "On Tue, Nov 25, 2026 at 10:02 AM Hotline Support <\nsupport@hotline.example> wrote:\n\n> Shall we call you?",
		},
		{
			name:   "apple mail",
			in:     "OK\n\n> On Nov 25, 2026, at 10:02, Hotline <support@hotline.example> wrote:\n> \n> Shall we call you?",
			reply:  "OK",
			quoted: "> On Nov 25, 2026, at 10:02, Hotline <support@hotline.example> wrote:\n> \n> Shall we call you?",
		},
		{
			name:   "apple mail in chinese",
			in:     "好的，谢谢。\n\n在 2026年11月25日，10:02，Hotline 客服 <support@hotline.example> 写道：\n\n> 请问方便电话联系吗？",
			reply:  "好的，谢谢。",
			quoted: "在 2026年11月25日，10:02，Hotline 客服 <support@hotline.example> 写道：\n\n> 请问方便电话联系吗？",
		},
		{
			name:   "gmail in chinese",
			in:     "可以，下午三点以后。\n\nHotline 客服 <support@hotline.example> 于2026年11月25日周二 10:02写道：\n\n> 请问方便电话联系吗？\n",
			reply:  "可以，下午三点以后。",
			quoted: "Hotline 客服 <support@hotline.example> 于2026年11月25日周二 10:02写道：\n\n> 请问方便电话联系吗？",
		},
		{
			name:   "gmail in traditional chinese",
			in:     "好的。\n\nHotline <support@hotline.example> 於 2026年11月25日 週二 上午10:02寫道：\n\n> 請問方便電話聯絡嗎？",
			reply:  "好的。",
			quoted: "Hotline <support@hotline.example> 於 2026年11月25日 週二 上午10:02寫道：\n\n> 請問方便電話聯絡嗎？",
		},
		{
			name:   "outlook original message",
			in:     "Thanks!\n\n-----Original Message-----\nFrom: Hotline <support@hotline.example>\nSent: Tuesday, November 25, 2026 10:02 AM\n\nDone.",
			reply:  "Thanks!",
			quoted: "-----Original Message-----\nFrom: Hotline <support@hotline.example>\nSent: Tuesday, November 25, 2026 10:02 AM\n\nDone.",
		},
		{
			name:   "outlook header block",
			in:     "Thanks!\n\nFrom: Hotline <support@hotline.example>\nSent: Tuesday, November 25, 2026 10:02 AM\nTo: Emily <emily@contoso.com>\nSubject: RE: Refund\n\nDone.",
			reply:  "Thanks!",
			quoted: "From: Hotline <support@hotline.example>\nSent: Tuesday, November 25, 2026 10:02 AM\nTo: Emily <emily@contoso.com>\nSubject: RE: Refund\n\nDone.",
		},
		{
			name:   "outlook bold header block from html",
			in:     "Thanks!\n*From:* Hotline <support@hotline.example>\n*Sent:* Tuesday, November 25, 2026 10:02 AM\n*To:* Emily\n*Subject:* RE: Refund",
			reply:  "Thanks!",
			quoted: "*From:* Hotline <support@hotline.example>\n*Sent:* Tuesday, November 25, 2026 10:02 AM\n*To:* Emily\n*Subject:* RE: Refund",
		},
		{
			name:   "outlook separator line",
			in:     "Received, thanks.\n\n________________________________\nFrom: Hotline <support@hotline.example>\nSent: 25 November 2026 10:02\nTo: Emily\nSubject: Refund\n\nDone.",
			reply:  "Received, thanks.",
			quoted: "________________________________\nFrom: Hotline <support@hotline.example>\nSent: 25 November 2026 10:02\nTo: Emily\nSubject: Refund\n\nDone.",
		},
		{
			name:   "chinese outlook",
			in:     "收到，谢谢！\n\n发件人: Hotline 客服 <support@hotline.example>\n发送时间: 2026年11月25日 10:02\n收件人: 王芳\n主题: 回复: 发票问题\n\n已开具。",
			reply:  "收到，谢谢！",
			quoted: "发件人: Hotline 客服 <support@hotline.example>\n发送时间: 2026年11月25日 10:02\n收件人: 王芳\n主题: 回复: 发票问题\n\n已开具。",
		},
		{
			name:   "chinese outlook with full-width colons",
			in:     "收到\n\n发件人：Hotline 客服\n日期：2026年11月25日 10:02\n收件人：王芳\n主题：回复：发票问题",
			reply:  "收到",
			quoted: "发件人：Hotline 客服\n日期：2026年11月25日 10:02\n收件人：王芳\n主题：回复：发票问题",
		},
		{
			name:   "foxmail original",
			in:     "已确认。\n\n------------------ 原始邮件 ------------------\n发件人: \"Hotline\"<support@hotline.example>;\n发送时间: 2026年11月25日(星期二) 上午10:02\n\n请确认。",
			reply:  "已确认。",
			quoted: "------------------ 原始邮件 ------------------\n发件人: \"Hotline\"<support@hotline.example>;\n发送时间: 2026年11月25日(星期二) 上午10:02\n\n请确认。",
		},
		{
			name:   "german outlook",
			in:     "Danke.\n\nVon: Hotline <support@hotline.example>\nGesendet: Dienstag, 25. November 2026 10:02\nAn: Anna\nBetreff: Lieferung",
			reply:  "Danke.",
			quoted: "Von: Hotline <support@hotline.example>\nGesendet: Dienstag, 25. November 2026 10:02\nAn: Anna\nBetreff: Lieferung",
		},
		{
			name:   "trailing quote without attribution",
			in:     "See below.\n\n> old line one\n> old line two\n",
			reply:  "See below.",
			quoted: "> old line one\n> old line two",
		},
		{
			name:   "unknown client's attribution with a date",
			in:     "Merci.\n\n25/11/2026 10:02, Hotline :\n> old",
			reply:  "Merci.",
			quoted: "25/11/2026 10:02, Hotline :\n> old",
		},
		{
			name:  "inline replies are kept",
			in:    "On Tue, Nov 25, 2026 at 10:02 AM Hotline <support@hotline.example> wrote:\n> What is your order number?\n88213\n> And your postcode?\n200120",
			reply: "On Tue, Nov 25, 2026 at 10:02 AM Hotline <support@hotline.example> wrote:\n> What is your order number?\n88213\n> And your postcode?\n200120",
		},
		{
			name:   "inline replies with a trailing quote",
			in:     "> What is your order number?\n88213\n\n> Thanks\n> Hotline",
			reply:  "> What is your order number?\n88213",
			quoted: "> Thanks\n> Hotline",
		},
		{
			name:  "only a quote keeps everything",
			in:    "> forwarded without comment\n> second line",
			reply: "> forwarded without comment\n> second line",
		},
		{
			name:  "only an outlook block keeps everything",
			in:    "-----Original Message-----\nFrom: a\nSent: b\n\nthe content",
			reply: "-----Original Message-----\nFrom: a\nSent: b\n\nthe content",
		},
		{
			name:  "a lone From line is not a header block",
			in:    "From: the warehouse in Shanghai\nthe parcel never left.",
			reply: "From: the warehouse in Shanghai\nthe parcel never left.",
		},
		{
			name:  "a sentence ending in a colon before nothing quoted",
			in:    "My order numbers are:\n88213\n88214",
			reply: "My order numbers are:\n88213\n88214",
		},
		{
			name:  "mentions wrote mid-text",
			in:    "On Monday my colleague wrote: the parcel is lost.\nPlease check.",
			reply: "On Monday my colleague wrote: the parcel is lost.\nPlease check.",
		},
		{
			name:   "signature stays with the reply",
			in:     "Fine.\n\n-- \nZhang San\nContoso\n\nOn Tue, Nov 25, 2026 at 10:02 AM Hotline <support@hotline.example> wrote:\n> x",
			reply:  "Fine.\n\n-- \nZhang San\nContoso",
			quoted: "On Tue, Nov 25, 2026 at 10:02 AM Hotline <support@hotline.example> wrote:\n> x",
		},
		{
			name:   "CRLF",
			in:     "Yes.\r\n\r\n> old\r\n",
			reply:  "Yes.",
			quoted: "> old",
		},
		{name: "empty", in: "", reply: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply, quoted := SplitQuote(tt.in)
			if reply != tt.reply || quoted != tt.quoted {
				t.Errorf("SplitQuote =\n%q\n%q\nwant\n%q\n%q", reply, quoted, tt.reply, tt.quoted)
			}
		})
	}
}

func TestUnflow(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		delsp bool
		want  string
	}{
		{"joins soft breaks", "This is a long \nparagraph.\nNew line.", false, "This is a long paragraph.\nNew line."},
		{"delsp removes the soft space", "你好，我明天 \n在家。", true, "你好，我明天在家。"},
		{"space-stuffing removed", " From here\n >not a quote", false, "From here\n>not a quote"},
		{"quotes join at their depth", "> quoted \n> more\n>> deeper \n>> still", false, "> quoted more\n>> deeper still"},
		{"depth change ends a paragraph", "> a \n>> b", false, "> a\n>> b"},
		{"signature separator is hard", "text\n-- \nsig", false, "text\n-- \nsig"},
		{"trailing flowed line at end", "end ", false, "end "},
	}
	for _, tt := range tests {
		if got := unflow(tt.in, tt.delsp); got != tt.want {
			t.Errorf("%s: unflow(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestHTMLToText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"paragraphs", "<p>One</p><p>Two</p>", "One\n\nTwo"},
		{"br and divs", "<div>Hi</div><div><br></div><div>Thanks<br/>Zhang</div>", "Hi\n\nThanks\nZhang"},
		{"entities", "<p>&lt;b&gt; &amp; &quot;x&quot; &#8217; &yen;1 &nbsp;a</p>", "<b> & \"x\" ’ ¥1 a"},
		{"script style head dropped", "<html><head><title>T</title><style>p{color:red}</style></head><body><script>alert(1)</script>Body</body></html>", "Body"},
		{"comments and conditional xml dropped", "<!--[if gte mso 9]><xml><o:x/></xml><![endif]-->Hello<!-- bye -->", "Hello"},
		{"whitespace collapses", "<p>  many\n\t spaces   here </p>", "many spaces here"},
		{"inline elements keep spacing", "Hello <b>big</b> <i>world</i>!", "Hello big world!"},
		{"blank lines collapse", "<p>a</p><br><br><br><br><p>b</p>", "a\n\nb"},
		{"lists", "<ul><li>one</li><li>two</li></ul>", "- one\n- two"},
		{"blockquote", "<p>Yes</p><blockquote>old<br>older</blockquote>", "Yes\n\n> old\n> older"},
		{"nested blockquote", "<blockquote>a<blockquote>b</blockquote></blockquote>", "> a\n\n>> b"},
		{"pre keeps lines", "<pre>line 1\n  line 2</pre>", "line 1\n  line 2"},
		{"table cells", "<table><tr><td>Order</td><td>88213</td></tr><tr><td>Total</td><td>¥1,280</td></tr></table>", "Order 88213\nTotal ¥1,280"},
		{"word paragraphs", `<p class=MsoNormal>Hi,<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p><p class=MsoNormal>Line<o:p></o:p></p><p class=MsoNormal>Next</p>`, "Hi,\n\nLine\nNext"},
		{"chinese", "<div>您好，</div><div>发票抬头写错了。</div>", "您好，\n发票抬头写错了。"},
		{"unclosed tags", "<div><p>open <b>bold", "open bold"},
		{"not html at all", "plain text", "plain text"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		if got := HTMLToText(tt.in); got != tt.want {
			t.Errorf("%s: HTMLToText =\n%q\nwant\n%q", tt.name, got, tt.want)
		}
	}
}

func TestThreadIDs(t *testing.T) {
	m := &Message{
		MessageID:  "self@x",
		InReplyTo:  []string{"c@x"},
		References: []string{"a@x", "b@x", "c@x", "self@x"},
	}
	if got, want := m.ThreadIDs(), []string{"c@x", "b@x", "a@x"}; !slices.Equal(got, want) {
		t.Errorf("ThreadIDs = %q, want %q", got, want)
	}
	if got := (&Message{}).ThreadIDs(); got != nil {
		t.Errorf("ThreadIDs of a new message = %q", got)
	}
}

func TestReplySubject(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Refund", "Re: Refund"},
		{"Re: Refund", "Re: Refund"},
		{"RE: Refund", "RE: Refund"},
		{"回复: 发票问题", "回复: 发票问题"},
		{"答复：发票问题", "答复：发票问题"},
		{"Aw: Lieferung", "Aw: Lieferung"},
		{"Reply needed", "Re: Reply needed"},
		{"", "Re: "},
	}
	for _, tt := range tests {
		if got := ReplySubject(tt.in); got != tt.want {
			t.Errorf("ReplySubject(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
