package tickettest

import (
	"strings"
	"testing"
)

// Packages tested in parallel never share a Redis database: each gets its own, counted
// down from HOTLINE_TEST_REDIS_URL's, and none the load harness's db 9 by default.
func TestRedisDatabasePerPackage(t *testing.T) {
	for _, c := range []struct {
		env     string
		want    map[string]int
		wantErr map[string]string
	}{
		{env: "", want: map[string]int{"jobs": 15, "app": 14},
			wantErr: map[string]string{"tickets": `package "tickets" has no Redis database of its own`}},
		{env: "redis://127.0.0.1:6379/15", want: map[string]int{"jobs": 15, "app": 14}},
		{env: "redis://:pw@redis.test:6380/5", want: map[string]int{"jobs": 5, "app": 4}},
		{env: "redis://127.0.0.1:6379/0", want: map[string]int{"jobs": 0},
			wantErr: map[string]string{"app": `leaves package "app" no database`}},
		{env: "http://127.0.0.1:6379/3", wantErr: map[string]string{"jobs": "HOTLINE_TEST_REDIS_URL"}},
	} {
		t.Run(c.env, func(t *testing.T) {
			t.Setenv("HOTLINE_TEST_REDIS_URL", c.env)
			for pkg, want := range c.want {
				if got, err := RedisDB(pkg); err != nil || got != want {
					t.Errorf("RedisDB(%q) = %d, %v; want %d", pkg, got, err, want)
				}
			}
			for pkg, want := range c.wantErr {
				if got, err := RedisDB(pkg); err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("RedisDB(%q) = %d, %v; want an error saying %q", pkg, got, err, want)
				}
			}
		})
	}

	t.Setenv("HOTLINE_TEST_REDIS_URL", "")
	seen := map[int]string{}
	for _, pkg := range redisPackages {
		db, err := RedisDB(pkg)
		if err != nil {
			t.Fatal(err)
		}
		if other, ok := seen[db]; ok {
			t.Errorf("packages %s and %s share Redis db %d", other, pkg, db)
		}
		if db == 9 {
			t.Errorf("package %s uses db 9, the load harness's", pkg)
		}
		seen[db] = pkg
	}
}

// A package's URL is the server HOTLINE_TEST_REDIS_URL names, with its credentials and
// options, and the package's own database.
func TestRedisPackageURL(t *testing.T) {
	for _, c := range []struct{ env, pkg, want string }{
		{"", "app", "redis://127.0.0.1:6379/14"},
		{"redis://:secret@redis.test:6380/7?dial_timeout=3s", "jobs", "redis://:secret@redis.test:6380/7?dial_timeout=3s"},
		{"rediss://user:pw@redis.test:6380/7", "app", "rediss://user:pw@redis.test:6380/6"},
		{"redis://127.0.0.1:6379", "jobs", "redis://127.0.0.1:6379/0"},
	} {
		t.Run(c.env+" "+c.pkg, func(t *testing.T) {
			t.Setenv("HOTLINE_TEST_REDIS_URL", c.env)
			if got, err := redisPackageURL(c.pkg); err != nil || got != c.want {
				t.Errorf("redisPackageURL(%q) = %s, %v; want %s", c.pkg, got, err, c.want)
			}
		})
	}
}
