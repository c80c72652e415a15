package tickets

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// Files Hotline keeps (attachment_files): in the database, or in a FileStore (SetFileStore)
// under their SHA-256. With a store, a file is put BEFORE the transaction of the message
// that carries it, never inside it (no upload while holding a customer's lock or a group
// commit): keepFile first upserts the file's row (location 'store', touched_at now) in a
// statement of its own, then puts the bytes, and the message's transaction only refers to
// the key. A file whose message then failed is an orphan, which SweepFiles deletes once it is
// older than the grace period (Config.FileGrace): longer than any transaction (MaxTxAge) plus
// an upload, so a file still being written is never taken.
//
// The sweep never holds a transaction (nor, on SQLite, the file's one write lock) while it
// talks to the store: it works in three steps, the first and last short transactions
// through inTx (the writer queue):
//
//  1. claim: rows in the store that no attachment refers to, untouched for the grace period
//     and not claimed by a live sweep, get claimed_at = the claim's time (an UPDATE that
//     re-checks all of that, RETURNING the keys it claimed; on PostgreSQL the candidates
//     are read FOR UPDATE SKIP LOCKED, so concurrent sweeps take different rows);
//  2. delete their objects, outside any transaction, for at most fileSweepDeleteTime;
//  3. finish: delete the rows still carrying this claim (claimed_at = its time) whose
//     objects went, and release (claimed_at NULL) the ones whose delete failed or was
//     not tried.
//
// A writer's touch (touchFile) leaves a claimed row alone: it waits, reading the row, until
// the claim ends (the row deleted or released), and only then touches it and puts the bytes
// (or sees, with Stat, that the store has them). So a writer never relies on an object the
// sweep may still delete: its put or its Stat comes after the sweep's last delete of that
// key. The interleavings, on both databases:
//
//   - the writer touches before the claim: touched_at is now, and the claim's guard (older
//     than the grace) refuses the row. On PostgreSQL a touch in progress holds the row's
//     lock, which the claim's SKIP LOCKED passes over; a row the claim read first is locked
//     until the claim commits, and the touch then meets the claim. On SQLite the claim
//     holds the write lock from BEGIN, so the touch runs wholly before or after it;
//   - the writer touches after the claim and before the finish: refused, it waits; the
//     finish deletes the row (its object is gone), and the writer inserts a new row and
//     puts the bytes; or the finish releases the row, and the writer touches it and puts
//     the bytes if the failed delete took them after all;
//   - the writer touches after the finish: no row, or an unclaimed one: as above;
//   - the sweep dies between claim and finish (a killed process): its claim goes stale
//     after fileClaimLease, twice the time a sweep spends deleting, so nothing of it
//     deletes any more; a writer then takes the row back (claim cleared, touched now, the
//     bytes put if they are gone), and a later sweep claims again a row no writer took;
//   - two sweeps: one claim per row (the guard, and SKIP LOCKED or SQLite's one writer),
//     and each finish changes only rows carrying its own claim's time. A claim changes
//     hands only by release or by going stale, and a later claim is then later by the
//     lease at least, so no finish matches another sweep's claim;
//   - a writer that stalls past the grace between its touch and its message's transaction
//     may meet a sweep: the transaction reads its rows again, unclaimed (holdFiles, one
//     SELECT, FOR SHARE on PostgreSQL, under the write lock on SQLite), so a claim either
//     comes first and the read misses the row (errFileGone: the writer keeps the file again
//     and retries, maxFileKeeps times in all), or comes after and finds the row used or
//     locked (SKIP LOCKED);
//   - a writer keeping the file in the database (storeFile: a process without a store
//     during a rolling deploy) that meets a row in the store takes it back with its bytes
//     (location 'db', claim cleared), holding the row's lock to its commit: a claim made
//     before it is cleared, so the finish, guarded on its claim, leaves the row; a claim
//     after it finds the row in the database, or used. Its insert meeting the row takes no
//     lock: a finish that deleted the row before its update makes it insert again;
//   - a sweep deletes until fileSweepDeleteTime after its claim's time; a delete answered
//     later is not trusted, and its row is let go rather than deleted.
//
// Claims and leases are stamped and compared with each process's clock (s.now), so the
// processes' clocks must agree to well within fileSweepDeleteTime (NTP's job; docs/files.md).
//
// SweepStrayObjects claims an object without a row by inserting a claimed placeholder row
// of its key, and then goes on the same way.

// File locations (attachment_files.location).
const (
	FileInDB    = "db"    // content is in the row
	FileInStore = "store" // content is NULL; the FileStore has the bytes
)

// DefaultFileGrace is Config.FileGrace's default: MaxTxAge and a slow upload, with room.
const DefaultFileGrace = time.Hour

// MinFileGrace is the shortest Config.FileGrace: a claim's lease and every attempt inTx
// makes at a message's transaction, each up to MaxTxAge. A shorter grace would let a sweep
// claim the file of a writer that is merely slow; the message's transaction would then find
// it gone and keep it again (holdFiles), but a grace that short would make that the rule.
const MinFileGrace = fileClaimLease + maxTxAttempts*MaxTxAge

// FileSweepBatch is how many files one sweep claims and deletes at most.
const FileSweepBatch = 100

// fileClaimLease is how long a sweep's claim keeps writers off a file's row: a claim older
// than it is a dead sweep's, and a writer takes the row back. fileSweepDeleteTime is how
// long a sweep deletes objects after claiming them: half the lease, so that the last
// delete of a sweep, even one answered late, is over before its claim goes stale.
const (
	fileClaimLease      = MaxTxAge
	fileSweepDeleteTime = fileClaimLease / 2
)

// fileClaimWait bounds the pause between a waiting writer's looks at a claimed row.
const fileClaimWait = 100 * time.Millisecond

// SetFileStore keeps new files' bytes in fs rather than in the database; nil keeps them in
// the database. Set it before the service takes messages.
func (s *Service) SetFileStore(fs FileStore) { s.files = fs }

// FileStore is the store new files go to, nil when the database keeps them.
func (s *Service) FileStore() FileStore { return s.files }

// fileKey is a file's key: the lower-case hex SHA-256 of its content.
func fileKey(content []byte) string {
	h := sha256.Sum256(content)
	return hex.EncodeToString(h[:])
}

// keepFile makes content's file safe in the store before a transaction refers to it, and
// returns its key: the row is touched (created as 'store', or its touched_at moved on)
// first, so the sweep leaves it alone, then the bytes are put unless the store has them
// already. A row in the database ('db', not moved yet) needs no put. With no store it
// returns "" and the transaction keeps the content in the database (storeFile).
func (s *Service) keepFile(ctx context.Context, content []byte, contentType string) (string, error) {
	if s.files == nil || content == nil {
		return "", nil
	}
	key := fileKey(content)
	size := int64(len(content))
	loc, err := s.touchFile(ctx, key, size, contentType)
	if err != nil {
		return "", err
	}
	if loc == FileInDB {
		return key, nil
	}
	if got, err := s.files.Stat(ctx, key); err == nil && got == size {
		return key, nil
	} else if err != nil && !errors.Is(err, ErrNoFile) {
		return "", fmt.Errorf("stat file %.12s: %w", key, err)
	}
	if err := s.files.Put(ctx, key, bytes.NewReader(content), size, contentType); err != nil {
		return "", fmt.Errorf("put file %.12s: %w", key, err)
	}
	return key, nil
}

// touchFile creates key's row as 'store', or moves its touched_at to now, and returns its
// location. A row a live sweep has claimed is left alone: touchFile waits until the claim
// ends (the sweep deleted the row or let it go) and touches it then, so that what the
// writer does next with the store comes after the sweep's deletes. A claim older than
// fileClaimLease is a dead sweep's: the touch takes the row back, with the size and type
// of the content (a stray's placeholder row has neither).
func (s *Service) touchFile(ctx context.Context, key string, size int64, contentType string) (string, error) {
	pause := 5 * time.Millisecond
	for {
		now := s.now()
		var loc string
		err := s.db.NewInsert().Model(&attachmentFile{SHA256: key, SizeBytes: size, ContentType: contentType, Location: FileInStore, TouchedAt: now}).
			On("CONFLICT (sha256) DO UPDATE").
			Set("touched_at = EXCLUDED.touched_at").
			Set("size_bytes = CASE WHEN attachment_file.claimed_at IS NULL THEN attachment_file.size_bytes ELSE EXCLUDED.size_bytes END").
			Set("content_type = CASE WHEN attachment_file.claimed_at IS NULL THEN attachment_file.content_type ELSE EXCLUDED.content_type END").
			Set("claimed_at = NULL").
			Where("attachment_file.claimed_at IS NULL OR attachment_file.claimed_at < ?", now.Add(-fileClaimLease)).
			Returning("location").Scan(ctx, &loc)
		if err == nil {
			return loc, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return "", fmt.Errorf("touch file %.12s: %w", key, err)
		}
		// A sweep holds the row and may be deleting its object: look again, without a
		// lock, until it no longer does.
		for {
			select {
			case <-ctx.Done():
				return "", fmt.Errorf("wait for the sweep deleting file %.12s: %w", key, ctx.Err())
			case <-time.After(pause):
			}
			pause = min(2*pause, fileClaimWait)
			held, err := s.db.NewSelect().Table("attachment_files").
				Where("sha256 = ? AND claimed_at >= ?", key, s.now().Add(-fileClaimLease)).Exists(ctx)
			if err != nil {
				return "", fmt.Errorf("wait for the sweep deleting file %.12s: %w", key, err)
			}
			if !held {
				break
			}
		}
	}
}

// keepAttachments keeps the contents of atts in the store (keepFile) and returns them
// carrying their keys; atts itself is not changed. Without a store, or without content,
// it returns atts.
func (s *Service) keepAttachments(ctx context.Context, atts []NewAttachment) ([]NewAttachment, error) {
	if s.files == nil || len(atts) == 0 {
		return atts, nil
	}
	var kept []NewAttachment
	for i, a := range atts {
		if a.Content == nil || a.key != "" {
			continue
		}
		if kept == nil {
			kept = append([]NewAttachment(nil), atts...)
		}
		key, err := s.keepFile(ctx, a.Content, a.ContentType)
		if err != nil {
			return nil, err
		}
		kept[i].key = key
	}
	if kept == nil {
		return atts, nil
	}
	return kept, nil
}

// maxFileKeeps bounds how many times a message is written again because a file it put in
// the store was swept before its transaction held the file's row (errFileGone).
const maxFileKeeps = 3

// errFileGone says a message's transaction found a file it put in the store before it
// claimed by a sweep or gone: its writer stalled past the grace period between its touch
// and its transaction. The caller keeps the file again (keepFile: touch, put) and retries.
var errFileGone = errors.New("a file put in the store before the message was swept meanwhile")

// holdFiles runs inside a message's transaction, for the keys its attachments put in the
// store before it (keepFile), and makes sure a sweep can no longer take them: in one
// statement it reads their rows that are unclaimed, holding them to the commit. On
// PostgreSQL the read is FOR SHARE: a sweep's claim (FOR UPDATE SKIP LOCKED, then an UPDATE
// guarded on claimed_at) passes over a held row, and a row the claim locked first is read
// after the claim commits, claimed, and so missed; shared, the hold does not make messages
// carrying the same file (a logo in every signature) wait for each other, as an UPDATE
// would. On SQLite the transaction holds the write lock from BEGIN, so no claim runs
// between the read and the commit. A key whose row is claimed or gone fails the
// transaction with errFileGone. Rows in the database ('db') are no sweep's, and are read,
// not held.
func (s *Service) holdFiles(ctx context.Context, tx bun.IDB, keys []string) error {
	keys = slices.Compact(slices.Sorted(slices.Values(keys)))
	var held []string
	q := tx.NewSelect().Table("attachment_files").Column("sha256").
		Where("sha256 IN (?) AND claimed_at IS NULL AND location = ?", bun.In(keys), FileInStore)
	if s.db.Dialect().Name() == dialect.PG {
		q = q.For("SHARE")
	}
	if err := q.Scan(ctx, &held); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("hold attachment files: %w", err)
	}
	if len(held) == len(keys) {
		if s.filesHeld != nil {
			s.filesHeld(keys)
		}
		return nil
	}
	var missing []string
	for _, k := range keys {
		if !slices.Contains(held, k) {
			missing = append(missing, k)
		}
	}
	var inDB []string
	err := tx.NewSelect().Table("attachment_files").Column("sha256").
		Where("sha256 IN (?) AND location = ?", bun.In(missing), FileInDB).Scan(ctx, &inDB)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("hold attachment files: %w", err)
	}
	for _, k := range missing {
		if !slices.Contains(inDB, k) {
			return fmt.Errorf("file %.12s: %w", k, errFileGone)
		}
	}
	return nil
}

// storeFile keeps an attachment's content in the database, once per distinct file, inside
// the message's transaction, and returns its key. It is written at once rather than
// batched: the row can be large, and nothing else in the transaction needs its id.
//
// The file has a row already when its insert conflicts. A row in the store (written by a
// process with a store beside this one without: a rolling deploy turning FILES_URL on or
// off) is taken back into the database with the content: this process cannot read the
// store, and a sweep may be deleting the object, whose finish, guarded on its claim, then
// leaves the row. The update locks that row until the commit, so no sweep claims it
// meanwhile. A row in the database is neither changed nor locked: messages carrying the
// same file (a logo in every signature) do not wait for each other; that is why this is
// not one INSERT ... ON CONFLICT DO UPDATE, which on PostgreSQL locks the row it meets
// even when its WHERE then leaves it. On PostgreSQL (READ COMMITTED) the row the insert
// met may be gone by the update (a sweep's finish deleting it in between): the insert is
// tried again, a bounded number of times. On SQLite the transaction's write lock keeps
// everything else out from its first write.
func (s *Service) storeFile(ctx context.Context, tx bun.IDB, content []byte, contentType string) (string, error) {
	key := fileKey(content)
	for range maxTxAttempts {
		res, err := tx.NewInsert().Model(&attachmentFile{SHA256: key, Content: content, SizeBytes: int64(len(content)),
			ContentType: contentType, Location: FileInDB, TouchedAt: s.now()}).
			On("CONFLICT (sha256) DO NOTHING").Exec(ctx)
		if err != nil {
			return "", fmt.Errorf("store attachment file: %w", err)
		}
		if k, _ := res.RowsAffected(); k > 0 {
			return key, nil
		}
		if s.storeFileMet != nil {
			s.storeFileMet(key)
		}
		res, err = tx.NewUpdate().Table("attachment_files").
			Set("content = ?, size_bytes = ?, content_type = ?, location = ?, touched_at = ?, claimed_at = NULL",
				content, int64(len(content)), contentType, FileInDB, s.now()).
			Where("sha256 = ? AND location = ?", key, FileInStore).Exec(ctx)
		if err != nil {
			return "", fmt.Errorf("store attachment file: %w", err)
		}
		if k, _ := res.RowsAffected(); k > 0 {
			return key, nil
		}
		inDB, err := tx.NewSelect().Table("attachment_files").Where("sha256 = ? AND location = ?", key, FileInDB).Exists(ctx)
		if err != nil {
			return "", fmt.Errorf("store attachment file: %w", err)
		}
		if inDB {
			return key, nil
		}
		// The row went between the insert and the update: insert it again.
	}
	return "", fmt.Errorf("store attachment file %.12s: its row kept going away after %d tries", key, maxTxAttempts)
}

// StoredFile is a file Hotline keeps, as its row describes it.
type StoredFile struct {
	Key         string
	Size        int64
	ContentType string
	Location    string // FileInDB or FileInStore
}

// AttachmentStream returns an attachment and the file Hotline keeps for it, to be read in
// ranges with OpenFile.
func (s *Service) AttachmentStream(ctx context.Context, id int64) (*Attachment, *StoredFile, error) {
	a, err := s.Attachment(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if a.FileSHA256 == nil {
		return nil, nil, notFoundf("Hotline does not keep the file %s; the provider has it at its own address", a.Filename)
	}
	f, err := s.storedFile(ctx, *a.FileSHA256)
	if err != nil {
		return nil, nil, err
	}
	return a, f, nil
}

func (s *Service) storedFile(ctx context.Context, key string) (*StoredFile, error) {
	f := &StoredFile{Key: key}
	err := s.db.NewSelect().Table("attachment_files").Column("size_bytes", "content_type", "location").
		Where("sha256 = ?", key).Scan(ctx, &f.Size, &f.ContentType, &f.Location)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("file %.12s has no row: %w", key, ErrNoFile)
	}
	if err != nil {
		return nil, fmt.Errorf("load file %.12s: %w", key, err)
	}
	return f, nil
}

// OpenFile reads length bytes of f from offset (length -1: to its end), from the store or
// from its row. The caller checks the range against f.Size.
func (s *Service) OpenFile(ctx context.Context, f *StoredFile, offset, length int64) (io.ReadCloser, error) {
	if offset < 0 || offset > f.Size {
		return nil, invalidf("offset %d is outside the file's %d bytes", offset, f.Size)
	}
	if length < 0 || offset+length > f.Size {
		length = f.Size - offset
	}
	if f.Location == FileInStore {
		if s.files == nil {
			return nil, fmt.Errorf("file %.12s is in the file store, and no store is configured (FILES_URL)", f.Key)
		}
		r, err := s.files.Open(ctx, f.Key, offset, length)
		if err != nil {
			return nil, fmt.Errorf("open file %.12s: %w", f.Key, err)
		}
		return r, nil
	}
	var b []byte
	// substr counts from 1, on bytea (PostgreSQL) and BLOB (SQLite) alike.
	err := s.db.NewSelect().Table("attachment_files").ColumnExpr("substr(content, ?, ?)", offset+1, length).
		Where("sha256 = ? AND location = ?", f.Key, FileInDB).Scan(ctx, &b)
	if errors.Is(err, sql.ErrNoRows) {
		// Moved to the store since f was read.
		g, err := s.storedFile(ctx, f.Key)
		if err != nil {
			return nil, err
		}
		if g.Location == FileInStore {
			return s.OpenFile(ctx, g, offset, length)
		}
		return nil, fmt.Errorf("read file %.12s: %w", f.Key, ErrNoFile)
	}
	if err != nil {
		return nil, fmt.Errorf("read file %.12s: %w", f.Key, err)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// readFile reads the whole of key's file.
func (s *Service) readFile(ctx context.Context, key string) ([]byte, error) {
	f, err := s.storedFile(ctx, key)
	if err != nil {
		return nil, err
	}
	r, err := s.OpenFile(ctx, f, 0, -1)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read file %.12s: %w", key, err)
	}
	if int64(len(b)) != f.Size {
		return nil, fmt.Errorf("read file %.12s: %d bytes, not %d", key, len(b), f.Size)
	}
	return b, nil
}

// SweepFiles deletes up to limit orphans (0: FileSweepBatch): files in the store that no
// attachment refers to and no writer touched within the grace period, claimed, their objects
// deleted outside any transaction, then their rows (see the top of this file). It returns
// how many it deleted; the periodic runner calls it until it deletes fewer than a batch.
func (s *Service) SweepFiles(ctx context.Context, limit int) (int, error) {
	return s.sweepFiles(ctx, nil, limit)
}

// SweepFreedFiles is SweepFiles for the keys retention or an erasure just freed: they go
// at once, unless a writer touched one within the grace period (it is about to be used
// again, and the periodic sweep decides later).
func (s *Service) SweepFreedFiles(ctx context.Context, keys []string) (int, error) {
	if s.files == nil || len(keys) == 0 {
		return 0, nil
	}
	n := 0
	for len(keys) > 0 {
		part := keys[:min(len(keys), FileSweepBatch)]
		keys = keys[len(part):]
		k, err := s.sweepFiles(ctx, part, len(part))
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (s *Service) sweepFiles(ctx context.Context, keys []string, limit int) (int, error) {
	if s.files == nil {
		return 0, nil
	}
	if limit <= 0 {
		limit = FileSweepBatch
	}
	claim := s.now()
	cut := claim.Add(-s.cfg.FileGrace)
	// orphan is what makes a row the sweep's to claim, checked when it is read and again
	// when it is claimed: in the store, untouched for the grace period, unclaimed (or
	// claimed by a sweep that died), used by no attachment.
	orphan := func(q bun.QueryBuilder) bun.QueryBuilder {
		q = q.Where("location = ? AND touched_at < ?", FileInStore, cut).
			Where("(claimed_at IS NULL OR claimed_at < ?)", claim.Add(-fileClaimLease)).
			Where("NOT EXISTS (SELECT 1 FROM attachments a WHERE a.file_sha256 = attachment_files.sha256)")
		if keys != nil {
			q = q.Where("sha256 IN (?)", bun.In(keys))
		}
		return q
	}
	var claimed []string
	err := s.inTx(ctx, func(tx bun.Tx) error {
		claimed = nil
		var found []string
		q := tx.NewSelect().Table("attachment_files").Column("sha256").ApplyQueryBuilder(orphan).
			OrderExpr("touched_at").Limit(limit)
		if s.db.Dialect().Name() == dialect.PG {
			q = q.For("UPDATE SKIP LOCKED")
		}
		if err := q.Scan(ctx, &found); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("find orphan files: %w", err)
		}
		if len(found) == 0 {
			return nil
		}
		err := tx.NewUpdate().Table("attachment_files").Set("claimed_at = ?", claim).
			Where("sha256 IN (?)", bun.In(found)).ApplyQueryBuilder(orphan).
			Returning("sha256").Scan(ctx, &claimed)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("claim orphan files: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return s.deleteClaimed(ctx, claimed, claim)
}

// deleteClaimed deletes the objects of keys, whose rows carry the claim of time claim, until
// fileSweepDeleteTime after the claim and outside any transaction; then, in one transaction,
// it deletes the rows whose objects went and lets go of the others. A delete that answers
// after that time is not trusted as done before the claim could go stale (a writer may have
// taken the row back and put the bytes again since): its row is let go, not deleted, and a
// writer or a later sweep finds out from the store. It returns how many rows it deleted.
func (s *Service) deleteClaimed(ctx context.Context, keys []string, claim time.Time) (int, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	var gone []string
	var failed error
	// The service's clock, from the claim's time, bounds the deletes, so that the claim's
	// age as writers see it does (a clock moved on by a test, a process paused), and the
	// claim transaction's own time counts too.
	deadline := claim.Add(fileSweepDeleteTime)
	dctx, cancel := context.WithTimeout(ctx, deadline.Sub(s.now()))
	for _, key := range keys {
		if !s.now().Before(deadline) {
			failed = fmt.Errorf("deleting files took over %s: %d left for the next sweep", fileSweepDeleteTime, len(keys)-len(gone))
			break
		}
		if err := s.files.Delete(dctx, key); err != nil {
			failed = fmt.Errorf("delete file %.12s: %w", key, err)
			break
		}
		if !s.now().Before(deadline) {
			failed = fmt.Errorf("deleting file %.12s answered over %s after its claim: its row is let go, %d left for the next sweep", key, fileSweepDeleteTime, len(keys)-len(gone))
			break
		}
		gone = append(gone, key)
	}
	cancel()
	left := keys[len(gone):]
	// Finished even when ctx has ended (a worker stopping): rows left claimed would keep
	// their writers waiting for the lease.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), MaxTxAge)
	defer cancel()
	n := 0
	err := s.inTx(fctx, func(tx bun.Tx) error {
		n = 0
		if len(gone) > 0 {
			res, err := tx.NewDelete().Table("attachment_files").Where("sha256 IN (?) AND claimed_at = ?", bun.In(gone), claim).Exec(fctx)
			if err != nil {
				return fmt.Errorf("delete orphan files' rows: %w", err)
			}
			k, _ := res.RowsAffected()
			n = int(k)
		}
		if len(left) > 0 {
			if _, err := tx.NewUpdate().Table("attachment_files").Set("claimed_at = NULL").
				Where("sha256 IN (?) AND claimed_at = ?", bun.In(left), claim).Exec(fctx); err != nil {
				return fmt.Errorf("let go of files not deleted: %w", err)
			}
		}
		return nil
	})
	return n, errors.Join(failed, err)
}

// SweepStrayObjects deletes objects in the store that have no row and were written before
// the grace period: a put whose row was swept before it finished, or a migration stopped
// between its put and its update. Each is claimed with a placeholder row of its key, so a
// writer touching the key meanwhile waits and then puts it again, and deleted as SweepFiles
// deletes a claimed orphan.
func (s *Service) SweepStrayObjects(ctx context.Context) (int, error) {
	if s.files == nil {
		return 0, nil
	}
	cut := s.now().Add(-s.cfg.FileGrace)
	var stray []string
	err := s.files.Walk(ctx, func(key string, _ int64, written time.Time) error {
		if written.Before(cut) {
			stray = append(stray, key)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("walk the file store: %w", err)
	}
	n := 0
	for len(stray) > 0 {
		part := stray[:min(len(stray), FileSweepBatch)]
		stray = stray[len(part):]
		var known []string
		if err := s.db.NewSelect().Table("attachment_files").Column("sha256").Where("sha256 IN (?)", bun.In(part)).Scan(ctx, &known); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return n, fmt.Errorf("find stray files: %w", err)
		}
		part = slices.DeleteFunc(slices.Clone(part), func(key string) bool { return slices.Contains(known, key) })
		k, err := s.deleteStrays(ctx, part)
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// deleteStrays claims the keys that still have no row, each with a placeholder row
// (touched long ago, empty, claimed now), and deletes them as claimed orphans.
func (s *Service) deleteStrays(ctx context.Context, keys []string) (int, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	claim := s.now()
	var claimed []string
	err := s.inTx(ctx, func(tx bun.Tx) error {
		claimed = nil
		for _, key := range keys {
			res, err := tx.NewInsert().Model(&attachmentFile{SHA256: key, Location: FileInStore, TouchedAt: time.Unix(0, 0).UTC(), ClaimedAt: &claim}).
				On("CONFLICT (sha256) DO NOTHING").Exec(ctx)
			if err != nil {
				return fmt.Errorf("claim stray file %.12s: %w", key, err)
			}
			if k, _ := res.RowsAffected(); k == 1 {
				claimed = append(claimed, key) // else a writer made a row for it meanwhile
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return s.deleteClaimed(ctx, claimed, claim)
}

// MoveReport is what one MoveFilesToStore batch did.
type MoveReport struct {
	Moved    int   // files now in the store, their database copy removed
	Bytes    int64 // their size
	Mismatch int   // files whose copy read back from the store did not hash to their key: left in the database
	Gone     int   // rows deleted or moved by another process meanwhile
	Left     int   // rows still in the database after the batch (after a dry run: all of them)
	// Next is where the next batch starts (after this key), "" when this batch reached the
	// end: a file that stayed in the database (Mismatch) is not tried again in the same run.
	Next string
}

// MoveFilesToStore moves up to batch files the database keeps into the store: each is put,
// read back from the store and hashed, and only a copy that hashes to its key has its row
// updated (location 'store', content NULL, guarded by location = 'db', so a process racing
// it or a rerun changes nothing twice). A copy that does not hash to its key is not used:
// the file stays in the database, and is counted. Batches start after the key
// after ("" first) and go on from Next until it is ""; it is safe beside a live server, and
// a run stopped anywhere resumes with the rows still in the database. dryRun only counts.
func (s *Service) MoveFilesToStore(ctx context.Context, after string, batch int, dryRun bool) (MoveReport, error) {
	var r MoveReport
	if s.files == nil {
		return r, errors.New("no file store is configured: set FILES_URL to a directory or a bucket")
	}
	if batch <= 0 {
		batch = FileSweepBatch
	}
	count := func() error {
		n, err := s.db.NewSelect().Table("attachment_files").Where("location = ?", FileInDB).Count(ctx)
		if err != nil {
			return fmt.Errorf("count files in the database: %w", err)
		}
		r.Left = n
		return nil
	}
	if dryRun {
		return r, count()
	}
	var keys []string
	if err := s.db.NewSelect().Table("attachment_files").Column("sha256").Where("location = ? AND sha256 > ?", FileInDB, after).
		OrderExpr("sha256").Limit(batch).Scan(ctx, &keys); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("find files in the database: %w", err)
	}
	if len(keys) == batch {
		r.Next = keys[len(keys)-1]
	}
	for _, key := range keys {
		if err := s.moveFile(ctx, key, &r); err != nil {
			return r, err
		}
	}
	return r, count()
}

// moveFile moves key's file to the store if the database still keeps it.
func (s *Service) moveFile(ctx context.Context, key string, r *MoveReport) error {
	var f attachmentFile
	err := s.db.NewSelect().Model(&f).Where("sha256 = ? AND location = ?", key, FileInDB).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		r.Gone++
		return nil
	}
	if err != nil {
		return fmt.Errorf("read file %.12s: %w", key, err)
	}
	if fileKey(f.Content) != key {
		// The database copy itself does not hash to its key: nothing to move it under.
		r.Mismatch++
		s.log.Warn("a file in the database does not match its key; left where it is", "file", key[:12])
		return nil
	}
	size := int64(len(f.Content))
	if err := s.files.Put(ctx, key, bytes.NewReader(f.Content), size, f.ContentType); err != nil {
		return fmt.Errorf("put file %.12s: %w", key, err)
	}
	ok, err := s.verifyStored(ctx, key, size)
	if err != nil {
		return err
	}
	if !ok {
		r.Mismatch++
		s.log.Warn("a file read back from the store does not match its key; left in the database", "file", key[:12])
		return nil
	}
	res, err := s.db.NewUpdate().Table("attachment_files").Set("location = ?, content = NULL, size_bytes = ?", FileInStore, size).
		Where("sha256 = ? AND location = ?", key, FileInDB).Exec(ctx)
	if err != nil {
		return fmt.Errorf("mark file %.12s moved: %w", key, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		r.Gone++ // deleted or moved meanwhile; an object left without a row is a stray the sweep deletes
		return nil
	}
	r.Moved++
	r.Bytes += size
	return nil
}

// verifyStored reads key's file back from the store and reports whether it is size bytes
// hashing to key.
func (s *Service) verifyStored(ctx context.Context, key string, size int64) (bool, error) {
	rc, err := s.files.Open(ctx, key, 0, -1)
	if errors.Is(err, ErrNoFile) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read back file %.12s: %w", key, err)
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return false, fmt.Errorf("read back file %.12s: %w", key, err)
	}
	return n == size && hex.EncodeToString(h.Sum(nil)) == key, nil
}
