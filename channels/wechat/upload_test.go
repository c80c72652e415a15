package wechat_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/hotlinedesk/hotline/channels"
	"github.com/hotlinedesk/hotline/channels/wechat"
	"github.com/hotlinedesk/hotline/channels/wechat/wechattest"
)

// A reply with a picture: the picture is uploaded as temporary media, then the text and an
// image message naming its media_id are sent, in that order.
func TestSendPicture(t *testing.T) {
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 300)...)
	for _, tc := range []struct {
		name      string
		file      channels.File
		sendCodes []int
		revoke    bool
		sent      int    // customer-service messages WeChat took
		permanent string // words of a permanent refusal; "" means sent
	}{
		{"picture", channels.File{Filename: "理赔表.png", ContentType: "image/png", Content: png}, nil, false, 2, ""},
		{"after the token was revoked", channels.File{Filename: "a.png", ContentType: "image/png", Content: png}, nil, true, 2, ""},
		{"type WeChat refuses", channels.File{Filename: "a.pdf", ContentType: "application/pdf", Content: []byte("%PDF-1.4")}, nil, false, 0, "WeChat error 40005"},
		{"window closed", channels.File{Filename: "a.png", ContentType: "image/png", Content: png}, []int{45015}, false, 0, "48 hours"},
		{"text went, picture refused", channels.File{Filename: "a.png", ContentType: "image/png", Content: png}, []int{0, 40007}, false, 1, "the text was sent but not the picture: WeChat error 40007"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := wechattest.NewMediaAPI(t, "s3cret")
			mr := miniredis.RunT(t)
			c := wechat.NewClient(api.URL, appID, "s3cret", redis.NewClient(&redis.Options{Addr: mr.Addr()}))
			ctx := context.Background()
			if tc.revoke {
				if _, err := c.Send(ctx, channels.Outbound{MessageID: 1, To: "oCustomer", Body: "first"}); err != nil {
					t.Fatal(err)
				}
				api.Revoke()
			}
			before := len(api.Sent())
			api.SendCodes = tc.sendCodes
			id, err := c.Send(ctx, channels.Outbound{MessageID: 42, To: "oCustomer", Body: "请查收", Files: []channels.File{tc.file}})
			sent := api.Sent()[before:]
			if len(sent) != tc.sent {
				t.Fatalf("WeChat took %d messages, want %d: %v", len(sent), tc.sent, sent)
			}
			if tc.permanent != "" {
				if !channels.IsPermanent(err) || !strings.Contains(err.Error(), tc.permanent) {
					t.Fatalf("err = %v, want a permanent refusal saying %q", err, tc.permanent)
				}
				return
			}
			if err != nil || id != "wechat-out:42" {
				t.Fatalf("Send = %q, %v", id, err)
			}
			if sent[0]["msgtype"] != "text" || sent[0]["text"].(map[string]any)["content"] != "请查收" {
				t.Errorf("first message = %v, want the text", sent[0])
			}
			img, _ := sent[1]["image"].(map[string]any)
			if sent[1]["msgtype"] != "image" || sent[1]["touser"] != "oCustomer" || img == nil {
				t.Fatalf("second message = %v, want an image message", sent[1])
			}
			f, ok := api.File(img["media_id"].(string))
			if !ok || f.ContentType != "image/png" || !bytes.Equal(f.Content, png) || f.Filename != "file.png" {
				t.Errorf("media %v holds %q %s (%d bytes), want the picture", img["media_id"], f.Filename, f.ContentType, len(f.Content))
			}
		})
	}
}
