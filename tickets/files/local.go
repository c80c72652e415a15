package files

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hotlinedesk/hotline/tickets"
)

// tempPrefix begins the name of a file being written; Walk passes over such files and
// removes those older than staleTemp, left by a process that died while writing.
const tempPrefix = ".tmp-"

// staleTemp is the age past which a temporary file is taken as abandoned.
const staleTemp = 24 * time.Hour

// Local is a FileStore in a directory on local disk. A key's file is dir/ab/cd/abcd…
// (the key's first two pairs of hex digits fan the files out over at most 65,536
// directories), mode 0600 in directories of mode 0700.
type Local struct {
	dir string
	now func() time.Time
}

var _ tickets.FileStore = (*Local)(nil)

// NewLocal opens the store in dir, creating it (0700) when it does not exist; now ages the
// temporary files (nil: time.Now).
func NewLocal(dir string, now func() time.Time) (*Local, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: directory %s: %w", Variable, dir, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("%s: create directory %s: %w", Variable, abs, err)
	}
	if st, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("%s: directory %s: %w", Variable, abs, err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("%s: %s is not a directory", Variable, abs)
	}
	if now == nil {
		now = time.Now
	}
	return &Local{dir: abs, now: now}, nil
}

// Dir is the store's directory, absolute.
func (l *Local) Dir() string { return l.dir }

// path is the file of key, which must be valid.
func (l *Local) path(key string) string {
	return filepath.Join(l.dir, key[0:2], key[2:4], key)
}

// Put writes r to a temporary file beside key's place, hashing while writing, checks the
// size and the SHA-256, flushes the file and then links it into place, flushing the
// directory, so a key's file is whole or absent after a crash. A key already stored is
// left as it is, its time refreshed, so a sweep of old unreferenced files spares a file a
// new message has just been given.
func (l *Local) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if size < 0 {
		return fmt.Errorf("put %s: negative size %d", key[:12], size)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	final := l.path(key)
	if stored, err := l.refresh(final); err != nil {
		return err
	} else if stored >= 0 {
		if stored != size {
			return fmt.Errorf("put %s: %w: stored with %d bytes, given %d", key[:12], ErrMismatch, stored, size)
		}
		return nil
	}
	sub := filepath.Dir(final)
	if err := l.mkdirs(sub); err != nil {
		return fmt.Errorf("put %s: %w", key[:12], err)
	}
	tmp, err := os.CreateTemp(sub, tempPrefix+"*")
	if err != nil {
		return fmt.Errorf("put %s: %w", key[:12], err)
	}
	done := false
	defer func() {
		if !done {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := verifyCopy(ctx, tmp, r, key, size); err != nil {
		return fmt.Errorf("put %s: %w", key[:12], err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("put %s: flush: %w", key[:12], err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("put %s: close: %w", key[:12], err)
	}
	// Link rather than rename: a file already in place (a concurrent Put of the same
	// bytes) stays as it is.
	if err := os.Link(tmp.Name(), final); err != nil && !errors.Is(err, fs.ErrExist) {
		// A file system without hard links: rename, which replaces the same bytes
		// atomically at worst.
		if err := os.Rename(tmp.Name(), final); err != nil {
			return fmt.Errorf("put %s: %w", key[:12], err)
		}
	} else if errors.Is(err, fs.ErrExist) {
		if _, err := l.refresh(final); err != nil {
			return err
		}
	}
	done = true
	_ = os.Remove(tmp.Name())
	if err := syncDir(sub); err != nil {
		return fmt.Errorf("put %s: flush directory: %w", key[:12], err)
	}
	return nil
}

// refresh sets the time of the file at path to now and returns its size, or -1 when there
// is no such file.
func (l *Local) refresh(path string) (int64, error) {
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return -1, nil
	} else if err != nil {
		return -1, fmt.Errorf("stat %s: %w", filepath.Base(path)[:12], err)
	}
	if !st.Mode().IsRegular() {
		return -1, fmt.Errorf("%s in the store is not a regular file", filepath.Base(path)[:12])
	}
	now := l.now()
	if err := os.Chtimes(path, now, now); err != nil {
		return -1, fmt.Errorf("refresh %s: %w", filepath.Base(path)[:12], err)
	}
	return st.Size(), nil
}

// mkdirs creates sub (dir/ab/cd) and flushes each directory it adds an entry to.
func (l *Local) mkdirs(sub string) error {
	if _, err := os.Stat(sub); err == nil {
		return nil
	}
	mid := filepath.Dir(sub)
	for _, d := range []string{mid, sub} {
		err := os.Mkdir(d, 0o700)
		if errors.Is(err, fs.ErrExist) {
			continue
		} else if err != nil {
			return err
		}
		if err := syncDir(filepath.Dir(d)); err != nil {
			return err
		}
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// verifyCopy copies exactly size bytes of r to w, failing with ErrMismatch when r yields
// fewer or more or when they do not hash to key.
func verifyCopy(ctx context.Context, w io.Writer, r io.Reader, key string, size int64) error {
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), io.LimitReader(ctxReader{ctx, r}, size))
	if err != nil {
		return err
	}
	if n != size {
		return fmt.Errorf("%w: %d bytes of %d", ErrMismatch, n, size)
	}
	var one [1]byte
	if m, err := io.ReadFull(ctxReader{ctx, r}, one[:]); m > 0 {
		return fmt.Errorf("%w: more than %d bytes", ErrMismatch, size)
	} else if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if hex.EncodeToString(h.Sum(nil)) != key {
		return fmt.Errorf("%w: the bytes hash to another key", ErrMismatch)
	}
	return nil
}

// ctxReader stops reading when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Open reads length bytes of key's file from offset (-1: to the end). An offset at the
// end reads nothing; past it, ErrRange.
func (l *Local) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if err := checkRange(offset, length); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(l.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, tickets.ErrNoFile
	} else if err != nil {
		return nil, fmt.Errorf("open %s: %w", key[:12], err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("open %s: %w", key[:12], err)
	}
	if offset > st.Size() {
		_ = f.Close()
		return nil, fmt.Errorf("open %s at %d of %d bytes: %w", key[:12], offset, st.Size(), ErrRange)
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("open %s: %w", key[:12], err)
	}
	if length < 0 {
		return f, nil
	}
	return limitedFile{io.LimitReader(f, length), f}, nil
}

type limitedFile struct {
	io.Reader
	io.Closer
}

// Stat returns the size of key's file, or tickets.ErrNoFile.
func (l *Local) Stat(ctx context.Context, key string) (int64, error) {
	if err := checkKey(key); err != nil {
		return 0, err
	}
	st, err := os.Stat(l.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, tickets.ErrNoFile
	} else if err != nil {
		return 0, fmt.Errorf("stat %s: %w", key[:12], err)
	}
	return st.Size(), nil
}

// Delete removes key's file; one absent is not an error. The fan-out directories stay: a
// concurrent Put may be writing into them.
func (l *Local) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	err := os.Remove(l.path(key))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", key[:12], err)
	}
	if err == nil {
		if err := syncDir(filepath.Dir(l.path(key))); err != nil {
			return fmt.Errorf("delete %s: flush directory: %w", key[:12], err)
		}
	}
	return nil
}

// Walk calls fn with every key stored, its size and its file's time. It passes over
// temporary files, removing those older than a day (a Put that died), and anything else
// that is not a key's file in its place.
func (l *Local) Walk(ctx context.Context, fn func(key string, size int64, written time.Time) error) error {
	cutoff := l.now().Add(-staleTemp)
	return filepath.WalkDir(l.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path != l.dir {
				return nil // removed while walking
			}
			return fmt.Errorf("walk the store: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(l.dir, path)
		if err != nil {
			return err
		}
		depth := strings.Count(rel, string(filepath.Separator))
		name := d.Name()
		if d.IsDir() {
			if path != l.dir && (depth > 1 || !isHexPair(name)) {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || depth != 2 {
			return nil
		}
		if strings.HasPrefix(name, tempPrefix) {
			if info, err := d.Info(); err == nil && info.ModTime().Before(cutoff) {
				if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return fmt.Errorf("remove an abandoned temporary file: %w", err)
				}
			}
			return nil
		}
		if !ValidKey(name) || filepath.ToSlash(rel) != name[0:2]+"/"+name[2:4]+"/"+name {
			return nil
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		} else if err != nil {
			return fmt.Errorf("walk the store: %w", err)
		}
		return fn(name, info.Size(), info.ModTime())
	})
}

func isHexPair(s string) bool {
	return len(s) == 2 && ValidKey(strings.Repeat(s, 32))
}
