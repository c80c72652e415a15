package api_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/channels/twilio"
	"github.com/hotlinedesk/hotline/channels/voice/voicetest"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// voicemailWith stores a voicemail whose recording is at url, as the Twilio webhook does,
// and returns the recording's attachment id.
func voicemailWith(t *testing.T, svc *tickets.Service, call, from, url string) (*tickets.IntakeResult, string) {
	t.Helper()
	res, err := svc.Intake(context.Background(), tickets.Inbound{Channel: tickets.ChannelPhone, From: tickets.IdentityPhone, Address: from,
		ProviderMessageID: "voicemail:" + call, Merge: true, Subject: "电话留言 Voicemail", Body: tickets.VoicemailAwaits,
		Attachments: []tickets.NewAttachment{{Filename: "recording.mp3", ContentType: "audio/mpeg", URL: url, Provider: tickets.ProviderTwilio}}})
	if err != nil {
		t.Fatal(err)
	}
	// Read back: PostgreSQL's batched intake does not return attachment ids.
	d, err := svc.Ticket(context.Background(), res.Ticket.Ref())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range d.Messages {
		if m.ID == res.Message.ID && len(m.Attachments) == 1 {
			return res, itoa(m.Attachments[0].ID)
		}
	}
	t.Fatalf("voicemail %s has no recording", call)
	return nil, ""
}

// Agents play a voicemail through Hotline: the API lists Hotline's address as the
// download, and GET /api/v1/attachments/:id fetches the recording from Twilio with the
// account's credentials and streams it, byte ranges included; nobody signed out gets it,
// and an address not on Twilio's API is never fetched.
func TestRecordingPlayback(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		media := voicetest.NewMedia(t)
		recs := twilio.NewRecordings(twilio.Config{AccountSID: voicetest.AccountSID, AuthToken: voicetest.AuthToken, APIURL: media.URL})
		app := api.New(api.Config{Service: e.svc, Log: tickettest.Logger(), Recordings: recs})
		audio := []byte(strings.Repeat("ID3 mp3 frame ", 50))
		sid := "RE" + strings.Repeat("1", 32)
		media.Put(sid, audio)
		res, _ := voicemailWith(t, e.svc, "CA1", "+8613800138000", voicetest.RecordingURL(sid)+".mp3")

		status, js := do(t, app, "GET", "/api/v1/tickets/"+res.Ticket.Ref(), e.tok["agent1"], nil)
		wantStatus(t, status, js, 200)
		att := getA(getA(js, "messages")[0], "attachments")[0]
		download := getS(att, "download_url")
		if download != "/api/v1/attachments/"+itoa(getN(att, "id")) {
			t.Fatalf("download_url %q: a recording must be played through Hotline", download)
		}

		get := func(app *fiber.App, path, token, rng string) (*http.Response, []byte) {
			req := newRequest(t, "GET", path, nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			if rng != "" {
				req.Header.Set("Range", rng)
			}
			r, err := app.Test(req, -1)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(r.Body)
			return r, b
		}
		cases := []struct {
			name, rng    string
			status       int
			body         []byte
			contentRange string
		}{
			{"whole file", "", 200, audio, ""},
			{"a range", "bytes=14-27", 206, audio[14:28], "bytes 14-27/700"},
			{"from an offset", "bytes=690-", 206, audio[690:], "bytes 690-699/700"},
			{"the last bytes", "bytes=-5", 206, audio[695:], "bytes 695-699/700"},
			{"past the end", "bytes=5000-", 416, nil, "bytes */700"},
		}
		for _, c := range cases {
			r, b := get(app, download, e.tok["agent1"], c.rng)
			if r.StatusCode != c.status || string(b) != string(c.body) || r.Header.Get("Content-Range") != c.contentRange {
				t.Errorf("%s: %d %q Content-Range %q; want %d %q %q", c.name, r.StatusCode, b, r.Header.Get("Content-Range"), c.status, c.body, c.contentRange)
			}
			if c.status != 416 && (r.Header.Get("Content-Type") != "audio/mpeg" || r.Header.Get("Accept-Ranges") != "bytes" ||
				r.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(r.Header.Get("Content-Disposition"), "inline")) {
				t.Errorf("%s: headers %v", c.name, r.Header)
			}
			if loc := r.Header.Get("Location"); loc != "" || strings.Contains(string(b), "twilio.com") {
				t.Errorf("%s: Twilio's address given out (%q)", c.name, loc)
			}
		}
		all, refused, ranges := media.Requests()
		if all != len(cases) || refused != 0 || len(ranges) != len(cases)-1 || ranges[0] != "bytes=14-27" {
			t.Errorf("Twilio got %d requests (%d without credentials), ranges %v", all, refused, ranges)
		}

		// Only a signed-in, active agent may play it; a refused request reaches nobody.
		status, _ = e.do(t, "DELETE", "/api/v1/agents/"+itoa(e.id("agent2")), "admin", nil)
		if status != 200 && status != 204 {
			t.Fatalf("deactivate agent2: %d", status)
		}
		for who, token := range map[string]string{"nobody": "", "a deactivated agent": e.tok["agent2"], "a made-up token": "hl_forged"} {
			if r, b := get(app, download, token, ""); r.StatusCode != 401 || strings.Contains(string(b), "ID3") {
				t.Errorf("%s: %d %q, want 401", who, r.StatusCode, b)
			}
		}
		if n, _, _ := media.Requests(); n != all {
			t.Errorf("refused requests reached Twilio")
		}

		// An address that is not Twilio's is never fetched, so the token never leaves.
		evil := voicetest.NewMedia(t)
		evil.Put(sid, audio)
		_, forgedID := voicemailWith(t, e.svc, "CA2", "+8613900139000", evil.URL+"/2010-04-01/Accounts/"+voicetest.AccountSID+"/Recordings/"+sid+".mp3")
		if r, b := get(app, "/api/v1/attachments/"+forgedID, e.tok["agent1"], ""); r.StatusCode != 404 || !strings.Contains(string(b), "not on Twilio") {
			t.Errorf("foreign address: %d %s", r.StatusCode, b)
		}
		if n, _, _ := evil.Requests(); n != 0 {
			t.Errorf("the foreign host got %d requests", n)
		}
		// A recording Twilio no longer has; a desk without Twilio credentials.
		_, goneID := voicemailWith(t, e.svc, "CA3", "+8613700137000", voicetest.RecordingURL("RE"+strings.Repeat("9", 32))+".mp3")
		if r, b := get(app, "/api/v1/attachments/"+goneID, e.tok["agent1"], ""); r.StatusCode != 404 || !strings.Contains(string(b), "no longer") {
			t.Errorf("deleted recording: %d %s", r.StatusCode, b)
		}
		bare := api.New(api.Config{Service: e.svc, Log: tickettest.Logger()})
		if r, b := get(bare, download, e.tok["agent1"], ""); r.StatusCode != 404 || !strings.Contains(string(b), "TWILIO_AUTH_TOKEN") {
			t.Errorf("no Twilio account: %d %s", r.StatusCode, b)
		}
	})
}
