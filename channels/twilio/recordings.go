package twilio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// A call recording's media is behind the account's credentials (Twilio's "Enforce HTTP
// Auth on Media URLs"), so Hotline fetches it itself: to transcribe it, and to play it to
// agents. Credentials go only to Twilio's API (or TWILIO_API_URL): the address of a
// recording is checked against Twilio's shape before anything is sent, so a RecordingUrl
// naming another host can never make Hotline send the auth token there.

// recordingPath is a recording's path on Twilio's REST API, with or without a media
// extension: /2010-04-01/Accounts/AC…/Recordings/RE…[.mp3|.wav].
var recordingPath = regexp.MustCompile(`^/2010-04-01/Accounts/AC[0-9a-fA-F]{32}/Recordings/(RE[0-9a-fA-F]{32})(\.mp3|\.wav)?$`)

// twilioAPIHost matches api.twilio.com and its regional hosts (api.dublin.ie1.twilio.com).
var twilioAPIHost = regexp.MustCompile(`^api(\.[a-z0-9-]+\.[a-z0-9-]+)?\.twilio\.com$`)

// ErrNotRecording says an address is not a recording on Twilio's API.
var ErrNotRecording = errors.New("not a recording on Twilio's REST API")

// RecordingMedia checks that raw is a recording on Twilio's REST API (https on
// api.twilio.com or a regional API host, or on apiURL when that is set), naming sid when
// sid is given, and returns where its MP3 is fetched: the same path on apiURL when set,
// else on the host raw names.
func RecordingMedia(apiURL, raw, sid string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", fmt.Errorf("RecordingUrl %.100q: %w", raw, ErrNotRecording)
	}
	path := u.EscapedPath()
	var base *url.URL
	if apiURL != "" {
		base, err = url.Parse(strings.TrimRight(apiURL, "/"))
		if err != nil || base.Host == "" || (base.Scheme != "https" && base.Scheme != "http") || base.User != nil || base.RawQuery != "" || base.Fragment != "" {
			return "", fmt.Errorf("TWILIO_API_URL %q is not an http(s) base URL", apiURL)
		}
	}
	onTwilio := u.Scheme == "https" && twilioAPIHost.MatchString(u.Host) // a port, even 443, is not Twilio's form
	onBase := base != nil && u.Scheme == base.Scheme && u.Host == base.Host && strings.HasPrefix(path, base.EscapedPath())
	if onBase {
		path = strings.TrimPrefix(path, base.EscapedPath())
	}
	m := recordingPath.FindStringSubmatch(path)
	if !(onTwilio || onBase) || m == nil || (sid != "" && m[1] != sid) {
		return "", fmt.Errorf("RecordingUrl %.100q: %w", raw, ErrNotRecording)
	}
	media := strings.TrimSuffix(strings.TrimSuffix(path, ".mp3"), ".wav") + ".mp3"
	if base != nil {
		return base.Scheme + "://" + base.Host + base.EscapedPath() + media, nil
	}
	return "https://" + u.Host + media, nil
}

// RecordingSID is the recording SID in a recording's address, or "".
func RecordingSID(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	i := strings.Index(u.Path, "/2010-04-01/")
	if i < 0 {
		return ""
	}
	if m := recordingPath.FindStringSubmatch(u.Path[i:]); m != nil {
		return m[1]
	}
	return ""
}

// StatusError is Twilio's answer when it is not the recording.
type StatusError struct{ Status int }

func (e *StatusError) Error() string {
	switch e.Status {
	case http.StatusNotFound:
		return "Twilio has no such recording (404): not ready yet, or deleted"
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Sprintf("Twilio refused the account's credentials (%d): check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN", e.Status)
	}
	return fmt.Sprintf("Twilio answered %d for the recording", e.Status)
}

// MaxRecordingBytes bounds a recording Hotline reads: OpenAI's limit for one file to
// transcribe, and far more than the phone menu's three minutes of MP3 (under 3 MiB).
const MaxRecordingBytes = 25 << 20

// ErrTooLarge says a recording is larger than the caller takes.
var ErrTooLarge = errors.New("the recording is larger than allowed")

// Recordings fetches call recordings with the account's credentials.
type Recordings struct {
	cfg    Config
	client *http.Client
}

// NewRecordings builds the fetcher for the account.
func NewRecordings(cfg Config) *Recordings {
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 20 * time.Second,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
	}
	return &Recordings{cfg: cfg, client: &http.Client{Transport: transport, CheckRedirect: checkRedirect}}
}

// checkRedirect follows Twilio's redirect to the media's storage, as a browser would: a
// few hops, over https unless to the host asked (a local fake). Go itself drops the
// Authorization header on a hop to another host.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 3 {
		return errors.New("more than 3 redirects")
	}
	if req.URL.Scheme != "https" && req.URL.Host != via[0].URL.Host {
		return fmt.Errorf("refusing a redirect to %s over %s", req.URL.Host, req.URL.Scheme)
	}
	return nil
}

// Enabled reports whether the account's credentials are configured.
func (r *Recordings) Enabled() bool {
	return r != nil && r.cfg.AccountSID != "" && r.cfg.AuthToken != ""
}

// request builds the authenticated GET of a recording's MP3.
func (r *Recordings) request(ctx context.Context, raw string) (*http.Request, error) {
	if !r.Enabled() {
		return nil, errors.New("Twilio recordings need TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
	}
	media, err := RecordingMedia(r.cfg.APIURL, raw, "")
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, media, nil)
	if err != nil {
		return nil, fmt.Errorf("build recording request: %w", err)
	}
	req.SetBasicAuth(r.cfg.AccountSID, r.cfg.AuthToken)
	return req, nil
}

// Fetch reads a recording's MP3, at most max bytes, within a minute.
func (r *Recordings) Fetch(ctx context.Context, raw string, max int64) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	req, err := r.request(ctx, raw)
	if err != nil {
		return nil, err
	}
	res, err := r.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch recording: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, &StatusError{Status: res.StatusCode}
	}
	if res.ContentLength > max {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrTooLarge, res.ContentLength, max)
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("read recording: %w", err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)
	}
	return b, nil
}

// Stream is an open recording: Twilio's status (200, 206 or 416), its headers and body.
type Stream struct {
	Status int
	Header http.Header
	Body   io.ReadCloser // closing it ends the request
	Length int64         // -1 when unknown
}

// streamFor bounds how long one playback request may take, body included.
const streamFor = 5 * time.Minute

// Open starts fetching a recording's MP3 for playback, passing a single byte range on
// (rangeHeader, "" for the whole file) so a player can seek. At most max bytes are read
// from Twilio. The caller closes Body.
func (r *Recordings) Open(ctx context.Context, raw, rangeHeader string, max int64) (*Stream, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), streamFor)
	req, err := r.request(ctx, raw)
	if err != nil {
		cancel()
		return nil, err
	}
	if validRange(rangeHeader) {
		req.Header.Set("Range", rangeHeader)
	}
	res, err := r.client.Do(req)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("fetch recording: %w", err)
	}
	switch res.StatusCode {
	case http.StatusOK, http.StatusPartialContent, http.StatusRequestedRangeNotSatisfiable:
	default:
		res.Body.Close()
		cancel()
		return nil, &StatusError{Status: res.StatusCode}
	}
	if res.ContentLength > max {
		res.Body.Close()
		cancel()
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrTooLarge, res.ContentLength, max)
	}
	body := &cancelBody{Reader: io.LimitReader(res.Body, max), closer: res.Body, cancel: cancel}
	return &Stream{Status: res.StatusCode, Header: res.Header, Body: body, Length: res.ContentLength}, nil
}

// cancelBody ends the request's context when the body is closed.
type cancelBody struct {
	io.Reader
	closer io.Closer
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.closer.Close()
	b.cancel()
	return err
}

// byteRange is one range of bytes, the only form passed on: bytes=0-, bytes=100-199,
// bytes=-500.
var byteRange = regexp.MustCompile(`^bytes=(\d{1,15}-\d{0,15}|-\d{1,15})$`)

func validRange(h string) bool { return h != "" && byteRange.MatchString(h) }
