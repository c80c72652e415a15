package console_test

import (
	"strings"
	"testing"
)

// A missing browser is explained with the command that installs it (and the CJK fonts the
// Chinese screenshots need), whether the browser tests skip or, under CI, fail.
func TestChromiumMissingSaysHowToInstall(t *testing.T) {
	if want := "sudo apt-get install chromium fonts-noto-cjk"; !strings.Contains(chromiumMissing, want) {
		t.Errorf("the message for a missing Chromium is %q; want it to give the command %q", chromiumMissing, want)
	}
}
