package tickets

import (
	"context"
	"errors"
	"io"
	"time"
)

// FileStore keeps files' bytes outside the database, each under its key: the lower-case
// hex SHA-256 of its content, so a file sent twice is stored once. The database keeps
// which messages use a key (attachment_files and attachments); tickets/files holds the
// stores (a local directory, an S3-compatible bucket) and app plugs one in.
type FileStore interface {
	// Put stores the size bytes r yields under key, and fails, leaving nothing under key,
	// when they are not size bytes or do not hash to key. Putting a key already stored
	// succeeds.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	// Open reads length bytes of key's file from offset (length -1: to its end); ErrNoFile
	// when the store has no such key.
	Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)
	// Stat returns the size of key's file, or ErrNoFile.
	Stat(ctx context.Context, key string) (int64, error)
	// Delete removes key's file; a key already absent is not an error.
	Delete(ctx context.Context, key string) error
	// Walk calls fn with every key stored, its size and when it was written, in no
	// particular order, stopping at fn's first error.
	Walk(ctx context.Context, fn func(key string, size int64, written time.Time) error) error
}

// ErrNoFile is the error of a FileStore asked for a key it does not hold.
var ErrNoFile = errors.New("no such file in the store")
