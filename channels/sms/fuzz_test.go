package sms_test

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hotlinedesk/hotline/channels/sms"
	"github.com/hotlinedesk/hotline/channels/twilio"
)

// FuzzParse feeds form bodies (seeds: Twilio's documented inbound-message and status
// callback parameters, in testdata/fuzz/FuzzParse) to both parsers: neither panics, and
// what they accept has Twilio's shape, so nothing longer reaches the database.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return // the webhook answers 400 before any parser
		}
		if m, err := sms.Parse(form); err == nil {
			in := m.Inbound
			if !twilio.ValidSID(in.ProviderMessageID, "SM", "MM") {
				t.Errorf("accepted MessageSid %q", in.ProviderMessageID)
			}
			if !utf8.ValidString(in.Body) || utf8.RuneCountInString(in.Body) > sms.MaxBodyRunes {
				t.Errorf("accepted a body of %d bytes", len(in.Body))
			}
			if strings.TrimSpace(in.Body) == "" && len(in.Attachments) == 0 {
				t.Error("accepted a message with neither text nor media")
			}
			if len(in.Attachments) > 10 {
				t.Errorf("accepted %d attachments", len(in.Attachments))
			}
		}
		if s, err := sms.ParseStatus(form); err == nil {
			if !twilio.ValidSID(s.MessageSid, "SM", "MM") || s.Status == "" || len(s.Status) > 32 || len(s.ErrorCode) > 10 {
				t.Errorf("accepted status %+v", s)
			}
		}
	})
}
