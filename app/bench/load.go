package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotlinedesk/hotline/channels/twilio"
)

// Load is a bounded load: Concurrency workers send requests until Requests were sent or
// Duration passed, whichever is first.
type Load struct {
	Concurrency int
	Duration    time.Duration
	Requests    int
}

// Result is what a load measured.
type Result struct {
	Sent, OK, Errors int
	Elapsed          time.Duration
	latencies        []time.Duration // of the requests that succeeded
	FirstError       string
}

// Throughput is successful requests per second.
func (r Result) Throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.OK) / r.Elapsed.Seconds()
}

// Percentile is the latency under which q (0..1) of the successful requests finished.
func (r Result) Percentile(q float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	i := int(float64(len(r.latencies)-1) * q)
	return r.latencies[i]
}

// Run sends the load: do is called with the request's number (0, 1, 2, ...) and reports
// failure with an error. It stops early when ctx ends.
func (l Load) Run(ctx context.Context, do func(ctx context.Context, n int) error) Result {
	var (
		next   atomic.Int64
		mu     sync.Mutex
		res    Result
		wg     sync.WaitGroup
		stopAt = time.Now().Add(l.Duration)
	)
	start := time.Now()
	for range max(1, l.Concurrency) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			var sent, failed int
			var firstErr string
			for ctx.Err() == nil && time.Now().Before(stopAt) {
				n := int(next.Add(1) - 1)
				if n >= l.Requests {
					break
				}
				t := time.Now()
				err := do(ctx, n)
				sent++
				if err != nil {
					failed++
					if firstErr == "" {
						firstErr = err.Error()
					}
					continue
				}
				lat = append(lat, time.Since(t))
			}
			mu.Lock()
			res.Sent += sent
			res.Errors += failed
			res.OK += len(lat)
			res.latencies = append(res.latencies, lat...)
			if res.FirstError == "" {
				res.FirstError = firstErr
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	slices.Sort(res.latencies)
	return res
}

// NewHTTPClient keeps up to conns connections open to one server.
func NewHTTPClient(conns int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        conns * 2,
			MaxIdleConnsPerHost: conns * 2,
			IdleConnTimeout:     time.Minute,
		},
	}
}

// SMS posts Twilio's inbound-SMS webhook to a Hotline, signed with the desk's token as
// Twilio signs it.
type SMS struct {
	Client *http.Client
	Token  string // the auth token webhooks are verified with
	To     string // the desk's number
}

// SMSPath is Hotline's inbound-SMS webhook.
const SMSPath = "/webhooks/twilio/sms"

// Send posts one text from a customer's number and returns the HTTP status. base is the
// Hotline to send to (http://127.0.0.1:port); the signature is computed over it.
func (s *SMS) Send(ctx context.Context, base, sid, from, body string) (int, error) {
	form := url.Values{
		"MessageSid": {sid}, "AccountSid": {"ACbench"}, "SmsStatus": {"received"}, "From": {from}, "To": {s.To},
		"Body": {body}, "NumMedia": {"0"}, "ApiVersion": {"2010-04-01"},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+SMSPath, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twilio.Sign(s.Token, base+SMSPath, form))
	res, err := s.Client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	reply, _ := io.ReadAll(io.LimitReader(res.Body, 4<<10))
	if res.StatusCode/100 != 2 {
		return res.StatusCode, fmt.Errorf("%s answered %d: %s", sid, res.StatusCode, reply)
	}
	return res.StatusCode, nil
}

// Phone is the number of simulated customer n: +86 139 followed by eight digits.
func Phone(n int) string { return fmt.Sprintf("+86139%08d", n%100_000_000) }
