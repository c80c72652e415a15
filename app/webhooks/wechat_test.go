package webhooks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/app/webhooks"
	"github.com/hotlinedesk/hotline/channels/wechat"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

const (
	wxToken  = "hotlinetoken"
	wxAESKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	wxAppID  = "wx1234567890abcdef"
	// The openssl-sealed push of channels/wechat's tests: a text from oCustomer123.
	wxVector = "Q3stYC6hdFzMh9T8HCvyDOijj+4zIgvMT9VuUUUXZ83/ZjADiDm6BjQrcgkxYnYX/EBx/+1YxZDSCozgtiZuUoZHm1sQ0G1Az2kQQdWA3KkKGFfmq0MBPsB2vxfi8sBGoB9k32WV0RxJt2Fb5Ym6lGfJY+OjUMd8IeDHxOslP6JTKMLszWCeZTMM5UJTv7jQnrjkk1KShq2ObwYRdUwOFWzzcHU1iqH7o0eTkwONEQi+8RVUEVWfwAGUFHQIN+z8ujyCCo7IN/QIOL0yJr31WgMCmUcZl98Dh+1goyBCEt52Urs0xRnZ7AoNaasfocDOS6nmOeiWpmTi/I/OjqniVTV1y4RyUWIchBDd4fJ4fhsAkOgCXryUIo8kH6FGF6lC2JJa/+b39YrhSr6IoAQaqSIBVm5EVOGEJho7yVeVLmg="
)

var wxNow = time.Unix(1795600000, 0).UTC()

// wxDesk is one desk behind two official accounts' webhooks: app in safe mode (with an
// EncodingAESKey), plainApp in plaintext mode (without one).
type wxDesk struct {
	svc           *tickets.Service
	app, plainApp *fiber.App
	db            *bun.DB
	clock         *tickettest.Clock
	nonces        int
}

func newWxDesk(t *testing.T, db *bun.DB) *wxDesk {
	t.Helper()
	clock := tickettest.NewClock(wxNow.Add(time.Minute))
	svc := tickettest.Service(db, clock)
	svc.SetComplaints(complaints.New(svc)) // as app wires it
	log := tickettest.Logger()
	d := &wxDesk{svc: svc, db: db, clock: clock}
	for _, key := range []string{wxAESKey, ""} {
		wc, err := webhooks.NewWeChat(svc, webhooks.WeChatConfig{Token: wxToken, AppID: wxAppID, EncodingAESKey: key,
			Welcome: "欢迎关注！回复任何问题，客服将尽快答复。", Menu: map[string]string{"COMPLAINT": "complaint"}, Clock: clock}, log)
		if err != nil {
			t.Fatal(err)
		}
		app := api.New(api.Config{Service: svc, Log: log, Webhooks: []interface{ Register(*fiber.App) }{wc}})
		if key != "" {
			d.app = app
		} else {
			d.plainApp = app
		}
	}
	return d
}

// send posts to the safe-mode account.
func (d *wxDesk) send(t *testing.T, method, query, body string) (int, string) {
	t.Helper()
	return d.sendTo(t, d.app, method, query, body)
}

func (d *wxDesk) sendTo(t *testing.T, app *fiber.App, method, query, body string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(method, "/webhooks/wechat?"+query, strings.NewReader(body))
	req.Header.Set("Content-Type", "text/xml")
	res, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// plain posts a plaintext push to the plaintext account, signed as WeChat signs it, with
// a nonce of its own.
func (d *wxDesk) plain(t *testing.T, xml string, at time.Time) (int, string) {
	t.Helper()
	d.nonces++
	return d.sendTo(t, d.plainApp, "POST", plainQuery(at, fmt.Sprint(1320562132+d.nonces)), xml)
}

// plainQuery is the query of a plaintext push signed at at with nonce.
func plainQuery(at time.Time, nonce string) string {
	ts := fmt.Sprint(at.Unix())
	return fmt.Sprintf("signature=%s&timestamp=%s&nonce=%s", wechat.Signature(wxToken, ts, nonce), ts, nonce)
}

func (d *wxDesk) count(t *testing.T, table string) int {
	n, err := d.db.NewSelect().Table(table).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func textPush(from, msgID, content string) string {
	return fmt.Sprintf(`<xml><ToUserName><![CDATA[gh_desk]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>%d</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%s]]></Content><MsgId>%s</MsgId></xml>`,
		from, wxNow.Unix(), content, msgID)
}

func TestWeChatURLVerification(t *testing.T) {
	d := newWxDesk(t, tickettest.SQLite(t))
	ts := fmt.Sprint(wxNow.Unix())
	status, body := d.send(t, "GET", fmt.Sprintf("signature=%s&timestamp=%s&nonce=n1&echostr=5837398749", wechat.Signature(wxToken, ts, "n1"), ts), "")
	if status != 200 || body != "5837398749" {
		t.Errorf("verification: %d %q", status, body)
	}
	status, _ = d.send(t, "GET", fmt.Sprintf("signature=deadbeef&timestamp=%s&nonce=n1&echostr=5837398749", ts), "")
	if status != 403 {
		t.Errorf("forged verification: %d", status)
	}
}

func TestWeChatMessages(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newWxDesk(t, db)
		// Safe mode: the openssl-sealed push, signed with msg_signature.
		ts, nonce := fmt.Sprint(wxNow.Unix()), "1320562132"
		envelope := fmt.Sprintf("<xml><ToUserName><![CDATA[gh_desk]]></ToUserName><Encrypt><![CDATA[%s]]></Encrypt></xml>", wxVector)
		safe := fmt.Sprintf("signature=%s&timestamp=%s&nonce=%s&encrypt_type=aes&msg_signature=%s&openid=oCustomer123",
			wechat.Signature(wxToken, ts, nonce), ts, nonce, wechat.Signature(wxToken, ts, nonce, wxVector))
		for range 3 { // WeChat's retries
			status, body := d.send(t, "POST", safe, envelope)
			if status != 200 || body != "success" {
				t.Fatalf("safe mode: %d %s", status, body)
			}
		}
		if n := d.count(t, "messages"); n != 1 {
			t.Errorf("%d messages after three deliveries, want 1", n)
		}
		td, err := d.svc.Ticket(context.Background(), "HL-000001")
		if err != nil || td.Channel != tickets.ChannelWeChat || td.Messages[0].Body != "你好，我的理赔进度如何？" || td.Customer.Identity(tickets.IdentityWeChat) != "oCustomer123" {
			t.Fatalf("ticket from the safe-mode push: %+v %v", td, err)
		}
		// Plaintext mode.
		if status, body := d.plain(t, textPush("oOther", "1001", "plain text"), wxNow); status != 200 || body != "success" {
			t.Errorf("plaintext: %d %s", status, body)
		}
		// 状态 is answered at once, not stored.
		_, body := d.plain(t, textPush("oOther", "1003", "状态"), wxNow)
		if !strings.Contains(body, "<ToUserName><![CDATA[oOther]]>") || !strings.Contains(body, "HL-000002") {
			t.Errorf("状态 by WeChat: %s", body)
		}
		// A voice message with WeChat's recognition text.
		voiceXML := fmt.Sprintf(`<xml><ToUserName>gh_desk</ToUserName><FromUserName>oOther</FromUserName><CreateTime>%d</CreateTime><MsgType>voice</MsgType><MediaId>MV1</MediaId><Format>amr</Format><Recognition>我想投诉</Recognition><MsgId>1002</MsgId></xml>`, wxNow.Unix())
		d.plain(t, voiceXML, wxNow)
		cs, _ := complaints.New(d.svc).Complaints(context.Background(), complaints.Filter{})
		if len(cs) != 1 || cs[0].Source != tickets.SourceCustomer {
			t.Errorf("a spoken 投诉 opened %d complaints", len(cs))
		}
	})
}

func TestWeChatForgeriesAndReplays(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newWxDesk(t, db)
		ts, nonce := fmt.Sprint(wxNow.Unix()), "1320562132"
		envelope := func(enc string) string { return fmt.Sprintf("<xml><Encrypt><![CDATA[%s]]></Encrypt></xml>", enc) }
		safeQuery := func(enc string) string {
			return fmt.Sprintf("timestamp=%s&nonce=%s&encrypt_type=aes&msg_signature=%s", ts, nonce, wechat.Signature(wxToken, ts, nonce, enc))
		}
		other, _ := wechat.NewCipher(wxAESKey, "wxSomeoneElse")
		foreign, _ := other.Encrypt([]byte(textPush("oX", "1", "x")))
		garbled := "AAAAAAAAAAAAAAAAAAAAAA=="
		old := fmt.Sprint(wxNow.Add(-time.Hour).Unix())
		cases := []struct {
			name, query, body string
		}{
			{"no signature", "timestamp=" + ts + "&nonce=" + nonce, textPush("oX", "1", "x")},
			{"wrong signature", "signature=deadbeef&timestamp=" + ts + "&nonce=" + nonce, textPush("oX", "1", "x")},
			{"replayed an hour later", fmt.Sprintf("signature=%s&timestamp=%s&nonce=%s", wechat.Signature(wxToken, old, nonce), old, nonce), textPush("oX", "1", "x")},
			{"no timestamp", "signature=" + wechat.Signature(wxToken, "", nonce) + "&nonce=" + nonce, textPush("oX", "1", "x")},
			{"msg_signature over another Encrypt", safeQuery(wxVector), envelope(foreign)},
			{"sealed for another app", safeQuery(foreign), envelope(foreign)},
			{"bad padding", safeQuery(garbled), envelope(garbled)},
			{"safe mode without Encrypt", safeQuery(""), "<xml></xml>"},
		}
		for _, c := range cases {
			app := d.app
			if !strings.Contains(c.query, "encrypt_type=aes") {
				app = d.plainApp
			}
			if status, body := d.sendTo(t, app, "POST", c.query, c.body); status != 403 {
				t.Errorf("%s: %d %s, want 403", c.name, status, body)
			}
		}
		if n := d.count(t, "messages") + d.count(t, "customers"); n != 0 {
			t.Errorf("forged pushes stored %d rows", n)
		}
		if status, _ := d.plain(t, "<xml><MsgType>text", wxNow); status != 400 {
			t.Errorf("malformed XML: %d, want 400", status)
		}
	})
}

func TestWeChatEvents(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newWxDesk(t, db)
		event := func(name, key string, at int64) string {
			return fmt.Sprintf(`<xml><ToUserName>gh_desk</ToUserName><FromUserName>oFan</FromUserName><CreateTime>%d</CreateTime><MsgType>event</MsgType><Event>%s</Event><EventKey>%s</EventKey></xml>`, at, name, key)
		}
		status, body := d.plain(t, event("subscribe", "", wxNow.Unix()), wxNow)
		if status != 200 || !strings.Contains(body, "欢迎关注") || !strings.Contains(body, "<ToUserName><![CDATA[oFan]]>") {
			t.Errorf("subscribe: %d %s, want the welcome text", status, body)
		}
		// In safe mode the welcome is sealed for the app.
		c, _ := wechat.NewCipher(wxAESKey, wxAppID)
		sealed, _ := c.Encrypt([]byte(event("subscribe", "", wxNow.Unix()+10)))
		ts := fmt.Sprint(wxNow.Unix())
		status, body = d.send(t, "POST", fmt.Sprintf("timestamp=%s&nonce=n2&encrypt_type=aes&msg_signature=%s", ts, wechat.Signature(wxToken, ts, "n2", sealed)),
			"<xml><Encrypt><![CDATA["+sealed+"]]></Encrypt></xml>")
		reply, err := wechat.ParsePush([]byte(body))
		if status != 200 || err != nil || reply.Encrypt == "" {
			t.Fatalf("safe-mode subscribe: %d %s", status, body)
		}
		if plain, err := c.Decrypt(reply.Encrypt); err != nil || !strings.Contains(string(plain), "欢迎关注") {
			t.Errorf("sealed welcome: %s %v", plain, err)
		}
		// The complaint menu opens a complaint, once however often WeChat retries.
		for range 3 {
			d.plain(t, event("CLICK", "COMPLAINT", wxNow.Unix()+1), wxNow)
		}
		cs, _ := complaints.New(d.svc).Complaints(context.Background(), complaints.Filter{})
		if len(cs) != 1 || d.count(t, "messages") != 1 {
			t.Errorf("complaint menu: %d complaints, %d messages", len(cs), d.count(t, "messages"))
		}
		d.plain(t, event("CLICK", "OTHER", wxNow.Unix()+2), wxNow)
		d.plain(t, event("VIEW", "https://x", wxNow.Unix()+3), wxNow)
		if n := d.count(t, "messages"); n != 1 {
			t.Errorf("unmapped menu events stored messages: %d", n)
		}
		// Unfollowing is recorded: no more messages to them.
		d.plain(t, event("unsubscribe", "", wxNow.Unix()+4), wxNow)
		var out int
		d.db.NewSelect().Table("customer_identities").ColumnExpr("COUNT(*)").Where("kind = 'wechat' AND opted_out_at IS NOT NULL").Scan(context.Background(), &out) //nolint:errcheck
		if out != 1 {
			t.Errorf("unsubscribe not recorded")
		}
	})
}

// The official account may write only within 48 hours of the customer's last message;
// the agent is told, and offered SMS when the customer has a phone.
func TestWeChatWindow(t *testing.T) {
	db := tickettest.SQLite(t)
	ctx := context.Background()
	clock := tickettest.NewClock(wxNow)
	svc := tickettest.Service(db, clock)
	svc.SetComplaints(complaints.New(svc)) // as app wires it
	admin, _ := svc.CreateAgent(ctx, tickets.Actor{Kind: "system"}, tickets.NewAgent{Email: "a@example.com", Role: tickets.RoleAdmin, Password: "long enough password"})
	as := tickets.AgentActor(admin)
	res, err := svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelWeChat, From: tickets.IdentityWeChat, Address: "oWin", Body: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	ref := res.Ticket.Ref()
	clock.Advance(47 * time.Hour)
	if _, err := svc.Reply(ctx, as, ref, "within the window"); err != nil {
		t.Errorf("reply after 47h: %v", err)
	}
	clock.Advance(2 * time.Hour)
	_, err = svc.Reply(ctx, as, ref, "too late")
	if err == nil || !strings.Contains(err.Error(), "48 hours") {
		t.Fatalf("reply after 49h: %v, want the window's reason", err)
	}
	if strings.Contains(err.Error(), "SMS") {
		t.Error("SMS offered to a customer without a phone")
	}
	// Once the customer's phone is known, SMS is offered and works.
	if _, err := svc.CreateTicket(ctx, as, tickets.NewTicket{Phone: "+8613800138000", Subject: "x"}); err != nil {
		t.Fatal(err)
	}
	db.NewUpdate().Table("customer_identities").Set("customer_id = ?", res.Ticket.CustomerID).Where("kind = 'phone'").Exec(ctx) //nolint:errcheck
	_, err = svc.Reply(ctx, as, ref, "too late")
	if err == nil || !strings.Contains(err.Error(), `reply by SMS (channel "sms")`) {
		t.Fatalf("reply after 49h with a phone known: %v, want SMS offered", err)
	}
	m, err := svc.ReplyOn(ctx, as, ref, tickets.ChannelSMS, "by SMS instead")
	if err != nil || m.Channel != tickets.ChannelSMS {
		t.Errorf("reply by SMS: %v %+v", err, m)
	}
	if _, err := svc.ReplyOn(ctx, as, ref, tickets.ChannelEmail, "x"); err == nil {
		t.Error("reply by email to a customer without an address was accepted")
	}
	// A new message from the customer opens the window again.
	svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelWeChat, From: tickets.IdentityWeChat, Address: "oWin", Body: "still there?"}) //nolint:errcheck
	if _, err := svc.Reply(ctx, as, ref, "yes"); err != nil {
		t.Errorf("reply after the customer wrote again: %v", err)
	}
}

// wxPush is a text push from from with the given CreateTime and MsgId.
func wxPush(from, createTime, msgID, content string) string {
	return fmt.Sprintf(`<xml><ToUserName><![CDATA[gh_desk]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>%s</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%s]]></Content><MsgId>%s</MsgId></xml>`,
		from, createTime, content, msgID)
}

// A CreateTime WeChat could not have meant is not believed: the message is stored at its
// arrival, its ticket reads back, and the audit event keeps the value WeChat sent.
func TestWeChatProviderTimes(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newWxDesk(t, db)
		arrival := d.clock.Now().UTC().Truncate(time.Microsecond)
		cases := []struct {
			name, createTime string
			ignored          bool
			want             time.Time
		}{
			{"the largest int64", "9223372036854775807", true, arrival},
			{"the smallest int64", "-9223372036854775808", true, arrival},
			{"minus one", "-1", true, arrival},
			{"the year 10000", "253402300800", true, arrival},
			{"an hour ahead", fmt.Sprint(wxNow.Add(time.Hour).Unix()), true, arrival},
			{"thirty days back", fmt.Sprint(wxNow.Add(-30 * 24 * time.Hour).Unix()), true, arrival},
			{"a minute ago", fmt.Sprint(wxNow.Unix()), false, wxNow},
			{"a minute ahead", fmt.Sprint(wxNow.Add(2 * time.Minute).Unix()), false, arrival},
		}
		for i, c := range cases {
			from := fmt.Sprintf("oTime%d", i)
			status, body := d.plain(t, wxPush(from, c.createTime, fmt.Sprint(5000+i), "问题 "+c.name), wxNow)
			if status != 200 || body != "success" {
				t.Errorf("%s: %d %s", c.name, status, body)
				continue
			}
			ref := tickets.FormatRef(int64(i + 1))
			td, err := d.svc.Ticket(context.Background(), ref)
			if err != nil {
				t.Errorf("%s: reading %s: %v", c.name, ref, err)
				continue
			}
			if len(td.Messages) != 1 || !td.Messages[0].CreatedAt.Equal(c.want) {
				t.Errorf("%s: %d messages, stored at %v, want %v", c.name, len(td.Messages), td.Messages[0].CreatedAt, c.want)
			}
			recorded := ""
			for _, e := range td.Events {
				if e.Kind == "message.received" {
					var data map[string]any
					if err := json.Unmarshal([]byte(e.Data), &data); err != nil {
						t.Fatal(err)
					}
					recorded, _ = data["provider_time_ignored"].(string)
				}
			}
			if c.ignored && recorded != c.createTime {
				t.Errorf("%s: the event records %q, want WeChat's %s", c.name, recorded, c.createTime)
			}
			if !c.ignored && recorded != "" {
				t.Errorf("%s: a believable time recorded as ignored (%s)", c.name, recorded)
			}
		}
		// The desk's list reads them all.
		if page, err := d.svc.ListTickets(context.Background(), tickets.TicketFilter{}); err != nil || len(page.Items) != len(cases) {
			t.Errorf("list: %v", err)
		}
	})
}

// Ids no provider sends are refused with 400 and leave nothing, on both databases.
func TestWeChatProviderIDs(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newWxDesk(t, db)
		for name, id := range map[string]string{
			"a huge MsgId":           strings.Repeat("9", 5000),
			"a MsgId beyond 64 bits": "18446744073709551616",
			"a MsgId not a number":   "abc",
			"a negative MsgId":       "-1",
		} {
			status, body := d.plain(t, wxPush("oIDs", fmt.Sprint(wxNow.Unix()), id, "hello"), wxNow)
			if status != 400 || !strings.Contains(body, "MsgId") {
				t.Errorf("%s: %d %s, want 400", name, status, body)
			}
		}
		if n := d.count(t, "messages") + d.count(t, "customers"); n != 0 {
			t.Errorf("refused pushes stored %d rows", n)
		}
		if status, body := d.plain(t, wxPush("oIDs", fmt.Sprint(wxNow.Unix()), "18446744073709551615", "hello"), wxNow); status != 200 {
			t.Errorf("the largest 64-bit MsgId: %d %s", status, body)
		}
	})
}

// With an EncodingAESKey set, a plaintext push is refused: its signature covers no body.
func TestWeChatPlaintextRefusedInSafeMode(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newWxDesk(t, db)
		status, body := d.send(t, "POST", plainQuery(wxNow, "777"), textPush("oDown", "6001", "downgraded"))
		if status != 403 || !strings.Contains(body, "safe mode") {
			t.Errorf("plaintext push to a safe-mode account: %d %s, want 403", status, body)
		}
		if n := d.count(t, "messages") + d.count(t, "customers"); n != 0 {
			t.Errorf("a downgraded push stored %d rows", n)
		}
	})
}

// A plaintext push's signature covers its timestamp and nonce, not its body: a captured
// signature is refused with any other body for as long as its timestamp is accepted, in
// every process sharing the database, while WeChat's own retries of the same body pass.
func TestWeChatNonceReplay(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newWxDesk(t, db)
		other := newWxDesk(t, db) // a second process on the same database
		q := plainQuery(wxNow, "424242")
		genuine := textPush("oReplay", "7001", "genuine")
		for i, dd := range []*wxDesk{d, d, other} { // WeChat retries, at any process
			if status, body := dd.sendTo(t, dd.plainApp, "POST", q, genuine); status != 200 || body != "success" {
				t.Fatalf("delivery %d of the genuine push: %d %s", i+1, status, body)
			}
		}
		for i, dd := range []*wxDesk{d, other} {
			status, body := dd.sendTo(t, dd.plainApp, "POST", q, textPush("oVictim", "7002", "forged 投诉"))
			if status != 403 || !strings.Contains(body, "nonce") {
				t.Errorf("forged body under a used nonce at process %d: %d %s, want 403", i+1, status, body)
			}
		}
		if n, c := d.count(t, "messages"), d.count(t, "customers"); n != 1 || c != 1 {
			t.Errorf("%d messages, %d customers, want the genuine one only", n, c)
		}
		// Once the nonce's window has passed, a new push may bring the same nonce again.
		d.clock.Advance(11 * time.Minute)
		later := wxNow.Add(11 * time.Minute)
		if status, body := d.sendTo(t, d.plainApp, "POST", plainQuery(later, "424242"), textPush("oReplay", "7003", "later")); status != 200 {
			t.Errorf("a nonce again after its window: %d %s", status, body)
		}
		var rows int
		db.NewSelect().Table("webhook_nonces").ColumnExpr("COUNT(*)").Scan(context.Background(), &rows) //nolint:errcheck
		if rows != 1 {
			t.Errorf("%d nonce rows, want the one nonce once", rows)
		}
	})
}

// URL verification also refuses a timestamp outside the window: a captured check replays
// no more than a push.
func TestWeChatURLVerificationWindow(t *testing.T) {
	d := newWxDesk(t, tickettest.SQLite(t))
	for name, at := range map[string]time.Time{"an hour old": wxNow.Add(-time.Hour), "an hour ahead": wxNow.Add(time.Hour)} {
		ts := fmt.Sprint(at.Unix())
		status, body := d.send(t, "GET", fmt.Sprintf("signature=%s&timestamp=%s&nonce=n1&echostr=5837398749", wechat.Signature(wxToken, ts, "n1"), ts), "")
		if status != 403 || strings.Contains(body, "5837398749") {
			t.Errorf("%s: %d %s, want 403", name, status, body)
		}
	}
	status, body := d.send(t, "GET", "signature="+wechat.Signature(wxToken, "", "n1")+"&nonce=n1&echostr=5837398749", "")
	if status != 403 || strings.Contains(body, "5837398749") {
		t.Errorf("no timestamp: %d %s, want 403", status, body)
	}
}
