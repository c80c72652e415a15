package main

import (
	"os"
	"testing"
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
