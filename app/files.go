package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/uptrace/bun/dialect"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/files"
)

// Where files' bytes are kept (FILES_URL, docs/files.md), and the "files" command that moves
// the files the database still keeps into the store.

// openFiles returns the file store FILES_URL names. Without it, an embedded SQLite desk
// keeps its files in a "files" directory beside the SQLite file; a PostgreSQL desk keeps
// them in the database, as before, with a warning: a local directory would be a different
// one on each server of a cluster.
func openFiles(ctx context.Context, cfg config, d dialect.Name, log *slog.Logger) (tickets.FileStore, error) {
	raw := cfg.FilesURL
	if raw == "" {
		if d == dialect.PG {
			log.Warn("FILES_URL is not set: attachments are kept in PostgreSQL; set it to a bucket (s3://…) or a shared directory, then run \"hotline files migrate\" (docs/files.md)")
			return nil, nil
		}
		raw = "files"
	}
	store, err := files.Open(ctx, raw, files.BaseDir(sqliteDir(cfg.DatabaseURL)))
	if err != nil {
		return nil, err
	}
	log.Info("files kept in", "store", files.Describe(raw))
	return store, nil
}

// sqliteDir is the directory of the SQLite file a DATABASE_URL names ("" for PostgreSQL).
func sqliteDir(dsn string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return ""
	}
	return filepath.Dir(strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite://"), "sqlite:"))
}

// filesOptions are the flags of "files migrate".
type filesOptions struct {
	batch  int
	dryRun bool
}

func filesFlags() (*flag.FlagSet, *filesOptions) {
	fs := flag.NewFlagSet("files migrate", flag.ContinueOnError)
	o := &filesOptions{}
	fs.IntVar(&o.batch, "batch", tickets.FileSweepBatch, "files moved per batch")
	fs.BoolVar(&o.dryRun, "dry-run", false, "count the files the database keeps and move nothing")
	return fs, o
}

// parseFilesArgs reads "files migrate [--batch N] [--dry-run]".
func parseFilesArgs(args []string) (*filesOptions, error) {
	fs, o := filesFlags()
	if len(args) == 0 || args[0] != "migrate" {
		printFlags(os.Stderr, fs, "files migrate [--batch N] [--dry-run]")
		return nil, errors.New(`files: the one subcommand is "migrate"`)
	}
	if err := parseFlags(fs, "files migrate [--batch N] [--dry-run]", args[1:]); err != nil {
		return nil, err
	}
	if o.batch < 1 || o.batch > 10000 {
		return nil, fmt.Errorf("files migrate: --batch must be between 1 and 10000, not %d", o.batch)
	}
	return o, nil
}

// migrateFiles moves the files the database keeps into the store, batch by batch, printing
// its progress. It refuses without a store.
func migrateFiles(ctx context.Context, svc *tickets.Service, o *filesOptions, out io.Writer) error {
	if svc.FileStore() == nil {
		return errors.New("files migrate: FILES_URL names no store; set it to a directory or a bucket first (docs/files.md)")
	}
	if o.dryRun {
		r, err := svc.MoveFilesToStore(ctx, "", o.batch, true)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%d file(s) are kept in the database; nothing moved (dry run)\n", r.Left)
		return nil
	}
	var moved, mismatched int
	var bytes int64
	after := ""
	for {
		r, err := svc.MoveFilesToStore(ctx, after, o.batch, false)
		if err != nil {
			fmt.Fprintf(out, "stopped after moving %d file(s): %v; run it again to go on\n", moved, err)
			return err
		}
		moved, mismatched, bytes = moved+r.Moved, mismatched+r.Mismatch, bytes+r.Bytes
		fmt.Fprintf(out, "moved %d file(s) (%s) so far; %d left in the database\n", moved, humanBytes(bytes), r.Left)
		if r.Next == "" {
			break
		}
		after = r.Next
	}
	if mismatched > 0 {
		fmt.Fprintf(out, "%d file(s) did not read back from the store as they were and stay in the database; check the store and run it again\n", mismatched)
		return fmt.Errorf("files migrate: %d file(s) not verified", mismatched)
	}
	fmt.Fprintln(out, "done")
	return nil
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KB", (n+1023)/1024)
}
