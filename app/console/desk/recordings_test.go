package desk_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"

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
		d := consoletest.NewDesk(t, db, func(c *console.Config) {
			c.Recordings = twilio.NewRecordings(twilio.Config{AccountSID: voicetest.AccountSID, AuthToken: voicetest.AuthToken, APIURL: media.URL})
		})
		sid := "RE" + strings.Repeat("2", 32)
		audio := []byte(strings.Repeat("mp3 frame ", 40))
		media.Put(sid, audio)
		res, err := d.Service.Intake(context.Background(), tickets.Inbound{Channel: tickets.ChannelPhone, From: tickets.IdentityPhone,
			Address: "+8613800138000", ProviderMessageID: "voicemail:CA1", Merge: true, Subject: "电话留言 Voicemail", Body: tickets.VoicemailAwaits,
			Attachments: []tickets.NewAttachment{{Filename: "recording-" + sid + ".mp3", ContentType: "audio/mpeg",
				URL: voicetest.RecordingURL(sid) + ".mp3", Provider: tickets.ProviderTwilio}}})
		if err != nil {
			t.Fatal(err)
		}
		td, err := d.Service.Ticket(context.Background(), res.Ticket.Ref())
		if err != nil {
			t.Fatal(err)
		}
		src := "/attachments/" + consoletest.ID(td.Messages[0].Attachments[0].ID)

		b := d.SignIn(d.Agent)
		page := b.Get("/tickets/" + res.Ticket.Ref())
		consoletest.WantStatus(t, page, 200)
		consoletest.WantContains(t, page, `<audio controls preload="none" src="`+src+`"></audio>`,
			`href="`+src+`"`, `download="recording-`+sid+`.mp3"`, "录音留言，请收听录音。", "Voicemail: please listen to the recording.")
		consoletest.WantLacks(t, page, "api.twilio.com", media.URL)

		// The browser's player asks for a range to seek; Twilio is asked with the credentials.
		req := httptest.NewRequest(http.MethodGet, src, nil)
		req.Header.Set("Range", "bytes=100-199")
		r := b.Do(req)
		if r.Status != 206 || r.Body != string(audio[100:200]) || r.Header.Get("Content-Range") != "bytes 100-199/400" ||
			r.Header.Get("Content-Type") != "audio/mpeg" {
			t.Errorf("range: %d %q %v", r.Status, r.Body, r.Header)
		}
		if r := b.Get(src); r.Status != 200 || r.Body != string(audio) {
			t.Errorf("whole file: %d %d bytes", r.Status, len(r.Body))
		}
		before, refused, _ := media.Requests()
		if before != 2 || refused != 0 {
			t.Errorf("Twilio: %d requests, %d without credentials", before, refused)
		}

		// Signed out: to the sign-in page, and Twilio is not asked.
		if r := d.Browser().Get(src); r.Status != 303 || !strings.HasPrefix(r.Location, "/login") {
			t.Errorf("signed out: %d %q", r.Status, r.Location)
		}
		if after, _, _ := media.Requests(); after != before {
			t.Error("a signed-out request reached Twilio")
		}
	})
}
