package webhooks_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// stalledBody is a body that sends its first bytes and then nothing more until the test
// ends (or the client has long given up): a server that reads it before answering never
// answers.
type stalledBody struct {
	first []byte
	done  chan struct{}
}

func (b *stalledBody) Read(p []byte) (int, error) {
	if len(b.first) > 0 {
		n := copy(p, b.first)
		b.first = b.first[n:]
		return n, nil
	}
	select {
	case <-b.done:
		return 0, io.EOF
	case <-time.After(10 * time.Second):
		return 0, errors.New("stalled body: the server never answered")
	}
}

// onlyReader hides a reader's length, so that the client sends it chunked.
type onlyReader struct{ io.Reader }

// mailServer serves the email webhook on a real listener, with the SMTP listener's limit
// set to emailMax.
func mailServer(t *testing.T, d *mailDesk, emailMax int64) string {
	t.Helper()
	app := api.New(api.Config{Service: d.svc, Log: tickettest.Logger(), EmailMaxBytes: emailMax,
		Webhooks: []interface{ Register(*fiber.App) }{d.mail}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln) //nolint:errcheck // ends with Shutdown
	t.Cleanup(func() { app.Shutdown() })
	return "http://" + ln.Addr().String() + "/webhooks/email"
}

// postMail posts body with the given length (-1: chunked) and reads the answer, which must
// come within 5 seconds.
func postMail(t *testing.T, url, auth string, body io.Reader, length int64) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = length
	req.Header.Set("Content-Type", "message/rfc822")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("no answer (%v): the server is reading the body", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var js map[string]any
	if res.StatusCode >= 400 && (json.Unmarshal(b, &js) != nil || js["error"] == "") {
		t.Errorf("%d without a JSON reason: %s", res.StatusCode, b)
	}
	return res.StatusCode, string(b)
}

// The webhook checks its secret before it reads the message: a sender without it is
// refused at once, though its 25 MB message is declared and never sent (or is a chunked
// stream that never ends), and nothing is stored.
func TestEmailWebhookRefusesBeforeReading(t *testing.T) {
	d := newMailDesk(t, tickettest.SQLite(t))
	url := mailServer(t, d, 0)
	done := make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(done) }) })
	for _, auth := range []string{"", "Bearer wrong", "Basic " + mailSecret} {
		for _, length := range []int64{25_000_000, -1} {
			body := &stalledBody{first: bytes.Repeat([]byte("Subject: x\r\n"), 1000), done: done}
			var r io.Reader = body
			if length < 0 {
				r = onlyReader{body}
			}
			if status, msg := postMail(t, url, auth, r, length); status != 403 {
				t.Errorf("Authorization %q, length %d: %d %s, want 403", auth, length, status, msg)
			}
		}
	}
	once.Do(func() { close(done) })
	if n := d.count(t, "messages"); n != 0 {
		t.Errorf("refused requests stored %d messages", n)
	}
}

// With the secret, a message up to SMTP_MAX_BYTES (and a little header room) is read whole,
// declared or chunked, and stored; a larger one is refused with 413 before it is parsed,
// by its Content-Length without reading it.
func TestEmailWebhookTakesWhatTheSMTPListenerTakes(t *testing.T) {
	d := newMailDesk(t, tickettest.SQLite(t))
	const emailMax = 64 << 10
	url := mailServer(t, d, emailMax)
	auth := "Bearer " + mailSecret

	raw := fixture(t, "gmail_reply.eml")
	if status, msg := postMail(t, url, auth, onlyReader{bytes.NewReader(raw)}, -1); status != 202 {
		t.Fatalf("a message sent chunked: %d %s, want 202", status, msg)
	}
	big := []byte("From: Wang Fang <wang.fang@example.com>\r\nTo: support@desk.example.com\r\nSubject: scans\r\n" +
		"Message-ID: <big-1@example.com>\r\n\r\n" + strings.Repeat("0123456789abcdef", (emailMax+64<<10)/16))
	for _, length := range []int64{int64(len(big)), -1} {
		var r io.Reader = bytes.NewReader(big)
		if length < 0 {
			r = onlyReader{r}
		}
		status, msg := postMail(t, url, auth, r, length)
		if status != 413 || !strings.Contains(msg, "email webhook") {
			t.Errorf("a %d-byte message (length %d): %d %s, want 413 naming the door", len(big), length, status, msg)
		}
	}
	done := make(chan struct{})
	defer close(done)
	if status, msg := postMail(t, url, auth, &stalledBody{first: big[:9<<10], done: done}, 25_000_000); status != 413 {
		t.Errorf("a 25 MB message declared, 9 KiB sent: %d %s, want 413 at once", status, msg)
	}
	if n := d.count(t, "messages"); n != 1 {
		t.Errorf("%d messages stored, want the one under the limit", n)
	}
}
