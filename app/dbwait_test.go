package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hotlinedesk/hotline/app/bench"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// A Hotline started before its PostgreSQL answers waits for it (a container starting
// beside it) and becomes ready once it does; with nothing ever answering, or when told to
// stop, it gives up with a clear message. SQLite never waits.
func TestStartupWaitsForTheDatabase(t *testing.T) {
	pg, err := url.Parse(tickettest.PostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	tickettest.RequireService(t, "PostgreSQL", pg.Host)
	real, err := url.Parse(freshDatabase(t, *pg))
	if err != nil {
		t.Fatal(err)
	}
	const password = "s3cret-db-password"
	// dsnAt is the test's database reached through addr, with a password in the URL that
	// no log line may show (the server trusts local connections, so any password will do).
	dsnAt := func(addr string) string {
		u := *real
		u.Host, u.User = addr, url.UserPassword(real.User.Username(), password)
		return u.String()
	}

	t.Run("PostgreSQL comes up after two seconds: ready", func(t *testing.T) {
		addr, err := bench.FreeAddr()
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		up := make(chan error, 1)
		go func() {
			select {
			case <-time.After(2 * time.Second):
				up <- forward(ctx, addr, real.Host)
			case <-ctx.Done():
			}
		}()
		logs := t.TempDir()
		start := time.Now()
		p, err := bench.StartProcess(ctx, "waits", testBinary(t), []string{"serve"},
			[]string{childMarker, "DATABASE_URL=" + dsnAt(addr), "HOTLINE_ADMIN_PASSWORD=wait-admin-password", "HOTLINE_LOG_LEVEL=info"}, logs)
		select {
		case ferr := <-up:
			if ferr != nil {
				t.Fatalf("the stand-in PostgreSQL did not start: %v", ferr)
			}
		default:
		}
		if err != nil {
			t.Fatalf("not ready: %v", err)
		}
		t.Cleanup(p.Kill)
		if took := time.Since(start); took < 2*time.Second {
			t.Errorf("ready after %v, before the database could answer", took)
		}
		log := p.LogTail(200)
		if !strings.Contains(log, "waiting for the database") || !strings.Contains(log, addr) {
			t.Errorf("the log does not say it waits for the database at %s:\n%s", addr, log)
		}
		if strings.Contains(log, password) {
			t.Errorf("the log shows the database password:\n%s", log)
		}

		// PostgreSQL goes away again: /readyz says so, and to a client on this machine which
		// dependency failed.
		cancel()
		var body string
		for range 50 {
			if body = httpBody(t, p.Base+"/readyz"); strings.Contains(body, `"failed":{"database"`) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if !strings.Contains(body, `"failed":{"database"`) || !strings.Contains(body, `"status":"not ready"`) || strings.Contains(body, `"broker"`) {
			t.Errorf("/readyz with the database gone: %s", body)
		}
	})

	nowhere, err := bench.FreeAddr() // nothing listens here
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		env      []string
		sigterm  bool          // send SIGTERM once the process says it is waiting
		within   time.Duration // it must have exited by then
		atLeast  time.Duration // and not before
		messages []string
	}{
		{name: "nothing ever answers: gives up after HOTLINE_DB_WAIT",
			env:    []string{"DATABASE_URL=" + dsnAt(nowhere), "HOTLINE_DB_WAIT=3s"},
			within: 15 * time.Second, atLeast: 3 * time.Second,
			messages: []string{"waiting for the database", "did not answer within 3s", nowhere}},
		{name: "HOTLINE_DB_WAIT=0: one attempt",
			env:    []string{"DATABASE_URL=" + dsnAt(nowhere), "HOTLINE_DB_WAIT=0"},
			within: 8 * time.Second, messages: []string{"did not answer within 0s", nowhere}},
		{name: "SIGTERM stops the wait",
			env:     []string{"DATABASE_URL=" + dsnAt(nowhere), "HOTLINE_DB_WAIT=60s"},
			sigterm: true, within: 10 * time.Second,
			messages: []string{"stopped while waiting for the database at " + nowhere}},
		{name: "PostgreSQL refuses (no such database): fails at once",
			env:    []string{"DATABASE_URL=" + strings.Replace(dsnAt(real.Host), real.Path, "/no_such_database_hltest", 1), "HOTLINE_DB_WAIT=60s"},
			within: 8 * time.Second, messages: []string{"hotline: connect to database at " + real.Host, "does not exist"}},
		{name: "SQLite at a path that cannot be: fails at once",
			env:    []string{"DATABASE_URL=sqlite:" + t.TempDir() + "/no/such/dir/hotline.db", "HOTLINE_DB_WAIT=60s"},
			within: 8 * time.Second, messages: []string{"hotline: open database"}},
		{name: "a bad HOTLINE_DB_WAIT is refused",
			env:    []string{"DATABASE_URL=" + dsnAt(nowhere), "HOTLINE_DB_WAIT=soon"},
			within: 8 * time.Second, messages: []string{"HOTLINE_DB_WAIT must be a duration"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr, err := bench.FreeAddr()
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(testBinary(t), "serve")
			cmd.Env = append(hotlineFreeEnv(), append([]string{childMarker, "HOTLINE_ADDR=" + addr,
				"HOTLINE_ADMIN_PASSWORD=wait-admin-password", "HOTLINE_LOG_LEVEL=info"}, tc.env...)...)
			var out lockedBuffer
			cmd.Stdout, cmd.Stderr = &out, &out
			start := time.Now()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			if tc.sigterm {
				// Signalled only once it waits: earlier, the signal would end a process that
				// has not yet set up its handling, and prove nothing about the wait.
				for !strings.Contains(out.String(), "waiting for the database") {
					select {
					case err := <-done:
						t.Fatalf("exited (%v) before it waited:\n%s", err, out.String())
					case <-time.After(50 * time.Millisecond):
					}
				}
				if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
					t.Fatal(err)
				}
			}
			select {
			case err = <-done:
			case <-time.After(tc.within):
				cmd.Process.Kill() //nolint:errcheck // it failed the test already
				<-done
				t.Fatalf("still running after %v:\n%s", tc.within, out.String())
			}
			took := time.Since(start)
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() == 0 {
				t.Errorf("exit %v, want a non-zero status:\n%s", err, out.String())
			}
			if took < tc.atLeast {
				t.Errorf("gave up after %v, before HOTLINE_DB_WAIT", took)
			}
			for _, m := range tc.messages {
				if !strings.Contains(out.String(), m) {
					t.Errorf("output lacks %q:\n%s", m, out.String())
				}
			}
			if strings.Contains(out.String(), password) {
				t.Errorf("the output shows the database password:\n%s", out.String())
			}
		})
	}
}

// hotlineFreeEnv is this process's environment without any of Hotline's settings.
func hotlineFreeEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOTLINE_") && !strings.HasPrefix(kv, "DATABASE_URL=") && !strings.HasPrefix(kv, "REDIS_URL=") {
			env = append(env, kv)
		}
	}
	return env
}

// forward listens on addr and passes every connection through to target, until ctx ends:
// a PostgreSQL that appears on addr when this is called.
func forward(ctx context.Context, addr, target string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	context.AfterFunc(ctx, func() { ln.Close() })
	go func() {
		defer wg.Wait()
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			context.AfterFunc(ctx, func() { in.Close(); out.Close() })
			wg.Add(2)
			go func() { defer wg.Done(); io.Copy(out, in); out.Close() }() //nolint:errcheck // ends with either side
			go func() { defer wg.Done(); io.Copy(in, out); in.Close() }()  //nolint:errcheck
		}
	}()
	return nil
}

// lockedBuffer collects a child's output, written by exec's goroutines while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
