package exports_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/exports"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// A file is handed on as it is written: the client reads the first rows while the writer
// still waits to write the last, so a large export never sits whole in memory.
func TestStreamHandsRowsOnBeforeTheEnd(t *testing.T) {
	release := make(chan struct{})
	waited := make(chan bool, 1) // whether the writer had to give up waiting
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/x.csv", func(c *fiber.Ctx) error {
		return exports.Stream(c, tickettest.Logger(), "x.csv", func(_ context.Context, w *exports.Writer) error {
			for i := range 2000 { // more than the connection's buffer holds
				if err := w.Row(fmt.Sprint(i), "=cell", "张伟"); err != nil {
					return err
				}
			}
			select {
			case <-release:
				waited <- false
			case <-time.After(5 * time.Second):
				waited <- true
			}
			return w.Row("last")
		})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln)  //nolint:errcheck
	defer app.Shutdown() //nolint:errcheck

	res, err := http.Get("http://" + ln.Addr().String() + "/x.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.Header.Get("Content-Disposition") != `attachment; filename="x.csv"` {
		t.Errorf("Content-Disposition %q", res.Header.Get("Content-Disposition"))
	}
	r := bufio.NewReader(res.Body)
	first, err := r.ReadString('\n')
	if err != nil || first != "\uFEFF0,'=cell,张伟\n" {
		t.Fatalf("first row %q: %v", first, err)
	}
	close(release)
	if <-waited {
		t.Fatal("the first row arrived only once the file was whole")
	}
	rest := new(strings.Builder)
	if _, err := r.WriteTo(rest); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSuffix(rest.String(), "\n"), "\n"); len(lines) != 2000 || lines[len(lines)-1] != "last" {
		t.Errorf("%d more rows, ending %q", len(lines), lines[len(lines)-1])
	}
}

// A file leaves the desk: the customers' numbers and addresses in its cells are masked,
// the references, amounts and dates stay as written.
func TestRowsMasked(t *testing.T) {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/x.csv", func(c *fiber.Ctx) error {
		return exports.Stream(c, tickettest.Logger(), "x.csv", func(_ context.Context, w *exports.Writer) error {
			return w.Row("HL-000001", "回电 13800138000，身份证 310101199001011234", "+8613900139000", "zhang.wei@example.com", "12800.00", "2026-12-04 09:30")
		})
	})
	res, err := app.Test(httptest.NewRequest(http.MethodGet, "/x.csv", nil), -1)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body := new(strings.Builder)
	if _, err := bufio.NewReader(res.Body).WriteTo(body); err != nil {
		t.Fatal(err)
	}
	want := "\uFEFFHL-000001,回电 138****8000，身份证 3101**********1234,'+86139****9000,zh***@example.com,12800.00,2026-12-04 09:30\n"
	if body.String() != want {
		t.Errorf("row %q, want %q", body.String(), want)
	}
}
