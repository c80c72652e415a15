package main

import (
	"net/url"
	"os"
	"testing"

	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// childMarker makes the test binary run as the hotline binary: tests start real Hotline
// processes (several at once, killed at will) from it, without building one.
const childMarker = "HOTLINE_TEST_CHILD=1"

// TestMain runs the tests, or, in a child started with childMarker in its environment,
// Hotline itself with the child's arguments ("serve --role api", ...).
func TestMain(m *testing.M) {
	if os.Getenv("HOTLINE_TEST_CHILD") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// requireProcesses skips (or, under CI=true, fails) a test of real Hotline processes when
// PostgreSQL or Redis (HOTLINE_TEST_REDIS_URL's) is unreachable, and returns the test
// server's address.
func requireProcesses(t *testing.T) *url.URL {
	t.Helper()
	pg, err := url.Parse(tickettest.PostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	tickettest.RequireService(t, "PostgreSQL", pg.Host)
	tickettest.RequireRedis(t)
	return pg
}

// testRedis returns this package's own Redis database, emptied (see tickettest.RedisURL),
// and empties it again when the test ends, after the test's processes are gone.
func testRedis(t *testing.T) string {
	t.Helper()
	raw := tickettest.RedisURL(t, "app")
	t.Cleanup(func() { tickettest.FlushRedis(t, raw) })
	return raw
}
