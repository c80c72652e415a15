package migrations_test

import (
	"context"
	"testing"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/hotlinedesk/hotline/migrations"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// Files kept before the file store existed stay in the database, described: their size,
// their type from an attachment, location 'db'; and the database refuses a row whose
// location and content disagree.
func TestAttachmentFilesStoreMigration(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		svc := tickettest.Service(db, tickettest.NewClock(tickettest.T0))
		pdf := []byte("%PDF-1.4 kept before the store")
		if _, err := svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelEmail, From: tickets.IdentityEmail, Address: "kim@example.com",
			Subject: "s", Body: "b", Attachments: []tickets.NewAttachment{{Filename: "a.pdf", ContentType: "application/pdf", SizeBytes: int64(len(pdf)), Content: pdf}}}); err != nil {
			t.Fatal(err)
		}
		// The table as it was before the migration.
		bytesType := "BLOB"
		if db.Dialect().Name() == dialect.PG {
			bytesType = "BYTEA"
		}
		for _, q := range []string{
			"DROP INDEX attachment_files_touched_idx",
			"DROP INDEX attachment_files_db_idx",
			"CREATE TABLE attachment_files_old (sha256 TEXT PRIMARY KEY, content " + bytesType + " NOT NULL)",
			"INSERT INTO attachment_files_old (sha256, content) SELECT sha256, content FROM attachment_files",
			"DROP TABLE attachment_files",
			"ALTER TABLE attachment_files_old RENAME TO attachment_files",
			"DELETE FROM bun_migrations WHERE name IN ('20261204100160', '20261204100180')",
		} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if err := migrations.Up(ctx, db, tickettest.Logger()); err != nil {
			t.Fatalf("migration over stored files: %v", err)
		}
		var rows []struct {
			SHA256      string
			SizeBytes   int64
			ContentType string
			Location    string
			Content     []byte
		}
		if err := db.NewSelect().Table("attachment_files").Column("sha256", "size_bytes", "content_type", "location", "content").Scan(ctx, &rows); err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].SizeBytes != int64(len(pdf)) || rows[0].ContentType != "application/pdf" ||
			rows[0].Location != tickets.FileInDB || string(rows[0].Content) != string(pdf) {
			t.Fatalf("rows after the migration: %+v", rows)
		}
		for _, q := range []string{
			"UPDATE attachment_files SET content = NULL",         // in the database, with no content
			"UPDATE attachment_files SET location = 'store'",     // in the store, with content
			"UPDATE attachment_files SET location = 'elsewhere'", // nowhere known
		} {
			if _, err := db.ExecContext(ctx, q); err == nil {
				t.Errorf("%s: accepted", q)
			}
		}
		if _, err := db.ExecContext(ctx, "UPDATE attachment_files SET location = 'store', content = NULL"); err != nil {
			t.Errorf("moving the row to the store: %v", err)
		}
	})
}
