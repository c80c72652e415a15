// Package twilio holds what Hotline's Twilio channels share: checking and making
// X-Twilio-Signature, and a REST client whose base URL can point at a local fake.
package twilio

import (
	"crypto/hmac"
	"crypto/sha1"
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
// URL Twilio requested followed by each POST parameter's name and value in name order.
func Validate(authToken, fullURL string, form url.Values, signature string) bool {
	if authToken == "" || signature == "" {
		return false
	}
	params := make(map[string]string, len(form))
	for k, vs := range form {
		if len(vs) > 0 {
			params[k] = vs[len(vs)-1]
		}
	}
	v := client.NewRequestValidator(authToken)
	return v.Validate(fullURL, params, signature)
}

// Sign computes the X-Twilio-Signature Twilio would send for a POST of form to fullURL.
func Sign(authToken, fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range keys {
		for _, v := range form[k] {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
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
