package api_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// memConn is a connection in memory: what the client sent, then its end; what the server
// wrote is kept.
type memConn struct {
	in  *bytes.Reader
	out bytes.Buffer
}

func (c *memConn) Read(p []byte) (int, error)         { return c.in.Read(p) }
func (c *memConn) Write(p []byte) (int, error)        { return c.out.Write(p) }
func (c *memConn) Close() error                       { return nil }
func (c *memConn) LocalAddr() net.Addr                { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80} }
func (c *memConn) RemoteAddr() net.Addr               { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000} }
func (c *memConn) SetDeadline(t time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(t time.Time) error { return nil }

// chunked encodes body as chunks of the given sizes (the last size repeats).
func chunked(body []byte, sizes ...int) []byte {
	var b bytes.Buffer
	w := httputil.NewChunkedWriter(&b)
	for i := 0; len(body) > 0; i++ {
		n := min(sizes[min(i, len(sizes)-1)], len(body))
		w.Write(body[:n]) //nolint:errcheck // a buffer
		body = body[n:]
	}
	w.Close()
	b.WriteString("\r\n")
	return b.Bytes()
}

// A chunked body, however it is cut or garbled, is either handed to the handler whole and
// within the door's limit (the survey page's 16 KiB here), refused with 413 past the limit,
// or refused with 400 as unreadable: never a 500, a hang, or more than the limit read.
func FuzzChunkedBodyLimit(f *testing.F) {
	const limit = 16 << 10
	f.Add(chunked([]byte("score=5&comment=ok"), 4))
	f.Add(chunked(bytes.Repeat([]byte("x"), limit), 1000))
	f.Add(chunked(bytes.Repeat([]byte("x"), limit+1), limit+1))
	f.Add(chunked(bytes.Repeat([]byte("y"), 3*limit), 7, 8192))
	f.Add([]byte("5\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n"))
	f.Add([]byte("ffffffffffffffff\r\nhello\r\n0\r\n\r\n"))
	f.Add([]byte("-1\r\nhello\r\n0\r\n\r\n"))
	f.Add([]byte("5;ext=1\r\nhello\r\n0\r\n\r\n"))
	f.Add([]byte("3\r\nhello\r\n0\r\n\r\n"))
	f.Add([]byte("5\r\nhel"))

	app := api.New(api.Config{Log: tickettest.Logger(), Webhooks: []interface{ Register(*fiber.App) }{
		registrar(func(app *fiber.App) { app.Post("/survey/:token", echo) })}})
	app.Handler() // builds the route tree, which ServeConn alone does not
	f.Fuzz(func(t *testing.T, body []byte) {
		// The request, then the end of the connection: a body cut short ends there.
		conn := &memConn{in: bytes.NewReader(append([]byte("POST /survey/t HTTP/1.1\r\nHost: desk.test\r\n"+
			"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"), body...))}
		if err := app.Server().ServeConn(conn); err != nil && !errors.Is(err, io.EOF) {
			t.Logf("serve: %v", err)
		}
		res, err := http.ReadResponse(bufio.NewReader(&conn.out), nil)
		if err != nil {
			t.Fatalf("no answer: %v", err)
		}
		raw, _ := io.ReadAll(res.Body)
		var js struct {
			Bytes  int
			SHA256 string
			Error  string
		}
		if err := json.Unmarshal(raw, &js); err != nil {
			t.Fatalf("%d with a body that is not JSON: %q", res.StatusCode, raw)
		}
		want, werr := io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(body)))
		switch res.StatusCode {
		case 200:
			if js.Bytes > limit {
				t.Fatalf("the handler was given %d bytes, over the limit of %d", js.Bytes, limit)
			}
			if werr == nil && (js.Bytes != len(want) || js.SHA256 != digest(want)) {
				t.Fatalf("the handler was given %d bytes, not the %d sent", js.Bytes, len(want))
			}
		case 413:
			if werr == nil && len(want) <= limit {
				t.Fatalf("a body of %d bytes refused as too large", len(want))
			}
		case 400: // cut short or garbled (fasthttp and Go differ on some chunk syntax)
			if !strings.Contains(js.Error, "could not be read") {
				t.Fatalf("400 without the reason: %s", raw)
			}
		default:
			t.Fatalf("status %d: %s", res.StatusCode, raw)
		}
	})
}
