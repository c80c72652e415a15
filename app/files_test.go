package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/files"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// "files migrate" moves the files an older desk kept in the database into the store:
// beside the SQLite file by default, and on PostgreSQL only once FILES_URL names a store.
func TestFilesMigrateCommand(t *testing.T) {
	pgURL, err := url.Parse(tickettest.PostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		dsn  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "hotline.db") }},
		{"postgres", func(t *testing.T) string { tickettest.Postgres(t); return freshDatabase(t, *pgURL) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := c.dsn(t)
			t.Setenv("DATABASE_URL", dsn)
			t.Setenv("HOTLINE_LOG_LEVEL", "error")
			t.Setenv("FILES_URL", "")
			if err := run(ctx, []string{"migrate"}); err != nil {
				t.Fatal(err)
			}
			db, err := tickets.OpenDB(dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			svc := tickets.NewService(db, nil, tickets.Config{DefaultCountry: "86"}, tickettest.Logger())
			var keys []string
			for i := range 5 {
				b := []byte(fmt.Sprintf("%%PDF-1.4 file %d kept in the database", i))
				if _, err := svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelEmail, From: tickets.IdentityEmail,
					Address: fmt.Sprintf("c%d@example.cn", i), Subject: "file", Body: "attached", ProviderMessageID: fmt.Sprintf("<f%d@x>", i),
					Attachments: []tickets.NewAttachment{{Filename: "f.pdf", ContentType: "application/pdf", SizeBytes: int64(len(b)), Content: b}}}); err != nil {
					t.Fatal(err)
				}
				keys = append(keys, fileKeyOf(b))
			}
			dir := filepath.Join(t.TempDir(), "files")
			if c.name == "sqlite" {
				dir = filepath.Join(filepath.Dir(dsn[len("sqlite:"):]), "files")
			} else {
				if err := run(ctx, []string{"files", "migrate"}); err == nil {
					t.Fatal("migrated files on PostgreSQL with no FILES_URL")
				}
				t.Setenv("FILES_URL", "file://"+dir)
			}
			for _, bad := range [][]string{{"files"}, {"files", "move"}, {"files", "migrate", "--batch", "0"}} {
				if err := run(ctx, bad); err == nil {
					t.Errorf("%q succeeded", bad)
				}
			}
			inDB := func() int {
				n, err := db.NewSelect().Table("attachment_files").Where("location = 'db'").Count(ctx)
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			if err := run(ctx, []string{"files", "migrate", "--dry-run"}); err != nil || inDB() != 5 {
				t.Fatalf("dry run: %v, %d in the database", err, inDB())
			}
			if err := run(ctx, []string{"files", "migrate", "--batch", "2"}); err != nil {
				t.Fatal(err)
			}
			if n := inDB(); n != 0 {
				t.Errorf("%d files still in the database", n)
			}
			store, err := files.NewLocal(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range keys {
				if _, err := store.Stat(ctx, k); err != nil {
					t.Errorf("file %.12s not in %s: %v", k, dir, err)
				}
			}
		})
	}
}

func fileKeyOf(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
