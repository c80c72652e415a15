package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/hotlinedesk/hotline/tickets"
)

// Every door is bounded before it is read (ARCHITECTURE rule 6). The server streams request
// bodies (fiber's StreamRequestBody), so a handler runs once the headers are in and only
// fasthttp's first few KiB of the body have been read; the middleware below then refuses a
// body too large for its door by Content-Length before reading it, reads a chunked one no
// further than one byte past the limit, and only then hands the whole body to the handlers
// (c.Body(), c.BodyParser, c.FormValue work as before).

const (
	kib = 1 << 10
	mib = 1 << 20

	// DefaultEmailMaxBytes is the SMTP listener's default SMTP_MAX_BYTES: the email webhook
	// takes as much as the listener does.
	DefaultEmailMaxBytes = 25 * mib
	// emailHeaderRoom is what a relay posting the raw message may add to it (trace headers).
	emailHeaderRoom = 64 * kib

	// replyFilesLimit is a reply's files at the most any channel takes, with room for its
	// text and the form's framing.
	replyFilesLimit = tickets.MaxReplyFileBytes + 256*kib

	// largeBody is the size from which a body takes one of a process's few large-body slots.
	largeBody = 1 * mib
	// largeBodySlots is how many large bodies one process reads and handles at once: each is
	// up to 25 MiB in memory, and parsing an email copies it again.
	largeBodySlots = 4
	// largeBodyWait is how long a large body waits for a slot before it is told to retry.
	largeBodyWait = 2 * time.Second
)

// Door is one kind of sender at one set of routes and the most it may send.
type Door struct {
	Name   string // what a refusal calls it: "Twilio webhook"
	Method string // "POST"; empty: any method
	Prefix string // "/webhooks/twilio": that path and everything under it
	Suffix string // "/replies": only the paths under Prefix ending so; "" for all of them
	Limit  int64  // bytes of request body
	// AfterAuth: the body is not read until the route has checked the sender's credentials,
	// which arrive in a header; the route's chain then runs AdmitBody. An unauthenticated
	// request is refused without its body ever being read.
	AfterAuth bool
}

// Doors is every door's body limit, in one place, most specific first; the last one is the
// default. emailMaxBytes is SMTP_MAX_BYTES (0: the listener's default).
func Doors(emailMaxBytes int64) []Door {
	if emailMaxBytes <= 0 {
		emailMaxBytes = DefaultEmailMaxBytes
	}
	return []Door{
		// Twilio's forms are a few KiB; an MMS with 10 media URLs is still under 16 KiB.
		{Name: "Twilio webhook", Method: fiber.MethodPost, Prefix: "/webhooks/twilio", Limit: 64 * kib},
		// A push is one small XML message, encrypted or not.
		{Name: "WeChat push", Method: fiber.MethodPost, Prefix: "/webhooks/wechat", Limit: 64 * kib},
		// Block Kit interaction payloads carry the whole message: tens of KiB.
		{Name: "Slack interaction", Method: fiber.MethodPost, Prefix: "/webhooks/slack", Limit: 1 * mib},
		// A raw message with its attachments, as large as the SMTP listener takes.
		{Name: "email webhook", Method: fiber.MethodPost, Prefix: "/webhooks/email", Limit: emailMaxBytes + emailHeaderRoom, AfterAuth: true},
		// Credentials travel in the body, so it is read first; it is tiny.
		{Name: "sign-in", Method: fiber.MethodPost, Prefix: "/api/v1/auth/login", Limit: 16 * kib},
		// A reply with the agent's files (multipart): the most a channel carries, and its text.
		{Name: "reply with files", Method: fiber.MethodPost, Prefix: "/api/v1/tickets", Suffix: "/replies", Limit: replyFilesLimit, AfterAuth: true},
		// Two passwords of at most 72 bytes each.
		{Name: "password change", Method: fiber.MethodPost, Prefix: "/api/v1/me/password", Limit: 16 * kib, AfterAuth: true},
		// A webhook subscription: a name, a URL of at most 2000 bytes and a dozen events.
		{Name: "webhook subscription", Prefix: "/api/v1/webhooks", Limit: 16 * kib, AfterAuth: true},
		// JSON: replies, notes, templates.
		{Name: "JSON API", Prefix: "/api/v1", Limit: 256 * kib, AfterAuth: true},
		// Public pages: a reference and a check, a score and a comment of 1000 characters.
		{Name: "status page", Prefix: "/status", Limit: 16 * kib},
		{Name: "survey page", Prefix: "/survey", Limit: 16 * kib},
		// The console's reply form with the agent's files, read once the session is checked.
		{Name: "console reply", Method: fiber.MethodPost, Prefix: "/tickets", Suffix: "/reply", Limit: replyFilesLimit, AfterAuth: true},
		// The console's own password change: two passwords of at most 72 bytes each.
		{Name: "password change", Method: fiber.MethodPost, Prefix: "/account/password", Limit: 16 * kib},
		// The console's url-encoded forms (it takes no other uploads).
		{Name: "console form", Method: fiber.MethodPost, Prefix: "/", Limit: 256 * kib},
		{Name: "request", Prefix: "/", Limit: 16 * kib},
	}
}

// limits applies the doors to every request.
type limits struct {
	doors   []Door
	ceiling int64         // fiber's BodyLimit: no door goes above it
	large   chan struct{} // the large-body slots
	wait    time.Duration
}

func newLimits(doors []Door, slots int, wait time.Duration) *limits {
	l := &limits{doors: doors, large: make(chan struct{}, slots), wait: wait}
	for _, d := range doors {
		l.ceiling = max(l.ceiling, d.Limit)
	}
	return l
}

// door is the first door whose method and path prefix match; paths match as fiber routes
// them, ignoring case and a trailing slash.
func (l *limits) door(method, path string) *Door {
	path = strings.ToLower(path)
	for i := range l.doors {
		d := &l.doors[i]
		if d.Method != "" && d.Method != method {
			continue
		}
		p := strings.ToLower(d.Prefix)
		if d.Suffix != "" && !strings.HasSuffix(strings.TrimSuffix(path, "/"), d.Suffix) {
			continue
		}
		if p == "/" || path == p || strings.HasPrefix(path, strings.TrimSuffix(p, "/")+"/") {
			return d
		}
	}
	return &Door{Name: "request", Limit: l.ceiling}
}

// mayContinue answers a client that sent Expect: 100-continue: only a body its door would
// take, compressed by nothing, and, at a door that checks credentials first, with some
// credentials, is asked for (fasthttp answers 417 otherwise, without reading it).
func (l *limits) mayContinue(h *fasthttp.RequestHeader) bool {
	path, _, _ := strings.Cut(string(h.RequestURI()), "?")
	d := l.door(string(h.Method()), path)
	if int64(h.ContentLength()) > min(d.Limit, l.ceiling) || len(h.Peek(fiber.HeaderContentEncoding)) > 0 {
		return false
	}
	return !d.AfterAuth || len(h.Peek(fiber.HeaderAuthorization)) > 0
}

const admissionKey = "api.admission"

// admission is one request's door and its limit, remembered for AdmitBody.
type admission struct {
	door  *Door
	limit int64
	gate  *limits // nil: no large-body slots (an app not built by New)
}

// handler is the first middleware after logging: it refuses what no door takes before
// reading a byte of it, and reads the body of doors that do not wait for authentication.
func (l *limits) handler(c *fiber.Ctx) error {
	d := l.door(c.Method(), c.Path())
	a := &admission{door: d, limit: min(d.Limit, l.ceiling), gate: l}
	c.Locals(admissionKey, a)
	// A body left unread (refused, or its sender not authenticated) is still on the wire:
	// the connection cannot carry another request, so it is closed after the answer.
	defer func() {
		if c.Request().IsBodyStream() && c.Request().Header.ContentLength() != 0 {
			closeUnread(c.Context())
		}
	}()
	if enc := contentEncoding(c); enc != "" {
		// fiber's c.Body() would inflate it with no bound: 64 KiB of gzip is 64 MiB.
		return fiber.NewError(fiber.StatusUnsupportedMediaType,
			fmt.Sprintf("Content-Encoding %q is not accepted; send the body uncompressed", enc))
	}
	if n := c.Request().Header.ContentLength(); int64(n) > a.limit {
		return a.tooLarge()
	}
	if d.AfterAuth {
		return c.Next()
	}
	release, err := a.read(c)
	if err != nil {
		return err
	}
	defer release()
	return c.Next()
}

// lingerFor is how long a connection whose body was left unread stays open after the
// answer (as in Go's net/http), for the client to read the answer before the reset.
const lingerFor = 500 * time.Millisecond

// closeUnread closes the connection after the answer. Closing a socket with unread data
// resets it, and a client still sending its body would see the reset, not the answer: so
// on a TCP connection the answer is written, the sending side shut, and the socket closed a
// moment later, from a goroutine of its own that reads nothing.
func closeUnread(ctx *fasthttp.RequestCtx) {
	ctx.SetConnectionClose()
	tcp, ok := ctx.Conn().(interface{ CloseWrite() error })
	if !ok { // an in-memory connection (app.Test): a plain close
		return
	}
	ctx.HijackSetNoResponse(true)
	ctx.Hijack(func(conn net.Conn) {
		conn.SetWriteDeadline(time.Now().Add(lingerFor)) //nolint:errcheck // a failed write ends it too
		if _, err := ctx.Response.WriteTo(conn); err != nil {
			return
		}
		if tcp.CloseWrite() == nil {
			time.Sleep(lingerFor)
		}
	})
}

// AdmitBody reads the request body within its door's limit. Routes whose door waits for
// authentication (Door.AfterAuth) run it right after their credentials check and before
// anything reads c.Body(); elsewhere it does nothing, the body being read already.
func AdmitBody(c *fiber.Ctx) error {
	release, err := ReadAdmitted(c)
	if err != nil {
		return err
	}
	defer release()
	return c.Next()
}

// ReadAdmitted is AdmitBody for a check that reads the body itself once the sender is
// known (the console's CSRF field in a form): the caller runs release when done.
func ReadAdmitted(c *fiber.Ctx) (release func(), err error) {
	a, _ := c.Locals(admissionKey).(*admission)
	if a == nil { // mounted on an app New did not build: fiber's own limit applies
		a = &admission{door: &Door{Name: "request"}, limit: int64(c.App().Config().BodyLimit)}
	}
	return a.read(c)
}

// read takes the body off the connection, at most limit bytes of it, and puts it where
// c.Body() finds it. A body over largeBody holds a large-body slot until release.
func (a *admission) read(c *fiber.Ctx) (release func(), err error) {
	release = func() {}
	req := c.Request()
	if !req.IsBodyStream() { // already in memory: read earlier, or fasthttp was not streaming
		if int64(len(req.Body())) > a.limit {
			return release, a.tooLarge()
		}
		return release, nil
	}
	declared := int64(req.Header.ContentLength()) // -1: chunked
	if declared > a.limit {
		return release, a.tooLarge()
	}
	// Read no further than the declared length, or one byte past the limit. The buffer grows
	// only as bytes arrive, so a sender who declares a large body and sends a few bytes
	// holds a few bytes of memory, not what it declared; and only a body that has really
	// passed largeBody takes a large-body slot.
	want := a.limit + 1
	if declared >= 0 {
		want = declared
	}
	stream := c.Context().RequestBodyStream()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(stream, min(want, largeBody+1))); err != nil {
		return release, unreadable(err)
	}
	if int64(buf.Len()) > largeBody { // handled under a slot too: parsing copies it again
		if release, err = a.slot(c); err != nil {
			return func() {}, err
		}
		if _, err := buf.ReadFrom(io.LimitReader(stream, want-int64(buf.Len()))); err != nil {
			release()
			return func() {}, unreadable(err)
		}
	}
	switch n := int64(buf.Len()); {
	case declared >= 0 && n < declared:
		release()
		return func() {}, unreadable(io.ErrUnexpectedEOF)
	case n > a.limit:
		release()
		return func() {}, a.tooLarge()
	}
	body := buf.Bytes()
	// The stream is done with: the body is now an ordinary one, with its true length.
	req.SetBodyRaw(body)
	req.Header.SetContentLength(len(body))
	return release, nil
}

// slot waits briefly for one of the process's large-body slots.
func (a *admission) slot(c *fiber.Ctx) (release func(), err error) {
	if a.gate == nil {
		return func() {}, nil
	}
	done := func() { <-a.gate.large }
	select {
	case a.gate.large <- struct{}{}:
		return done, nil
	default:
	}
	t := time.NewTimer(a.gate.wait)
	defer t.Stop()
	select {
	case a.gate.large <- struct{}{}:
		return done, nil
	case <-t.C:
		c.Set(fiber.HeaderRetryAfter, "10")
		return func() {}, fiber.NewError(fiber.StatusServiceUnavailable,
			"too many large requests are being received at once; retry in a few seconds")
	}
}

func (a *admission) tooLarge() error {
	return fiber.NewError(fiber.StatusRequestEntityTooLarge,
		fmt.Sprintf("the request body is too large: a %s takes at most %s", a.door.Name, byteSize(a.limit)))
}

// unreadable is a body that broke off or timed out before its end.
func unreadable(err error) error {
	reason := "the request body could not be read"
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		reason += ": it ended before its declared length"
	}
	return fiber.NewError(fiber.StatusBadRequest, reason)
}

// contentEncoding is the request's Content-Encoding when it is anything but identity.
func contentEncoding(c *fiber.Ctx) string {
	var enc string
	c.Request().Header.VisitAll(func(k, v []byte) {
		if strings.EqualFold(string(k), fiber.HeaderContentEncoding) {
			if s := strings.TrimSpace(string(v)); s != "" && !strings.EqualFold(s, "identity") {
				enc = s
			}
		}
	})
	return enc
}

// byteSize writes n bytes as a person would: 64 KiB, 25 MiB, 300 bytes.
func byteSize(n int64) string {
	switch {
	case n >= mib && n%mib == 0:
		return strconv.FormatInt(n/mib, 10) + " MiB"
	case n >= mib:
		return strconv.FormatFloat(float64(n)/mib, 'f', 1, 64) + " MiB"
	case n >= kib && n%kib == 0:
		return strconv.FormatInt(n/kib, 10) + " KiB"
	case n >= kib:
		return strconv.FormatFloat(float64(n)/kib, 'f', 1, 64) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
