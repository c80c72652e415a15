package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
)

// markerTable and markerKey mark a database and a Redis db as the harness's own, so a run
// never empties one that holds anything else.
const (
	markerTable = "hotline_bench_marker"
	markerKey   = "hotline:bench:marker"
)

// prepareDatabase creates the run's database when missing and empties it: it must be
// empty or one the harness made before.
func prepareDatabase(ctx context.Context, dsn string) (*bun.DB, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("the harness needs PostgreSQL: -database-url postgres://user@host:5432/db, not %q", redactURL(dsn))
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" || strings.ContainsAny(name, `"`) {
		return nil, fmt.Errorf("database URL %s names no usable database", redactURL(dsn))
	}
	if err := createDatabase(ctx, *u, name); err != nil {
		return nil, err
	}
	// The harness's own connection seeds, vacuums and checkpoints a large desk: on a busy
	// machine one statement may take longer than the driver's 10-second read timeout.
	maint := *u
	if q := maint.Query(); !q.Has("read_timeout") {
		q.Set("read_timeout", "10m")
		maint.RawQuery = q.Encode()
	}
	db, err := tickets.OpenDB(maint.String())
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s: %w", redactURL(dsn), err)
	}
	var tables, marked int
	err = db.NewRaw(`SELECT COUNT(*), COUNT(*) FILTER (WHERE table_name = ?) FROM information_schema.tables WHERE table_schema = current_schema()`, markerTable).
		Scan(ctx, &tables, &marked)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("look at database %s: %w", name, err)
	}
	if tables > 0 && marked == 0 {
		db.Close()
		return nil, fmt.Errorf("database %s holds tables the harness did not make; give it a database of its own (-database-url)", name)
	}
	for _, q := range []string{
		"DROP SCHEMA IF EXISTS public CASCADE", "CREATE SCHEMA public",
		"CREATE TABLE " + markerTable + " (created_at TIMESTAMPTZ NOT NULL DEFAULT now())",
		"INSERT INTO " + markerTable + " DEFAULT VALUES",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			db.Close()
			return nil, fmt.Errorf("empty database %s: %s: %w", name, q, err)
		}
	}
	return db, nil
}

// createDatabase creates the database through the server's postgres database, unless it
// exists.
func createDatabase(ctx context.Context, u url.URL, name string) error {
	u.Path = "/postgres"
	admin, err := tickets.OpenDB(u.String())
	if err != nil {
		return err
	}
	defer admin.Close()
	var exists bool
	if err := admin.NewRaw("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = ?)", name).Scan(ctx, &exists); err != nil {
		return fmt.Errorf("connect to PostgreSQL at %s: %w", u.Host, err)
	}
	if exists {
		return nil
	}
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+strconv.Quote(name)); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// prepareRedis flushes the run's Redis db: it must be empty or one the harness used
// before.
func prepareRedis(ctx context.Context, raw string) (*redis.Client, error) {
	opt, err := redis.ParseURL(raw)
	if err != nil {
		return nil, fmt.Errorf("-redis-url: %w", err)
	}
	rdb := redis.NewClient(opt)
	n, err := rdb.DBSize(ctx).Result()
	if err != nil {
		rdb.Close()
		return nil, fmt.Errorf("connect to Redis at %s: %w", opt.Addr, err)
	}
	if n > 0 {
		if marked, err := rdb.Exists(ctx, markerKey).Result(); err != nil || marked == 0 {
			rdb.Close()
			return nil, fmt.Errorf("redis db %d at %s holds keys the harness did not make; give it a db of its own (-redis-url redis://host:6379/9)", opt.DB, opt.Addr)
		}
	}
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("flush redis db %d: %w", opt.DB, err)
	}
	if err := rdb.Set(ctx, markerKey, time.Now().UTC().Format(time.RFC3339), 0).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("mark redis db %d: %w", opt.DB, err)
	}
	return rdb, nil
}

// redisUsedMemory is INFO memory's used_memory.
func redisUsedMemory(ctx context.Context, rdb *redis.Client) (int64, error) {
	info, err := rdb.Info(ctx, "memory").Result()
	if err != nil {
		return 0, fmt.Errorf("redis INFO memory: %w", err)
	}
	for _, l := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "used_memory:"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, errors.New("redis INFO memory has no used_memory")
}

// baseline is the floor intake is compared with: a bare Fiber handler doing one INSERT per
// request into the same PostgreSQL, through the same driver and pool size.
type baseline struct {
	app *fiber.App
	db  *bun.DB
	url string
}

func startBaseline(ctx context.Context, dsn string) (*baseline, error) {
	db, err := tickets.OpenDB(dsn)
	if err != nil {
		return nil, err
	}
	_, err = db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS bench_baseline (
		id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, sid TEXT NOT NULL, body TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL)`)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("create baseline table: %w", err)
	}
	app, u, err := serveSMS("the baseline", func(ctx context.Context, form url.Values) error {
		_, err := db.ExecContext(ctx, "INSERT INTO bench_baseline (sid, body, created_at) VALUES (?, ?, ?)",
			form.Get("MessageSid"), form.Get("Body"), time.Now())
		return err
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &baseline{app: app, db: db, url: u}, nil
}

// serveSMS serves SMSPath on a free loopback port, bare: store runs on each posted form
// (no signature checked) and an empty TwiML answer follows.
func serveSMS(name string, store func(ctx context.Context, form url.Values) error) (*fiber.App, string, error) {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Post(SMSPath, func(c *fiber.Ctx) error {
		form, err := url.ParseQuery(string(c.Body()))
		if err != nil {
			return fiber.NewError(fiber.StatusBadRequest, err.Error())
		}
		if err := store(c.UserContext(), form); err != nil {
			return err
		}
		c.Type("xml", "utf-8")
		return c.SendString(`<?xml version="1.0" encoding="UTF-8"?><Response></Response>`)
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", fmt.Errorf("listen for %s: %w", name, err)
	}
	go app.Listener(l) //nolint:errcheck // ends with close
	return app, "http://" + l.Addr().String(), nil
}

func (b *baseline) close() {
	b.app.ShutdownWithTimeout(5 * time.Second) //nolint:errcheck // best effort
	b.db.Close()
}
