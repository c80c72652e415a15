package webhooks_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/app/webhooks"
	"github.com/hotlinedesk/hotline/channels/twilio"
	"github.com/hotlinedesk/hotline/channels/voice"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/deadlines"
	"github.com/hotlinedesk/hotline/tickets/delivery"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

const (
	token = "twilio-auth-token"
	base  = "https://desk.example.com"
)

var t0 = time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)

type desk struct {
	svc   *tickets.Service
	clock *tickettest.Clock
	app   *fiber.App
	db    *bun.DB
}

func newDesk(t *testing.T, db *bun.DB, mod func(*webhooks.TwilioConfig)) *desk {
	t.Helper()
	clock := tickettest.NewClock(t0)
	svc := tickettest.Service(db, clock)
	svc.SetComplaints(complaints.New(svc)) // as app wires it
	if err := deadlines.New(svc).SeedHolidays(context.Background()); err != nil {
		t.Fatal(err)
	}
	cfg := webhooks.TwilioConfig{AuthToken: token, PublicBaseURL: base, SMSAck: true, CallCentreNumber: "+8610095500",
		ByNumber: map[string]voice.Lang{"+14155550100": voice.English}}
	if mod != nil {
		mod(&cfg)
	}
	log := tickettest.Logger()
	app := api.New(api.Config{Service: svc, Log: log, Webhooks: []interface{ Register(*fiber.App) }{webhooks.NewTwilio(svc, cfg, log)}})
	return &desk{svc: svc, clock: clock, app: app, db: db}
}

// post sends a form to path signed as Twilio signs it (over the public URL).
func (d *desk) post(t *testing.T, path string, form url.Values) (int, string) {
	t.Helper()
	return d.postSigned(t, path, form, twilio.Sign(token, base+path, form))
}

func (d *desk) postSigned(t *testing.T, path string, form url.Values, signature string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if signature != "" {
		req.Header.Set("X-Twilio-Signature", signature)
	}
	res, err := d.app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// sidOf is a Twilio SID of the given kind (SM, CA, RE) named after label: two letters and
// 32 hexadecimal digits, the same for the same label.
func sidOf(kind, label string) string {
	sum := md5.Sum([]byte(label))
	return kind + hex.EncodeToString(sum[:])
}

func smsForm(label, from, body string) url.Values {
	return url.Values{"MessageSid": {sidOf("SM", label)}, "AccountSid": {sidOf("AC", "1")}, "From": {from}, "To": {"+8610095500"}, "Body": {body}, "NumMedia": {"0"}}
}

func (d *desk) count(t *testing.T, table string) int {
	t.Helper()
	n, err := d.db.NewSelect().Table(table).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (d *desk) detail(t *testing.T, id int64) *tickets.TicketDetail {
	t.Helper()
	td, err := d.svc.Ticket(context.Background(), tickets.FormatRef(id))
	if err != nil {
		t.Fatal(err)
	}
	return td
}

func TestInboundSMS(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newDesk(t, db, nil)
		status, body := d.post(t, "/webhooks/twilio/sms", smsForm("SM1", "+8613800138000", "你好，理赔进度？"))
		if status != 200 || !strings.Contains(body, "<Message>") || !strings.Contains(body, "HL-000001") {
			t.Fatalf("%d %s: want TwiML acknowledging HL-000001", status, body)
		}
		// Twilio retries: one message, and the retry is answered without a second ack.
		status, body = d.post(t, "/webhooks/twilio/sms", smsForm("SM1", "+8613800138000", "你好，理赔进度？"))
		if status != 200 || strings.Contains(body, "<Message>") {
			t.Errorf("retry: %d %s", status, body)
		}
		if n := d.count(t, "messages"); n != 1 {
			t.Errorf("%d messages after a retry, want 1", n)
		}
		// A reply threads to the open ticket and is not acknowledged again.
		status, body = d.post(t, "/webhooks/twilio/sms", smsForm("SM2", "+8613800138000", "保单号 P123"))
		if status != 200 || strings.Contains(body, "<Message>") {
			t.Errorf("reply: %d %s", status, body)
		}
		if td := d.detail(t, 1); len(td.Messages) != 2 || td.Customer.Identity(tickets.IdentityPhone) != "+8613800138000" {
			t.Errorf("ticket has %d messages", len(td.Messages))
		}
	})
}

func TestForgedWebhooksAreRefused(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newDesk(t, db, nil)
		form := smsForm("SM1", "+8613800138000", "hello")
		tampered := smsForm("SM1", "+8613800138000", "hello!")
		cases := []struct {
			name, path, signature string
			form                  url.Values
		}{
			{"no signature", "/webhooks/twilio/sms", "", form},
			{"garbage", "/webhooks/twilio/sms", "not-a-signature", form},
			{"another token", "/webhooks/twilio/sms", twilio.Sign("other-token", base+"/webhooks/twilio/sms", form), form},
			{"signed for another URL", "/webhooks/twilio/sms", twilio.Sign(token, base+"/webhooks/twilio/voice", form), form},
			{"body changed after signing", "/webhooks/twilio/sms", twilio.Sign(token, base+"/webhooks/twilio/sms", form), tampered},
			{"status callback", "/webhooks/twilio/sms/status", "x", url.Values{"MessageSid": {sidOf("SM", "1")}, "MessageStatus": {"delivered"}}},
			{"voice", "/webhooks/twilio/voice", "x", url.Values{"CallSid": {sidOf("CA", "1")}, "From": {"+8613800138000"}}},
		}
		for _, c := range cases {
			status, body := d.postSigned(t, c.path, c.form, c.signature)
			if status != 403 || !strings.Contains(body, "X-Twilio-Signature") {
				t.Errorf("%s: %d %s, want 403", c.name, status, body)
			}
		}
		if n := d.count(t, "messages") + d.count(t, "customers"); n != 0 {
			t.Errorf("forged requests stored %d rows", n)
		}
	})
}

func TestInboundSMSThreadingAndMedia(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db, nil)
		admin, _ := d.svc.CreateAgent(ctx, tickets.Actor{Kind: "system"}, tickets.NewAgent{Email: "a@example.com", Role: tickets.RoleAdmin, Password: "long enough password"})
		as := tickets.AgentActor(admin)
		me, other := "+8613800138000", "+8613900139000"
		d.post(t, "/webhooks/twilio/sms", smsForm("S1", me, "first question"))  // HL-000001
		d.post(t, "/webhooks/twilio/sms", smsForm("S2", other, "someone else")) // HL-000002
		d.svc.SetStatus(ctx, as, "HL-000001", tickets.StatusResolved, "")       //nolint:errcheck
		d.post(t, "/webhooks/twilio/sms", smsForm("S3", me, "a new question"))  // HL-000003? no: reopens HL-000001 within 7 days
		if td := d.detail(t, 1); td.Status != tickets.StatusOpen || len(td.Messages) != 2 {
			t.Errorf("reply within the reopen window: %s with %d messages, want HL-000001 reopened", td.Status, len(td.Messages))
		}
		d.post(t, "/webhooks/twilio/sms", smsForm("S4", me, "about hl-000002 please")) // not theirs: onto their own open ticket
		if td := d.detail(t, 2); len(td.Messages) != 1 {
			t.Error("a stranger's message went onto HL-000002")
		}
		d.svc.SetStatus(ctx, as, "HL-000001", tickets.StatusResolved, "") //nolint:errcheck
		d.clock.Advance(8 * 24 * time.Hour)
		d.post(t, "/webhooks/twilio/sms", smsForm("S5", me, "hello again"))
		if n := d.count(t, "tickets"); n != 3 {
			t.Errorf("%d tickets after writing 8 days after resolution, want a new one (3)", n)
		}
		d.post(t, "/webhooks/twilio/sms", smsForm("S6", me, "还是关于 HL-000001 的问题"))          // quoted reference, resolved: reopened
		if td := d.detail(t, 1); td.Status != tickets.StatusOpen || len(td.Messages) != 4 { // S1, S3, S4, S6
			t.Errorf("quoted reference: HL-000001 %s with %d messages, want it reopened with 4", td.Status, len(td.Messages))
		}

		mms := smsForm("S7", "+8613700137000", "")
		mms.Set("NumMedia", "2")
		mms.Set("MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/S7/Media/ME0")
		mms.Set("MediaContentType0", "image/jpeg")
		mms.Set("MediaUrl1", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/S7/Media/ME1")
		mms.Set("MediaContentType1", "application/pdf")
		if status, body := d.post(t, "/webhooks/twilio/sms", mms); status != 200 {
			t.Fatalf("mms: %d %s", status, body)
		}
		td := d.detail(t, 4)
		if atts := td.Messages[0].Attachments; len(atts) != 2 || atts[0].ContentType != "image/jpeg" || !strings.HasSuffix(atts[1].URL, "/ME1") {
			t.Errorf("mms attachments %+v", atts)
		}
	})
}

func TestSMSKeywords(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db, nil)
		me := "+8613800138000"
		d.post(t, "/webhooks/twilio/sms", smsForm("S1", me, "my claim"))
		status, body := d.post(t, "/webhooks/twilio/sms", smsForm("S2", me, "退订"))
		if status != 200 || strings.Contains(body, "<Message>") {
			t.Errorf("STOP: %d %s", status, body)
		}
		agent, _ := d.svc.CreateAgent(ctx, tickets.Actor{Kind: "system"}, tickets.NewAgent{Email: "a@example.com", Role: tickets.RoleAdmin, Password: "long enough password"})
		_, err := d.svc.Reply(ctx, tickets.AgentActor(agent), "HL-000001", "hello")
		if err == nil || !strings.Contains(err.Error(), "opted out") {
			t.Errorf("reply to an opted-out number: %v, want a refusal that says why", err)
		}
		status, body = d.post(t, "/webhooks/twilio/sms", smsForm("S3", me, "HELP"))
		if status != 200 || !strings.Contains(body, "<Message>") {
			t.Errorf("HELP: %d %s", status, body)
		}
		status, body = d.post(t, "/webhooks/twilio/sms", smsForm("S4", me, "START"))
		if status != 200 || !strings.Contains(body, "<Message>") {
			t.Errorf("START: %d %s", status, body)
		}
		if _, err := d.svc.Reply(ctx, tickets.AgentActor(agent), "HL-000001", "hello"); err != nil {
			t.Errorf("reply after START: %v", err)
		}
		if n, m := d.count(t, "tickets"), d.count(t, "messages"); n != 1 || m != 2 {
			t.Errorf("keywords made %d tickets / %d messages, want only the first message and the reply", n, m)
		}
		// STOP from a number never seen before is recorded too.
		d.post(t, "/webhooks/twilio/sms", smsForm("S5", "+8613900139000", "STOP"))
		var out int
		d.db.NewSelect().Table("customer_identities").ColumnExpr("COUNT(*)").Where("opted_out_at IS NOT NULL").Scan(ctx, &out)
		if out != 1 {
			t.Errorf("%d opted-out numbers, want 1", out)
		}
	})
}

func TestSMSBadInputAndSettings(t *testing.T) {
	d := newDesk(t, tickettest.SQLite(t), func(c *webhooks.TwilioConfig) { c.SMSAck = false })
	cases := []struct {
		name string
		form url.Values
		want string
	}{
		{"missing From", url.Values{"MessageSid": {sidOf("SM", "1")}, "Body": {"x"}}, "From"},
		{"malformed number", smsForm("S2", "call me", "x"), "phone number"},
		{"short code", smsForm("S3", "95500", "x"), "phone number"},
		{"oversized body", smsForm("S4", "+8613800138000", strings.Repeat("x", 1700)), "1600"},
		{"no text", smsForm("S5", "+8613800138000", "  "), "neither text nor media"},
	}
	for _, c := range cases {
		status, body := d.post(t, "/webhooks/twilio/sms", c.form)
		if status != 400 || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d %s, want 400 mentioning %q", c.name, status, body, c.want)
		}
	}
	status, body := d.post(t, "/webhooks/twilio/sms", smsForm("S6", "+8613800138000", "hi"))
	if status != 200 || strings.Contains(body, "<Message>") {
		t.Errorf("with acknowledgements off: %d %s", status, body)
	}
	// An English-speaking customer is acknowledged in English.
	locale := "en"
	d.svc.UpdateCustomer(context.Background(), tickets.AgentActor(&tickets.Agent{ID: 0}), 1, tickets.CustomerUpdate{Locale: &locale}) //nolint:errcheck
	d2 := newDesk(t, d.db, nil)
	d2.svc.SetStatus(context.Background(), tickets.Actor{Kind: "system"}, "HL-000001", tickets.StatusResolved, "") //nolint:errcheck
	d2.clock.Advance(10 * 24 * time.Hour)
	_, body = d2.post(t, "/webhooks/twilio/sms", smsForm("S7", "+8613800138000", "hello"))
	if !strings.Contains(body, "Your reference is HL-000002") {
		t.Errorf("English acknowledgement: %s", body)
	}
}

func TestSMSStatusCallbacks(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db, nil)
		d.post(t, "/webhooks/twilio/sms", smsForm("S1", "+8613800138000", "hello"))
		agent, _ := d.svc.CreateAgent(ctx, tickets.Actor{Kind: "system"}, tickets.NewAgent{Email: "a@example.com", Role: tickets.RoleAdmin, Password: "long enough password"})
		m, err := d.svc.Reply(ctx, tickets.AgentActor(agent), "HL-000001", "we are on it")
		if err != nil {
			t.Fatal(err)
		}
		if err := delivery.New(d.svc).MarkSent(ctx, m.ID, sidOf("SM", "out1"), "queued"); err != nil {
			t.Fatal(err)
		}
		statusOf := func() (string, string) {
			var got tickets.Message
			d.db.NewSelect().Model(&got).Where("id = ?", m.ID).Scan(ctx) //nolint:errcheck
			return got.DeliveryStatus, got.DeliveryError
		}
		steps := []struct {
			status, code, want string
		}{
			{"sent", "", "sent"},
			{"delivered", "", "delivered"},
			{"sent", "", "delivered"}, // late report: never backwards
			{"queued", "", "delivered"},
		}
		for _, s := range steps {
			code, body := d.post(t, "/webhooks/twilio/sms/status", url.Values{"MessageSid": {sidOf("SM", "out1")}, "MessageStatus": {s.status}, "ErrorCode": {s.code}})
			if code != 204 {
				t.Fatalf("%s: %d %s", s.status, code, body)
			}
			if got, _ := statusOf(); got != s.want {
				t.Errorf("after %s: %s, want %s", s.status, got, s.want)
			}
		}
		m2, _ := d.svc.Reply(ctx, tickets.AgentActor(agent), "HL-000001", "second")
		delivery.New(d.svc).MarkSent(ctx, m2.ID, sidOf("SM", "out2"), "queued") //nolint:errcheck
		d.post(t, "/webhooks/twilio/sms/status", url.Values{"MessageSid": {sidOf("SM", "out2")}, "MessageStatus": {"undelivered"}, "ErrorCode": {"30003"}})
		var st, code string
		d.db.NewSelect().Table("messages").Column("delivery_status", "delivery_error").Where("id = ?", m2.ID).Scan(ctx, &st, &code) //nolint:errcheck
		if st != "undelivered" || code != "30003" {
			t.Errorf("undelivered: %s %s", st, code)
		}
		failed := 0
		for _, e := range d.detail(t, 1).Events {
			if e.Kind == "delivery.failed" {
				failed++
			}
		}
		if failed != 1 {
			t.Errorf("%d delivery.failed events on the ticket, want 1", failed)
		}
		if status, _ := d.post(t, "/webhooks/twilio/sms/status", url.Values{"MessageSid": {sidOf("SM", "unknown")}, "MessageStatus": {"delivered"}}); status != 204 {
			t.Errorf("unknown message: %d", status)
		}
		if status, _ := d.post(t, "/webhooks/twilio/sms/status", url.Values{"MessageSid": {sidOf("SM", "out1")}, "MessageStatus": {"teleported"}}); status != 400 {
			t.Errorf("unknown status: %d", status)
		}
	})
}

// recordingURL is the RecordingUrl Twilio posts for the recording named label.
func recordingURL(label string) string {
	return "https://api.twilio.com/2010-04-01/Accounts/" + sidOf("AC", "1") + "/Recordings/" + sidOf("RE", label)
}

func callForm(label string, kv ...string) url.Values {
	f := url.Values{"CallSid": {sidOf("CA", label)}, "AccountSid": {sidOf("AC", "1")}, "From": {"+8613800138000"}, "To": {"+8610095500"}}
	for i := 0; i < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

func TestVoiceMenu(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newDesk(t, db, nil)
		status, body := d.post(t, "/webhooks/twilio/voice", callForm("CA1"))
		if status != 200 || !strings.Contains(body, `<Gather`) || !strings.Contains(body, `action="/webhooks/twilio/voice/menu"`) || !strings.Contains(body, `language="cmn-CN"`) || !strings.Contains(body, "投诉请按 3") {
			t.Fatalf("menu: %d %s", status, body)
		}
		_, body = d.post(t, "/webhooks/twilio/voice", callForm("CA2", "To", "+14155550100"))
		if !strings.Contains(body, `language="en-US"`) || !strings.Contains(body, "press 3") {
			t.Errorf("English number: %s", body)
		}
		menu := map[string]string{"1": "/webhooks/twilio/voice/lookup", "2": "<Record", "3": "kind=complaint", "0": "<Dial", "9": "<Gather"}
		for digit, want := range menu {
			_, body := d.post(t, "/webhooks/twilio/voice/menu", callForm("CA1", "Digits", digit))
			if !strings.Contains(body, want) {
				t.Errorf("pressing %s: %s, want %s", digit, body, want)
			}
		}
		// Twilio transcribes English only: a Mandarin voicemail is not sent to it.
		if _, body := d.post(t, "/webhooks/twilio/voice/menu", callForm("CA2", "To", "+14155550100", "Digits", "2")); !strings.Contains(body, `transcribe="true"`) {
			t.Errorf("English voicemail is not transcribed by Twilio: %s", body)
		}
		if _, body := d.post(t, "/webhooks/twilio/voice/menu", callForm("CA1", "Digits", "2")); strings.Contains(body, `transcribe`) {
			t.Errorf("Mandarin voicemail is sent to Twilio's English-only transcription: %s", body)
		}
	})
}

func TestVoiceStatusLookup(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newDesk(t, db, nil)
		d.post(t, "/webhooks/twilio/sms", smsForm("S1", "+8613800138000", "my claim"))  // HL-000001, the caller's
		d.post(t, "/webhooks/twilio/sms", smsForm("S2", "+8613900139000", "not yours")) // HL-000002
		_, body := d.post(t, "/webhooks/twilio/voice/lookup", callForm("CA1", "Digits", "000001"))
		if !strings.Contains(body, "<Say") || !strings.Contains(body, "0 0 0 0 0 1") || !strings.Contains(body, "已受理") || !strings.Contains(body, "11月26日 17:30") {
			t.Errorf("own ticket: %s", body)
		}
		for _, digits := range []string{"2", "999", "", "abc"} {
			_, body := d.post(t, "/webhooks/twilio/voice/lookup", callForm("CA1", "Digits", digits))
			if !strings.Contains(body, "没有找到") {
				t.Errorf("digits %q: %s, want not found", digits, body)
			}
		}
	})
}

func TestVoicemailInAnyOrder(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newDesk(t, db, nil)
		// An English number: Twilio transcribes English voicemail itself.
		rec := func(sid, q string) url.Values {
			return callForm(sid, "To", "+14155550100", "RecordingSid", sidOf("RE", sid), "RecordingUrl", recordingURL(sid), "RecordingDuration", "12")
		}
		tr := func(sid string) url.Values {
			return callForm(sid, "To", "+14155550100", "RecordingSid", sidOf("RE", sid), "TranscriptionText", "I'd like to know how my claim is going")
		}

		// Recording first, then transcription.
		status, body := d.post(t, "/webhooks/twilio/voice/recording", rec("CA1", ""))
		if status != 200 || !strings.Contains(body, "<Hangup") {
			t.Fatalf("recording: %d %s", status, body)
		}
		if status, _ := d.post(t, "/webhooks/twilio/voice/transcription", tr("CA1")); status != 204 {
			t.Fatalf("transcription: %d", status)
		}
		// Transcription first, then recording, for another caller.
		other := func(f url.Values) url.Values { f.Set("From", "+8613900139000"); return f }
		d.post(t, "/webhooks/twilio/voice/transcription", other(tr("CA2")))
		d.post(t, "/webhooks/twilio/voice/recording", other(rec("CA2", "")))
		// Retries change nothing.
		d.post(t, "/webhooks/twilio/voice/recording", other(rec("CA2", "")))
		d.post(t, "/webhooks/twilio/voice/transcription", other(tr("CA2")))
		for _, id := range []int64{1, 2} {
			td := d.detail(t, id)
			if len(td.Messages) != 1 {
				t.Fatalf("HL-%d: %d messages, want one voicemail", id, len(td.Messages))
			}
			m := td.Messages[0]
			if m.Body != "I'd like to know how my claim is going" || len(m.Attachments) != 1 || !strings.HasSuffix(m.Attachments[0].URL, ".mp3") ||
				!m.Attachments[0].Fetched() || m.Channel != tickets.ChannelPhone {
				t.Errorf("HL-%d voicemail: body %q attachments %+v", id, m.Body, m.Attachments)
			}
		}
		// The complaint option opens a complaint from the IVR.
		d.post(t, "/webhooks/twilio/voice/recording?kind=complaint", other(rec("CA3", "")))
		cs, _ := complaints.New(d.svc).Complaints(context.Background(), complaints.Filter{})
		if len(cs) != 1 || cs[0].Source != tickets.SourceIVR {
			t.Errorf("complaints %+v", cs)
		}
		// Hanging up before speaking leaves nothing.
		d.post(t, "/webhooks/twilio/voice/recording", callForm("CA4", "From", "+8613700137000", "RecordingUrl", "https://x", "RecordingDuration", "0"))
		if n := d.count(t, "tickets"); n != 2 {
			t.Errorf("%d tickets, want 2", n)
		}
	})
}

func TestMissedCalls(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newDesk(t, db, nil)
		missed := func() int {
			n, _ := d.db.NewSelect().Table("tickets").Where("subject LIKE '%Missed call%'").Count(context.Background())
			return n
		}
		// Nobody answered the transfer: a missed-call ticket, and the caller may leave a message.
		_, body := d.post(t, "/webhooks/twilio/voice/dial", callForm("CA1", "DialCallStatus", "no-answer"))
		if !strings.Contains(body, "<Record") {
			t.Errorf("unanswered transfer: %s", body)
		}
		d.post(t, "/webhooks/twilio/voice/status", callForm("CA1", "CallStatus", "completed")) // the end of that call
		if n := missed(); n != 1 {
			t.Errorf("%d missed-call tickets after an unanswered transfer, want 1", n)
		}
		// Hung up in the menu: missed, once, however often Twilio reports it.
		for range 3 {
			d.post(t, "/webhooks/twilio/voice/status", callForm("CA2", "From", "+8613900139000", "CallStatus", "completed"))
		}
		if n := missed(); n != 2 {
			t.Errorf("%d missed-call tickets, want 2", n)
		}
		// A call an agent answered, or one that left a voicemail, is not missed.
		d.post(t, "/webhooks/twilio/voice/dial", callForm("CA3", "From", "+8613700137000", "DialCallStatus", "completed"))
		d.post(t, "/webhooks/twilio/voice/status", callForm("CA3", "From", "+8613700137000", "CallStatus", "completed"))
		d.post(t, "/webhooks/twilio/voice/recording", callForm("CA4", "From", "+8613600136000", "RecordingUrl", recordingURL("CA4"), "RecordingDuration", "8"))
		d.post(t, "/webhooks/twilio/voice/status", callForm("CA4", "From", "+8613600136000", "CallStatus", "completed"))
		if n := missed(); n != 2 {
			t.Errorf("%d missed-call tickets after answered and voicemail calls, want still 2", n)
		}
		// Still ringing: nothing yet.
		d.post(t, "/webhooks/twilio/voice/status", callForm("CA5", "From", "+8613500135000", "CallStatus", "ringing"))
		if n := missed(); n != 2 {
			t.Errorf("a ringing call made a ticket")
		}
		if status, body := d.post(t, "/webhooks/twilio/voice/status", url.Values{"CallStatus": {"completed"}}); status != 400 || !strings.Contains(body, "CallSid") {
			t.Errorf("no CallSid: %d %s", status, body)
		}
	})
}

func TestSMSStatusLookup(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newDesk(t, db, nil)
		d.post(t, "/webhooks/twilio/sms", smsForm("S1", "+8613800138000", "my claim"))
		_, body := d.post(t, "/webhooks/twilio/sms", smsForm("S2", "+8613800138000", "状态"))
		if !strings.Contains(body, "HL-000001 已受理") || !strings.Contains(body, "11-26 17:30") {
			t.Errorf("状态: %s", body)
		}
		_, body = d.post(t, "/webhooks/twilio/sms", smsForm("S3", "+8613800138000", "STATUS HL-000001"))
		if !strings.Contains(body, "HL-000001 received, answer due by") {
			t.Errorf("STATUS: %s", body)
		}
		_, body = d.post(t, "/webhooks/twilio/sms", smsForm("S4", "+8613900139000", "STATUS"))
		if !strings.Contains(body, "You have no open tickets") {
			t.Errorf("a stranger asking: %s", body)
		}
		if n := d.count(t, "messages"); n != 1 {
			t.Errorf("status questions were stored as %d messages, want only the first", n-1)
		}
	})
}

// postBody sends a raw form body with the given signature.
func (d *desk) postBody(t *testing.T, path, body, signature string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", signature)
	res, err := d.app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// state is what a webhook may change, in one string: rows, message texts and delivery
// states, and opt-outs.
func (d *desk) state(t *testing.T) string {
	t.Helper()
	var rows []struct {
		Body, DeliveryStatus string
	}
	if err := d.db.NewSelect().Table("messages").Column("body", "delivery_status").Order("id").Scan(context.Background(), &rows); err != nil {
		t.Fatal(err)
	}
	var out int
	d.db.NewSelect().Table("customer_identities").ColumnExpr("COUNT(*)").Where("opted_out_at IS NOT NULL").Scan(context.Background(), &out) //nolint:errcheck
	return fmt.Sprintf("tickets %d customers %d events %d complaints %d opted out %d messages %v",
		d.count(t, "tickets"), d.count(t, "customers"), d.count(t, "events"), d.count(t, "complaints"), out, rows)
}

// A body captured with its signature and polluted: values put in front of it are the ones
// a handler reads first. Every Twilio route refuses it with 403 and changes nothing; the
// body as Twilio signed it passes.
func TestPollutedTwilioWebhooksAreRefused(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db, nil)
		me := "+8613800138000"
		d.post(t, "/webhooks/twilio/sms", smsForm("first", me, "my claim")) // HL-000001
		agent, _ := d.svc.CreateAgent(ctx, tickets.Actor{Kind: "system"}, tickets.NewAgent{Email: "a@example.com", Role: tickets.RoleAdmin, Password: "long enough password"})
		m, err := d.svc.Reply(ctx, tickets.AgentActor(agent), "HL-000001", "we are on it")
		if err != nil {
			t.Fatal(err)
		}
		if err := delivery.New(d.svc).MarkSent(ctx, m.ID, sidOf("SM", "reply"), "queued"); err != nil {
			t.Fatal(err)
		}
		// Every parameter any route reads, pointing elsewhere; each route's body gets those of
		// its own parameters put in front (a parameter the signed body lacks would fail even
		// a check that reads only the last value of each).
		pollution := url.Values{
			"MessageSid": {sidOf("SM", "forged")}, "CallSid": {sidOf("CA", "forged")}, "RecordingSid": {sidOf("RE", "forged")},
			"From": {"+8613900139000"}, "Body": {"forged 投诉"}, "Digits": {"3"}, "MessageStatus": {"failed"}, "ErrorCode": {"30003"},
			"CallStatus": {"completed"}, "DialCallStatus": {"no-answer"}, "RecordingUrl": {"https://evil.example/r"},
			"RecordingDuration": {"9"}, "TranscriptionText": {"forged 投诉"}, "NumMedia": {"0"},
		}
		routes := []struct {
			path string
			form url.Values
			want int
		}{
			{"/webhooks/twilio/sms", smsForm("p-sms", me, "second message"), 200},
			{"/webhooks/twilio/sms/status", url.Values{"MessageSid": {sidOf("SM", "reply")}, "MessageStatus": {"delivered"}}, 204},
			{"/webhooks/twilio/voice", callForm("p-call"), 200},
			{"/webhooks/twilio/voice/menu", callForm("p-call", "Digits", "1"), 200},
			{"/webhooks/twilio/voice/lookup", callForm("p-call", "Digits", "000001"), 200},
			{"/webhooks/twilio/voice/recording", callForm("p-call", "RecordingSid", sidOf("RE", "p"), "RecordingUrl", recordingURL("p"), "RecordingDuration", "5"), 200},
			{"/webhooks/twilio/voice/transcription", callForm("p-call", "RecordingSid", sidOf("RE", "p"), "TranscriptionText", "请回电"), 204},
			{"/webhooks/twilio/voice/dial", callForm("p-dial", "DialCallStatus", "completed"), 200},
			{"/webhooks/twilio/voice/status", callForm("p-missed", "CallStatus", "completed"), 204},
		}
		for _, r := range routes {
			body := r.form.Encode()
			signature := twilio.Sign(token, base+r.path, r.form)
			front := url.Values{}
			for k := range r.form {
				if v, ok := pollution[k]; ok {
					front[k] = v
				}
			}
			before := d.state(t)
			if status, reply := d.postBody(t, r.path, front.Encode()+"&"+body, signature); status != 403 {
				t.Errorf("%s polluted: %d %s, want 403", r.path, status, reply)
			}
			if after := d.state(t); after != before {
				t.Errorf("%s polluted changed the desk:\n%s\n%s", r.path, before, after)
			}
			if status, reply := d.postBody(t, r.path, body, signature); status != r.want {
				t.Errorf("%s as signed: %d %s, want %d", r.path, status, reply, r.want)
			}
		}
		if n := d.count(t, "customers"); n != 1 {
			t.Errorf("%d customers, want only the caller", n)
		}
	})
}

// A parameter repeated, even under a good signature, is not Twilio's form: 400, nothing stored.
func TestRepeatedTwilioParameters(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newDesk(t, db, nil)
		form := smsForm("rep", "+8613800138000", "hello")
		form["Body"] = []string{"hello", "another text"}
		status, body := d.post(t, "/webhooks/twilio/sms", form)
		if status != 400 || !strings.Contains(body, "Body") {
			t.Errorf("repeated Body: %d %s, want 400 naming it", status, body)
		}
		if n := d.count(t, "messages") + d.count(t, "customers"); n != 0 {
			t.Errorf("a repeated parameter stored %d rows", n)
		}
	})
}

// SIDs not of Twilio's shape, huge ones included, are a 400 on every route that stores or
// looks one up, and leave nothing, on both databases.
func TestTwilioProviderIDs(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newDesk(t, db, nil)
		huge := strings.Repeat("f", 5000)
		withSid := func(f url.Values, k, v string) url.Values { f.Set(k, v); return f }
		cases := []struct {
			name, path string
			form       url.Values
			want       string
		}{
			{"huge MessageSid", "/webhooks/twilio/sms", withSid(smsForm("x", "+8613800138000", "hi"), "MessageSid", "SM"+huge), "MessageSid"},
			{"short MessageSid", "/webhooks/twilio/sms", withSid(smsForm("x", "+8613800138000", "hi"), "MessageSid", "SM1"), "MessageSid"},
			{"a call's SID as MessageSid", "/webhooks/twilio/sms", withSid(smsForm("x", "+8613800138000", "hi"), "MessageSid", sidOf("CA", "x")), "MessageSid"},
			{"STOP under a huge MessageSid", "/webhooks/twilio/sms", withSid(smsForm("x", "+8613800138000", "STOP"), "MessageSid", huge), "MessageSid"},
			{"status for a huge MessageSid", "/webhooks/twilio/sms/status", url.Values{"MessageSid": {"SM" + huge}, "MessageStatus": {"delivered"}}, "MessageSid"},
			{"status with a huge ErrorCode", "/webhooks/twilio/sms/status", url.Values{"MessageSid": {sidOf("SM", "x")}, "MessageStatus": {"failed"}, "ErrorCode": {huge}}, "ErrorCode"},
			{"missed call with a huge CallSid", "/webhooks/twilio/voice/status", withSid(callForm("x", "CallStatus", "completed"), "CallSid", "CA"+huge), "CallSid"},
			{"voicemail with a huge CallSid", "/webhooks/twilio/voice/recording", withSid(callForm("x", "RecordingSid", sidOf("RE", "x"), "RecordingUrl", "https://x/r", "RecordingDuration", "5"), "CallSid", "CA"+huge), "CallSid"},
			{"voicemail with a huge RecordingSid", "/webhooks/twilio/voice/recording", callForm("x", "RecordingSid", "RE"+huge, "RecordingUrl", "https://x/r", "RecordingDuration", "5"), "RecordingSid"},
			{"dial with a malformed CallSid", "/webhooks/twilio/voice/dial", withSid(callForm("x", "DialCallStatus", "no-answer"), "CallSid", "CA-1"), "CallSid"},
		}
		for _, c := range cases {
			status, body := d.post(t, c.path, c.form)
			if status != 400 || !strings.Contains(body, c.want) {
				t.Errorf("%s: %d %.200s, want 400 naming %s", c.name, status, body, c.want)
			}
		}
		if n := d.count(t, "messages") + d.count(t, "customers") + d.count(t, "tickets"); n != 0 {
			t.Errorf("refused callbacks stored %d rows", n)
		}
	})
}
