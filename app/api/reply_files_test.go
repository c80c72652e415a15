package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/delivery"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

type formFile struct {
	field, name string
	content     []byte
}

// multipartBody is a form with fields and files, as a browser or curl -F sends it.
func multipartBody(t *testing.T, fields map[string]string, files ...formFile) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for k, v := range fields {
		w.WriteField(k, v) //nolint:errcheck // writes to a buffer
	}
	for _, f := range files {
		fw, err := w.CreateFormFile(f.field, f.name)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(f.content) //nolint:errcheck // writes to a buffer
	}
	w.Close()
	return w.FormDataContentType(), b.Bytes()
}

func TestReplyWithFiles(t *testing.T) {
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{3}, 500)...)
	big := append(bytes.Clone(png[:8]), make([]byte, 6<<20)...)
	huge := append(bytes.Clone(png[:8]), make([]byte, 11<<20)...)
	cases := []struct {
		name   string
		fields map[string]string
		files  []formFile
		token  bool
		status int
		want   string // words of the refusal
	}{
		{"picture by MMS", map[string]string{"body": "请填写表格"}, []formFile{{"files", "表格.png", png}}, true, 201, ""},
		{"text only, as a form", map[string]string{"body": "ok"}, nil, true, 201, ""},
		{"PDF by MMS", map[string]string{"body": "x"}, []formFile{{"files", "a.pdf", []byte("%PDF-1.4")}}, true, 400, "sms takes only"},
		{"over the MMS limit", map[string]string{"body": "x"}, []formFile{{"files", "a.png", big}}, true, 400, "at most 5.0 MB"},
		{"over every channel's limit", map[string]string{"body": "x"}, []formFile{{"files", "a.png", huge}}, true, 413, "too large"},
		{"unknown field", map[string]string{"body": "x", "priority": "high"}, nil, true, 400, "unknown field"},
		{"picture, then resolved", map[string]string{"body": "请填写表格", "status": "resolved"}, []formFile{{"files", "表格.png", png}}, true, 201, ""},
		{"unknown status refuses the files too", map[string]string{"body": "x", "status": "done"}, []formFile{{"files", "a.png", png}}, true, 400, "unknown status"},
		{"file under another name", map[string]string{"body": "x"}, []formFile{{"attachment", "a.png", png}}, true, 400, "unknown file field"},
		{"no token", map[string]string{"body": "x"}, []formFile{{"files", "a.png", png}}, false, 401, ""},
	}
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				res, err := e.svc.Intake(context.Background(), tickettest.SMS(fmt.Sprintf("+86139001390%02d", i), "my claim", ""))
				if err != nil {
					t.Fatal(err)
				}
				ref := res.Ticket.Ref()
				ctype, body := multipartBody(t, tc.fields, tc.files...)
				req := newRequest(t, "POST", "/api/v1/tickets/"+ref+"/replies", string(body))
				req.Header.Set("Content-Type", ctype)
				if tc.token {
					req.Header.Set("Authorization", "Bearer "+e.tok["agent1"])
				}
				status, _, js := send(t, e.app, req)
				wantStatus(t, status, js, tc.status)
				if status >= 400 {
					if msg, _ := js["error"].(string); !strings.Contains(msg, tc.want) {
						t.Fatalf("error %q, want it to say %q", msg, tc.want)
					}
					n, err := db.NewSelect().Table("messages").Where("ticket_id = ? AND direction = ?", res.Ticket.ID, tickets.DirectionOutbound).Count(context.Background())
					if err != nil || n != 0 {
						t.Fatalf("%d replies stored after a refusal (%v)", n, err)
					}
					return
				}
				var st tickets.Status
				if err := db.NewSelect().Table("tickets").Column("status").Where("id = ?", res.Ticket.ID).Scan(context.Background(), &st); err != nil {
					t.Fatal(err)
				}
				if want := tickets.Status(tc.fields["status"]); want != "" && st != want {
					t.Errorf("ticket is %s after a reply with status %s", st, want)
				}
				atts := getA(js, "attachments")
				if len(atts) != len(tc.files) {
					t.Fatalf("%d attachments, want %d: %v", len(atts), len(tc.files), js)
				}
				for _, a := range atts {
					if getS(a, "filename") != "表格.png" || getS(a, "content_type") != "image/png" {
						t.Errorf("attachment %v", a)
					}
					dl := newRequest(t, "GET", getS(a, "download_url"), nil)
					dl.Header.Set("Authorization", "Bearer "+e.tok["agent1"])
					r, err := e.app.Test(dl, -1)
					if err != nil {
						t.Fatal(err)
					}
					got, _ := io.ReadAll(r.Body)
					if r.StatusCode != 200 || !bytes.Equal(got, png) {
						t.Errorf("download %s: %d, %d bytes", getS(a, "download_url"), r.StatusCode, len(got))
					}
				}
			})
		}
		// JSON still works, and a failed send says why in words the console translates.
		res, err := e.svc.Intake(context.Background(), tickettest.SMS("+8613900139099", "hello", ""))
		if err != nil {
			t.Fatal(err)
		}
		js := e.mustAct(t, "agent1", res.Ticket.Ref(), "replies", map[string]any{"body": "we called"})
		id := int64(getN(js, "id"))
		if err := delivery.New(e.svc).MarkSent(context.Background(), id, "SMfail", "sent"); err != nil {
			t.Fatal(err)
		}
		if _, err := delivery.New(e.svc).UpdateDelivery(context.Background(), tickets.ChannelSMS, "SMfail", "undelivered", "30007"); err != nil {
			t.Fatal(err)
		}
		status, d := e.do(t, "GET", "/api/v1/tickets/"+res.Ticket.Ref(), "agent1", nil)
		wantStatus(t, status, d, 200)
		msgs := getA(d, "messages")
		f, _ := msgs[len(msgs)-1]["delivery_failure"].(map[string]any)
		if f["kind"] != tickets.FailBlocked || f["code"] != "30007" {
			t.Errorf("delivery_failure = %v, want blocked 30007", msgs[len(msgs)-1])
		}
	})
}
