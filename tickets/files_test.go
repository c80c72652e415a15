package tickets_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/files"
	"github.com/hotlinedesk/hotline/tickets/files/filestest"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// fileStores are the back ends the core's file tests run over.
func fileStores() map[string]func(t *testing.T, clock *tickettest.Clock) tickets.FileStore {
	return map[string]func(t *testing.T, clock *tickettest.Clock) tickets.FileStore{
		"local": func(t *testing.T, clock *tickettest.Clock) tickets.FileStore {
			s, err := files.NewLocal(t.TempDir(), clock.Now)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		"s3": func(t *testing.T, _ *tickettest.Clock) tickets.FileStore {
			return filestest.NewS3(t, "hotline-files").Open(t, "hotline-files", "desk")
		},
	}
}

// eachStore runs fn with each back end on both databases, on a service whose clock starts
// now (the local store's files carry the real time).
func eachStore(t *testing.T, fn func(t *testing.T, db *bun.DB, svc *tickets.Service, store tickets.FileStore, clock *tickettest.Clock)) {
	for name, open := range fileStores() {
		t.Run(name, func(t *testing.T) {
			tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
				clock := tickettest.NewClock(time.Now().UTC())
				svc := tickettest.Service(db, clock)
				store := open(t, clock)
				svc.SetFileStore(store)
				fn(t, db, svc, store, clock)
			})
		})
	}
}

func fileKeyOf(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func fileMail(sid, from string, content []byte) tickets.Inbound {
	return emailWith(sid, from, tickets.NewAttachment{Filename: "scan.pdf", ContentType: "application/pdf", SizeBytes: int64(len(content)), Content: content})
}

// firstAttachment is the id of the first attachment of the message res stored.
func firstAttachment(t *testing.T, svc *tickets.Service, res *tickets.IntakeResult) int64 {
	t.Helper()
	d, err := svc.Ticket(context.Background(), res.Ticket.Ref())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range d.Messages {
		if len(m.Attachments) > 0 {
			return m.Attachments[0].ID
		}
	}
	t.Fatal("the message has no attachment")
	return 0
}

func fileRow(t *testing.T, db *bun.DB, k string) (location string, hasContent bool, found bool) {
	t.Helper()
	var rows []struct {
		Location string
		Content  []byte
	}
	if err := db.NewSelect().Table("attachment_files").Column("location", "content").Where("sha256 = ?", k).Scan(context.Background(), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		return "", false, false
	}
	return rows[0].Location, rows[0].Content != nil, true
}

func inStore(t *testing.T, store tickets.FileStore, k string) bool {
	t.Helper()
	_, err := store.Stat(context.Background(), k)
	if errors.Is(err, tickets.ErrNoFile) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

func countObjects(t *testing.T, store tickets.FileStore) int {
	t.Helper()
	n := 0
	if err := store.Walk(context.Background(), func(string, int64, time.Time) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// A file is in the store, its row saying so, before its message commits; two messages with
// the same file share one object; the download reads it back from the store.
func TestFilesPutInTheStoreAndDeduped(t *testing.T) {
	eachStore(t, func(t *testing.T, db *bun.DB, svc *tickets.Service, store tickets.FileStore, _ *tickettest.Clock) {
		ctx := context.Background()
		pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("发票 invoice "), 20000)...)
		first, err := svc.Intake(ctx, fileMail("<a@x>", "zhou@example.cn", pdf))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Intake(ctx, fileMail("<b@x>", "li@example.cn", pdf)); err != nil {
			t.Fatal(err)
		}
		k := fileKeyOf(pdf)
		if loc, content, ok := fileRow(t, db, k); !ok || loc != tickets.FileInStore || content {
			t.Fatalf("row of the file: found=%v location=%q content in the row=%v", ok, loc, content)
		}
		if n := countObjects(t, store); n != 1 {
			t.Errorf("%d objects for one distinct file sent twice", n)
		}
		var rows int
		if rows, err = db.NewSelect().Table("attachment_files").Count(ctx); err != nil || rows != 1 {
			t.Errorf("%d file rows (%v)", rows, err)
		}
		_, f, err := svc.AttachmentStream(ctx, firstAttachment(t, svc, first))
		if err != nil {
			t.Fatal(err)
		}
		if f.Size != int64(len(pdf)) || f.Location != tickets.FileInStore || f.ContentType != "application/pdf" {
			t.Errorf("stored file %+v", f)
		}
		r, err := svc.OpenFile(ctx, f, 9, 6)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(r)
		r.Close()
		if !bytes.Equal(got, pdf[9:15]) {
			t.Errorf("range 9+6: %q, want %q", got, pdf[9:15])
		}
		_, whole, err := svc.AttachmentFile(ctx, firstAttachment(t, svc, first))
		if err != nil || !bytes.Equal(whole, pdf) {
			t.Errorf("whole file: %d bytes, %v", len(whole), err)
		}
	})
}

// Without a store the database keeps the file in the row, as before, and the same reads work.
func TestFilesWithoutAStoreStayInTheDatabase(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		svc := tickettest.Service(db, tickettest.NewClock(t0))
		pdf := []byte("%PDF-1.4 kept in the row")
		res, err := svc.Intake(ctx, fileMail("<a@x>", "zhou@example.cn", pdf))
		if err != nil {
			t.Fatal(err)
		}
		if loc, content, ok := fileRow(t, db, fileKeyOf(pdf)); !ok || loc != tickets.FileInDB || !content {
			t.Fatalf("row: found=%v location=%q content=%v", ok, loc, content)
		}
		_, f, err := svc.AttachmentStream(ctx, firstAttachment(t, svc, res))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ off, n int64 }{{0, -1}, {5, 3}, {int64(len(pdf)) - 1, 1}, {3, 1000}} {
			r, err := svc.OpenFile(ctx, f, c.off, c.n)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(r)
			end := int64(len(pdf))
			if c.n >= 0 && c.off+c.n < end {
				end = c.off + c.n
			}
			if !bytes.Equal(got, pdf[c.off:end]) {
				t.Errorf("range %d+%d: %q", c.off, c.n, got)
			}
		}
		if n, err := svc.SweepFiles(ctx, 0); err != nil || n != 0 {
			t.Errorf("sweep without a store: %d, %v", n, err)
		}
	})
}

// A message whose transaction fails after its file was put leaves an orphan: the sweep
// keeps it through the grace period (a writer may still be committing) and deletes object
// and row after it.
func TestOrphanSweptOnlyAfterTheGrace(t *testing.T) {
	eachStore(t, func(t *testing.T, db *bun.DB, svc *tickets.Service, store tickets.FileStore, clock *tickettest.Clock) {
		ctx := context.Background()
		pdf := []byte("%PDF-1.4 orphan of a failed message")
		lift := tickettest.FailInserts(t, db, "attachments", "NEW.filename = 'scan.pdf'")
		if _, err := svc.Intake(ctx, fileMail("<a@x>", "zhou@example.cn", pdf)); err == nil {
			t.Fatal("the message was stored despite the failing insert")
		}
		lift()
		k := fileKeyOf(pdf)
		if _, _, ok := fileRow(t, db, k); !ok || !inStore(t, store, k) {
			t.Fatal("the file was not put before the transaction")
		}
		clock.Advance(tickets.DefaultFileGrace - time.Minute)
		if n, err := svc.SweepFiles(ctx, 0); err != nil || n != 0 {
			t.Fatalf("swept %d within the grace period (%v)", n, err)
		}
		if !inStore(t, store, k) {
			t.Fatal("the object went within the grace period")
		}
		clock.Advance(2 * time.Minute)
		if n, err := svc.SweepFiles(ctx, 0); err != nil || n != 1 {
			t.Fatalf("swept %d after the grace period (%v)", n, err)
		}
		if _, _, ok := fileRow(t, db, k); ok || inStore(t, store, k) {
			t.Error("the orphan's row or object is still there")
		}
		// A referenced file is never swept, however old.
		res, err := svc.Intake(ctx, fileMail("<b@x>", "li@example.cn", pdf))
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(30 * 24 * time.Hour)
		if n, err := svc.SweepFiles(ctx, 0); err != nil || n != 0 {
			t.Fatalf("swept %d referenced files (%v)", n, err)
		}
		if _, content, err := svc.AttachmentFile(ctx, firstAttachment(t, svc, res)); err != nil || !bytes.Equal(content, pdf) {
			t.Errorf("referenced file after the sweep: %v", err)
		}
	})
}

// An object the store holds with no row (a put whose row was swept, a migration stopped
// between put and update) is deleted after the grace period; one with a row is kept.
func TestStrayObjectsSwept(t *testing.T) {
	eachStore(t, func(t *testing.T, db *bun.DB, svc *tickets.Service, store tickets.FileStore, clock *tickettest.Clock) {
		ctx := context.Background()
		stray := []byte("no row names me")
		if err := store.Put(ctx, fileKeyOf(stray), bytes.NewReader(stray), int64(len(stray)), "text/plain"); err != nil {
			t.Fatal(err)
		}
		kept := []byte("%PDF-1.4 kept")
		if _, err := svc.Intake(ctx, fileMail("<a@x>", "zhou@example.cn", kept)); err != nil {
			t.Fatal(err)
		}
		if n, err := svc.SweepStrayObjects(ctx); err != nil || n != 0 {
			t.Fatalf("swept %d strays within the grace period (%v)", n, err)
		}
		clock.Advance(tickets.DefaultFileGrace + time.Minute)
		if n, err := svc.SweepStrayObjects(ctx); err != nil || n != 1 {
			t.Fatalf("swept %d strays (%v)", n, err)
		}
		if inStore(t, store, fileKeyOf(stray)) || !inStore(t, store, fileKeyOf(kept)) {
			t.Error("the stray is still there, or the kept file went")
		}
		if _, _, ok := fileRow(t, db, fileKeyOf(stray)); ok {
			t.Error("the placeholder row was left behind")
		}
	})
}

// Two sweeps, the stray sweep and a writer race for the same key: the writer touches the
// row before a sweep claims it, while a sweep holds it, or after a sweep deleted it (and the
// stray sweep may claim the object the orphan sweep is deleting). Whoever wins, every
// attachment's file is there.
func TestSweepRacesWriter(t *testing.T) {
	eachStore(t, func(t *testing.T, db *bun.DB, svc *tickets.Service, store tickets.FileStore, clock *tickettest.Clock) {
		ctx := context.Background()
		for i := range 12 {
			content := []byte(fmt.Sprintf("%%PDF-1.4 raced file %d", i))
			k := fileKeyOf(content)
			// An orphan older than the grace period: a failed message's file.
			lift := tickettest.FailInserts(t, db, "attachments", "NEW.filename = 'scan.pdf'")
			if _, err := svc.Intake(ctx, fileMail(fmt.Sprintf("<fail%d@x>", i), "zhou@example.cn", content)); err == nil {
				t.Fatal("the failing message was stored")
			}
			lift()
			clock.Advance(tickets.DefaultFileGrace + time.Minute)

			var wg sync.WaitGroup
			var res *tickets.IntakeResult
			var werr error
			serr := make([]error, 3)
			wg.Add(4)
			go func() {
				defer wg.Done()
				res, werr = svc.Intake(ctx, fileMail(fmt.Sprintf("<ok%d@x>", i), fmt.Sprintf("c%d@example.cn", i), content))
			}()
			for j := range 2 {
				go func() {
					defer wg.Done()
					_, serr[j] = svc.SweepFiles(ctx, 0)
				}()
			}
			go func() {
				defer wg.Done()
				_, serr[2] = svc.SweepStrayObjects(ctx)
			}()
			wg.Wait()
			if err := errors.Join(serr...); werr != nil || err != nil {
				t.Fatalf("round %d: writer %v, sweeps %v", i, werr, err)
			}
			if loc, _, ok := fileRow(t, db, k); !ok || loc != tickets.FileInStore {
				t.Fatalf("round %d: the message's file has no row", i)
			}
			if !inStore(t, store, k) {
				t.Fatalf("round %d: the message's file is missing from the store", i)
			}
			if _, got, err := svc.AttachmentFile(ctx, firstAttachment(t, svc, res)); err != nil || !bytes.Equal(got, content) {
				t.Fatalf("round %d: reading the file: %v", i, err)
			}
		}
	})
}

// corruptReads is a store whose reads do not give back what was put.
type corruptReads struct {
	tickets.FileStore
	bad map[string]bool
}

func (c corruptReads) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if c.bad[key] {
		return io.NopCloser(bytes.NewReader([]byte("not what was put"))), nil
	}
	return c.FileStore.Open(ctx, key, offset, length)
}

// The migration moves database-held files in batches, verified by hash; stopped in the
// middle it resumes; a copy that does not read back as put leaves the database copy.
func TestMoveFilesToStore(t *testing.T) {
	eachStore(t, func(t *testing.T, db *bun.DB, svc *tickets.Service, store tickets.FileStore, clock *tickettest.Clock) {
		ctx := context.Background()
		// Files kept in the database first: the desk ran without a store.
		svc.SetFileStore(nil)
		var contents [][]byte
		var ids []int64
		for i := range 7 {
			c := []byte(fmt.Sprintf("%%PDF-1.4 old file %d %s", i, bytes.Repeat([]byte("x"), i*1000)))
			res, err := svc.Intake(ctx, fileMail(fmt.Sprintf("<m%d@x>", i), fmt.Sprintf("c%d@example.cn", i), c))
			if err != nil {
				t.Fatal(err)
			}
			contents, ids = append(contents, c), append(ids, firstAttachment(t, svc, res))
		}
		if _, err := svc.MoveFilesToStore(ctx, "", 3, false); err == nil {
			t.Fatal("moved files with no store configured")
		}
		bad := fileKeyOf(contents[4])
		svc.SetFileStore(corruptReads{store, map[string]bool{bad: true}})
		dry, err := svc.MoveFilesToStore(ctx, "", 3, true)
		if err != nil || dry.Left != 7 || dry.Moved != 0 {
			t.Fatalf("dry run: %+v %v", dry, err)
		}
		// One batch, then "killed": the next run starts over from the first key and goes on.
		r, err := svc.MoveFilesToStore(ctx, "", 3, false)
		if err != nil || r.Moved+r.Mismatch != 3 || r.Next == "" {
			t.Fatalf("first batch: %+v %v", r, err)
		}
		moved, mismatch, after := r.Moved, r.Mismatch, ""
		for {
			r, err := svc.MoveFilesToStore(ctx, after, 3, false)
			if err != nil {
				t.Fatal(err)
			}
			moved, mismatch = moved+r.Moved, mismatch+r.Mismatch
			if r.Next == "" {
				if r.Left != 1 {
					t.Errorf("%d left in the database, want the one that did not verify", r.Left)
				}
				break
			}
			after = r.Next
		}
		if moved != 6 {
			t.Errorf("moved %d files, want 6", moved)
		}
		for i, c := range contents {
			loc, hasContent, _ := fileRow(t, db, fileKeyOf(c))
			want := tickets.FileInStore
			if fileKeyOf(c) == bad {
				want = tickets.FileInDB
			}
			if loc != want || hasContent != (want == tickets.FileInDB) {
				t.Errorf("file %d: location %q, content in the row %v", i, loc, hasContent)
			}
		}
		svc.SetFileStore(store)
		for i, id := range ids {
			if _, got, err := svc.AttachmentFile(ctx, id); err != nil || !bytes.Equal(got, contents[i]) {
				t.Errorf("file %d after the move: %v", i, err)
			}
		}
		// Run again: nothing left to move but the unverified one, which now verifies.
		r, err = svc.MoveFilesToStore(ctx, "", 3, false)
		if err != nil || r.Moved != 1 || r.Left != 0 {
			t.Errorf("rerun: %+v %v", r, err)
		}
	})
}

// holdingDelete is a store whose Delete says when it starts and waits to be let go: the
// sweep then holds its claim on the file it deletes for as long as the test likes.
type holdingDelete struct {
	tickets.FileStore
	held, release chan struct{}
}

func (h holdingDelete) Delete(ctx context.Context, key string) error {
	h.held <- struct{}{}
	<-h.release
	return h.FileStore.Delete(ctx, key)
}

// A writer touching a key the sweep holds waits until the sweep has deleted object and row,
// then writes both again: its message never points at a missing file.
func TestWriterWaitsForTheSweepHoldingItsFile(t *testing.T) {
	eachStore(t, func(t *testing.T, db *bun.DB, svc *tickets.Service, store tickets.FileStore, clock *tickettest.Clock) {
		ctx := context.Background()
		content := []byte("%PDF-1.4 held by the sweep")
		lift := tickettest.FailInserts(t, db, "attachments", "NEW.filename = 'scan.pdf'")
		if _, err := svc.Intake(ctx, fileMail("<fail@x>", "zhou@example.cn", content)); err == nil {
			t.Fatal("the failing message was stored")
		}
		lift()
		clock.Advance(tickets.DefaultFileGrace + time.Minute)
		hold := holdingDelete{store, make(chan struct{}), make(chan struct{})}
		svc.SetFileStore(hold)
		swept := make(chan error, 1)
		go func() { _, err := svc.SweepFiles(ctx, 0); swept <- err }()
		<-hold.held // the sweep holds the row and is deleting the object
		written := make(chan error, 1)
		var res *tickets.IntakeResult
		go func() {
			var err error
			res, err = svc.Intake(ctx, fileMail("<ok@x>", "li@example.cn", content))
			written <- err
		}()
		select {
		case err := <-written:
			t.Fatalf("the writer finished while the sweep held its file: %v", err)
		case <-time.After(300 * time.Millisecond):
		}
		close(hold.release)
		if err := <-swept; err != nil {
			t.Fatal(err)
		}
		if err := <-written; err != nil {
			t.Fatal(err)
		}
		svc.SetFileStore(store)
		k := fileKeyOf(content)
		if loc, _, ok := fileRow(t, db, k); !ok || loc != tickets.FileInStore || !inStore(t, store, k) {
			t.Fatal("the writer's file is missing after the sweep let go")
		}
		if _, got, err := svc.AttachmentFile(ctx, firstAttachment(t, svc, res)); err != nil || !bytes.Equal(got, content) {
			t.Fatalf("reading the file: %v", err)
		}
	})
}

// orphanFile leaves content's file in the store as the orphan of a message whose
// transaction failed, and moves the clock past the grace period.
func orphanFile(t *testing.T, db *bun.DB, svc *tickets.Service, clock *tickettest.Clock, sid string, content []byte) {
	t.Helper()
	lift := tickettest.FailInserts(t, db, "attachments", "NEW.filename = 'scan.pdf'")
	if _, err := svc.Intake(context.Background(), fileMail(sid, "zhou@example.cn", content)); err == nil {
		t.Fatal("the failing message was stored")
	}
	lift()
	clock.Advance(tickets.DefaultFileGrace + time.Minute)
}

// meanwhile fails the test unless fn returns within a few seconds, well before SQLite's
// busy timeout (10 s) would let a writer stuck behind a held write lock give up.
func meanwhile(t *testing.T, what string, fn func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s while the sweep was deleting: %v", what, err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%s waited for the sweep deleting objects from the store", what)
	}
}

// While the sweep deletes objects from the store (slowly: the store holds each delete until
// the test lets go), other writers go on: a message, a message with another file, a ticket
// opened by an agent. The sweep holds no transaction, and on SQLite not the write lock, while
// it talks to the store; afterwards the orphan (or the stray) is gone all the same.
func TestWritersGoOnWhileTheSweepDeletes(t *testing.T) {
	eachStore(t, func(t *testing.T, db *bun.DB, svc *tickets.Service, store tickets.FileStore, clock *tickettest.Clock) {
		ctx := context.Background()
		desk := tickettest.BareDesk(t, svc, clock)
		agent := desk.Agent(t, "wang@desk.example", tickets.RoleAgent, desk.Claims)
		orphan := []byte("%PDF-1.4 an orphan the sweep deletes slowly")
		orphanFile(t, db, svc, clock, "<fail@x>", orphan)
		stray := []byte("an object without a row, deleted slowly")
		if err := store.Put(ctx, fileKeyOf(stray), bytes.NewReader(stray), int64(len(stray)), "text/plain"); err != nil {
			t.Fatal(err)
		}
		clock.Advance(tickets.DefaultFileGrace + time.Minute)

		for _, sweep := range []struct {
			name string
			run  func() (int, error)
			key  string
		}{
			{"orphans", func() (int, error) { return svc.SweepFiles(ctx, 0) }, fileKeyOf(orphan)},
			{"strays", func() (int, error) { return svc.SweepStrayObjects(ctx) }, fileKeyOf(stray)},
		} {
			hold := holdingDelete{store, make(chan struct{}), make(chan struct{})}
			svc.SetFileStore(hold)
			released := false
			release := func() {
				if !released {
					released = true
					close(hold.release)
				}
			}
			t.Cleanup(release) // a failing check below must not leave the sweep waiting
			swept := make(chan error, 1)
			var n int
			go func() {
				var err error
				n, err = sweep.run()
				swept <- err
			}()
			<-hold.held // the sweep has claimed the file and is deleting its object
			meanwhile(t, sweep.name+": a message", func() error {
				_, err := svc.Intake(ctx, tickettest.SMS("+8613800138000", "还在吗", "SM-"+sweep.name))
				return err
			})
			other := []byte("%PDF-1.4 another customer's file, " + sweep.name)
			meanwhile(t, sweep.name+": a message with a file", func() error {
				_, err := svc.Intake(ctx, fileMail("<other-"+sweep.name+"@x>", "li@example.cn", other))
				return err
			})
			meanwhile(t, sweep.name+": an agent's new ticket", func() error {
				_, err := svc.CreateTicket(ctx, agent, tickets.NewTicket{Channel: tickets.ChannelPhone, Phone: "+8613900139000", Subject: "回电 " + sweep.name})
				return err
			})
			release()
			if err := <-swept; err != nil || n != 1 {
				t.Fatalf("%s: swept %d (%v)", sweep.name, n, err)
			}
			svc.SetFileStore(store)
			if _, _, ok := fileRow(t, db, sweep.key); ok || inStore(t, store, sweep.key) {
				t.Errorf("%s: the swept file's row or object is still there", sweep.name)
			}
			if loc, _, ok := fileRow(t, db, fileKeyOf(other)); !ok || loc != tickets.FileInStore || !inStore(t, store, fileKeyOf(other)) {
				t.Errorf("%s: the file written meanwhile is missing", sweep.name)
			}
		}
	})
}

// A sweep that dies after claiming files (its process killed) holds their writers off only
// until its claim goes stale: a writer then takes the row back and puts the bytes the dead
// sweep may have deleted, and a later sweep deletes the files no writer took back.
func TestDeadSweepsClaimGoesStale(t *testing.T) {
	eachStore(t, func(t *testing.T, db *bun.DB, svc *tickets.Service, store tickets.FileStore, clock *tickettest.Clock) {
		ctx := context.Background()
		wanted := []byte("%PDF-1.4 claimed by a dead sweep, sent again")
		unwanted := []byte("%PDF-1.4 claimed by a dead sweep, never sent again")
		orphanFile(t, db, svc, clock, "<fail1@x>", wanted)
		orphanFile(t, db, svc, clock, "<fail2@x>", unwanted)
		// The dead sweep's work: both claimed, the first one's object deleted.
		if _, err := db.NewUpdate().Table("attachment_files").Set("claimed_at = ?", svc.Now()).
			Where("sha256 IN (?)", bun.In([]string{fileKeyOf(wanted), fileKeyOf(unwanted)})).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if err := store.Delete(ctx, fileKeyOf(wanted)); err != nil {
			t.Fatal(err)
		}
		if n, err := svc.SweepFiles(ctx, 0); err != nil || n != 0 {
			t.Fatalf("a sweep took %d files another sweep holds (%v)", n, err)
		}
		written := make(chan error, 1)
		var res *tickets.IntakeResult
		go func() {
			var err error
			res, err = svc.Intake(ctx, fileMail("<ok@x>", "li@example.cn", wanted))
			written <- err
		}()
		select {
		case err := <-written:
			t.Fatalf("the writer went on while a sweep's claim held its file: %v", err)
		case <-time.After(300 * time.Millisecond):
		}
		clock.Advance(2*tickets.MaxTxAge + time.Second) // the claim is stale now
		select {
		case err := <-written:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the writer still waits for a stale claim")
		}
		if loc, _, ok := fileRow(t, db, fileKeyOf(wanted)); !ok || loc != tickets.FileInStore || !inStore(t, store, fileKeyOf(wanted)) {
			t.Fatal("the file taken back from the dead sweep is missing")
		}
		if _, got, err := svc.AttachmentFile(ctx, firstAttachment(t, svc, res)); err != nil || !bytes.Equal(got, wanted) {
			t.Fatalf("reading the file taken back: %v", err)
		}
		if n, err := svc.SweepFiles(ctx, 0); err != nil || n != 1 {
			t.Fatalf("swept %d files after the dead sweep's claim went stale (%v)", n, err)
		}
		if _, _, ok := fileRow(t, db, fileKeyOf(unwanted)); ok || inStore(t, store, fileKeyOf(unwanted)) {
			t.Error("the file no writer took back is still there")
		}
	})
}

// failingDelete is a store that cannot delete.
type failingDelete struct{ tickets.FileStore }

func (failingDelete) Delete(context.Context, string) error { return errors.New("access denied") }

// A sweep whose deletes fail says so and lets go of the files it claimed: their writers go on
// at once, and the bytes are still there.
func TestFailedSweepLetsGoOfItsFiles(t *testing.T) {
	eachStore(t, func(t *testing.T, db *bun.DB, svc *tickets.Service, store tickets.FileStore, clock *tickettest.Clock) {
		ctx := context.Background()
		content := []byte("%PDF-1.4 the store refuses to delete me")
		orphanFile(t, db, svc, clock, "<fail@x>", content)
		svc.SetFileStore(failingDelete{store})
		if _, err := svc.SweepFiles(ctx, 0); err == nil {
			t.Fatal("the sweep reported no error although no delete succeeded")
		}
		var claimed int
		claimed, err := db.NewSelect().Table("attachment_files").Where("claimed_at IS NOT NULL").Count(ctx)
		if err != nil || claimed != 0 {
			t.Fatalf("%d rows still claimed after the failed sweep (%v)", claimed, err)
		}
		var res *tickets.IntakeResult
		meanwhile(t, "the writer after a failed sweep", func() error {
			res, err = svc.Intake(ctx, fileMail("<ok@x>", "li@example.cn", content))
			return err
		})
		svc.SetFileStore(store)
		if _, got, err := svc.AttachmentFile(ctx, firstAttachment(t, svc, res)); err != nil || !bytes.Equal(got, content) {
			t.Fatalf("reading the file: %v", err)
		}
	})
}

// A process keeping files in the database (no store: a rolling deploy turning FILES_URL on)
// that meets a file a sweep is deleting takes it back into the database with its bytes; the
// sweep then leaves the row, and the message reads its file. So it does with a file in the
// store no sweep holds.
func TestDatabaseWriterTakesBackAFileBeingSwept(t *testing.T) {
	eachStore(t, func(t *testing.T, db *bun.DB, svc *tickets.Service, store tickets.FileStore, clock *tickettest.Clock) {
		ctx := context.Background()
		content := []byte("%PDF-1.4 swept by one process, kept by another")
		orphanFile(t, db, svc, clock, "<fail@x>", content)
		hold := holdingDelete{store, make(chan struct{}), make(chan struct{})}
		svc.SetFileStore(hold)
		swept := make(chan error, 1)
		var n int
		go func() {
			var err error
			n, err = svc.SweepFiles(ctx, 0)
			swept <- err
		}()
		<-hold.held
		plain := tickettest.Service(db, clock) // no store
		var res *tickets.IntakeResult
		meanwhile(t, "a database writer", func() error {
			var err error
			res, err = plain.Intake(ctx, fileMail("<ok@x>", "li@example.cn", content))
			return err
		})
		close(hold.release)
		if err := <-swept; err != nil || n != 0 {
			t.Fatalf("the sweep deleted %d rows, one a writer took back (%v)", n, err)
		}
		if loc, hasContent, ok := fileRow(t, db, fileKeyOf(content)); !ok || loc != tickets.FileInDB || !hasContent {
			t.Fatalf("row: found=%v location=%q content=%v", ok, loc, hasContent)
		}
		if _, got, err := plain.AttachmentFile(ctx, firstAttachment(t, plain, res)); err != nil || !bytes.Equal(got, content) {
			t.Fatalf("reading the file: %v", err)
		}
		// A file in the store that no sweep holds is taken back too: the process could not
		// read it from there.
		svc.SetFileStore(store)
		logo := []byte("GIF89a a logo in every signature")
		if _, err := svc.Intake(ctx, fileMail("<logo1@x>", "zhou@example.cn", logo)); err != nil {
			t.Fatal(err)
		}
		res, err := plain.Intake(ctx, fileMail("<logo2@x>", "li@example.cn", logo))
		if err != nil {
			t.Fatal(err)
		}
		if loc, hasContent, _ := fileRow(t, db, fileKeyOf(logo)); loc != tickets.FileInDB || !hasContent {
			t.Fatalf("the store's file met by a process without a store: location %q, content %v", loc, hasContent)
		}
		if _, got, err := plain.AttachmentFile(ctx, firstAttachment(t, plain, res)); err != nil || !bytes.Equal(got, logo) {
			t.Fatalf("reading the logo without a store: %v", err)
		}
	})
}

// failingPuts is a store that fails every put after the first few, as a store gone away or
// a process killed in the middle of a batch would leave it.
type failingPuts struct {
	tickets.FileStore
	left *int
}

func (f failingPuts) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if *f.left <= 0 {
		return errors.New("connection reset by peer")
	}
	*f.left--
	return f.FileStore.Put(ctx, key, r, size, contentType)
}

// A move stopped in the middle of a batch (the store failing) leaves every file readable
// where its row says, and run again it moves the rest.
func TestMoveFilesStoppedAndResumed(t *testing.T) {
	eachStore(t, func(t *testing.T, db *bun.DB, svc *tickets.Service, store tickets.FileStore, _ *tickettest.Clock) {
		ctx := context.Background()
		svc.SetFileStore(nil)
		var ids []int64
		var contents [][]byte
		for i := range 6 {
			c := []byte(fmt.Sprintf("%%PDF-1.4 file %d before the store", i))
			res, err := svc.Intake(ctx, fileMail(fmt.Sprintf("<r%d@x>", i), fmt.Sprintf("r%d@example.cn", i), c))
			if err != nil {
				t.Fatal(err)
			}
			ids, contents = append(ids, firstAttachment(t, svc, res)), append(contents, c)
		}
		left := 4
		svc.SetFileStore(failingPuts{store, &left})
		var err error
		after := ""
		for err == nil {
			var r tickets.MoveReport
			r, err = svc.MoveFilesToStore(ctx, after, 3, false)
			if err == nil && r.Next == "" {
				t.Fatal("the move finished although the store failed")
			}
			after = r.Next
		}
		svc.SetFileStore(store)
		inDB, _ := db.NewSelect().Table("attachment_files").Where("location = 'db'").Count(ctx)
		if inDB != 2 {
			t.Errorf("%d files in the database after the failure, want the 2 not put", inDB)
		}
		for i, id := range ids {
			if _, got, err := svc.AttachmentFile(ctx, id); err != nil || !bytes.Equal(got, contents[i]) {
				t.Errorf("file %d after the failed move: %v", i, err)
			}
		}
		r, err := svc.MoveFilesToStore(ctx, "", 3, false)
		if err == nil && r.Next != "" {
			r, err = svc.MoveFilesToStore(ctx, r.Next, 3, false)
		}
		if err != nil || r.Left != 0 {
			t.Fatalf("the resumed move: %+v %v", r, err)
		}
		for i, id := range ids {
			if _, got, err := svc.AttachmentFile(ctx, id); err != nil || !bytes.Equal(got, contents[i]) {
				t.Errorf("file %d after the resumed move: %v", i, err)
			}
		}
	})
}

// stallingPut is a store whose first put, once done, waits until the test lets the writer
// go on: a writer stalled between keeping its file and its message's transaction.
type stallingPut struct {
	tickets.FileStore
	once            *sync.Once
	stalled, resume chan struct{}
}

func (s stallingPut) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	err := s.FileStore.Put(ctx, key, r, size, contentType)
	s.once.Do(func() {
		close(s.stalled)
		<-s.resume
	})
	return err
}

// A writer that stalls past the grace period after keeping its file, while a sweep claims
// the file (no attachment refers to it yet), deletes its object and its row, still ends
// with its message's file in the store and its row: the message's transaction finds the
// row gone, and the writer keeps the file again (touch, put) and writes the message.
func TestWriterStalledPastTheGraceKeepsItsFile(t *testing.T) {
	eachStore(t, func(t *testing.T, db *bun.DB, svc *tickets.Service, store tickets.FileStore, clock *tickettest.Clock) {
		ctx := context.Background()
		content := []byte("%PDF-1.4 kept by a writer that slept")
		stall := stallingPut{store, new(sync.Once), make(chan struct{}), make(chan struct{})}
		svc.SetFileStore(stall)
		written := make(chan error, 1)
		var res *tickets.IntakeResult
		go func() {
			var err error
			res, err = svc.Intake(ctx, fileMail("<slow@x>", "li@example.cn", content))
			written <- err
		}()
		<-stall.stalled // the file is put, its row touched; the message not written yet
		clock.Advance(tickets.DefaultFileGrace + time.Minute)
		k := fileKeyOf(content)
		if n, err := svc.SweepFiles(ctx, 0); err != nil || n != 1 {
			t.Fatalf("the sweep deleted %d files (%v), want the stalled writer's one", n, err)
		}
		if _, _, ok := fileRow(t, db, k); ok || inStore(t, store, k) {
			t.Fatal("the sweep left the file it claimed")
		}
		close(stall.resume)
		if err := <-written; err != nil {
			t.Fatal(err)
		}
		if loc, _, ok := fileRow(t, db, k); !ok || loc != tickets.FileInStore {
			t.Fatalf("the message's file has no row (found=%v, location %q)", ok, loc)
		}
		if !inStore(t, store, k) {
			t.Fatal("the message's file is not in the store")
		}
		if _, got, err := svc.AttachmentFile(ctx, firstAttachment(t, svc, res)); err != nil || !bytes.Equal(got, content) {
			t.Fatalf("reading the file: %v", err)
		}
		// The file is used now: no sweep takes it, however late.
		clock.Advance(tickets.DefaultFileGrace + time.Minute)
		if n, err := svc.SweepFiles(ctx, 0); err != nil || n != 0 {
			t.Fatalf("the sweep deleted %d used files (%v)", n, err)
		}
	})
}

// On PostgreSQL (READ COMMITTED) a process without a store whose insert of a file meets the
// row of a file a sweep has claimed, and whose update comes after the sweep's finish has
// deleted that row, inserts the row again: its message never points at a missing row.
func TestDatabaseWriterOutlivesTheSweepsFinish(t *testing.T) {
	for name, open := range fileStores() {
		t.Run(name, func(t *testing.T) {
			db := tickettest.Postgres(t)
			ctx := context.Background()
			clock := tickettest.NewClock(time.Now().UTC())
			svc := tickettest.Service(db, clock)
			store := open(t, clock)
			svc.SetFileStore(store)
			content := []byte("%PDF-1.4 inserted again after the sweep's finish")
			orphanFile(t, db, svc, clock, "<fail@x>", content)
			hold := holdingDelete{store, make(chan struct{}), make(chan struct{})}
			svc.SetFileStore(hold)
			swept := make(chan error, 1)
			var n int
			go func() {
				var err error
				n, err = svc.SweepFiles(ctx, 0)
				swept <- err
			}()
			<-hold.held // the sweep has claimed the row and is deleting the object
			// A process without a store.
			plain := tickettest.Service(db, clock)
			met, goOn := make(chan struct{}), make(chan struct{})
			var once sync.Once
			tickets.SetStoreFileMet(plain, func(string) {
				once.Do(func() {
					close(met)
					<-goOn
				})
			})
			written := make(chan error, 1)
			var res *tickets.IntakeResult
			go func() {
				var err error
				res, err = plain.Intake(ctx, fileMail("<ok@x>", "li@example.cn", content))
				written <- err
			}()
			<-met // the writer's insert met the claimed row and took no lock
			close(hold.release)
			if err := <-swept; err != nil || n != 1 {
				t.Fatalf("the sweep deleted %d rows (%v), want the claimed one", n, err)
			}
			close(goOn)
			if err := <-written; err != nil {
				t.Fatal(err)
			}
			if loc, hasContent, ok := fileRow(t, db, fileKeyOf(content)); !ok || loc != tickets.FileInDB || !hasContent {
				t.Fatalf("row: found=%v location=%q content=%v", ok, loc, hasContent)
			}
			if _, got, err := plain.AttachmentFile(ctx, firstAttachment(t, plain, res)); err != nil || !bytes.Equal(got, content) {
				t.Fatalf("reading the file: %v", err)
			}
		})
	}
}

// lateDelete is a store whose deletes answer late: each moves the clock on by late.
type lateDelete struct {
	tickets.FileStore
	clock *tickettest.Clock
	late  time.Duration
}

func (l lateDelete) Delete(ctx context.Context, key string) error {
	err := l.FileStore.Delete(ctx, key)
	l.clock.Advance(l.late)
	return err
}

// A delete that answers when the sweep's time to delete, counted from its claim, is over is
// not trusted as done in time: the sweep lets the row go rather than deleting it, and a
// writer then finds the file's bytes missing and puts them again.
func TestLateDeleteLetsGoOfItsRow(t *testing.T) {
	eachStore(t, func(t *testing.T, db *bun.DB, svc *tickets.Service, store tickets.FileStore, clock *tickettest.Clock) {
		ctx := context.Background()
		content := []byte("%PDF-1.4 deleted too late")
		orphanFile(t, db, svc, clock, "<fail@x>", content)
		k := fileKeyOf(content)
		svc.SetFileStore(lateDelete{store, clock, tickets.MaxTxAge / 2})
		if n, err := svc.SweepFiles(ctx, 0); err == nil || n != 0 {
			t.Fatalf("the sweep deleted %d rows after its time to delete was over (%v)", n, err)
		}
		if n, err := db.NewSelect().Table("attachment_files").Where("sha256 = ? AND claimed_at IS NULL", k).Count(ctx); err != nil || n != 1 {
			t.Fatalf("the late delete's row: %d unclaimed (%v), want it kept and let go", n, err)
		}
		svc.SetFileStore(store)
		res, err := svc.Intake(ctx, fileMail("<ok@x>", "li@example.cn", content))
		if err != nil {
			t.Fatal(err)
		}
		if !inStore(t, store, k) {
			t.Fatal("the writer did not put the file again")
		}
		if _, got, err := svc.AttachmentFile(ctx, firstAttachment(t, svc, res)); err != nil || !bytes.Equal(got, content) {
			t.Fatalf("reading the file: %v", err)
		}
	})
}

// A grace period shorter than MinFileGrace is raised to it: an orphan younger than the
// minimum is not swept, one older is.
func TestFileGraceHasAMinimum(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		clock := tickettest.NewClock(time.Now().UTC())
		svc := tickets.NewService(db, clock, tickets.Config{DefaultCountry: "86", PasswordCost: 4, FileGrace: time.Second}, tickettest.Logger())
		store, err := files.NewLocal(t.TempDir(), clock.Now)
		if err != nil {
			t.Fatal(err)
		}
		svc.SetFileStore(store)
		content := []byte("%PDF-1.4 a grace too short")
		lift := tickettest.FailInserts(t, db, "attachments", "NEW.filename = 'scan.pdf'")
		if _, err := svc.Intake(ctx, fileMail("<fail@x>", "zhou@example.cn", content)); err == nil {
			t.Fatal("the failing message was stored")
		}
		lift()
		clock.Advance(tickets.MinFileGrace - time.Minute)
		if n, err := svc.SweepFiles(ctx, 0); err != nil || n != 0 {
			t.Fatalf("swept %d files younger than the minimum grace (%v)", n, err)
		}
		clock.Advance(2 * time.Minute)
		if n, err := svc.SweepFiles(ctx, 0); err != nil || n != 1 {
			t.Fatalf("swept %d files older than the minimum grace (%v), want 1", n, err)
		}
	})
}

// An agent's reply whose file is swept while the reply stalled after putting it keeps the
// file again, as a customer's message does.
func TestReplyStalledPastTheGraceKeepsItsFile(t *testing.T) {
	eachStore(t, func(t *testing.T, db *bun.DB, svc *tickets.Service, store tickets.FileStore, clock *tickettest.Clock) {
		ctx := context.Background()
		d := tickettest.NewDesk(t, svc, clock)
		tk := customerOn(t, d, tickets.ChannelSMS, 0)
		stall := stallingPut{store, new(sync.Once), make(chan struct{}), make(chan struct{})}
		svc.SetFileStore(stall)
		written := make(chan error, 1)
		var m *tickets.Message
		go func() {
			var err error
			m, err = svc.ReplyWith(ctx, d.LiNa, tk.Ref(), tickets.ReplyInput{Body: "your form", Files: []tickets.ReplyFile{{Filename: "form.png", Content: pngFile}}})
			written <- err
		}()
		<-stall.stalled
		clock.Advance(tickets.DefaultFileGrace + time.Minute)
		if n, err := svc.SweepFiles(ctx, 0); err != nil || n != 1 {
			t.Fatalf("the sweep deleted %d files (%v), want the stalled reply's one", n, err)
		}
		close(stall.resume)
		if err := <-written; err != nil {
			t.Fatal(err)
		}
		k := fileKeyOf(pngFile)
		if loc, _, ok := fileRow(t, db, k); !ok || loc != tickets.FileInStore || !inStore(t, store, k) {
			t.Fatalf("the reply's file: row found=%v location %q", ok, loc)
		}
		if _, got, err := svc.AttachmentFile(ctx, m.Attachments[0].ID); err != nil || !bytes.Equal(got, pngFile) {
			t.Fatalf("reading the file: %v", err)
		}
	})
}

// IntakeAll (a mailbox's new mail) keeps again the file of the one message whose file was
// swept while the batch stalled, and stores both messages.
func TestIntakeAllStalledPastTheGraceKeepsItsFiles(t *testing.T) {
	eachStore(t, func(t *testing.T, db *bun.DB, svc *tickets.Service, store tickets.FileStore, clock *tickettest.Clock) {
		ctx := context.Background()
		first, second := []byte("%PDF-1.4 the batch's first file"), []byte("%PDF-1.4 the batch's second file")
		stall := stallingPut{store, new(sync.Once), make(chan struct{}), make(chan struct{})}
		svc.SetFileStore(stall)
		done := make(chan struct{})
		var res []*tickets.IntakeResult
		var errs []error
		go func() {
			defer close(done)
			res, errs = svc.IntakeAll(ctx, []tickets.Inbound{fileMail("<a@x>", "li@example.cn", first), fileMail("<b@x>", "zhou@example.cn", second)})
		}()
		<-stall.stalled // the first file is put; the second not yet
		clock.Advance(tickets.DefaultFileGrace + time.Minute)
		if n, err := svc.SweepFiles(ctx, 0); err != nil || n != 1 {
			t.Fatalf("the sweep deleted %d files (%v), want the first one", n, err)
		}
		close(stall.resume)
		<-done
		for i, content := range [][]byte{first, second} {
			if errs[i] != nil {
				t.Fatalf("message %d: %v", i, errs[i])
			}
			k := fileKeyOf(content)
			if loc, _, ok := fileRow(t, db, k); !ok || loc != tickets.FileInStore || !inStore(t, store, k) {
				t.Fatalf("message %d's file: row found=%v location %q", i, ok, loc)
			}
			if _, got, err := svc.AttachmentFile(ctx, firstAttachment(t, svc, res[i])); err != nil || !bytes.Equal(got, content) {
				t.Fatalf("reading message %d's file: %v", i, err)
			}
		}
	})
}

// On PostgreSQL a message's transaction that has held its file keeps a sweep off it until
// the commit, though the file is older than the grace and no committed attachment uses it
// yet: the sweep passes over the held row (SKIP LOCKED) instead of deleting it.
func TestSweepPassesOverAFileAMessageHolds(t *testing.T) {
	for name, open := range fileStores() {
		t.Run(name, func(t *testing.T) {
			db := tickettest.Postgres(t)
			ctx := context.Background()
			clock := tickettest.NewClock(time.Now().UTC())
			svc := tickettest.Service(db, clock)
			store := open(t, clock)
			content := []byte("%PDF-1.4 held by its message's transaction")
			stall := stallingPut{store, new(sync.Once), make(chan struct{}), make(chan struct{})}
			svc.SetFileStore(stall)
			held, goOn := make(chan struct{}), make(chan struct{})
			var once sync.Once
			tickets.SetFilesHeld(svc, func([]string) {
				once.Do(func() {
					close(held)
					<-goOn
				})
			})
			written := make(chan error, 1)
			var res *tickets.IntakeResult
			go func() {
				var err error
				res, err = svc.Intake(ctx, fileMail("<held@x>", "li@example.cn", content))
				written <- err
			}()
			<-stall.stalled
			clock.Advance(tickets.DefaultFileGrace + time.Minute)
			close(stall.resume)
			<-held // the transaction holds the row, older than the grace, not committed
			meanwhile(t, "the sweep", func() error {
				n, err := svc.SweepFiles(ctx, 0)
				if err == nil && n != 0 {
					err = fmt.Errorf("it deleted %d files a message's transaction held", n)
				}
				return err
			})
			close(goOn)
			if err := <-written; err != nil {
				t.Fatal(err)
			}
			k := fileKeyOf(content)
			if loc, _, ok := fileRow(t, db, k); !ok || loc != tickets.FileInStore || !inStore(t, store, k) {
				t.Fatalf("the held file: row found=%v location %q", ok, loc)
			}
			if _, got, err := svc.AttachmentFile(ctx, firstAttachment(t, svc, res)); err != nil || !bytes.Equal(got, content) {
				t.Fatalf("reading the file: %v", err)
			}
		})
	}
}
