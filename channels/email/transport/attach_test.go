package transport

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hotlinedesk/hotline/channels"
	"github.com/hotlinedesk/hotline/channels/email"
)

// An agent's reply with files reaches the relay as one message whose attachments a mail
// reader (Hotline's own parser here) finds by name, type and content.
func TestReplyWithFilesThroughTheRelay(t *testing.T) {
	r := startRelay(t, &relay{}, relayPlain, 0)
	smtp := mustSender(t, "smtp://"+r.addr+"?from=support@hotline.example")
	pdf := []byte("%PDF-1.4\n" + strings.Repeat("binary \x00\xff stream ", 200))
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0, 1, 2, 0xfe}, 100)...)
	out := channels.Outbound{MessageID: 7, To: "customer@example.org", Subject: "理赔进度", Ref: "HL-000123",
		Body: "请查收理赔表。\nPlease find the claim form attached.", InReplyTo: "abc@example.org",
		Files: []channels.File{
			{Filename: "理赔申请表.pdf", ContentType: "application/pdf", Content: pdf},
			{Filename: "photo 1.png", ContentType: "image/png", Content: png},
		}}
	sender := email.NewSender(email.Address{Addr: "support@hotline.example"}, "hotline.example", smtp.Send, IsPermanent)
	if _, err := sender.Send(ctx5s(t), out); err != nil {
		t.Fatal(err)
	}
	txns := r.transactions()
	if len(txns) != 1 {
		t.Fatalf("%d transactions at the relay, want 1", len(txns))
	}
	m, err := email.Parse(txns[0].raw)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Text, "请查收理赔表") || len(m.Defects) > 0 {
		t.Errorf("text = %q, defects %v", m.Text, m.Defects)
	}
	if len(m.Attachments) != len(out.Files) {
		t.Fatalf("%d attachments arrived, want %d", len(m.Attachments), len(out.Files))
	}
	for i, a := range m.Attachments {
		f := out.Files[i]
		if a.Filename != f.Filename || a.ContentType != f.ContentType || !bytes.Equal(a.Content, f.Content) || a.Inline {
			t.Errorf("attachment %d = %q %s (%d bytes, inline %v), want %q %s (%d bytes)", i, a.Filename, a.ContentType, len(a.Content), a.Inline,
				f.Filename, f.ContentType, len(f.Content))
		}
	}
}
