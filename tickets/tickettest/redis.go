package tickettest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"
)

// DefaultRedisURL is the Redis server tests use when HOTLINE_TEST_REDIS_URL is unset.
const DefaultRedisURL = "redis://127.0.0.1:6379/15"

// redisPackages lists, in order, the packages whose tests use a real Redis server. Each
// takes a database of its own, counting down from HOTLINE_TEST_REDIS_URL's (by default
// jobs 15, app 14): `go test ./...` tests packages in parallel, and a package that flushes
// its database must never wipe another's queues mid-test. Asynq cannot prefix its keys,
// so the database number is the only thing that keeps them apart. Keep clear of db 9,
// which the load harness (app bench) uses by default. A new package using Redis adds its
// directory here.
var redisPackages = []string{"jobs", "app"}

// RedisBaseURL is HOTLINE_TEST_REDIS_URL, or DefaultRedisURL.
func RedisBaseURL() string {
	if u := os.Getenv("HOTLINE_TEST_REDIS_URL"); u != "" {
		return u
	}
	return DefaultRedisURL
}

// RedisDB is the database number pkg's tests use on the test server, where pkg is the
// package's directory in the module ("jobs", "app").
func RedisDB(pkg string) (int, error) {
	base, err := redis.ParseURL(RedisBaseURL())
	if err != nil {
		return 0, fmt.Errorf("HOTLINE_TEST_REDIS_URL: %w", err)
	}
	i := slices.Index(redisPackages, pkg)
	if i < 0 {
		return 0, fmt.Errorf("package %q has no Redis database of its own: add it to redisPackages in tickettest", pkg)
	}
	db := base.DB - i
	if db < 0 {
		return 0, fmt.Errorf("HOTLINE_TEST_REDIS_URL's db %d leaves package %q no database (packages count down from it): use a higher one", base.DB, pkg)
	}
	return db, nil
}

// RequireRedis skips the test when the test Redis server is unreachable (fails under
// CI=true), like RequireService, at the address HOTLINE_TEST_REDIS_URL names.
func RequireRedis(t testing.TB) {
	t.Helper()
	opt, err := redis.ParseURL(RedisBaseURL())
	if err != nil {
		t.Fatalf("HOTLINE_TEST_REDIS_URL: %v", err)
	}
	RequireService(t, "Redis", opt.Addr)
}

// RedisURL returns the URL of pkg's own Redis database (see redisPackages), emptied so the
// test starts with nothing an earlier test of the package left behind. It skips the test
// when Redis is unreachable (fails under CI=true). Tests of one package run one after the
// other, so a package's tests share its database; a test that calls t.Parallel must not
// use it.
func RedisURL(t testing.TB, pkg string) string {
	t.Helper()
	RequireRedis(t)
	raw, err := redisPackageURL(pkg)
	if err != nil {
		t.Fatal(err)
	}
	FlushRedis(t, raw)
	return raw
}

// redisPackageURL is HOTLINE_TEST_REDIS_URL with pkg's database in place of its own.
func redisPackageURL(pkg string) (string, error) {
	db, err := RedisDB(pkg)
	if err != nil {
		return "", err
	}
	u, err := url.Parse(RedisBaseURL())
	if err != nil {
		return "", fmt.Errorf("HOTLINE_TEST_REDIS_URL: %w", err)
	}
	u.Path = "/" + strconv.Itoa(db)
	return u.String(), nil
}

// FlushRedis empties the Redis database raw names.
func FlushRedis(t testing.TB, raw string) {
	t.Helper()
	opt, err := redis.ParseURL(raw)
	if err != nil {
		t.Fatalf("redis URL: %v", err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	if err := rdb.FlushDB(context.Background()).Err(); err != nil {
		t.Fatalf("flush redis db %d at %s: %v", opt.DB, opt.Addr, err)
	}
}
