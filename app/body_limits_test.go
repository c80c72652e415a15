package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotlinedesk/hotline/app/bench"
)

// A real Hotline process (SQLite, embedded broker) is sent 16 unsigned 25 MB posts at once
// at the Twilio SMS webhook and 16 at the email webhook without its secret, each both with
// Content-Length and chunked (a client streaming a reader of unknown length): 64 at once.
// Every one is refused (413 at Twilio's small door, 403 at the email webhook, whose secret
// is checked before the body is read), and the process's peak memory stays within 200 MiB
// of what it used idle; before, the bodies were read whole first, about 3.6 GiB for 16.
func TestUnsignedLargePostsAreRefusedCheaply(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	env := []string{childMarker, "DATABASE_URL=sqlite:" + filepath.Join(dir, "hotline.db"),
		"HOTLINE_ADMIN_PASSWORD=rss-admin-password", "HOTLINE_LOG_LEVEL=warn",
		"TWILIO_AUTH_TOKEN=rss-test-twilio-token", "EMAIL_WEBHOOK_SECRET=rss-test-email-secret"}
	p, err := bench.StartProcess(ctx, "hotline", testBinary(t), []string{"serve"}, env, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	if _, err := p.Settle(ctx, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	idle := procStatus(t, p.PID(), "VmRSS")
	// Start the peak (VmHWM) afresh from here, so that start-up does not count; kernels
	// without it keep the start-up peak, which only makes the check stricter.
	os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", p.PID()), []byte("5"), 0) //nolint:errcheck

	const size = 25_000_000
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, MaxConnsPerHost: 0}}
	posts := []struct {
		name, path, auth string
		chunked          bool
		want             int
	}{
		{"Twilio SMS with Content-Length", "/webhooks/twilio/sms", "", false, 413},
		{"Twilio SMS chunked", "/webhooks/twilio/sms", "", true, 413},
		{"email webhook with Content-Length", "/webhooks/email", "Bearer not-the-secret", false, 403},
		{"email webhook chunked", "/webhooks/email", "", true, 403},
	}
	var wg sync.WaitGroup
	errs := make(chan string, 16*len(posts))
	start := time.Now()
	for _, post := range posts {
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var body io.Reader = io.LimitReader(zeros{}, size)
				if post.chunked {
					body = struct{ io.Reader }{body} // no length known: sent chunked
				}
				req, err := http.NewRequestWithContext(ctx, "POST", p.Base+post.path, body)
				if err != nil {
					errs <- err.Error()
					return
				}
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if !post.chunked {
					req.ContentLength = size
				}
				if post.auth != "" {
					req.Header.Set("Authorization", post.auth)
				}
				res, err := client.Do(req)
				if err != nil {
					errs <- fmt.Sprintf("%s: %v", post.name, err)
					return
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != post.want || !strings.HasPrefix(string(b), `{"error":`) {
					errs <- fmt.Sprintf("%s: %d %s, want %d with a JSON reason", post.name, res.StatusCode, b, post.want)
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	took := time.Since(start)
	for e := range errs {
		t.Error(e)
	}
	peak := procStatus(t, p.PID(), "VmHWM")
	t.Logf("idle %d MiB, peak %d MiB; 64 posts of 25 MB refused in %v", idle>>20, peak>>20, took.Round(time.Millisecond))
	if peak-idle > 200<<20 {
		t.Errorf("peak memory %d MiB is %d MiB above idle (%d MiB): refused bodies were read", peak>>20, (peak-idle)>>20, idle>>20)
	}
	// Still serving.
	if res, err := http.Get(p.Base + "/healthz"); err != nil || res.StatusCode != 200 {
		t.Errorf("after the posts, /healthz: %v %v", res, err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// procStatus reads a size in bytes from /proc/<pid>/status (VmRSS, VmHWM).
func procStatus(t *testing.T, pid int, field string) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("%s %q: %v", field, v, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}
