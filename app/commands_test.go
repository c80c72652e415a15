package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/access"
)

// "migrate" builds the schema and exits; "demo" seeds a working desk (and its first admin)
// once, and a second run leaves it as it is.
func TestMigrateAndDemoCommands(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "hotline.db")
	t.Setenv("DATABASE_URL", dsn)
	t.Setenv("HOTLINE_LOG_LEVEL", "error")
	ctx := context.Background()
	if err := run(ctx, []string{"migrate"}); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	for range 2 {
		if err := run(ctx, []string{"demo"}); err != nil {
			t.Fatalf("demo: %v", err)
		}
	}
	db, err := tickets.OpenDB(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for table, want := range map[string]int{"teams": 2, "agents": 5, "tickets": 5} {
		if n, err := db.NewSelect().Table(table).Count(ctx); err != nil || n != want {
			t.Errorf("%s: %d (%v), want %d", table, n, err, want)
		}
	}
	svc := tickets.NewService(db, nil, tickets.Config{}, nil)
	if _, _, err := access.New(svc, access.Config{}).Login(ctx, "li.na@demo.hotline", demoPassword); err != nil {
		t.Errorf("demo agent cannot sign in: %v", err)
	}
	if err := run(ctx, []string{"frobnicate"}); err == nil {
		t.Error("an unknown command succeeded")
	}
}
