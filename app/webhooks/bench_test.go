package webhooks_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/app/webhooks"
	"github.com/hotlinedesk/hotline/channels/twilio"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// BenchmarkInboundSMS posts signed Twilio texts to /webhooks/twilio/sms through the whole
// HTTP stack in process (the middleware, the signature, the form, intake, the TwiML
// answer) on PostgreSQL, one at a time: a third from new numbers (each opens a ticket), the
// rest replies onto the sender's open ticket. It reports the CPU time of this process
// (go-cpu-ms/op), which includes the test's own client side.
//
//	go test -run '^$' -bench InboundSMS -benchmem -benchtime 2000x ./app/webhooks/
func BenchmarkInboundSMS(b *testing.B) {
	db := tickettest.Postgres(b)
	svc := tickettest.Service(db, tickets.SystemClock{})
	svc.SetComplaints(complaints.New(svc))
	log := tickettest.Logger()
	cfg := webhooks.TwilioConfig{AuthToken: token, PublicBaseURL: base, SMSAck: true}
	app := api.New(api.Config{Service: svc, Log: log, Webhooks: []interface{ Register(*fiber.App) }{webhooks.NewTwilio(svc, cfg, log)}})
	const path = "/webhooks/twilio/sms"
	n := 0
	send := func() error {
		n++
		caller := n
		if n%3 != 0 {
			caller = n / 3
		}
		form := smsForm(fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), n), fmt.Sprintf("+86139%08d", caller), "您好，我想问一下理赔进度，谢谢。")
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", twilio.Sign(token, base+path, form))
		res, err := app.Test(req, -1)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		answer, err := io.ReadAll(res.Body)
		if err != nil {
			return err
		}
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("POST %s: %d %s", path, res.StatusCode, answer)
		}
		return nil
	}
	for range 50 { // warm the connections and the caches
		if err := send(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	cpu := tickettest.ProcessCPU(b)
	b.Cleanup(func() {
		b.ReportMetric((tickettest.ProcessCPU(b)-cpu).Seconds()*1000/float64(b.N), "go-cpu-ms/op")
	})
	for b.Loop() {
		if err := send(); err != nil {
			b.Fatal(err)
		}
	}
}
