package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hotlinedesk/hotline/channels/twilio"
	"github.com/hotlinedesk/hotline/tickets"
)

// simulate plays a provider against a running Hotline:
//
//	hotline simulate sms --from +8613800138000 --body "我的理赔进度如何？"
//
// It signs the request exactly as Twilio does, with the desk's webhook token, so a newcomer
// sees a ticket arrive without a Twilio account.
func simulate(ctx context.Context, cfg config, svc *tickets.Service, args []string) error {
	if len(args) == 0 || args[0] != "sms" {
		return errors.New(`usage: simulate sms --from +8613800138000 --body "text" [--to NUMBER] [--url http://localhost:8080]`)
	}
	fs := flag.NewFlagSet("simulate sms", flag.ContinueOnError)
	from := fs.String("from", "+8613800138000", "the customer's phone number")
	body := fs.String("body", "", "the text of the message")
	to := fs.String("to", cfg.TwilioFrom, "the desk's number the customer texted")
	target := fs.String("url", localURL(cfg.Addr), "where Hotline listens")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if strings.TrimSpace(*body) == "" {
		return errors.New("say what the customer writes with --body")
	}
	token, err := twilioWebhookToken(ctx, cfg, svc, discardLog)
	if err != nil {
		return err
	}
	form := url.Values{
		"MessageSid": {"SM" + randomHex(16)}, "AccountSid": {"AC" + randomHex(16)}, "SmsStatus": {"received"},
		"From": {*from}, "To": {*to}, "Body": {*body}, "NumMedia": {"0"}, "ApiVersion": {"2010-04-01"},
	}
	const path = "/webhooks/twilio/sms"
	signedAs := strings.TrimRight(*target, "/")
	if cfg.PublicBaseURL != "" {
		signedAs = cfg.PublicBaseURL
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(*target, "/")+path, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twilio.Sign(token, signedAs+path, form))
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("post to Hotline (is it running at %s?): %w", *target, err)
	}
	defer res.Body.Close()
	reply, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	fmt.Printf("%s %s\n%s\n", res.Status, form.Get("MessageSid"), reply)
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("Hotline answered %s", res.Status)
	}
	return nil
}

// localURL is the address of a Hotline listening on addr, from this machine.
func localURL(addr string) string {
	if strings.HasPrefix(addr, ":") {
		addr = "localhost" + addr
	}
	return "http://" + addr
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) //nolint:errcheck // never fails
	return hex.EncodeToString(b)
}
