package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/files/filestest"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// A kept file streams from where it is (the file store or the database) with byte ranges, as
// an audio player asks for them: 206 with Content-Range, 416 past the end, the whole file for
// several ranges; the safe headers and the sign-in check are those of every download.
func TestAttachmentRanges(t *testing.T) {
	for _, where := range []string{"database", "local", "s3"} {
		t.Run(where, func(t *testing.T) {
			tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
				e := newEnv(t, db)
				switch where {
				case "local":
					e.svc.SetFileStore(filestest.Local(t))
				case "s3":
					e.svc.SetFileStore(filestest.NewS3(t, "hotline-files").Open(t, "hotline-files", "desk"))
				}
				audio := make([]byte, 300_000)
				for i := range audio {
					audio[i] = byte(i * 7 % 251)
				}
				copy(audio, "ID3")
				res, err := e.svc.Intake(context.Background(), tickets.Inbound{Channel: tickets.ChannelEmail, From: tickets.IdentityEmail,
					Address: "zhou-" + where + "@example.cn", Subject: "录音", Body: "见附件", ProviderMessageID: "<rec-" + where + "@x>",
					Attachments: []tickets.NewAttachment{{Filename: "call.mp3", ContentType: "audio/mpeg", SizeBytes: int64(len(audio)), Content: audio}}})
				if err != nil {
					t.Fatal(err)
				}
				status, d := e.do(t, "GET", "/api/v1/tickets/"+res.Ticket.Ref(), "agent1", nil)
				wantStatus(t, status, d, 200)
				url := getS(getA(getA(d, "messages")[0], "attachments")[0], "download_url")
				get := func(rng, token string) (*http.Response, []byte) {
					req := newRequest(t, "GET", url, nil)
					if token != "" {
						req.Header.Set("Authorization", "Bearer "+token)
					}
					if rng != "" {
						req.Header.Set("Range", rng)
					}
					r, err := e.app.Test(req, -1)
					if err != nil {
						t.Fatal(err)
					}
					body, _ := io.ReadAll(r.Body)
					return r, body
				}
				n := len(audio)
				r, body := get("", e.tok["agent1"])
				if r.StatusCode != 200 || !bytes.Equal(body, audio) || r.Header.Get("Accept-Ranges") != "bytes" ||
					r.Header.Get("Content-Type") != "audio/mpeg" || r.Header.Get("X-Content-Type-Options") != "nosniff" ||
					r.Header.Get("Content-Disposition") != `inline; filename=call.mp3` {
					t.Fatalf("whole file: %d, %d bytes, %v", r.StatusCode, len(body), r.Header)
				}
				// What a player asks: the start, a seek to the middle, the tail, past the end.
				for _, c := range []struct {
					rng        string
					status     int
					from, to   int // the bytes expected, [from, to)
					contentRng string
				}{
					{"bytes=0-", 206, 0, n, fmt.Sprintf("bytes 0-%d/%d", n-1, n)},
					{"bytes=0-65535", 206, 0, 65536, fmt.Sprintf("bytes 0-65535/%d", n)},
					{"bytes=150000-", 206, 150000, n, fmt.Sprintf("bytes 150000-%d/%d", n-1, n)},
					{"bytes=299000-400000", 206, 299000, n, fmt.Sprintf("bytes 299000-%d/%d", n-1, n)},
					{"bytes=-1000", 206, n - 1000, n, fmt.Sprintf("bytes %d-%d/%d", n-1000, n-1, n)},
					{"bytes=300000-", 416, 0, 0, fmt.Sprintf("bytes */%d", n)},
					{"bytes=0-10,20-30", 200, 0, n, ""},
				} {
					r, body := get(c.rng, e.tok["agent1"])
					if r.StatusCode != c.status || r.Header.Get("Content-Range") != c.contentRng {
						t.Errorf("%s: %d %q, want %d %q", c.rng, r.StatusCode, r.Header.Get("Content-Range"), c.status, c.contentRng)
						continue
					}
					if c.status != 416 && !bytes.Equal(body, audio[c.from:c.to]) {
						t.Errorf("%s: %d bytes, not bytes %d-%d of the file", c.rng, len(body), c.from, c.to)
					}
					if r.Header.Get("X-Content-Type-Options") != "nosniff" {
						t.Errorf("%s: sniffable", c.rng)
					}
				}
				if r, _ := get("bytes=0-9", ""); r.StatusCode != 401 {
					t.Errorf("a range without signing in: %d", r.StatusCode)
				}
			})
		})
	}
}
