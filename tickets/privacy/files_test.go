package privacy_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/files"
	"github.com/hotlinedesk/hotline/tickets/privacy"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// With a file store, retention and an erasure delete the files they free from the store at
// once (object and row), and keep a file another message still uses.
func TestErasedFilesLeaveTheStore(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db, privacy.Policy{Attachments: 30})
		store, err := files.NewLocal(t.TempDir(), d.Clock.Now)
		if err != nil {
			t.Fatal(err)
		}
		d.Svc.SetFileStore(store)
		file := func(b string) tickets.NewAttachment {
			return tickets.NewAttachment{Filename: "id.jpg", ContentType: "image/jpeg", SizeBytes: int64(len(b)), Content: []byte(b)}
		}
		keyOf := func(b string) string { h := sha256.Sum256([]byte(b)); return hex.EncodeToString(h[:]) }
		there := func(b string) bool {
			t.Helper()
			_, statErr := store.Stat(ctx, keyOf(b))
			if statErr != nil && !errors.Is(statErr, tickets.ErrNoFile) {
				t.Fatal(statErr)
			}
			rows, err := db.NewSelect().Table("attachment_files").Where("sha256 = ?", keyOf(b)).Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if (statErr == nil) != (rows == 1) {
				t.Fatalf("file %q: object there %v, %d rows", b, statErr == nil, rows)
			}
			return rows == 1
		}
		email := func(addr string, atts ...tickets.NewAttachment) *tickets.Ticket {
			return d.text(t, tickets.Inbound{Channel: tickets.ChannelEmail, From: tickets.IdentityEmail, Address: addr,
				Subject: "证件", Body: "附件", Attachments: atts})
		}
		// Erasure: Mei's own file goes; the one Li sent too stays for Li.
		mei := email("mei@example.com", file("JPEG mei's id card"), file("JPEG shared form"))
		li := email("li@example.com", file("JPEG shared form"))
		d.Resolve(t, mei)
		d.Clock.Advance(tickets.DefaultFileGrace + time.Minute)
		if _, err := d.p.Erase(ctx, d.Chen, mei.CustomerID, "asked by phone"); err != nil {
			t.Fatal(err)
		}
		if there("JPEG mei's id card") {
			t.Error("the erased customer's file is still in the store")
		}
		if !there("JPEG shared form") {
			t.Error("a file another customer's message uses was deleted")
		}
		// Retention: Li's files go 30 days after the ticket ended.
		d.Resolve(t, li)
		d.Clock.Advance(31 * 24 * time.Hour)
		if _, err := d.p.Apply(ctx); err != nil {
			t.Fatal(err)
		}
		if there("JPEG shared form") {
			t.Error("the expired file is still in the store")
		}
	})
}
