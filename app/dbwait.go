package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/driver/pgdriver"
)

// Back-off between attempts to reach PostgreSQL at start-up.
const (
	dbWaitFirst = 250 * time.Millisecond
	dbWaitMax   = 5 * time.Second
)

// waitForDatabase pings the database until it answers. PostgreSQL that is not reachable
// yet (started beside Hotline, restarting, a failover) is tried again with exponential
// back-off for up to wait; a refusal that waiting cannot cure (a wrong password, no such
// database) ends it at once, as does ctx (SIGTERM). SQLite is a file: it opens now or never.
func waitForDatabase(ctx context.Context, db *bun.DB, dsn string, wait time.Duration, log *slog.Logger) error {
	if db.Dialect().Name() != dialect.PG {
		if err := db.PingContext(ctx); err != nil {
			return fmt.Errorf("open database: %w", err)
		}
		return nil
	}
	host := databaseHost(dsn)
	deadline := time.Now().Add(wait)
	pause := dbWaitFirst
	for attempt := 1; ; attempt++ {
		// An attempt ends with the wait, but has at least a second (the driver's dial).
		timeout := dbWaitMax
		if left := time.Until(deadline); left < timeout {
			timeout = max(left, time.Second)
		}
		pctx, cancel := context.WithTimeout(ctx, timeout)
		err := db.PingContext(pctx)
		cancel()
		if err == nil {
			if attempt > 1 {
				log.Info("the database answers", "host", host, "attempts", attempt)
			}
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("stopped while waiting for the database at %s: %w", host, ctx.Err())
		}
		if permanent(err) {
			return fmt.Errorf("connect to database at %s: %w", host, err)
		}
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("the database at %s did not answer within %s (HOTLINE_DB_WAIT): %w", host, wait, err)
		}
		if attempt == 1 {
			log.Warn("waiting for the database", "host", host, "up_to", wait, "err", err)
		} else {
			log.Debug("the database does not answer yet", "host", host, "attempt", attempt, "err", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("stopped while waiting for the database at %s: %w", host, ctx.Err())
		case <-time.After(min(pause, left)):
		}
		pause = min(2*pause, dbWaitMax)
	}
}

// permanent reports whether PostgreSQL answered with a refusal that waiting cannot cure:
// authentication (SQLSTATE class 28) or a database that does not exist (3D000).
func permanent(err error) bool {
	var pe pgdriver.Error
	if !errors.As(err, &pe) {
		return false
	}
	code := pe.Field('C')
	return strings.HasPrefix(code, "28") || code == "3D000"
}

// databaseHost names the server a PostgreSQL URL points at for the logs: host and port,
// never the user or password.
func databaseHost(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		return "(the default PostgreSQL host)"
	}
	return u.Host
}
