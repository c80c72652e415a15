package web_test

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/app/web"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// The file of an MMS reply is fetchable at its signed link, as Twilio fetches it, and at
// no other address: not without the signature, not with another, not after it expired.
func TestMediaLinks(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		clock := tickettest.NewClock(tickettest.T0)
		d := tickettest.NewDesk(t, tickettest.Service(db, clock), clock)
		log := tickettest.Logger()
		app := api.New(api.Config{Service: d.Svc, Log: log, Webhooks: []interface{ Register(*fiber.App) }{web.NewMediaLinks(d.Svc, log)}})
		png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{9}, 200)...)
		tk := d.Ticket(t, "+8613800138000")
		m, err := d.Svc.ReplyWith(ctx, d.LiNa, tk.Ref(), tickets.ReplyInput{Body: "your form", Files: []tickets.ReplyFile{{Filename: "form.png", Content: png}}})
		if err != nil {
			t.Fatal(err)
		}
		path, err := d.Svc.MediaPath(ctx, m.Attachments[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		get := func(path string) (int, string, []byte) {
			t.Helper()
			r, err := app.Test(httptest.NewRequest("GET", path, nil), -1)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(r.Body)
			return r.StatusCode, r.Header.Get("Content-Type"), b
		}
		if status, ct, body := get(path); status != 200 || ct != "image/png" || !bytes.Equal(body, png) {
			t.Fatalf("GET %s = %d %s (%d bytes), want the picture", path, status, ct, len(body))
		}
		cut := strings.LastIndexByte(path, '/')
		for _, bad := range []string{
			path[:cut],                            // no signature
			path[:cut+1] + "AAAA" + path[cut+5:],  // another signature
			"/media/1/9999999999/" + path[cut+1:], // another file and expiry
			"/media/x/1/y",
		} {
			if status, _, body := get(bad); status != 404 || bytes.Equal(body, png) {
				t.Errorf("GET %s = %d, want 404", bad, status)
			}
		}
		clock.Advance(tickets.MediaLinkTTL + time.Second)
		if status, _, _ := get(path); status != 404 {
			t.Errorf("GET %s after it expired = %d, want 404", path, status)
		}
	})
}
