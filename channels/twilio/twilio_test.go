package twilio_test

import (
	"math/rand/v2"
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

// A repeated parameter is signed as Twilio's own libraries sign it (twilio-python's
// compute_signature): each distinct value, in sorted order, after its name. The expected
// signature was computed with Python's hmac over
// URL + "CallSidCA1234567890ABCDE" + "Digits1234" + "Digits5678" + "From+14158675309".
func TestRepeatedParameterSignature(t *testing.T) {
	const url0, want = "https://mycompany.com/myapp.php?foo=1&bar=2", "rWDFNPfKvAgoR0YfLIZgYP7rTVY="
	form := url.Values{"CallSid": {"CA1234567890ABCDE"}, "Digits": {"5678", "1234", "5678"}, "From": {"+14158675309"}}
	if got := twilio.Sign("12345", url0, form); got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
	if !twilio.Validate("12345", url0, form, want) {
		t.Error("the repeated-parameter form does not validate")
	}
}

// A body captured with its signature, with values put in front of it: the handlers read a
// form's first value, so the check must cover every value, or the forgery passes.
func TestPollutedFormsAreRefused(t *testing.T) {
	const token, u = "12345", "https://desk.example.com/webhooks/twilio/sms"
	body := "MessageSid=SM0123456789abcdef0123456789abcdef&From=%2B8613800138000&To=%2B8610095500&Body=hello"
	signed, _ := url.ParseQuery(body)
	signature := twilio.Sign(token, u, signed)
	for _, prefix := range []string{
		"Body=forged&",
		"From=%2B8613900139000&",
		"MessageSid=SMffffffffffffffffffffffffffffffff&",
		"From=%2B8613900139000&Body=forged&MessageSid=SMffffffffffffffffffffffffffffffff&",
		"Extra=1&",
	} {
		polluted, err := url.ParseQuery(prefix + body)
		if err != nil {
			t.Fatal(err)
		}
		if twilio.Validate(token, u, polluted, signature) {
			t.Errorf("%q prepended to a signed body still validates", prefix)
		}
	}
	if !twilio.Validate(token, u, signed, signature) {
		t.Error("the signed body itself does not validate")
	}
}

func TestDefaultPortVariants(t *testing.T) {
	form := url.Values{"CallSid": {"CA1"}}
	cases := []struct {
		signedFor, requested string
		want                 bool
	}{
		{"https://d.example.com/x", "https://d.example.com:443/x", true},
		{"https://d.example.com:443/x", "https://d.example.com/x", true},
		{"http://d.example.com/x?a=1", "http://d.example.com:80/x?a=1", true},
		{"http://d.example.com:8080/x", "http://d.example.com/x", false},
		{"https://d.example.com/x", "https://d.example.com:8443/x", false},
		{"https://d.example.com:80/x", "https://d.example.com/x", false},
	}
	for _, c := range cases {
		if got := twilio.Validate("tok", c.requested, form, twilio.Sign("tok", c.signedFor, form)); got != c.want {
			t.Errorf("signed for %s, requested %s: %v, want %v", c.signedFor, c.requested, got, c.want)
		}
	}
}

// Sign and Validate agree for any form, repeated parameters included, and a form changed
// in any value (one added, one dropped, one altered) no longer validates.
func TestSignValidateAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	word := func() string {
		const letters = "abAB+ 1=&%中"
		r := []rune(letters)
		n := rng.IntN(5)
		out := make([]rune, n)
		for i := range out {
			out[i] = r[rng.IntN(len(r))]
		}
		return string(out)
	}
	for i := range 2000 {
		form := url.Values{}
		for range rng.IntN(6) {
			k := word()
			for range 1 + rng.IntN(3) {
				form.Add(k, word())
			}
		}
		u := "https://desk.example.com/webhooks/twilio/sms?n=" + word()
		sig := twilio.Sign("token", u, form)
		if !twilio.Validate("token", u, form, sig) {
			t.Fatalf("form %d %v: Sign and Validate disagree", i, form)
		}
		// Re-encoded and parsed again, as it travels: still valid.
		back, err := url.ParseQuery(form.Encode())
		if err != nil || !twilio.Validate("token", u, back, sig) {
			t.Fatalf("form %d %v: valid no longer after encoding (%v)", i, form, err)
		}
		changed := with(form, "Injected"+word(), "x")
		changed["Injected"] = append(changed["Injected"], "x")
		if twilio.Validate("token", u, changed, sig) {
			t.Fatalf("form %d %v: a parameter added still validates", i, form)
		}
		for k, vs := range form {
			polluted := with(form, k, vs[0])
			polluted[k] = append([]string{"polluted" + word()}, vs...)
			if twilio.Validate("token", u, polluted, sig) {
				t.Fatalf("form %d %v: a value put in front of %q still validates", i, form, k)
			}
			break
		}
	}
}

func TestRepeatedAndSIDs(t *testing.T) {
	if k := twilio.Repeated(url.Values{"A": {"1"}, "B": {"1", "1"}, "C": {"1", "2"}}); k != "B" {
		t.Errorf("Repeated = %q, want B", k)
	}
	if k := twilio.Repeated(url.Values{"A": {"1"}}); k != "" {
		t.Errorf("Repeated = %q, want none", k)
	}
	cases := []struct {
		sid  string
		want bool
	}{
		{"SM0123456789abcdef0123456789ABCDEF", true},
		{"MM0123456789abcdef0123456789abcdef", true},
		{"CA0123456789abcdef0123456789abcdef", false}, // not a message
		{"SM0123456789abcdef0123456789abcde", false},
		{"SM0123456789abcdef0123456789abcdef0", false},
		{"SM0123456789abcdef0123456789abcdeg", false},
		{"sm0123456789abcdef0123456789abcdef", false},
		{"", false},
	}
	for _, c := range cases {
		if got := twilio.ValidSID(c.sid, "SM", "MM"); got != c.want {
			t.Errorf("ValidSID(%q) = %v, want %v", c.sid, got, c.want)
		}
	}
}

// Validate and Sign put the values of a repeated parameter in order on a copy: the form
// the handlers read keeps its order (twilio.Repeated refuses it, naming the parameter).
func TestValidateLeavesTheFormAlone(t *testing.T) {
	const u = "https://desk.example.com/webhooks/twilio/sms"
	form := url.Values{"Body": {"zz", "aa", "mm"}, "From": {"+8613800138000"}}
	sig := twilio.Sign("token", u, form)
	if !twilio.Validate("token", u, form, sig) || !twilio.Validate("token", "https://desk.example.com:443/webhooks/twilio/sms", form, sig) {
		t.Fatal("the form does not validate")
	}
	if got := form["Body"]; len(got) != 3 || got[0] != "zz" || got[1] != "aa" || got[2] != "mm" {
		t.Errorf("Body is %q after Sign and Validate, want it as posted", got)
	}
}

// BenchmarkValidate checks the signature of an inbound text's form, as the webhook does for
// every request.
func BenchmarkValidate(b *testing.B) {
	const u = "https://desk.example.com/webhooks/twilio/sms"
	form := url.Values{"MessageSid": {"SM0123456789abcdef0123456789abcdef"}, "AccountSid": {"AC0123456789abcdef0123456789abcdef"},
		"From": {"+8613800138000"}, "To": {"+8610095500"}, "Body": {"您好，我想问一下理赔进度，谢谢。"}, "NumMedia": {"0"},
		"NumSegments": {"1"}, "SmsStatus": {"received"}, "ApiVersion": {"2010-04-01"}}
	sig := twilio.Sign("token", u, form)
	b.ReportAllocs()
	for b.Loop() {
		if !twilio.Validate("token", u, form, sig) {
			b.Fatal("does not validate")
		}
	}
}
