package transport

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
)

// Mail that can never be stored is refused for good over SMTP, with the reason, so the
// sender's server returns it to the sender; before, it was answered 250 and dropped.
func TestSMTPServerRejectedMailIsRefusedWithTheReason(t *testing.T) {
	reason := "email: Message-ID is longer than an email line can carry: 5000 characters\r\n250 forged"
	tests := []struct {
		name     string
		err      error
		code     int
		enhanced smtp.EnhancedCode
		says     string
	}{
		{"rejected", fmt.Errorf("%w: %s", ErrRejected, reason), 554, smtp.EnhancedCode{5, 6, 0}, "Message-ID is longer than an email line can carry: 5000 characters??250 forged"},
		{"rejected, a non-ASCII reason", fmt.Errorf("%w: 主题无效", ErrRejected), 554, smtp.EnhancedCode{5, 6, 0}, "mail rejected: "},
		{"store down", errors.New("database is down"), 451, smtp.EnhancedCode{4, 3, 0}, "try again later"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			box := &inbox{fail: tt.err}
			addr, logs := startSMTPServer(t, SMTPConfig{}, box.deliver)
			c := dialSMTP(t, addr)
			if err := c.Mail("zhang.san@customer.example", nil); err != nil {
				t.Fatal(err)
			}
			if err := c.Rcpt("support@hotline.example", nil); err != nil {
				t.Fatal(err)
			}
			err := sendData(c, crlf("From: zhang.san@customer.example\nSubject: hi\n\nbody\n"))
			code, enh := smtpCode(t, err)
			if code != tt.code || enh != tt.enhanced || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("got %v, want %d %v saying %q", err, tt.code, tt.enhanced, tt.says)
			}
			if strings.ContainsAny(strings.TrimPrefix(err.Error(), "smtp: "), "\r\n") || strings.ContainsRune(err.Error(), '主') {
				t.Errorf("the reply is not one printable line: %q", err.Error())
			}
			if !strings.Contains(logs.String(), "customer.example") || strings.Contains(logs.String(), "zhang.san@") && tt.code == 554 {
				t.Errorf("refusal logged without the sender's domain, or with the address:\n%s", logs)
			}
		})
	}
}

// A message deliver rejects stays in the mailbox, unread and flagged for a person, and
// the poller goes on past it; before, it was marked read (or moved) as if stored.
func TestPollerLeavesRejectedMailUnreadAndFlagged(t *testing.T) {
	for _, moveTo := range []string{"", "Processed"} {
		t.Run("move to "+moveTo, func(t *testing.T) {
			env := startIMAP(t, imapPlain)
			for _, s := range []string{"one", "two", "three"} {
				env.appendMsg(t, "INBOX", testMsg(s))
			}
			store := newMemCursorStore()
			rec := &recorder{failOn: func(raw []byte) error {
				if subjectOf(raw) == "two" {
					return fmt.Errorf("%w: email: a header has more than 5000 fields", ErrRejected)
				}
				return nil
			}}
			p := newTestPoller(t, IMAPConfig{Addr: env.addr, MoveTo: moveTo}, store, rec)
			mustPoll(t, p, 2)
			mustPoll(t, p, 0) // not tried again and again
			if got, want := rec.subjects(), []string{"one", "three"}; !slices.Equal(got, want) {
				t.Errorf("delivered %v, want %v", got, want)
			}
			if c := store.get("INBOX"); c.LastUID != 3 {
				t.Errorf("cursor at %d, want 3: the refused message must not block the mailbox", c.LastUID)
			}
			var left []string
			for _, m := range env.mailbox(t, "INBOX") {
				if moveTo != "" || subjectOf(m.Raw) == "two" {
					left = append(left, fmt.Sprintf("%s seen=%v flagged=%v", subjectOf(m.Raw), m.Seen, m.Flagged))
				}
			}
			if want := []string{"two seen=false flagged=true"}; !slices.Equal(left, want) {
				t.Errorf("INBOX holds %q, want %q", left, want)
			}
		})
	}
}
