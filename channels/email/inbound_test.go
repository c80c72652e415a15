package email

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hotlinedesk/hotline/tickets"
)

func TestToInbound(t *testing.T) {
	m, err := Parse(readFixture(t, "attachments.eml"))
	if err != nil {
		t.Fatal(err)
	}
	in := ToInbound(m)
	want := tickets.Inbound{
		Channel:           tickets.ChannelEmail,
		ProviderMessageID: "1a2b3c4d.5e6f.7a8b.9c0d.e1f2a3b4c5d6@example.cn",
		From:              tickets.IdentityEmail,
		Address:           "zhou.jie@example.cn",
		Name:              "周杰",
		Subject:           "发票和截图",
		Body:              "您好，附件是发票和付款截图，请核对。\n\n周杰",
		Attachments: []tickets.NewAttachment{
			{Filename: "image001.png", ContentType: "image/png", SizeBytes: 70},
			{Filename: "发票.pdf", ContentType: "application/pdf", SizeBytes: 329},
			{Filename: "2026年11月对账单-上海某某贸易有限公司.xlsx", ContentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", SizeBytes: 772},
		},
	}
	if in.Channel != want.Channel || in.ProviderMessageID != want.ProviderMessageID || in.From != want.From ||
		in.Address != want.Address || in.Name != want.Name || in.Subject != want.Subject || in.Body != want.Body ||
		!slices.EqualFunc(in.Attachments, want.Attachments, sameFile) || !in.ReceivedAt.IsZero() || in.TicketID != 0 {
		t.Errorf("ToInbound =\n%+v\nwant\n%+v", in, want)
	}
	if normalized, err := tickets.NormalizeEmail(in.Address); err != nil || normalized != in.Address {
		t.Errorf("the address %q is not in the form tickets stores: %q %v", in.Address, normalized, err)
	}
}

// sameFile compares an attachment with one expected without its content, and checks the
// content came along whole.
func sameFile(got, want tickets.NewAttachment) bool {
	return got.Filename == want.Filename && got.ContentType == want.ContentType && got.SizeBytes == want.SizeBytes &&
		got.URL == want.URL && int64(len(got.Content)) == got.SizeBytes
}

func TestToInboundBody(t *testing.T) {
	gbk, err := Parse(readFixture(t, "gbk.eml"))
	if err != nil {
		t.Fatal(err)
	}
	if in := ToInbound(gbk); in.Body != gbkReply || in.Locale != "zh-CN" || in.Name != gbkName {
		t.Errorf("GBK message: body %q, locale %q, name %q", in.Body, in.Locale, in.Name)
	}

	// With no plain text, the body is read from the HTML, without its quote.
	m := &Message{From: Address{"", "a@example.com"}, HTML: "<p>New words</p><blockquote>old words</blockquote>"}
	if in := ToInbound(m); in.Body != "New words" {
		t.Errorf("HTML-only body = %q", in.Body)
	}

	// A body over the limit tickets accepts is cut at a character boundary.
	m = &Message{From: Address{"", "a@example.com"}, Text: strings.Repeat("退", MaxInboundBody)}
	in := ToInbound(m)
	if len(in.Body) > MaxInboundBody || !utf8.ValidString(in.Body) || !strings.HasSuffix(in.Body, "[…]") {
		t.Errorf("long body: %d bytes, valid %v, ends %q", len(in.Body), utf8.ValidString(in.Body), in.Body[len(in.Body)-10:])
	}
}
