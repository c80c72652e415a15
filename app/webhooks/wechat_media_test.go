package webhooks_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/app/webhooks"
	"github.com/hotlinedesk/hotline/channels/wechat"
	"github.com/hotlinedesk/hotline/channels/wechat/wechattest"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// wxMediaPush is a push as WeChat sends it: the common elements, then the type's own.
func wxMediaPush(msgType, msgID, elements string) string {
	return fmt.Sprintf(`<xml><ToUserName><![CDATA[gh_desk]]></ToUserName><FromUserName><![CDATA[oMediaCustomer]]></FromUserName><CreateTime>%d</CreateTime><MsgType><![CDATA[%s]]></MsgType>%s<MsgId>%s</MsgId></xml>`,
		wxNow.Unix(), msgType, elements, msgID)
}

func TestWeChatEveryTypeStoredWithItsFile(t *testing.T) {
	jpeg := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte("jpeg"), 2000)...)
	amr := append([]byte("#!AMR\n"), bytes.Repeat([]byte{3}, 500)...)
	mp4 := append([]byte("\x00\x00\x00\x18ftypmp42"), bytes.Repeat([]byte("mp4"), 3000)...)
	short := append([]byte("\x00\x00\x00\x18ftypisom"), bytes.Repeat([]byte("short"), 1000)...)

	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		media := wechattest.NewMediaAPI(t, "s3cret")
		media.Put("IMG_MEDIA", wechattest.File{ContentType: "image/jpeg", Filename: "IMG_MEDIA.jpg", Content: jpeg})
		media.Put("VOICE_MEDIA", wechattest.File{ContentType: "audio/amr", Filename: "VOICE_MEDIA.amr", Content: amr})
		media.Put("VIDEO_MEDIA", wechattest.File{ContentType: "video/mp4", Filename: "VIDEO_MEDIA.mp4", Content: mp4, VideoURL: true})
		media.Put("SHORT_MEDIA", wechattest.File{ContentType: "video/mp4", Filename: "SHORT_MEDIA.mp4", Content: short})
		media.Put("EXPIRED_MEDIA", wechattest.File{ErrCode: 40007})
		media.Put("HUGE_MEDIA", wechattest.File{ContentType: "audio/amr", Filename: "HUGE.amr", Content: make([]byte, wechat.MaxVoiceBytes+1)})
		media.Put("SLOW_MEDIA", wechattest.File{Hang: true})

		clock := tickettest.NewClock(wxNow.Add(time.Minute))
		svc := tickettest.Service(db, clock)
		log := tickettest.Logger()
		client := wechat.NewClient(media.URL, wxAppID, "s3cret", redis.NewClient(&redis.Options{Addr: miniredis.RunT(t).Addr()}))
		wc, err := webhooks.NewWeChat(svc, webhooks.WeChatConfig{Token: wxToken, AppID: wxAppID, Clock: clock,
			Media: client, MediaTimeout: 200 * time.Millisecond}, log)
		if err != nil {
			t.Fatal(err)
		}
		d := &wxDesk{svc: svc, db: db, clock: clock, plainApp: api.New(api.Config{Service: svc, Log: log, Webhooks: []interface{ Register(*fiber.App) }{wc}})}

		for _, tc := range []struct {
			name, msgType, msgID, elements string
			body                           []string // what the stored message says
			file                           []byte   // the attachment's stored file; nil: no file kept
			ctype                          string
			attachments                    int
		}{
			{name: "text", msgType: "text", msgID: "24000000000000001", elements: `<Content><![CDATA[我的订单还没到]]></Content>`,
				body: []string{"我的订单还没到"}},
			{name: "image", msgType: "image", msgID: "24000000000000002", elements: `<PicUrl><![CDATA[http://mmbiz.qpic.cn/mmbiz_jpg/abc/0]]></PicUrl><MediaId><![CDATA[IMG_MEDIA]]></MediaId>`,
				body: []string{"image"}, file: jpeg, ctype: "image/jpeg", attachments: 1},
			{name: "voice", msgType: "voice", msgID: "24000000000000003", elements: `<MediaId><![CDATA[VOICE_MEDIA]]></MediaId><Format><![CDATA[amr]]></Format><Recognition><![CDATA[退款什么时候到账]]></Recognition>`,
				body: []string{"退款什么时候到账"}, file: amr, ctype: "audio/amr", attachments: 1},
			{name: "video", msgType: "video", msgID: "24000000000000004", elements: `<MediaId><![CDATA[VIDEO_MEDIA]]></MediaId><ThumbMediaId><![CDATA[THUMB]]></ThumbMediaId>`,
				body: []string{"video"}, file: mp4, ctype: "video/mp4", attachments: 1},
			{name: "shortvideo", msgType: "shortvideo", msgID: "24000000000000005", elements: `<MediaId><![CDATA[SHORT_MEDIA]]></MediaId><ThumbMediaId><![CDATA[THUMB]]></ThumbMediaId>`,
				body: []string{"short video"}, file: short, ctype: "video/mp4", attachments: 1},
			{name: "location", msgType: "location", msgID: "24000000000000006", elements: `<Location_X>23.134521</Location_X><Location_Y>113.358803</Location_Y><Scale>20</Scale><Label><![CDATA[广州市天河区]]></Label>`,
				body: []string{"广州市天河区", "23.134521"}},
			{name: "link", msgType: "link", msgID: "24000000000000007", elements: `<Title><![CDATA[订单详情]]></Title><Description><![CDATA[订单 123]]></Description><Url><![CDATA[https://example.com/o/123]]></Url>`,
				body: []string{"订单详情", "https://example.com/o/123"}},
			{name: "a type Hotline does not know", msgType: "miniprogrampage", msgID: "24000000000000008", elements: `<Title><![CDATA[商品]]></Title><AppId><![CDATA[wxapp]]></AppId><PagePath><![CDATA[pages/item]]></PagePath>`,
				body: []string{"miniprogrampage"}},
			{name: "expired media: stored, saying so", msgType: "video", msgID: "24000000000000009", elements: `<MediaId><![CDATA[EXPIRED_MEDIA]]></MediaId>`,
				body: []string{"video", "EXPIRED_MEDIA", "40007"}, attachments: 1},
			{name: "voice over WeChat's 2 MB: stored without the file", msgType: "voice", msgID: "24000000000000010", elements: `<MediaId><![CDATA[HUGE_MEDIA]]></MediaId><Format><![CDATA[amr]]></Format>`,
				body: []string{"voice", "HUGE_MEDIA", "limit"}, attachments: 1},
			{name: "media API not answering: stored in time", msgType: "image", msgID: "24000000000000011", elements: `<PicUrl><![CDATA[http://mmbiz.qpic.cn/x]]></PicUrl><MediaId><![CDATA[SLOW_MEDIA]]></MediaId>`,
				body: []string{"image", "SLOW_MEDIA", "timed out"}, attachments: 1},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, answer := d.plain(t, wxMediaPush(tc.msgType, tc.msgID, tc.elements), wxNow)
				if status != 200 || answer != "success" {
					t.Fatalf("answered %d %q", status, answer)
				}
				var m tickets.Message
				err := db.NewSelect().Model(&m).Relation("Attachments").Where("provider_message_id = ?", "msg:"+tc.msgID).Scan(context.Background())
				if err != nil {
					t.Fatalf("message not stored: %v", err)
				}
				for _, want := range tc.body {
					if !strings.Contains(m.Body, want) {
						t.Errorf("message says %q, want it to mention %q", m.Body, want)
					}
				}
				if len(m.Attachments) != tc.attachments {
					t.Fatalf("%d attachments, want %d", len(m.Attachments), tc.attachments)
				}
				if tc.attachments == 0 {
					return
				}
				a := m.Attachments[0]
				if tc.file == nil {
					if a.Stored() {
						t.Errorf("a file was kept for %s", tc.name)
					}
					return
				}
				got, content, err := svc.AttachmentFile(context.Background(), a.ID)
				if err != nil {
					t.Fatalf("the file is not kept: %v", err)
				}
				if !bytes.Equal(content, tc.file) || got.ContentType != tc.ctype || got.SizeBytes != int64(len(tc.file)) {
					t.Errorf("kept %d bytes %q (size %d), want %d bytes %q", len(content), got.ContentType, got.SizeBytes, len(tc.file), tc.ctype)
				}
			})
		}
		// WeChat's retries of a media message store nothing more.
		before := d.count(t, "messages")
		if status, answer := d.plain(t, wxMediaPush("video", "24000000000000004", `<MediaId><![CDATA[VIDEO_MEDIA]]></MediaId>`), wxNow); status != 200 || answer != "success" {
			t.Fatalf("retry answered %d %q", status, answer)
		}
		if n := d.count(t, "messages"); n != before {
			t.Errorf("%d messages after a retry, want %d", n, before)
		}
		if n := media.Fetches("VIDEO_MEDIA"); n != 1 {
			t.Errorf("the video was downloaded %d times, want once", n)
		}
	})
}
