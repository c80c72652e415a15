package desk_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/delivery"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

var png = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{5}, 300)...)

// postReply sends the composer's form as the browser does with a file chosen.
func postReply(t *testing.T, b *consoletest.Browser, ref, csrf string, fields url.Values, name string, content []byte) consoletest.Response {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if csrf != "" {
		w.WriteField("_csrf", csrf) //nolint:errcheck // writes to a buffer
	}
	for k, vs := range fields {
		w.WriteField(k, vs[0]) //nolint:errcheck // writes to a buffer
	}
	fw, _ := w.CreateFormFile("files", name)
	fw.Write(content) //nolint:errcheck // writes to a buffer
	w.Close()
	req := httptest.NewRequest(http.MethodPost, "/tickets/"+ref+"/reply", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Referer", "http://example.com/tickets/"+ref)
	return b.Do(req)
}

func TestComposerSendsFiles(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := consoletest.NewDesk(t, db)
		tk := d.SMS("+8613800138001", "请把理赔表发给我")
		b := d.SignIn(d.Agent)
		page := b.Get("/tickets/" + tk.Ref())
		// The limits are said before sending, on the channel's option.
		consoletest.WantContains(t, page, `enctype="multipart/form-data"`, `name="files"`,
			`data-files="最多 10 个文件，共 5 MB；格式：gif, jpeg, jpg, png"`, `data-max-file="5242880"`)

		for _, tc := range []struct {
			name     string
			csrf     string
			file     string
			content  []byte
			status   int
			stored   int
			flashing string
		}{
			{"picture", b.CSRF, "理赔表.png", png, 303, 1, ""},
			{"PDF by SMS", b.CSRF, "policy.pdf", []byte("%PDF-1.4"), 303, 1, "policy.pdf：此渠道只支持 gif, jpeg, jpg, png。"},
			{"no form token", "", "a.png", png, 403, 1, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := postReply(t, b, tk.Ref(), tc.csrf, url.Values{"body": {"请查收"}, "channel": {"sms"}}, tc.file, tc.content)
				consoletest.WantStatus(t, res, tc.status)
				n, err := db.NewSelect().Table("attachments").Count(context.Background())
				if err != nil || n != tc.stored {
					t.Fatalf("%d attachments stored (%v), want %d", n, err, tc.stored)
				}
				if tc.flashing != "" {
					consoletest.WantContains(t, b.Get("/tickets/"+tk.Ref()), tc.flashing)
				}
			})
		}
		consoletest.WantContains(t, b.Get("/tickets/"+tk.Ref()), "理赔表.png", `<img src="/attachments/`)
	})
}

func TestFailedSendIsShownWithItsReason(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := consoletest.NewDesk(t, db)
		tk := d.SMS("+8613800138001", "理赔进度？")
		for _, code := range []string{"30003", "63999", ""} {
			m, err := d.Service.Reply(ctx, tickets.AgentActor(d.Agent), tk.Ref(), "已回电 "+code)
			if err != nil {
				t.Fatal(err)
			}
			sid := consoletest.NextSid()
			if err := delivery.New(d.Service).MarkSent(ctx, m.ID, sid, "sent"); err != nil {
				t.Fatal(err)
			}
			if code == "" { // still on its way: nothing to say
				continue
			}
			if _, err := delivery.New(d.Service).UpdateDelivery(ctx, tickets.ChannelSMS, sid, "undelivered", code); err != nil {
				t.Fatal(err)
			}
		}
		b := d.SignIn(d.Agent)
		zh := b.Get("/tickets/" + tk.Ref())
		consoletest.WantContains(t, zh, `class="send-failed"`, "未送达", "客户手机关机或不在服务区（错误代码 30003）", "未知原因（错误代码 63999）")
		consoletest.WantStatus(t, b.Post("/settings/language", url.Values{"lang": {"en"}}), 303)
		en := b.Get("/tickets/" + tk.Ref())
		consoletest.WantContains(t, en, "Not delivered", "The customer&#39;s phone is off or out of coverage (error code 30003)", "Unknown reason (error code 63999)")
		if n := bytes.Count([]byte(en.Body), []byte(`class="send-failed"`)); n != 2 {
			t.Errorf("%d failure notes on the page, want 2 (the sent reply has none)", n)
		}
	})
}
