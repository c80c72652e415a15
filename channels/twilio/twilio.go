// Package twilio holds what Hotline's Twilio channels share: checking and making
// X-Twilio-Signature, and a REST client whose base URL can point at a local fake.
package twilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	twilio "github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
)

// Config is an account's credentials and where its REST API is.
type Config struct {
	AccountSID string
	AuthToken  string
	// APIURL replaces https://api.twilio.com (and the other *.twilio.com hosts), for tests
	// against a local server that speaks Twilio's REST API.
	APIURL string
}

// Validate checks an X-Twilio-Signature: HMAC-SHA1, keyed by the auth token, over the full
// URL Twilio requested followed by each POST parameter's name and value in name order (see
// signedString). Every value of the form is covered, so a value put in front of a signed
// body fails the check. The URL is tried as given and with its default port added or
// removed, as Twilio signs either; the comparison is in constant time.
func Validate(authToken, fullURL string, form url.Values, signature string) bool {
	if authToken == "" || signature == "" {
		return false
	}
	// The parameters are the same for every variant of the URL: they are put in order once,
	// and each variant is hashed with them.
	params := signedParams(form)
	mac := hmac.New(sha1.New, []byte(authToken))
	var msg []byte
	var sum [sha1.Size]byte
	var got [28]byte // base64 of a SHA-1 sum
	ok := false
	for _, u := range urlVariants(fullURL) {
		msg = append(append(msg[:0], u...), params...)
		mac.Reset()
		mac.Write(msg)
		base64.StdEncoding.Encode(got[:], mac.Sum(sum[:0]))
		// Every variant is computed and compared, so the time taken says nothing of which matched.
		if subtle.ConstantTimeCompare(got[:], []byte(signature)) == 1 {
			ok = true
		}
	}
	return ok
}

// Sign computes the X-Twilio-Signature Twilio would send for a POST of form to fullURL.
func Sign(authToken, fullURL string, form url.Values) string {
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(signedString(fullURL, form)))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// signedString is what Twilio signs: the URL, then for each parameter name in sorted order
// the name followed by each of its distinct values, also sorted. That is what Twilio's own
// libraries compute (twilio-python's compute_signature, twilio-node's
// getExpectedTwilioSignature); twilio-go's validator reads only one value of a repeated
// name, which let a value the signature never covered be the one the handlers read.
func signedString(fullURL string, form url.Values) string {
	return fullURL + signedParams(form)
}

// signedParams is what Twilio signs after the URL.
func signedParams(form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	n := 0
	for k, vs := range form {
		n += len(vs) * len(k)
		for _, v := range vs {
			n += len(v)
		}
	}
	var b strings.Builder
	b.Grow(n)
	for _, k := range keys {
		vs := form[k]
		if len(vs) > 1 { // sorted on a copy: the form is the caller's
			vs = append([]string(nil), vs...)
			sort.Strings(vs)
		}
		for i, v := range vs {
			if i > 0 && v == vs[i-1] {
				continue
			}
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	return b.String()
}

// urlVariants is fullURL as given and, for http and https, with the scheme's default port
// added when it has none or removed when it has it: Twilio signs whichever form its
// servers saw. A port other than the default is never dropped.
func urlVariants(fullURL string) []string {
	out := []string{fullURL}
	scheme, rest, ok := strings.Cut(fullURL, "://")
	var port string
	switch strings.ToLower(scheme) {
	case "http":
		port = "80"
	case "https":
		port = "443"
	}
	if !ok || port == "" {
		return out
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	host, tail := rest[:end], rest[end:]
	if strings.HasSuffix(host, "]") || !strings.Contains(host, ":") { // no port (an IPv6 literal ends in "]")
		return append(out, scheme+"://"+host+":"+port+tail)
	}
	if h, p, _ := strings.Cut(host, ":"); p == port && !strings.Contains(h, "[") {
		return append(out, scheme+"://"+h+tail)
	}
	return out
}

// Repeated names the first parameter of form that has more than one value, or "". Twilio
// sends each parameter once (media come as MediaUrl0, MediaUrl1, ...), so a repeated one is
// not Twilio's form.
func Repeated(form url.Values) string {
	keys := make([]string, 0, len(form))
	for k, vs := range form {
		if len(vs) > 1 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return ""
	}
	sort.Strings(keys)
	return keys[0]
}

// ValidSID says whether sid has the shape of a Twilio SID with one of the given two-letter
// prefixes (SM, MM, CA, RE, ...): the prefix and 32 hexadecimal digits.
func ValidSID(sid string, prefixes ...string) bool {
	if len(sid) != 34 {
		return false
	}
	for _, c := range []byte(sid[2:]) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	for _, p := range prefixes {
		if sid[:2] == p {
			return true
		}
	}
	return false
}

// NewClient builds a twilio-go REST client for the account.
func NewClient(cfg Config) *twilio.RestClient {
	httpClient := &http.Client{
		Timeout: 20 * time.Second,
		// Twilio's client must not follow redirects (twilio-go's default does the same).
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if cfg.APIURL != "" {
		if base, err := url.Parse(cfg.APIURL); err == nil {
			httpClient.Transport = rebase{base: base, next: http.DefaultTransport}
		}
	}
	c := &client.Client{Credentials: client.NewCredentials(cfg.AccountSID, cfg.AuthToken), HTTPClient: httpClient}
	c.SetAccountSid(cfg.AccountSID)
	return twilio.NewRestClientWithParams(twilio.ClientParams{Client: c, AccountSid: cfg.AccountSID})
}

// rebase sends requests for Twilio's hosts to another base URL.
type rebase struct {
	base *url.URL
	next http.RoundTripper
}

func (r rebase) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Hostname(), "twilio.com") {
		req = req.Clone(req.Context())
		req.URL.Scheme, req.URL.Host, req.Host = r.base.Scheme, r.base.Host, r.base.Host
	}
	return r.next.RoundTrip(req)
}
