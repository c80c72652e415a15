package api_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httputil"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// rawRequest is a request written by hand onto a connection, so that a test controls what
// the server has been sent when it answers.
type rawRequest struct {
	method, path string
	header       map[string]string
	length       int64     // the declared Content-Length; -1: chunked
	body         io.Reader // what is sent of the body
	stall        bool      // after the body, send nothing more and keep the connection open
}

// rawAnswer is what came back, and how much of the body the client managed to send.
type rawAnswer struct {
	status int
	header http.Header
	body   []byte
	sent   int64
	closed bool // the server said Connection: close
}

func (a rawAnswer) json(t *testing.T) map[string]any {
	t.Helper()
	var js map[string]any
	if err := json.Unmarshal(a.body, &js); err != nil {
		t.Fatalf("answer %d is not JSON: %v\n%s", a.status, err, a.body)
	}
	return js
}

// exchange sends r to addr and reads the answer, which must come within 5 seconds: a
// server waiting for a stalled body never answers in time. The body is written while the
// answer is awaited, as a real client does; a refusal mid-body ends the writing.
func exchange(t *testing.T, addr string, r rawRequest) rawAnswer {
	t.Helper()
	a, err := tryExchange(addr, r)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func tryExchange(addr string, r rawRequest) (rawAnswer, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return rawAnswer{}, err
	}
	defer conn.Close()
	var head strings.Builder
	fmt.Fprintf(&head, "%s %s HTTP/1.1\r\nHost: desk.test\r\n", r.method, r.path)
	for k, v := range r.header {
		fmt.Fprintf(&head, "%s: %s\r\n", k, v)
	}
	if r.length >= 0 {
		fmt.Fprintf(&head, "Content-Length: %d\r\n\r\n", r.length)
	} else {
		head.WriteString("Transfer-Encoding: chunked\r\n\r\n")
	}
	var sent int64
	var mu sync.Mutex
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		if _, err := io.WriteString(conn, head.String()); err != nil {
			return
		}
		if r.body == nil {
			return
		}
		w := io.Writer(conn)
		var cw io.WriteCloser
		if r.length < 0 {
			cw = httputil.NewChunkedWriter(conn)
			w = cw
		}
		buf := make([]byte, 32<<10)
		for {
			n, rerr := r.body.Read(buf)
			if n > 0 {
				if _, err := w.Write(buf[:n]); err != nil {
					return // refused and closed: stop sending, as a client would
				}
				mu.Lock()
				sent += int64(n)
				mu.Unlock()
			}
			if rerr != nil {
				break
			}
		}
		if cw != nil && !r.stall {
			cw.Close()
			io.WriteString(conn, "\r\n") //nolint:errcheck // the answer tells
		}
	}()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second)) //nolint:errcheck
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return rawAnswer{}, fmt.Errorf("%s %s: no answer within 5s (%v): the server is waiting for the body", r.method, r.path, err)
	}
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return rawAnswer{}, fmt.Errorf("%s %s: read answer: %v", r.method, r.path, err)
	}
	conn.Close() // ends a writer blocked on a server that stopped reading
	<-wrote
	mu.Lock()
	defer mu.Unlock()
	return rawAnswer{status: res.StatusCode, header: res.Header, body: body, sent: sent, closed: res.Close}, nil
}

// pattern is n bytes of a repeating text (so that a truncated or reordered body shows).
func pattern(n int64) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[i%36]
	}
	return b
}

func digest(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// echoDoors stands at every door a handler that answers what body it was given, behind
// the same kind of credentials check as the real one where the door reads after it.
type echoDoors struct{}

const echoSecret = "Bearer echo-secret"

func echo(c *fiber.Ctx) error {
	b := c.Body()
	return c.JSON(fiber.Map{"bytes": len(b), "sha256": digest(b)})
}

func (echoDoors) Register(app *fiber.App) {
	for _, p := range []string{"/webhooks/twilio/sms", "/webhooks/twilio/voice/status", "/webhooks/wechat",
		"/webhooks/slack/interactions", "/status", "/survey/:token", "/tickets/:ref/note"} {
		app.Post(p, echo)
	}
	// The console's reply form reads its files once the session is checked.
	app.Post("/tickets/:ref/reply", func(c *fiber.Ctx) error {
		if c.Get(fiber.HeaderAuthorization) != echoSecret {
			return fiber.NewError(fiber.StatusForbidden, "signed out")
		}
		return c.Next()
	}, api.AdmitBody, echo)
	app.Put("/elsewhere", echo)
	app.Post("/webhooks/email", func(c *fiber.Ctx) error {
		if c.Get(fiber.HeaderAuthorization) != echoSecret {
			return fiber.NewError(fiber.StatusForbidden, "wrong secret")
		}
		return c.Next()
	}, api.AdmitBody, echo)
	// Behind the API's own token check (the /api/v1 group's middleware).
	app.Post("/api/v1/echo", echo)
}

// limitsDesk is a real listener over the API with the echo doors, one agent, and the
// email webhook's limit set small so that its refusals are cheap to provoke.
func limitsDesk(t *testing.T, emailMax int64) (addr, token string) {
	t.Helper()
	ctx := context.Background()
	svc := tickettest.Service(tickettest.SQLite(t), tickettest.NewClock(t0))
	if _, err := svc.CreateAgent(ctx, system, tickets.NewAgent{Email: "door@hotline.test", Name: "Door Keeper", Role: tickets.RoleAdmin, Password: password}); err != nil {
		t.Fatal(err)
	}
	app := api.New(api.Config{Service: svc, Log: tickettest.Logger(), EmailMaxBytes: emailMax,
		Webhooks: []interface{ Register(*fiber.App) }{echoDoors{}, parseDoors{}}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln) //nolint:errcheck // ends with Shutdown
	t.Cleanup(func() { app.Shutdown() })
	addr = ln.Addr().String()
	login := []byte(`{"email": "door@hotline.test", "password": "` + password + `"}`)
	a := exchange(t, addr, rawRequest{method: "POST", path: "/api/v1/auth/login", header: map[string]string{"Content-Type": "application/json"},
		length: int64(len(login)), body: bytes.NewReader(login)})
	if a.status != 200 {
		t.Fatalf("login: %d %s", a.status, a.body)
	}
	token, _ = a.json(t)["token"].(string)
	return addr, token
}

// Every door takes a body up to its limit, whole, declared or chunked, and refuses one
// byte more with 413 and a JSON reason: by Content-Length before reading any of it (the
// body below is never sent in full, yet the answer comes at once), and chunked as soon as
// the limit is passed. Doors that authenticate by header refuse a sender without
// credentials before reading its body.
func TestBodyLimitsPerDoor(t *testing.T) {
	const emailMax = 200 << 10
	addr, token := limitsDesk(t, emailMax)
	bearer := map[string]string{"Authorization": "Bearer " + token, "Content-Type": "application/json"}
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	doors := []struct {
		name, method, path string
		limit              int64
		header             map[string]string
		noAuth             int // for doors that read after authentication: the status without it
	}{
		{"Twilio SMS", "POST", "/webhooks/twilio/sms", 64 << 10, form, 0},
		{"Twilio call status", "POST", "/webhooks/twilio/voice/status", 64 << 10, form, 0},
		{"WeChat push", "POST", "/webhooks/wechat?signature=x&timestamp=1&nonce=2", 64 << 10, map[string]string{"Content-Type": "text/xml"}, 0},
		{"Slack interaction", "POST", "/webhooks/slack/interactions", 1 << 20, form, 0},
		{"email webhook", "POST", "/webhooks/email", emailMax + 64<<10, map[string]string{"Authorization": echoSecret, "Content-Type": "message/rfc822"}, 403},
		{"JSON API", "POST", "/api/v1/echo", 256 << 10, bearer, 401},
		{"status page", "POST", "/status", 16 << 10, form, 0},
		{"survey page", "POST", "/survey/some-token", 16 << 10, form, 0},
		{"console form", "POST", "/tickets/HL-000001/note", 256 << 10, form, 0},
		// fasthttp would read a multipart body whole, to temporary files, before any handler.
		{"console upload", "POST", "/tickets/HL-000001/note", 256 << 10, map[string]string{"Content-Type": "multipart/form-data; boundary=X"}, 0},
		// A reply with files: the most any channel carries, read once the sender is known
		// (the API's door is proven in reply_files_test.go).
		{"console reply with files", "POST", "/tickets/HL-000001/reply", tickets.MaxReplyFileBytes + 256<<10,
			map[string]string{"Authorization": echoSecret, "Content-Type": "multipart/form-data; boundary=X"}, 403},
		{"anything else", "PUT", "/elsewhere", 16 << 10, form, 0},
	}
	for _, d := range doors {
		t.Run(d.name, func(t *testing.T) {
			full := pattern(d.limit)
			for _, length := range []int64{d.limit, -1} {
				a := exchange(t, addr, rawRequest{method: d.method, path: d.path, header: d.header, length: length, body: bytes.NewReader(full)})
				if a.status != 200 {
					t.Fatalf("%d bytes (length %d): %d %s, want 200", d.limit, length, a.status, a.body)
				}
				if js := a.json(t); js["bytes"] != float64(d.limit) || js["sha256"] != digest(full) {
					t.Fatalf("%d bytes (length %d): the handler saw %v", d.limit, length, js)
				}
			}

			// Declared one byte over, only fasthttp's first read sent: refused without waiting
			// for the rest.
			a := exchange(t, addr, rawRequest{method: d.method, path: d.path, header: d.header, length: d.limit + 1,
				body: bytes.NewReader(full[:prefetch]), stall: true})
			wantRefusal(t, a, 413)
			// Chunked: refused once past the limit.
			a = exchange(t, addr, rawRequest{method: d.method, path: d.path, header: d.header, length: -1,
				body: io.MultiReader(bytes.NewReader(full), strings.NewReader("!"))})
			wantRefusal(t, a, 413)
			// A chunked stream that does not end is cut off near the limit: what the client
			// gets sent is the limit and the sockets' buffers (a few MiB), not the stream.
			a = exchange(t, addr, rawRequest{method: d.method, path: d.path, header: d.header, length: -1,
				body: io.LimitReader(zeros{}, 64<<20)})
			wantRefusal(t, a, 413)
			if a.sent > d.limit+16<<20 {
				t.Errorf("the client sent %d bytes of an endless body before the refusal: the server read them", a.sent)
			}

			if d.noAuth == 0 {
				return
			}
			// Without credentials: refused at once, though the body is declared and never sent.
			noAuth := map[string]string{"Content-Type": d.header["Content-Type"]}
			a = exchange(t, addr, rawRequest{method: d.method, path: d.path, header: noAuth, length: d.limit,
				body: bytes.NewReader(full[:prefetch]), stall: true})
			wantRefusal(t, a, d.noAuth)
			a = exchange(t, addr, rawRequest{method: d.method, path: d.path, header: noAuth, length: -1,
				body: bytes.NewReader(full[:10]), stall: true})
			wantRefusal(t, a, d.noAuth)
		})
	}
}

// prefetch is how much of a declared body fasthttp reads before it runs the handlers: 8 KiB,
// or a little more when the declared length is past the largest door's.
const prefetch = 8<<10 + 1

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// wantRefusal: the status, a JSON {"error": reason}, and the connection closed (what is
// left of the body is never read).
func wantRefusal(t *testing.T, a rawAnswer, status int) {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d; %s", a.status, status, a.body)
	}
	if msg, _ := a.json(t)["error"].(string); msg == "" {
		t.Fatalf("status %d without a reason: %s", a.status, a.body)
	}
	if !a.closed {
		t.Errorf("status %d keeps the connection open with the body unread", a.status)
	}
}

// A door's limit is on the bytes its handlers see: a compressed body, which fiber would
// inflate without bound (64 KiB of gzip is 64 MiB), is refused before any handler runs.
func TestCompressedBodiesAreRefused(t *testing.T) {
	addr, _ := limitsDesk(t, 0)
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	zw.Write(make([]byte, 64<<20)) //nolint:errcheck
	zw.Close()
	for _, enc := range []string{"gzip", "deflate", "br", "GZIP"} {
		a := exchange(t, addr, rawRequest{method: "POST", path: "/webhooks/twilio/sms",
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Content-Encoding": enc},
			length: int64(bomb.Len()), body: bytes.NewReader(bomb.Bytes())})
		wantRefusal(t, a, 415)
	}
	a := exchange(t, addr, rawRequest{method: "POST", path: "/webhooks/twilio/sms",
		header: map[string]string{"Content-Encoding": "identity"}, length: 5, body: strings.NewReader("a=b&c")})
	if a.status != 200 {
		t.Errorf("Content-Encoding identity: %d %s, want 200", a.status, a.body)
	}
}

// At most four bodies over 1 MiB are read and handled at once; a fifth waits briefly, then
// is told to come back (503 with Retry-After), while small bodies go through meanwhile.
func TestLargeBodiesAreReadFewAtATime(t *testing.T) {
	svc := tickettest.Service(tickettest.SQLite(t), tickettest.NewClock(t0))
	hold, entered := make(chan struct{}), make(chan struct{}, 16)
	app := api.New(api.Config{Service: svc, Log: tickettest.Logger(),
		Webhooks: []interface{ Register(*fiber.App) }{registrar(func(app *fiber.App) {
			app.Post("/webhooks/email", api.AdmitBody, func(c *fiber.Ctx) error {
				if len(c.Body()) > 1<<20 { // large bodies are held in the handler
					entered <- struct{}{}
					<-hold
				}
				return echo(c)
			})
		})}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln) //nolint:errcheck
	t.Cleanup(func() { app.Shutdown() })
	var once sync.Once
	release := func() { once.Do(func() { close(hold) }) }
	t.Cleanup(release) // before the shutdown, which waits for the handlers
	addr := ln.Addr().String()

	large := pattern(1<<20 + 1)
	type result struct {
		a   rawAnswer
		err error
	}
	results := make(chan result, 4)
	for range 4 {
		go func() {
			a, err := tryExchange(addr, rawRequest{method: "POST", path: "/webhooks/email", length: -1, body: bytes.NewReader(large)})
			results <- result{a, err}
		}()
	}
	for range 4 {
		select {
		case <-entered:
		case <-time.After(5 * time.Second):
			t.Fatal("four large bodies were not all admitted")
		}
	}
	start := time.Now()
	a := exchange(t, addr, rawRequest{method: "POST", path: "/webhooks/email", length: int64(len(large)), body: bytes.NewReader(large)})
	wantRefusal(t, a, 503)
	if a.header.Get("Retry-After") == "" || time.Since(start) < time.Second {
		t.Errorf("the fifth large body: Retry-After %q after %v; want a brief wait, then a time to retry", a.header.Get("Retry-After"), time.Since(start))
	}
	small := pattern(4 << 10) // not held up by the large ones
	if a := exchange(t, addr, rawRequest{method: "POST", path: "/webhooks/email", length: int64(len(small)), body: bytes.NewReader(small)}); a.status != 200 {
		t.Errorf("a small body while four large ones are handled: %d %s", a.status, a.body)
	}
	release()
	for range 4 {
		r := <-results
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.a.status != 200 || r.a.json(t)["bytes"] != float64(len(large)) {
			t.Errorf("a large body admitted in turn: %d %s", r.a.status, r.a.body)
		}
	}
	if a := exchange(t, addr, rawRequest{method: "POST", path: "/webhooks/email", length: int64(len(large)), body: bytes.NewReader(large)}); a.status != 200 {
		t.Errorf("a large body once the others are done: %d %s", a.status, a.body)
	}
}

type registrar func(*fiber.App)

func (r registrar) Register(app *fiber.App) { r(app) }

// Once admitted, a body reads as before however it arrived: whole in fasthttp's first read
// or streamed past it, declared or chunked; as raw bytes, a form (c.FormValue,
// c.BodyParser), JSON, or a multipart upload.
func TestAdmittedBodiesParseAsBefore(t *testing.T) {
	addr, _ := limitsDesk(t, 0)
	for _, size := range []int{100, 100 << 10} { // within fasthttp's first read, and past it
		text := string(pattern(int64(size)))
		var multi bytes.Buffer
		mw := multipart.NewWriter(&multi)
		mw.WriteField("note", "收到") //nolint:errcheck // a buffer
		fw, _ := mw.CreateFormFile("scan", "scan.txt")
		io.WriteString(fw, text) //nolint:errcheck
		mw.Close()
		bodies := []struct {
			kind, contentType string
			body              []byte
		}{
			{"form", "application/x-www-form-urlencoded", []byte("note=%E6%94%B6%E5%88%B0&text=" + text)},
			{"json", "application/json", []byte(`{"note": "收到", "text": "` + text + `"}`)},
			{"multipart", mw.FormDataContentType(), multi.Bytes()},
		}
		for _, b := range bodies {
			for _, length := range []int64{int64(len(b.body)), -1} {
				a := exchange(t, addr, rawRequest{method: "POST", path: "/parse/" + b.kind,
					header: map[string]string{"Content-Type": b.contentType}, length: length, body: bytes.NewReader(b.body)})
				if a.status != 200 {
					t.Fatalf("%s of %d bytes (length %d): %d %s", b.kind, len(b.body), length, a.status, a.body)
				}
				if js := a.json(t); js["note"] != "收到" || js["text"] != digest([]byte(text)) {
					t.Errorf("%s of %d bytes (length %d): parsed as %v", b.kind, len(b.body), length, js)
				}
			}
		}
	}
}

// parseDoors parses bodies the ways Hotline's handlers do (behind the console form door).
type parseDoors struct{}

func (parseDoors) Register(app *fiber.App) {
	app.Post("/parse/form", func(c *fiber.Ctx) error {
		var in struct {
			Text string `form:"text"`
		}
		if err := c.BodyParser(&in); err != nil {
			return err
		}
		return c.JSON(fiber.Map{"note": c.FormValue("note"), "text": digest([]byte(in.Text))})
	})
	app.Post("/parse/json", func(c *fiber.Ctx) error {
		var in struct{ Note, Text string }
		if err := json.Unmarshal(c.Body(), &in); err != nil {
			return fiber.NewError(fiber.StatusBadRequest, err.Error())
		}
		return c.JSON(fiber.Map{"note": in.Note, "text": digest([]byte(in.Text))})
	})
	app.Post("/parse/multipart", func(c *fiber.Ctx) error {
		form, err := c.MultipartForm()
		if err != nil {
			return fiber.NewError(fiber.StatusBadRequest, err.Error())
		}
		fh, err := c.FormFile("scan")
		if err != nil {
			return fiber.NewError(fiber.StatusBadRequest, err.Error())
		}
		f, err := fh.Open()
		if err != nil {
			return err
		}
		defer f.Close()
		b, err := io.ReadAll(f)
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"note": form.Value["note"][0], "text": digest(b)})
	})
}

// A sender that declares a large body and sends only a little of it holds only what it
// sent: the body grows as its bytes arrive. Sixteen senders each declare 1 MiB to the Slack
// door (read before its signature is checked), send 8 KiB and stop; together they may not
// make the server allocate the 16 MiB they declared (it did, one make() each).
func TestDeclaredLengthIsNotAllocatedBeforeItArrives(t *testing.T) {
	addr, _ := limitsDesk(t, 0)
	const declared, sent, senders = 1 << 20, 8 << 10, 16
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range senders {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST /webhooks/slack/interactions HTTP/1.1\r\nHost: desk.test\r\nContent-Length: %d\r\n\r\n", declared)
		conn.Write(pattern(sent))                             //nolint:errcheck // the answer tells
		conn.(*net.TCPConn).CloseWrite()                      //nolint:errcheck // the body ends short of its length
		conn.SetReadDeadline(time.Now().Add(5 * time.Second)) //nolint:errcheck
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer to a body that ended early: %v", err)
		}
		res.Body.Close()
		conn.Close()
		if res.StatusCode != 400 {
			t.Fatalf("a body that ended before its declared length: %d, want 400", res.StatusCode)
		}
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > senders*declared/4 {
		t.Errorf("%d senders of %d KiB each made the server allocate %d KiB: the declared %d KiB were allocated before they arrived",
			senders, sent>>10, got>>10, declared>>10)
	}
}

// A client that asks first (Expect: 100-continue) is invited to send only a body its door
// takes; one over the limit, or without credentials at a door that checks them first, is
// answered 417 and never asked for its body.
func TestExpectContinueOnlyForBodiesADoorTakes(t *testing.T) {
	addr, _ := limitsDesk(t, 0)
	for _, tc := range []struct {
		name, path, auth string
		length           int
		want             string // the first status line the server sends
	}{
		{"within the Twilio door's limit", "/webhooks/twilio/sms", "", 1 << 10, "HTTP/1.1 100 Continue"},
		{"over the Twilio door's limit", "/webhooks/twilio/sms", "", 64<<10 + 1, "HTTP/1.1 417 Expectation Failed"},
		{"email webhook without credentials", "/webhooks/email", "", 1 << 10, "HTTP/1.1 417 Expectation Failed"},
		{"email webhook with credentials", "/webhooks/email", echoSecret, 1 << 10, "HTTP/1.1 100 Continue"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: desk.test\r\nExpect: 100-continue\r\nContent-Length: %d\r\n", tc.path, tc.length)
			if tc.auth != "" {
				head += "Authorization: " + tc.auth + "\r\n"
			}
			io.WriteString(conn, head+"\r\n")                     //nolint:errcheck // the answer tells
			conn.SetReadDeadline(time.Now().Add(5 * time.Second)) //nolint:errcheck
			line, err := bufio.NewReader(conn).ReadString('\n')
			if err != nil {
				t.Fatalf("no answer to the headers: %v", err)
			}
			if got := strings.TrimSpace(line); got != tc.want {
				t.Errorf("first answer %q, want %q", got, tc.want)
			}
		})
	}
}
