//go:build ignore

// logcheck reads the logs a test run wrote (HOTLINE_TEST_LOG_DIR, see
// tickettest.Logger) and fails, naming the lines, when any carries a full phone number, a
// valid ID card number, a card number passing Luhn, an email address, a bearer or session
// token, or a message body the tests' fixtures send. .ci/run runs it after `go test ./...`:
//
//	go run .ci/logcheck.go <dir>
package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/hotlinedesk/hotline/tickets/privacy"
)

// fixtureBodies are message texts the tests send, distinctive enough that finding one in
// a log means a body was logged.
var fixtureBodies = []string{
	"我要投诉！三个星期没人理我", "where is my claim?", "理赔进度？", "我的保单理赔还没到账", "5 很满意",
}

// tokens are session tokens (hl_…, tickets/access) and bearer credentials.
var tokens = regexp.MustCompile(`\bhl_[A-Za-z0-9_\-]{20,}|(?i)bearer\s+[A-Za-z0-9._~+/\-]{12,}`)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run .ci/logcheck.go <log dir>")
		os.Exit(2)
	}
	files, err := filepath.Glob(filepath.Join(os.Args[1], "*.log"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if len(files) == 0 {
		fmt.Fprintln(os.Stderr, "logcheck: no logs in", os.Args[1], "(did the tests run with HOTLINE_TEST_LOG_DIR?)")
		os.Exit(1)
	}
	leaks, lines := 0, 0
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
		for n := 1; sc.Scan(); n++ {
			lines++
			line := sc.Text()
			var why []string
			for _, fd := range privacy.Find(line) {
				why = append(why, fd.Kind)
			}
			if tokens.MatchString(line) {
				why = append(why, "token")
			}
			for _, b := range fixtureBodies {
				if strings.Contains(line, b) {
					why = append(why, "message body")
				}
			}
			if len(why) > 0 {
				leaks++
				fmt.Printf("%s:%d: %s: %s\n", filepath.Base(name), n, strings.Join(why, ", "), line)
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			fmt.Fprintln(os.Stderr, name, err)
			os.Exit(2)
		}
	}
	if leaks > 0 {
		fmt.Printf("logcheck: %d of %d log lines carry personal values, bodies or tokens\n", leaks, lines)
		os.Exit(1)
	}
	fmt.Printf("logcheck: %d log lines in %d files, none carries a full number, a body or a token\n", lines, len(files))
}
