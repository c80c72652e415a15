package webhooks_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotlinedesk/hotline/app/webhooks"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// FuzzEmailDeliver feeds the whole inbound email path (parse, the message tickets store,
// intake into a real SQLite desk) mutations of the parser's fixtures and of mail at its
// limits: every message is either stored or refused as mail that can never be stored
// (400 / 554 / left flagged in the mailbox), never a failure that would answer 500 or
// make a mail server retry forever.
func FuzzEmailDeliver(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("..", "..", "channels", "email", "testdata", "*.eml"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add(refundMail("f1@example.com", 5001, "X:%d\r\n"))
	f.Add(refundMail(strings.Repeat("x", 990)+"@example.com", 3, "Received: from relay%d.example.net\r\n"))
	f.Add([]byte("From: a@example.com\r\nMessage-ID: <\x00@x>\r\nSubject: \xff\xfe\r\n\r\n\x00"))
	// Parts not kept, by nesting (a thousand parts would cost each run a thousand rows).
	var deep strings.Builder
	deep.WriteString("From: wang.fang@example.cn\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n--b0\r\n\r\n发票\r\n")
	for i := range 22 {
		fmt.Fprintf(&deep, "--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n", i, i+1)
	}
	deep.WriteString("--b22\r\nContent-Disposition: attachment; filename=\"f.pdf\"\r\n\r\n%PDF\r\n")
	f.Add([]byte(deep.String()))

	// One desk for the whole run: a fresh database per input would cost more than the input.
	svc := tickettest.Service(tickettest.SQLite(f), tickettest.NewClock(t0))
	mail := webhooks.NewEmail(svc, mailSecret, tickettest.Logger())
	f.Fuzz(func(t *testing.T, raw []byte) {
		err := mail.Deliver(context.Background(), raw)
		if err != nil && !errors.Is(err, webhooks.ErrRejected) {
			t.Fatalf("Deliver failed as no refusal: %v", err)
		}
	})
}
