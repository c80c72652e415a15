package jobs_test

import (
	"bytes"
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/hotlinedesk/hotline/tickets"
)

// A reply with a picture by SMS goes to Twilio as an MMS whose MediaUrl is Hotline's
// signed link to the file; without a public address it fails with a reason that says so.
func TestMMSCarriesASignedMediaURL(t *testing.T) {
	ctx := context.Background()
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{1}, 100)...)
	for _, tc := range []struct {
		name, base string
		failed     string // the failure's kind; "" means sent
	}{
		{"with a public address", "https://desk.example.com/", ""},
		{"without one", "", tickets.FailNoMediaAddress},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newSendDesk(t)
			d.handlers.PublicBaseURL = tc.base
			ref := d.ticketFrom(t, "+8613800138000")
			m, err := d.svc.ReplyWith(ctx, d.admin, ref, tickets.ReplyInput{Body: "请填写附件中的表格。", Files: []tickets.ReplyFile{{Filename: "表格.png", Content: png}}})
			if err != nil {
				t.Fatal(err)
			}
			if err := d.handlers.SendForTest(ctx, m.ID); err != nil {
				t.Fatal(err)
			}
			got := d.message(t, m.ID)
			if tc.failed != "" {
				if got.DeliveryStatus != tickets.DeliveryFailed || tickets.DeliveryFailure(got.DeliveryError).Kind != tc.failed || len(d.fake.sent()) != 0 {
					t.Fatalf("message %s %q, Twilio got %d requests; want failed for want of a public address", got.DeliveryStatus, got.DeliveryError, len(d.fake.sent()))
				}
				return
			}
			posts := d.fake.sent()
			if len(posts) != 1 || got.DeliveryStatus != tickets.DeliverySent {
				t.Fatalf("Twilio got %d requests, message %s", len(posts), got.DeliveryStatus)
			}
			media := posts[0]["MediaUrl"]
			if len(media) != 1 || !strings.HasPrefix(media[0], "https://desk.example.com/media/") || posts[0].Get("Body") != "请填写附件中的表格。" {
				t.Fatalf("request to Twilio: %v", posts[0])
			}
			u, err := url.Parse(media[0])
			if err != nil {
				t.Fatal(err)
			}
			parts := strings.Split(u.Path, "/") // "", "media", id, expires, signature
			a, content, err := d.svc.MediaByLink(ctx, m.Attachments[0].ID, parts[3], parts[4])
			if err != nil || !bytes.Equal(content, png) || a.MessageID != m.ID {
				t.Fatalf("the MediaUrl does not open the file: %v", err)
			}
		})
	}
}
