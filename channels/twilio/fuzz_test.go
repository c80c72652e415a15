package twilio_test

import (
	"net/url"
	"testing"

	"github.com/hotlinedesk/hotline/channels/twilio"
)

// FuzzSignValidate: for any token, URL and form (seeds: Twilio's documented example, an
// inbound SMS, repeated parameters, in testdata/fuzz/FuzzSignValidate), what Sign makes
// Validate accepts, also after the form is encoded and parsed again, and a value put in
// front of any parameter is refused.
func FuzzSignValidate(f *testing.F) {
	f.Fuzz(func(t *testing.T, token, u, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		sig := twilio.Sign(token, u, form)
		if token == "" {
			if twilio.Validate(token, u, form, sig) {
				t.Fatal("validated without a token")
			}
			return
		}
		if !twilio.Validate(token, u, form, sig) {
			t.Fatalf("Sign and Validate disagree on %q %q", u, body)
		}
		again, err := url.ParseQuery(form.Encode())
		if err != nil || !twilio.Validate(token, u, again, sig) {
			t.Fatalf("not valid after encoding again: %q (%v)", body, err)
		}
		tried := 0
		for k, vs := range form {
			if tried++; tried > 4 { // a few parameters a run keep runs fast; map order varies
				break
			}
			polluted := url.Values{}
			for k2, vs2 := range form {
				polluted[k2] = append([]string(nil), vs2...)
			}
			fresh := "\x00polluted"
			for _, v := range vs {
				fresh += v // longer than every value: distinct from all
			}
			polluted[k] = append([]string{fresh}, vs...)
			if twilio.Validate(token, u, polluted, sig) {
				t.Fatalf("a value put in front of %q still validates", k)
			}
		}
	})
}
