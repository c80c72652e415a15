package email

import (
	"bytes"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var agentReply = Outgoing{
	From:       Address{"Hotline 客服 李伟", "support@hotline.example"},
	To:         Address{"王芳", "wangfang@example.cn"},
	Subject:    "回复: 发票问题",
	Ref:        "HL-000456",
	Text:       "王女士您好，\n\n新的发票已经开好，抬头为“上海某某贸易有限公司”。\n请查收附件。\n\nHotline 客服 李伟",
	InReplyTo:  "<TYZPR03MB7152D0F4A9B5E2C36ABCD1234E9F8@TYZPR03MB7152.apcprd03.prod.outlook.com>",
	References: []string{"<b7e2d1c0f9a84b3c8d7e6f5a4b3c2d1e@hotline.example>"},
	Domain:     "hotline.example",
	Date:       time.Date(2026, 11, 26, 10, 5, 0, 0, time.FixedZone("CST", 8*3600)),
}

// headerOf splits a composed message into its unfolded header fields and the raw text of
// the header section.
func headerOf(t *testing.T, raw []byte) (mail.Header, string) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("net/mail cannot read the composed message: %v\n%s", err, raw)
	}
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	return msg.Header, string(head)
}

func TestComposeHeaders(t *testing.T) {
	raw, id, err := Compose(agentReply)
	if err != nil {
		t.Fatal(err)
	}
	h, head := headerOf(t, raw)

	if bytes.Contains(bytes.ReplaceAll(raw, []byte("\r\n"), nil), []byte("\n")) || bytes.Contains(bytes.ReplaceAll(raw, []byte("\r\n"), nil), []byte("\r")) {
		t.Error("the message has a bare LF or CR; every line must end in CRLF")
	}
	for i, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 998 {
			t.Errorf("line %d is %d characters long", i+1, len(line))
		}
	}
	for i, line := range strings.Split(head, "\r\n") {
		if len(line) > 78 && !regexp.MustCompile(`^(In-Reply-To: | )<[^ ]+>$`).MatchString(line) { // a msg-id cannot be folded
			t.Errorf("header line %d is %d characters, more than 78: %q", i+1, len(line), line)
		}
	}

	if !regexp.MustCompile(`^[0-9a-f]{32}@hotline\.example$`).MatchString(id) {
		t.Errorf("Message-ID %q is not random@domain", id)
	}
	want := map[string]string{
		"Message-Id":   "<" + id + ">",
		"In-Reply-To":  "<TYZPR03MB7152D0F4A9B5E2C36ABCD1234E9F8@TYZPR03MB7152.apcprd03.prod.outlook.com>",
		"References":   "<b7e2d1c0f9a84b3c8d7e6f5a4b3c2d1e@hotline.example> <TYZPR03MB7152D0F4A9B5E2C36ABCD1234E9F8@TYZPR03MB7152.apcprd03.prod.outlook.com>",
		"Mime-Version": "1.0",
		"Date":         "Thu, 26 Nov 2026 10:05:00 +0800",
	}
	for k, v := range want {
		got := strings.Join(strings.Fields(h.Get(k)), " ")
		if got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	for _, k := range []string{"Auto-Submitted", "Precedence", "X-Autoreply"} {
		if _, ok := h[k]; ok {
			t.Errorf("an agent's reply carries %s: %q", k, h.Get(k))
		}
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/alternative; boundary=") {
		t.Errorf("Content-Type = %q", ct)
	}

	// Chinese subjects and names are UTF-8 encoded-words; nothing 8-bit is in the header.
	for _, c := range []byte(head) {
		if c >= 0x80 {
			t.Fatalf("raw 8-bit byte in the header:\n%s", head)
		}
	}
	if !strings.Contains(head, "Subject: =?UTF-8?B?") || !strings.Contains(head, "From: =?UTF-8?B?") || !strings.Contains(head, "To: =?UTF-8?B?") {
		t.Errorf("Chinese subject or names are not B encoded-words:\n%s", head)
	}
	var dec = new(mail.AddressParser)
	if from, err := dec.Parse(h.Get("From")); err != nil || from.Name != "Hotline 客服 李伟" || from.Address != "support@hotline.example" {
		t.Errorf("net/mail reads From as %+v, %v", from, err)
	}

	// Both alternatives are UTF-8 quoted-printable; the HTML has paragraphs and breaks.
	for _, s := range []string{
		"Content-Type: text/plain; charset=UTF-8", "Content-Type: text/html; charset=UTF-8",
		"Content-Transfer-Encoding: quoted-printable",
	} {
		if !bytes.Contains(raw, []byte(s)) {
			t.Errorf("the body lacks %q", s)
		}
	}
	m, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"<p>王女士您好，</p>", "<p>新的发票已经开好，抬头为“上海某某贸易有限公司”。<br>\n请查收附件。</p>"} {
		if !strings.Contains(m.HTML, s) {
			t.Errorf("HTML lacks %q:\n%s", s, m.HTML)
		}
	}
	if got := HTMLToText(m.HTML); got != agentReply.Text {
		t.Errorf("the HTML reads as\n%q\nwant\n%q", got, agentReply.Text)
	}
	if m.AutoReply {
		t.Error("Parse takes the agent's reply for an auto-reply")
	}

	raw2, id2, err := Compose(agentReply)
	if err != nil {
		t.Fatal(err)
	}
	if id2 == id || bytes.Equal(raw, raw2) {
		t.Error("two replies got the same Message-ID")
	}
}

func TestComposeRoundTrip(t *testing.T) {
	long := strings.Repeat("这是一段很长的中文，没有换行。", 30)
	tests := []struct {
		name    string
		edit    func(*Outgoing)
		subject string
		text    string
		refs    []string
	}{
		{
			name:    "chinese reply",
			edit:    func(*Outgoing) {},
			subject: "回复: 发票问题 [HL-000456]",
			text:    agentReply.Text,
			refs:    []string{"b7e2d1c0f9a84b3c8d7e6f5a4b3c2d1e@hotline.example", "TYZPR03MB7152D0F4A9B5E2C36ABCD1234E9F8@TYZPR03MB7152.apcprd03.prod.outlook.com"},
		},
		{
			name: "ascii subject already naming the ticket",
			edit: func(o *Outgoing) {
				o.Subject, o.Ref, o.Text = "Re: Refund for order 88213 [hl-123]", "HL-000123", "Dear Emily,\n\nThe refund was sent today.\n\nLi Wei"
			},
			subject: "Re: Refund for order 88213 [hl-123]",
			text:    "Dear Emily,\n\nThe refund was sent today.\n\nLi Wei",
		},
		{
			name:    "another ticket in the subject",
			edit:    func(o *Outgoing) { o.Subject, o.Ref, o.Text = "Re: same as HL-000001", "HL-000123", "ok" },
			subject: "Re: same as HL-000001 [HL-000123]",
			text:    "ok",
		},
		{
			name:    "long lines, equals signs, trailing spaces, dots and From",
			edit:    func(o *Outgoing) { o.Text = long + "\nx = 1 + 1  \n.\nFrom the team\n\tindented\n\n\n\nend" },
			subject: "回复: 发票问题 [HL-000456]",
			text:    long + "\nx = 1 + 1  \n.\nFrom the team\n\tindented\n\n\n\nend",
		},
		{
			name:    "CRLF text is normalised",
			edit:    func(o *Outgoing) { o.Text = "line one\r\nline two\r\n" },
			subject: "回复: 发票问题 [HL-000456]",
			text:    "line one\nline two",
		},
		{
			name:    "no subject, only the reference",
			edit:    func(o *Outgoing) { o.Subject = "" },
			subject: "[HL-000456]",
			text:    agentReply.Text,
		},
		{
			name:    "very long ascii subject folds",
			edit:    func(o *Outgoing) { o.Subject = strings.Repeat("word ", 60) },
			subject: strings.TrimSpace(strings.Repeat("word ", 60)) + " [HL-000456]",
			text:    agentReply.Text,
		},
		{
			name:    "subject that looks encoded is encoded",
			edit:    func(o *Outgoing) { o.Subject = "=?UTF-8?B?5Y+R?= literally" },
			subject: "=?UTF-8?B?5Y+R?= literally [HL-000456]",
			text:    agentReply.Text,
		},
		{
			name:    "header injection is flattened",
			edit:    func(o *Outgoing) { o.Subject = "Hi\r\nBcc: victim@example.com" },
			subject: "Hi  Bcc: victim@example.com [HL-000456]",
			text:    agentReply.Text,
		},
		{
			name:    "no thread",
			edit:    func(o *Outgoing) { o.InReplyTo, o.References = "", nil },
			subject: "回复: 发票问题 [HL-000456]",
			text:    agentReply.Text,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := agentReply
			tt.edit(&o)
			raw, id, err := Compose(o)
			if err != nil {
				t.Fatal(err)
			}
			m, err := Parse(raw)
			if err != nil {
				t.Fatalf("Parse(Compose): %v\n%s", err, raw)
			}
			if m.Subject != tt.subject {
				t.Errorf("Subject = %q, want %q", m.Subject, tt.subject)
			}
			if m.Text != tt.text || m.Quoted != "" {
				t.Errorf("Text =\n%q\nwant\n%q (quoted %q)", m.Text, tt.text, m.Quoted)
			}
			if m.MessageID != id {
				t.Errorf("MessageID = %q, want %q", m.MessageID, id)
			}
			wantIRT := slices.Collect(func(yield func(string) bool) {
				if ids := parseIDs(o.InReplyTo); len(ids) > 0 {
					yield(ids[0])
				}
			})
			if !slices.Equal(m.InReplyTo, wantIRT) {
				t.Errorf("InReplyTo = %q, want %q", m.InReplyTo, wantIRT)
			}
			if tt.refs != nil && !slices.Equal(m.References, tt.refs) {
				t.Errorf("References = %q, want %q", m.References, tt.refs)
			}
			if m.From.Addr != o.From.Addr || m.From.Name != o.From.Name || m.To[0].Addr != o.To.Addr || m.To[0].Name != o.To.Name {
				t.Errorf("From, To = %+v, %+v", m.From, m.To)
			}
			if !m.Date.Equal(o.Date) {
				t.Errorf("Date = %v, want %v", m.Date, o.Date)
			}
		})
	}
}

func TestComposeNames(t *testing.T) {
	for _, name := range []string{"Li, Wei", `Li "Will" Wei`, "José García", "Hotline 客服", "Support (Hotline)", "=?UTF-8?B?x?=", ""} {
		o := agentReply
		o.From.Name = name
		raw, _, err := Compose(o)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if m.From.Name != name || m.From.Addr != "support@hotline.example" {
			t.Errorf("name %q comes back as %+v", name, m.From)
		}
	}
}

func TestComposeReferences(t *testing.T) {
	o := agentReply
	o.References = nil
	for i := range 60 {
		o.References = append(o.References, fmt.Sprintf("<%032d.ticket-thread@hotline.example>", i))
	}
	o.References = append(o.References, "<00000000000000000000000000000005.ticket-thread@hotline.example>", "no-brackets@example.com")
	o.InReplyTo = "<00000000000000000000000000000059.ticket-thread@hotline.example>"
	raw, _, err := Compose(o)
	if err != nil {
		t.Fatal(err)
	}
	_, head := headerOf(t, raw)
	for _, line := range strings.Split(head, "\r\n") {
		if len(line) > 998 {
			t.Fatalf("References line is %d characters", len(line))
		}
	}
	m, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.References) != maxReferences {
		t.Fatalf("%d references, want %d", len(m.References), maxReferences)
	}
	if first := m.References[0]; first != fmt.Sprintf("%032d.ticket-thread@hotline.example", 0) {
		t.Errorf("the thread's first message was dropped: %q", first)
	}
	if last := m.References[len(m.References)-1]; last != "00000000000000000000000000000059.ticket-thread@hotline.example" {
		t.Errorf("References ends with %q, want the In-Reply-To id", last)
	}
	if !slices.Contains(m.References, "no-brackets@example.com") {
		t.Error("an id given without brackets was dropped")
	}
	seen := map[string]bool{}
	for _, r := range m.References {
		if seen[r] {
			t.Errorf("%q twice in References", r)
		}
		seen[r] = true
	}
}

func TestComposeErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Outgoing)
	}{
		{"no from", func(o *Outgoing) { o.From.Addr = "" }},
		{"bad from", func(o *Outgoing) { o.From.Addr = "not an address" }},
		{"bad to", func(o *Outgoing) { o.To.Addr = "wang@" }},
		{"to with a display name inside", func(o *Outgoing) { o.To.Addr = "Wang <wang@example.cn>" }},
		{"no text", func(o *Outgoing) { o.Text = " \n\t" }},
		{"bad domain", func(o *Outgoing) { o.Domain = "hotline example" }},
	}
	for _, tt := range tests {
		o := agentReply
		tt.edit(&o)
		if _, _, err := Compose(o); err == nil {
			t.Errorf("%s: Compose accepted it", tt.name)
		}
	}

	o := agentReply
	o.Domain, o.Date = "", time.Time{}
	raw, id, err := Compose(o)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(id, "@hotline.example") {
		t.Errorf("without Domain the id is %q, want the From domain", id)
	}
	if m, _ := Parse(raw); m == nil || time.Since(m.Date) > time.Minute {
		t.Error("without Date the message is not dated now")
	}
}
