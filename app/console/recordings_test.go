package console_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/app/console"
	"github.com/hotlinedesk/hotline/channels/twilio"
	"github.com/hotlinedesk/hotline/channels/voice/voicetest"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// The ticket page plays a voicemail with an <audio> player and offers it for download,
// both from Hotline's own address: Twilio's needs the account's credentials, which the
// browser never has. The recording streams through Hotline with byte ranges, for
// signed-in agents only.
func TestVoicemailPlaysOnTheTicketPage(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		media := voicetest.NewMedia(t)
		d := newDesk(t, db, func(c *console.Config) {
			c.Recordings = twilio.NewRecordings(twilio.Config{AccountSID: voicetest.AccountSID, AuthToken: voicetest.AuthToken, APIURL: media.URL})
		})
		sid := "RE" + strings.Repeat("2", 32)
		audio := []byte(strings.Repeat("mp3 frame ", 40))
		media.Put(sid, audio)
		res, err := d.svc.Intake(context.Background(), tickets.Inbound{Channel: tickets.ChannelPhone, From: tickets.IdentityPhone,
			Address: "+8613800138000", ProviderMessageID: "voicemail:CA1", Merge: true, Subject: "电话留言 Voicemail", Body: tickets.VoicemailAwaits,
			Attachments: []tickets.NewAttachment{{Filename: "recording-" + sid + ".mp3", ContentType: "audio/mpeg",
				URL: voicetest.RecordingURL(sid) + ".mp3", Provider: tickets.ProviderTwilio}}})
		if err != nil {
			t.Fatal(err)
		}
		td, err := d.svc.Ticket(context.Background(), res.Ticket.Ref())
		if err != nil {
			t.Fatal(err)
		}
		src := "/attachments/" + itoa64(td.Messages[0].Attachments[0].ID)

		b := d.signIn(d.agent)
		page := b.get("/tickets/" + res.Ticket.Ref())
		wantStatus(t, page, 200)
		wantContains(t, page, `<audio controls preload="none" src="`+src+`"></audio>`,
			`href="`+src+`"`, `download="recording-`+sid+`.mp3"`, "录音留言，请收听录音。", "Voicemail: please listen to the recording.")
		wantLacks(t, page, "api.twilio.com", media.URL)

		// The browser's player asks for a range to seek; Twilio is asked with the credentials.
		req := httptest.NewRequest(http.MethodGet, src, nil)
		req.Header.Set("Range", "bytes=100-199")
		r := b.do(req)
		if r.status != 206 || r.body != string(audio[100:200]) || r.header.Get("Content-Range") != "bytes 100-199/400" ||
			r.header.Get("Content-Type") != "audio/mpeg" {
			t.Errorf("range: %d %q %v", r.status, r.body, r.header)
		}
		if r := b.get(src); r.status != 200 || r.body != string(audio) {
			t.Errorf("whole file: %d %d bytes", r.status, len(r.body))
		}
		before, refused, _ := media.Requests()
		if before != 2 || refused != 0 {
			t.Errorf("Twilio: %d requests, %d without credentials", before, refused)
		}

		// Signed out: to the sign-in page, and Twilio is not asked.
		if r := d.browser().get(src); r.status != 303 || !strings.HasPrefix(r.location, "/login") {
			t.Errorf("signed out: %d %q", r.status, r.location)
		}
		if after, _, _ := media.Requests(); after != before {
			t.Error("a signed-out request reached Twilio")
		}
	})
}
