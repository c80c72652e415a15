package jobs_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/jobs"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/files/filestest"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// The periodic file sweep deletes, batch after batch, the files of messages that never
// committed once the grace period is over, and the objects left with no row; it keeps the
// files messages use.
func TestFileSweepTask(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		clock := tickettest.NewClock(time.Now().UTC())
		svc := tickettest.Service(db, clock)
		sweep := jobs.NewFileSweep(svc, tickettest.Logger())
		if n, err := sweep.Sweep(ctx); err != nil || n != 0 {
			t.Fatalf("without a store: %d, %v", n, err)
		}
		store := filestest.Local(t)
		svc.SetFileStore(store)
		mail := func(i int, content []byte) tickets.Inbound {
			return tickets.Inbound{Channel: tickets.ChannelEmail, From: tickets.IdentityEmail, Address: fmt.Sprintf("c%d@example.cn", i),
				Subject: "docs", Body: "attached", ProviderMessageID: fmt.Sprintf("<m%d@x>", i),
				Attachments: []tickets.NewAttachment{{Filename: "doc.pdf", ContentType: "application/pdf", SizeBytes: int64(len(content)), Content: content}}}
		}
		orphans := tickets.FileSweepBatch + 5 // more than one batch
		lift := tickettest.FailInserts(t, db, "attachments", "NEW.filename = 'doc.pdf'")
		for i := range orphans {
			if _, err := svc.Intake(ctx, mail(i, []byte(fmt.Sprintf("%%PDF orphan %d", i)))); err == nil {
				t.Fatal("a failing message was stored")
			}
		}
		lift()
		used := []byte("%PDF used by a message")
		if _, err := svc.Intake(ctx, mail(9999, used)); err != nil {
			t.Fatal(err)
		}
		stray := []byte("an object with no row")
		if err := store.Put(ctx, fileKeyOf(stray), bytes.NewReader(stray), int64(len(stray)), ""); err != nil {
			t.Fatal(err)
		}
		if n, err := sweep.Sweep(ctx); err != nil || n != 0 {
			t.Fatalf("within the grace period: swept %d, %v", n, err)
		}
		clock.Advance(tickets.DefaultFileGrace + time.Minute)
		n, err := sweep.Sweep(ctx)
		if err != nil || n != orphans+1 {
			t.Fatalf("swept %d (%v), want %d orphans and the stray", n, err, orphans+1)
		}
		left := 0
		if err := store.Walk(ctx, func(key string, _ int64, _ time.Time) error {
			left++
			if key != fileKeyOf(used) {
				return errors.New("an orphan is left: " + key[:12])
			}
			return nil
		}); err != nil || left != 1 {
			t.Fatalf("%d objects left (%v), want the used one", left, err)
		}
	})
}

func fileKeyOf(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
