package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Process is a Hotline child process ("serve --role ...") on a loopback port.
type Process struct {
	Name string
	Base string // http://127.0.0.1:port
	cmd  *exec.Cmd
	log  string // the file its output goes to
	done chan error
}

// settingPrefixes are the environment variables a parent's own Hotline settings could leak
// into a child; the child gets only what it is given.
var settingPrefixes = []string{"HOTLINE_", "DATABASE_URL", "REDIS_URL", "TWILIO_", "WECHAT_", "SLACK_", "SMTP_", "IMAP_", "EMAIL_", "PUBLIC_BASE_URL"}

// StartProcess runs bin with args and env (KEY=VALUE, on top of this process's
// environment less any Hotline setting), listening on a free loopback port it puts in
// HOTLINE_ADDR, and waits until its /readyz answers 200. Output goes to a file in logDir.
func StartProcess(ctx context.Context, name, bin string, args, env []string, logDir string) (*Process, error) {
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(logDir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create %s log: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(childEnv(), env...)
	cmd.Env = append(cmd.Env, "HOTLINE_ADDR="+addr)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Process{Name: name, Base: "http://" + addr, cmd: cmd, log: logPath, done: make(chan error, 1)}
	go func() {
		p.done <- cmd.Wait()
		logFile.Close()
	}()
	if err := p.waitReady(ctx, 90*time.Second); err != nil {
		p.Kill()
		return nil, err
	}
	return p, nil
}

func childEnv() []string {
	var env []string
next:
	for _, kv := range os.Environ() {
		for _, p := range settingPrefixes {
			if strings.HasPrefix(kv, p) {
				continue next
			}
		}
		env = append(env, kv)
	}
	return env
}

func (p *Process) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		select {
		case err := <-p.done:
			p.done <- err
			return fmt.Errorf("%s exited before it was ready (%v):\n%s", p.Name, err, p.LogTail(30))
		default:
		}
		res, err := client.Get(p.Base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v:\n%s", p.Name, limit, p.LogTail(30))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// PID is the process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// RSS is the process's resident memory in bytes (VmRSS in /proc/<pid>/status).
func (p *Process) RSS() (int64, error) { return RSS(p.PID()) }

// RSS reads a process's resident memory in bytes.
func RSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read memory of process %d: %w", pid, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parse VmRSS %q: %w", v, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS for process %d", pid)
}

// CPU is the processor time the process has used (utime and stime in /proc/<pid>/stat).
func (p *Process) CPU() (time.Duration, error) {
	_, cpu, err := readStatCPU("/proc", p.PID())
	if err != nil {
		return 0, fmt.Errorf("read processor time of process %d: %w", p.PID(), err)
	}
	return cpu, nil
}

// Settle waits until the process is idle (under 5% of a core for a second), so that a
// measurement does not share the machine with work left over from the one before. It
// gives up after limit and says whether the process settled.
func (p *Process) Settle(ctx context.Context, limit time.Duration) (bool, error) {
	deadline := time.Now().Add(limit)
	last, err := p.CPU()
	if err != nil {
		return false, err
	}
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(time.Second):
		}
		now, err := p.CPU()
		if err != nil {
			return false, err
		}
		if now-last < 50*time.Millisecond {
			return true, nil
		}
		last = now
	}
	return false, nil
}

// Kill stops the process at once (SIGKILL), as a crash would, and waits for it.
func (p *Process) Kill() {
	p.cmd.Process.Signal(syscall.SIGKILL) //nolint:errcheck // already gone is fine
	p.wait(10 * time.Second)
}

// Stop asks the process to shut down (SIGTERM) and waits for it; SIGKILL after limit.
func (p *Process) Stop(limit time.Duration) error {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop %s: %w", p.Name, err)
	}
	if !p.wait(limit) {
		p.Kill()
		return fmt.Errorf("%s did not stop within %v; killed", p.Name, limit)
	}
	return nil
}

func (p *Process) wait(limit time.Duration) bool {
	select {
	case err := <-p.done:
		p.done <- err
		return true
	case <-time.After(limit):
		return false
	}
}

// LogTail is the last n lines the process wrote.
func (p *Process) LogTail(n int) string {
	b, err := os.ReadFile(p.log)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// FreeAddr is a loopback address with a port nothing listens on.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}
