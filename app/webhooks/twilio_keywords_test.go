package webhooks_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/channels/twilio"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// Answers the customer sees (channels/sms.Texts).
const (
	helpEN    = "Hotline customer service: reply to this number"
	helpZH    = "客服热线：直接回复本号码即可联系客服"
	startedEN = "You will receive our text messages again."
	startedZH = "您已重新订阅"
)

// TestSMSKeywordsMirrorTwilio sends every keyword of Twilio's default sets and the Chinese
// ones, in each state of the number, through the signed webhook: an opt-out word always
// blocks the number; an opt-in word or INFO acts only for an opted-out number and is
// otherwise the customer's answer, kept on their ticket; answers are in the keyword's
// language.
func TestSMSKeywordsMirrorTwilio(t *testing.T) {
	type want struct {
		reply    string // a fragment of the TwiML answer; "" means no <Message> at all
		stored   bool   // the word is a message on the customer's ticket
		optedOut bool   // the number is opted out afterwards
	}
	cases := []struct {
		word     string
		optedOut bool // the number opted out before sending the word
		want     want
	}{
		{"STOP", false, want{"", false, true}},
		{"STOPALL", false, want{"", false, true}},
		{"UNSUBSCRIBE", false, want{"", false, true}},
		{"CANCEL", false, want{"", false, true}},
		{"END", false, want{"", false, true}},
		{"QUIT", false, want{"", false, true}},
		{"OPTOUT", false, want{"", false, true}},
		{"REVOKE", false, want{"", false, true}},
		{" optout ", false, want{"", false, true}},
		{"Revoke", false, want{"", false, true}},
		{"退订", false, want{"", false, true}},
		{"TD", false, want{"", false, true}},
		{"REVOKE", true, want{"", false, true}},

		{"START", true, want{startedEN, false, false}},
		{"YES", true, want{startedEN, false, false}},
		{"UNSTOP", true, want{startedEN, false, false}},
		{"yes", true, want{startedEN, false, false}},
		{"START", false, want{"", true, false}},
		{"YES", false, want{"", true, false}},
		{"Yes", false, want{"", true, false}},
		{"UNSTOP", false, want{"", true, false}},

		{"HELP", false, want{helpEN, false, false}},
		{"help", true, want{helpEN, false, true}},
		{"帮助", false, want{helpZH, false, false}},
		{"INFO", true, want{helpEN, false, true}},
		{"INFO", false, want{"", true, false}},
		{"info", false, want{"", true, false}},
	}
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db, nil)
		for i, c := range cases {
			name := fmt.Sprintf("%s/opted-out=%v", strings.TrimSpace(c.word), c.optedOut)
			t.Run(name, func(t *testing.T) {
				me := fmt.Sprintf("+86139%08d", i)
				if status, _ := d.post(t, "/webhooks/twilio/sms", smsForm(me+"/1", me, "请问可以改地址吗？")); status != 200 {
					t.Fatalf("first message: %d", status)
				}
				if c.optedOut {
					if status, _ := d.post(t, "/webhooks/twilio/sms", smsForm(me+"/stop", me, "STOP")); status != 200 {
						t.Fatalf("STOP: %d", status)
					}
				}
				id := d.ticketOf(t, me)
				before := len(d.detail(t, id).Messages)

				status, body := d.post(t, "/webhooks/twilio/sms", smsForm(me+"/kw", me, c.word))
				if status != 200 {
					t.Fatalf("%q: %d %s", c.word, status, body)
				}
				if c.want.reply == "" && strings.Contains(body, "<Message>") {
					t.Errorf("%q was answered %s, want no answer", c.word, body)
				}
				if c.want.reply != "" && !strings.Contains(body, c.want.reply) {
					t.Errorf("%q was answered %s, want %q", c.word, body, c.want.reply)
				}
				td := d.detail(t, id)
				stored := len(td.Messages) > before && td.Messages[len(td.Messages)-1].Body == strings.TrimSpace(c.word)
				if stored != c.want.stored || len(td.Messages) > before+1 {
					t.Errorf("%q: ticket has %d messages after %d; the word kept as a message = %v, want %v", c.word, len(td.Messages), before, stored, c.want.stored)
				}
				if n := d.count(t, "tickets"); n != i+1 {
					t.Errorf("%q: %d tickets for %d customers", c.word, n, i+1)
				}
				if out := d.optedOut(t, me); out != c.want.optedOut {
					t.Errorf("%q: opted out = %v, want %v", c.word, out, c.want.optedOut)
				}
				// What the agent can do next is what Twilio will let through.
				agent := d.agent(t)
				_, err := d.svc.Reply(ctx, tickets.AgentActor(agent), tickets.FormatRef(id), "ok")
				if (err != nil) != c.want.optedOut {
					t.Errorf("%q: reply to the number: %v, want refused = %v", c.word, err, c.want.optedOut)
				}
			})
		}
	})
}

// TestSMSAcknowledgesInTheCustomersLanguage: a customer's first text is acknowledged in the
// language they wrote in (their number's country when the text does not show it), and that
// language is kept on the customer, also on one Hotline knew before without a language.
func TestSMSAcknowledgesInTheCustomersLanguage(t *testing.T) {
	const (
		ackEN = "Thank you, we have your message. Your reference is"
		ackZH = "您好，我们已收到您的信息"
	)
	cases := []struct {
		name, from, body string
		media            bool
		before           []string // texts sent before, without a ticket
		ack, locale      string
	}{
		{"english text", "+14155550123", "Hello, my parcel has not arrived", false, nil, ackEN, "en"},
		{"english text from china", "+8613800138001", "Where is my refund?", false, nil, ackEN, "en"},
		{"chinese text", "+8613800138002", "你好，理赔进度？", false, nil, ackZH, "zh-CN"},
		{"chinese text from abroad", "+14155550124", "我的包裹到了吗", false, nil, ackZH, "zh-CN"},
		{"one word from china", "+8613800138003", "ok", false, nil, ackZH, "zh-CN"},
		{"a photo from the uk", "+447700900123", "", true, nil, ackEN, "en"},
		{"a photo from hong kong", "+85291234567", "", true, nil, ackZH, "zh-CN"},
		{"known number, no language yet", "+14155550125", "I still need help with my order", false, []string{"STOP", "START"}, ackEN, "en"},
	}
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newDesk(t, db, nil)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				for i, b := range c.before {
					d.post(t, "/webhooks/twilio/sms", smsForm(fmt.Sprintf("%s/before%d", c.from, i), c.from, b))
				}
				form := smsForm(c.from+"/1", c.from, c.body)
				if c.media {
					form.Set("NumMedia", "1")
					form.Set("MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1")
					form.Set("MediaContentType0", "image/jpeg")
				}
				status, body := d.post(t, "/webhooks/twilio/sms", form)
				if status != 200 || !strings.Contains(body, c.ack) {
					t.Fatalf("%d %s: want an acknowledgement containing %q", status, body, c.ack)
				}
				if td := d.detail(t, d.ticketOf(t, c.from)); td.Customer.Locale != c.locale {
					t.Errorf("customer locale %q, want %q", td.Customer.Locale, c.locale)
				}
			})
		}
	})
}

// ticketOf is the id of the ticket of the customer with this phone number.
func (d *desk) ticketOf(t *testing.T, phone string) int64 {
	t.Helper()
	var id int64
	err := d.db.NewRaw(`SELECT t.id FROM tickets AS t JOIN customer_identities AS i ON i.customer_id = t.customer_id
		WHERE i.kind = ? AND i.value = ?`, tickets.IdentityPhone, phone).Scan(context.Background(), &id)
	if err != nil {
		t.Fatalf("ticket of %s: %v", phone, err)
	}
	return id
}

func (d *desk) optedOut(t *testing.T, phone string) bool {
	t.Helper()
	n, err := d.db.NewSelect().Table("customer_identities").
		Where("kind = ? AND value = ? AND opted_out_at IS NOT NULL", tickets.IdentityPhone, phone).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// agent is the desk's one agent, created the first time.
func (d *desk) agent(t *testing.T) *tickets.Agent {
	t.Helper()
	ctx := context.Background()
	var a tickets.Agent
	if err := d.db.NewSelect().Model(&a).Where("email = ?", "keywords@example.com").Scan(ctx); err == nil {
		return &a
	}
	created, err := d.svc.CreateAgent(ctx, tickets.Actor{Kind: "system"}, tickets.NewAgent{Email: "keywords@example.com", Role: tickets.RoleAdmin, Password: "long enough password"})
	if err != nil {
		t.Fatal(err)
	}
	return created
}

// TestSMSConcurrentYesResubscribesOnce: an opted-out customer's phone sends "YES" several
// times at once (a double tap, a resend). The number is resubscribed once, with one
// confirmation, and every other "YES" is the customer's answer, kept on the ticket; none is
// lost and none confirmed twice. The conditional update in the database decides which.
func TestSMSConcurrentYesResubscribesOnce(t *testing.T) {
	const n = 6
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newDesk(t, db, nil)
		me := "+8613700137000"
		d.post(t, "/webhooks/twilio/sms", smsForm("first", me, "请问可以改地址吗？"))
		d.post(t, "/webhooks/twilio/sms", smsForm("stop", me, "STOP"))
		id := d.ticketOf(t, me)

		bodies := make(chan string, n)
		errs := make(chan error, n)
		start := make(chan struct{})
		for i := range n {
			go func() {
				<-start
				form := smsForm(fmt.Sprintf("yes%d", i), me, "YES")
				req := httptest.NewRequest(http.MethodPost, "/webhooks/twilio/sms", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("X-Twilio-Signature", twilio.Sign(token, base+"/webhooks/twilio/sms", form))
				res, err := d.app.Test(req, -1)
				if err != nil {
					errs <- err
					return
				}
				b, _ := io.ReadAll(res.Body)
				if res.StatusCode != 200 {
					errs <- fmt.Errorf("status %d: %s", res.StatusCode, b)
					return
				}
				bodies <- string(b)
			}()
		}
		close(start)
		confirmed := 0
		for range n {
			select {
			case err := <-errs:
				t.Fatal(err)
			case b := <-bodies:
				if strings.Contains(b, startedEN) {
					confirmed++
				} else if strings.Contains(b, "<Message>") {
					t.Errorf("a YES was answered %s", b)
				}
			}
		}
		if confirmed != 1 {
			t.Errorf("%d confirmations of resubscription, want 1", confirmed)
		}
		kept := 0
		for _, m := range d.detail(t, id).Messages {
			if m.Body == "YES" {
				kept++
			}
		}
		if kept != n-1 {
			t.Errorf("%d of the other %d YES kept on the ticket", kept, n-1)
		}
		var optIns int
		if err := d.db.NewSelect().Table("events").ColumnExpr("COUNT(*)").Where("kind = ?", "customer.opted_in").
			Scan(context.Background(), &optIns); err != nil {
			t.Fatal(err)
		}
		if optIns != 1 || d.optedOut(t, me) {
			t.Errorf("%d opt-in events, opted out = %v; want one opt-in", optIns, d.optedOut(t, me))
		}
	})
}

// TestSMSRetriedOptInIsNotAMessage: Twilio retries a webhook whose answer it did not get.
// The retry of the "START" or "YES" that resubscribed a number carries the same MessageSid
// and is answered as the resubscription again: it is not the customer's "YES" on a ticket,
// and the opt-in is recorded once. A new "YES" (another MessageSid) is an answer as before.
func TestSMSRetriedOptInIsNotAMessage(t *testing.T) {
	for _, word := range []string{"START", "YES", "UNSTOP"} {
		t.Run(word, func(t *testing.T) { testRetriedOptIn(t, word) })
	}
}

func testRetriedOptIn(t *testing.T, word string) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newDesk(t, db, nil)
		me := "+8613700137001"
		d.post(t, "/webhooks/twilio/sms", smsForm("first", me, "请问可以改地址吗？"))
		d.post(t, "/webhooks/twilio/sms", smsForm("stop", me, "STOP"))
		id := d.ticketOf(t, me)
		before := len(d.detail(t, id).Messages)

		for attempt := 1; attempt <= 3; attempt++ {
			status, body := d.post(t, "/webhooks/twilio/sms", smsForm("optin", me, word))
			if status != 200 || !strings.Contains(body, startedEN) {
				t.Fatalf("%s, delivery %d: %d %s; want the resubscription answered", word, attempt, status, body)
			}
		}
		if got := len(d.detail(t, id).Messages); got != before {
			t.Errorf("%s retried: the ticket has %d messages, want %d (the keyword is no message)", word, got, before)
		}
		var optIns int
		if err := d.db.NewSelect().Table("events").ColumnExpr("COUNT(*)").Where("kind = ?", "customer.opted_in").
			Scan(context.Background(), &optIns); err != nil {
			t.Fatal(err)
		}
		if optIns != 1 {
			t.Errorf("%s retried: %d opt-in events, want 1", word, optIns)
		}

		status, body := d.post(t, "/webhooks/twilio/sms", smsForm("answer", me, word))
		if status != 200 || strings.Contains(body, "<Message>") {
			t.Errorf("a new %s from a subscribed number: %d %s, want it kept without an answer", word, status, body)
		}
		if got := len(d.detail(t, id).Messages); got != before+1 {
			t.Errorf("a new %s: the ticket has %d messages, want %d", word, got, before+1)
		}
	})
}
