package tickets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"
)

// Values Hotline keeps for itself in the settings table (cursors, generated secrets).

// Setting reads a value Hotline keeps for itself, creating it with make() the first time;
// concurrent first calls agree on one value.
func (s *Service) Setting(ctx context.Context, key string, make func() string) (string, error) {
	return s.setting(ctx, s.db, key, make)
}

// setting is Setting inside a transaction (SQLite has one writer: a second connection would
// wait on the transaction's own lock).
func (s *Service) setting(ctx context.Context, db bun.IDB, key string, make func() string) (string, error) {
	var v string
	err := db.NewSelect().Table("settings").Column("value").Where("key = ?", key).Scan(ctx, &v)
	if err == nil {
		return v, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("read setting %s: %w", key, err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING",
		key, make(), s.now()); err != nil {
		return "", fmt.Errorf("store setting %s: %w", key, err)
	}
	return s.setting(ctx, db, key, make)
}

// PutSetting stores a value Hotline keeps for itself (an IMAP cursor, say).
func (s *Service) PutSetting(ctx context.Context, key, value string) error {
	_, err := s.db.ExecContext(ctx, "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at",
		key, value, s.now())
	if err != nil {
		return fmt.Errorf("store setting %s: %w", key, err)
	}
	return nil
}
