package twilio_test

import (
	"net/url"
	"testing"

	"github.com/hotlinedesk/hotline/channels/twilio"
)

// The worked example of Twilio's request-validation documentation.
func TestDocumentedSignature(t *testing.T) {
	form := url.Values{"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+14158675309"}, "Digits": {"1234"},
		"From": {"+14158675309"}, "To": {"+18005551212"}}
	const documented = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
	if got := twilio.Sign("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", form); got != documented {
		t.Errorf("Sign = %s, want Twilio's documented %s", got, documented)
	}
	if !twilio.Validate("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", form, documented) {
		t.Error("the documented example does not validate")
	}
}

// twilio-go's own test vector, and what must not validate.
func TestSignatureValidation(t *testing.T) {
	const (
		token      = "12345"
		exampleURL = "https://mycompany.com/myapp.php?foo=1&bar=2"
		signature  = "vOEb5UThFn24KEfnOFLQY2AE5FY="
	)
	form := url.Values{
		"Digits": {"1234"}, "CallSid": {"CA1234567890ABCDE"}, "To": {"+18005551212"},
		"Caller": {"+14158675309"}, "From": {"+14158675309"},
		"ReasonConferenceEnded": {"test"}, "Reason": {"Participant"},
	}
	if got := twilio.Sign(token, exampleURL, form); got != signature {
		t.Errorf("Sign = %s, want Twilio's %s", got, signature)
	}
	cases := []struct {
		name      string
		url       string
		form      url.Values
		signature string
		token     string
		want      bool
	}{
		{"documented example", exampleURL, form, signature, token, true},
		{"wrong token", exampleURL, form, signature, "54321", false},
		{"another URL", "https://mycompany.com/myapp.php?foo=1&bar=3", form, signature, token, false},
		{"a parameter changed", exampleURL, with(form, "Digits", "1235"), signature, token, false},
		{"a parameter added", exampleURL, with(form, "Body", "x"), signature, token, false},
		{"no signature", exampleURL, form, "", token, false},
		{"no token configured", exampleURL, form, signature, "", false},
		{"port in the URL", "https://mycompany.com:443/myapp.php?foo=1&bar=2", form, signature, token, true},
	}
	for _, c := range cases {
		if got := twilio.Validate(c.token, c.url, c.form, c.signature); got != c.want {
			t.Errorf("%s: Validate = %v, want %v", c.name, got, c.want)
		}
	}
}

func with(form url.Values, k, v string) url.Values {
	out := url.Values{}
	for key, vs := range form {
		out[key] = append([]string(nil), vs...)
	}
	out.Set(k, v)
	return out
}
