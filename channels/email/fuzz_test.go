package email

import (
	"errors"
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
	// Obsolete folding, a type that lost its ';', an inline note, undeclared 8-bit text.
	f.Add([]byte("Subject: a\n \n\t\nFrom: a@b.c\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n  charset=gbk\n" +
		"Content-Disposition: inline; filename=note.txt\n\n\xcd\xcb\xbf\xee Forma\xe7\xe3o\n--b--\n"))
	// The limits: a header of one field too many, a field folded over many lines, the
	// longest Message-ID and one longer, parts past the limit, nesting past the limit.
	f.Add([]byte("From: a@b.c\n" + strings.Repeat("X:1\n", maxFields) + "\nbody\n"))
	f.Add([]byte("From: a@b.c\nSubject: x\n" + strings.Repeat(" y\n", 2000) + "\nbody\n"))
	f.Add([]byte("From: a@b.c\nMessage-ID:\n <" + strings.Repeat("i", maxMessageIDLen-4) + "@b.c>\n\nbody\n"))
	f.Add([]byte("From: a@b.c\nMessage-ID: <" + strings.Repeat("i", maxMessageIDLen) + "@b.c>\nIn-Reply-To: <" + strings.Repeat("r", 1000) + ">\n\nbody\n"))
	var parts strings.Builder
	parts.WriteString("From: a@b.c\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\ntext\n")
	for i := range maxParts + 3 {
		if i%100 == 0 {
			fmt.Fprintf(&parts, "--b\nContent-Type: application/pdf; name=\"f%d.pdf\"\nContent-Transfer-Encoding: base64\n\nJVBERi0x\n", i)
			continue
		}
		parts.WriteString("--b\n\nx\n")
	}
	parts.WriteString("--b\nContent-Type: multipart/mixed; boundary=c\n\n--c\n\ny\n--c--\n--b--\n")
	f.Add([]byte(parts.String()))
	var deep strings.Builder
	deep.WriteString("From: a@b.c\nContent-Type: multipart/mixed; boundary=b0\n\n")
	for i := range maxDepth + 2 {
		fmt.Fprintf(&deep, "--b%d\nContent-Type: multipart/related; boundary=b%d\n\n", i, i+1)
	}
	fmt.Fprintf(&deep, "--b%d\nContent-Disposition: attachment; filename=deep.txt\n\nx\n", maxDepth+2)
	f.Add([]byte(deep.String()))
	f.Fuzz(func(t *testing.T, raw []byte) {
		// A hang would only stall the fuzzer; crashing makes it save the input.
		watchdog := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("Parse took over 10s on %q", raw)) })
		m, err := Parse(raw)
		watchdog.Stop()
		if err != nil {
			if m != nil {
				t.Fatal("Parse returned a message with its error")
			}
			// Parse recovers from a panic as "malformed message": the fuzzer must see it.
			known := false
			for _, e := range []error{ErrTooLarge, ErrNoHeader, ErrNoFrom, ErrTooManyFields, ErrLongMessageID} {
				known = known || errors.Is(err, e)
			}
			if !known {
				t.Fatalf("Parse failed unexpectedly: %v", err)
			}
			return
		}
		if len(m.MessageID) > maxMessageIDLen {
			t.Fatalf("a Message-ID of %d characters was taken", len(m.MessageID))
		}
		if o := m.Omitted; o.Count < len(o.Files) || o.Bytes < 0 || len(o.Files) > maxOmittedListed {
			t.Fatalf("omitted %d parts, %d bytes, %d listed", o.Count, o.Bytes, len(o.Files))
		}
		for name, s := range map[string]string{
			"Subject": m.Subject, "Text": m.Text, "Quoted": m.Quoted, "HTML": m.HTML,
			"From.Name": m.From.Name, "From.Addr": m.From.Addr, "MessageID": m.MessageID,
		} {
			if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
				t.Fatalf("%s is not clean UTF-8: %q", name, s)
			}
		}
		if m.From.Addr == "" && m.Bounce == nil {
			t.Fatal("a message without a sender address was accepted, and it is not a bounce")
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
		if m.Omitted.Count > 0 && !strings.Contains(in.Body, "[Not kept: ") {
			t.Fatalf("%d parts not kept, and the body does not say so", m.Omitted.Count)
		}
		_ = m.ThreadIDs()
	})
}
