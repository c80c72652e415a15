package email

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzParse feeds Parse mutations of the fixtures: it must return a message or an error,
// never panic, and what it returns must be safe to store.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.eml"))
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
	f.Add([]byte("From: a@b.c\nContent-Type: multipart/mixed; boundary=\"\"\n\n--\n--\n"))
	f.Add([]byte("From: =?GBK?B?s8I=?= <a@b.c>\nSubject: =?x?Q?=?=\n\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		// A hang would only stall the fuzzer; crashing makes it save the input.
		watchdog := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("Parse took over 10s on %q", raw)) })
		m, err := Parse(raw)
		watchdog.Stop()
		if err != nil {
			if m != nil {
				t.Fatal("Parse returned a message with its error")
			}
			return
		}
		for name, s := range map[string]string{
			"Subject": m.Subject, "Text": m.Text, "Quoted": m.Quoted, "HTML": m.HTML,
			"From.Name": m.From.Name, "From.Addr": m.From.Addr, "MessageID": m.MessageID,
		} {
			if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
				t.Fatalf("%s is not clean UTF-8: %q", name, s)
			}
		}
		if m.From.Addr == "" {
			t.Fatal("a message without a sender address was accepted")
		}
		if strings.ContainsAny(m.Subject, "\r\n") {
			t.Fatalf("Subject has a line break: %q", m.Subject)
		}
		for _, a := range m.Attachments {
			if a.Size != int64(len(a.Content)) || a.Filename == "" || !utf8.ValidString(a.Filename) || strings.ContainsAny(a.Filename, "/\\\x00") {
				t.Fatalf("bad attachment %q (%d bytes, size %d)", a.Filename, len(a.Content), a.Size)
			}
		}
		in := ToInbound(m)
		if len(in.Body) > MaxInboundBody || !utf8.ValidString(in.Body) {
			t.Fatalf("ToInbound body of %d bytes", len(in.Body))
		}
		_ = m.ThreadIDs()
	})
}
