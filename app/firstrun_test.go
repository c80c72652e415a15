package main

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hotlinedesk/hotline/app/bench"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/privacy"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// A newcomer's first ten minutes, with the real binary (this test binary, run as hotline):
// the first start's sign-in block, help, and simulate for every channel on both databases.

// hotlineSettings are the environment variables Hotline reads; a child gets only those its
// test gives it.
var hotlineSettings = []string{"HOTLINE_", "DATABASE_URL", "REDIS_URL", "TWILIO_", "WECHAT_", "SLACK_", "SMTP_", "IMAP_", "EMAIL_", "PUBLIC_BASE_URL"}

// runHotline runs hotline with args to its end in dir, with env on top of the test's own
// environment less Hotline's settings; it returns its stdout, its stderr and its exit code.
func runHotline(t *testing.T, dir string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, testBinary(t), args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !slicesHasPrefix(kv, hotlineSettings) {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, childMarker)
	cmd.Env = append(cmd.Env, env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("hotline %v: %v", args, err)
	}
	return out.String(), errOut.String(), code
}

func slicesHasPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// testDatabases are a fresh SQLite file and, when PostgreSQL answers (under CI it must), a
// fresh PostgreSQL database.
func testDatabases(t *testing.T) map[string]func(t *testing.T) string {
	return map[string]func(t *testing.T) string{
		"sqlite": func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "hotline.db") },
		"postgres": func(t *testing.T) string {
			pg, err := url.Parse(tickettest.PostgresURL())
			if err != nil {
				t.Fatal(err)
			}
			tickettest.RequireService(t, "PostgreSQL", pg.Host)
			return freshDatabase(t, *pg)
		},
	}
}

// startChild starts "hotline args" with env and returns it once it answers.
func startChild(t *testing.T, name string, env []string, args ...string) *bench.Process {
	t.Helper()
	p, err := bench.StartProcess(context.Background(), name, testBinary(t), args, append([]string{childMarker}, env...), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	return p
}

// signInBlock waits for the process's sign-in block and returns it.
func signInBlock(t *testing.T, p *bench.Process) (block, output string) {
	t.Helper()
	rule := strings.Repeat("─", 64)
	waitFor(t, 10*time.Second, func() bool { return strings.Count(p.LogTail(1000), rule) >= 2 })
	output = p.LogTail(1000)
	i := strings.Index(output, rule)
	j := strings.Index(output[i+len(rule):], rule)
	return output[i : i+len(rule)+j+len(rule)], output
}

var passwordLine = regexp.MustCompile(`(?m)^\s+password\s+(\S+)$`)

// The first start creates the first admin and prints one block: where the console is, the
// admin's email and generated password (it signs in), and with --demo the demo accounts
// by role. No log line carries a password. A later start prints where the console is and
// no password.
func TestFirstStartPrintsSignIn(t *testing.T) {
	dbs := testDatabases(t)
	for _, c := range []struct {
		name, db string
		args     []string
		env      []string
		url      string // "" : the address the process listens on
	}{
		{name: "sqlite", db: "sqlite", args: []string{"serve"}},
		{name: "sqlite demo", db: "sqlite", args: []string{"--demo"}},
		{name: "postgres demo behind a public address", db: "postgres", args: []string{"serve", "--demo"},
			env: []string{"PUBLIC_BASE_URL=https://desk.example.com"}, url: "https://desk.example.com/"},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := append([]string{"DATABASE_URL=" + dbs[c.db](t), "HOTLINE_LOG_LEVEL=info"}, c.env...)
			demo := strings.Contains(strings.Join(c.args, " "), "--demo")

			first := startChild(t, "first", env, c.args...)
			block, output := signInBlock(t, first)
			wantURL := c.url
			if wantURL == "" {
				wantURL = first.Base + "/"
			}
			m := passwordLine.FindStringSubmatch(block)
			if !strings.Contains(block, wantURL) || !strings.Contains(block, "admin@hotline.local") || m == nil {
				t.Fatalf("the first start's sign-in block lacks the console's address %s, the admin's email or a password:\n%s", wantURL, block)
			}
			password := m[1]
			var login struct{ Token string }
			call(t, "POST", first.Base+"/api/v1/auth/login", "", map[string]string{"email": "admin@hotline.local", "password": password}, 200, &login)
			for _, want := range []string{"agent ", "li.na@demo.hotline", "supervisor ", "chen.jing@demo.hotline", "complaint officer ", "wang.fang@demo.hotline", demoPassword} {
				if strings.Contains(block, want) != demo {
					t.Errorf("demo %v, yet the block says %q: %v\n%s", demo, want, !demo, block)
				}
			}
			for _, line := range strings.Split(output, "\n") {
				if strings.Contains(line, "level=") && (strings.Contains(line, password) || strings.Contains(line, demoPassword)) {
					t.Errorf("a log line carries a password: %s", line)
				}
			}
			if err := first.Stop(20 * time.Second); err != nil {
				t.Fatal(err)
			}

			again := startChild(t, "again", env, c.args...)
			block, output = signInBlock(t, again)
			if c.url == "" {
				wantURL = again.Base + "/" // another free port
			}
			if !strings.Contains(block, wantURL) {
				t.Errorf("a later start does not say where the console is (%s):\n%s", wantURL, block)
			}
			if passwordLine.MatchString(block) || strings.Contains(output, password) || strings.Contains(output, demoPassword) {
				t.Errorf("a later start shows a password:\n%s", output)
			}
		})
	}
}

// hotline -h, --help and help list the commands one a line and exit 0, as do a command's
// -h and "help COMMAND" with its flags; none of them opens a database. An unknown command
// fails and lists the commands.
func TestHelpListsCommandsAndFlags(t *testing.T) {
	everyCommand := []string{"\n  serve ", "\n  worker ", "\n  migrate ", "\n  demo ", "\n  simulate ", "\n  bench "}
	everyChannel := []string{"\n  sms ", "\n  call ", "\n  wechat ", "\n  email ", "-digits", "-voicemail", "-missed", "-openid", "-subject", "-file"}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, everyCommand},
		{[]string{"-h"}, everyCommand},
		{[]string{"help"}, everyCommand},
		{[]string{"help", "serve"}, []string{"-demo", "-role"}},
		{[]string{"serve", "-h"}, []string{"-demo", "-role"}},
		{[]string{"--demo", "-h"}, []string{"-demo", "-role"}},
		{[]string{"migrate", "-h"}, []string{"Usage: hotline migrate", "no flags"}},
		{[]string{"help", "bench"}, []string{"-database-url"}},
		{[]string{"bench", "-h"}, []string{"-database-url"}},
		{[]string{"help", "simulate"}, everyChannel},
		{[]string{"simulate", "-h"}, everyChannel},
		{[]string{"simulate", "call", "-h"}, []string{"-digits", "-voicemail", "-missed", "-url"}},
		{[]string{"help", "simulate", "email"}, []string{"-from", "-subject", "-body", "-file"}},
	} {
		dir := t.TempDir()
		stdout, stderr, code := runHotline(t, dir, nil, c.args...)
		if code != 0 {
			t.Errorf("hotline %v exited %d: %s", c.args, code, stderr)
		}
		for _, want := range c.want {
			if !strings.Contains(stdout, want) {
				t.Errorf("hotline %v does not list %q:\n%s", c.args, want, stdout)
			}
		}
		if entries, _ := os.ReadDir(dir); len(entries) > 0 {
			t.Errorf("hotline %v left %v behind: help opened a database", c.args, entries)
		}
	}
	for _, args := range [][]string{{"frobnicate"}, {"simulate", "fax"}, {"serve", "--frobnicate"}} {
		_, stderr, code := runHotline(t, t.TempDir(), nil, args...)
		if code == 0 || !strings.Contains(stderr, "sms") && !strings.Contains(stderr, "\n  serve ") && !strings.Contains(stderr, "-demo") {
			t.Errorf("hotline %v exited %d, want a failure listing what there is:\n%s", args, code, stderr)
		}
	}
}

// simulate plays each channel against a running desk, signed as the provider signs, in
// both database modes, reading the server's own configuration (PostgreSQL included, where
// it once read another database's token): each message arrives as a ticket. Pointed at a
// desk over another database, or signing with another secret, it says so plainly.
func TestSimulateEveryChannel(t *testing.T) {
	for name, fresh := range testDatabases(t) {
		t.Run(name, func(t *testing.T) {
			env := []string{"DATABASE_URL=" + fresh(t), "HOTLINE_ADMIN_PASSWORD=firstrun-admin-password", "HOTLINE_LOG_LEVEL=warn"}
			english := name == "postgres" // English menus: Twilio transcribes the voicemail
			if english {
				// and WeChat in safe mode: the push is sealed and signed with msg_signature.
				env = append(env, "HOTLINE_IVR_LANGUAGE=en", "WECHAT_APP_ID=wxfirstrun0000001", "WECHAT_ENCODING_AES_KEY=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")
			}
			server := startChild(t, "desk", env, "serve", "--demo")
			sim := append(env, "HOTLINE_ADDR="+strings.TrimPrefix(server.Base, "http://"))
			simulate := func(args ...string) string {
				t.Helper()
				stdout, stderr, code := runHotline(t, t.TempDir(), sim, append([]string{"simulate"}, args...)...)
				if code != 0 {
					t.Fatalf("simulate %v exited %d:\n%s\n%s", args, code, stdout, stderr)
				}
				return stdout
			}
			out := simulate("sms", "--from", "+8613800138555", "--body", "我的车险理赔到哪一步了？")
			if !strings.Contains(out, "200 OK") || !strings.Contains(out, "HL-") {
				t.Errorf("simulate sms shows no acknowledgement:\n%s", out)
			}
			simulate("sms", "--from", "+8613800138556", "--body", "我要投诉，三周没人回电话")
			photo := filepath.Join(t.TempDir(), "damage.jpg")
			if err := os.WriteFile(photo, []byte("\xff\xd8\xff a photo of the dent"), 0o600); err != nil {
				t.Fatal(err)
			}
			simulate("sms", "--from", "+8613800138557", "--body", "车门的照片", "--media", photo)
			out = simulate("call", "--from", "+8613900139555", "--digits", "2", "--voicemail", "Please call me back about my claim")
			for _, want := range []string{"<Gather", "the caller presses 2", "<Record", "the call ends"} {
				if !strings.Contains(out, want) {
					t.Errorf("simulate call does not show %q:\n%s", want, out)
				}
			}
			simulate("call", "--from", "+8613700137555", "--missed")
			simulate("wechat", "--openid", "oFirstRunFollower", "--body", "理赔款什么时候到账？")
			simulate("email", "--from", "Wu Min <wu.min@example.com>", "--subject", "Claim CL-2026-0042 documents", "--body", "Documents attached; when will you decide?")

			var login struct{ Token string }
			call(t, "POST", server.Base+"/api/v1/auth/login", "", map[string]string{"email": "admin@hotline.local", "password": "firstrun-admin-password"}, 200, &login)
			type ticket struct {
				Ref, Channel, Subject string
				Team                  *struct{ Name string }
				Assignee              *struct{ Email string }
				Customer              struct {
					Phone, Email string
					WeChat       string `json:"wechat_openid"`
				}
			}
			var list struct{ Items []ticket }
			call(t, "GET", server.Base+"/api/v1/tickets?limit=200", login.Token, nil, 200, &list)
			find := func(who string) ticket {
				t.Helper()
				for _, tk := range list.Items {
					// The API shows identities masked (docs/privacy.md).
					if tk.Customer.Phone == privacy.MaskPhone(who) || tk.Customer.Email == privacy.MaskEmail(who) ||
						tk.Customer.WeChat == privacy.MaskValue(privacy.FieldWeChat, who) {
						return tk
					}
				}
				t.Fatalf("no ticket for %s among %+v", who, list.Items)
				return ticket{}
			}
			bodies := func(ref string) string {
				var d struct{ Messages []struct{ Body string } }
				call(t, "GET", server.Base+"/api/v1/tickets/"+ref, login.Token, nil, 200, &d)
				var b []string
				for _, m := range d.Messages {
					b = append(b, m.Body)
				}
				return strings.Join(b, "\n")
			}
			if tk := find("+8613800138555"); tk.Channel != "sms" || tk.Team == nil || tk.Team.Name != "理赔服务 Claims" || tk.Assignee == nil {
				t.Errorf("the simulated text's ticket %+v: want it on the Claims team, assigned", tk)
			}
			if tk := find("+8613800138556"); tk.Team == nil || tk.Team.Name != "投诉处理 Complaints" || tk.Assignee == nil || tk.Assignee.Email != "wang.fang@demo.hotline" {
				t.Errorf("the simulated complaint's ticket %+v: want it on the Complaints team, with its officer", tk)
			}
			var mms struct {
				Messages []struct {
					Attachments []struct {
						ContentType string `json:"content_type"`
					}
				}
			}
			call(t, "GET", server.Base+"/api/v1/tickets/"+find("+8613800138557").Ref, login.Token, nil, 200, &mms)
			if len(mms.Messages) == 0 || len(mms.Messages[0].Attachments) != 1 || mms.Messages[0].Attachments[0].ContentType != "image/jpeg" {
				t.Errorf("the simulated MMS's messages %+v: want one image/jpeg attachment", mms.Messages)
			}
			voicemail := find("+8613900139555")
			wantVoicemail := tickets.VoicemailAwaits // a Mandarin menu: Twilio does not transcribe
			if english {
				wantVoicemail = "Please call me back about my claim"
			}
			if got := bodies(voicemail.Ref); voicemail.Channel != "phone" || !strings.Contains(got, wantVoicemail) {
				t.Errorf("the voicemail's ticket %+v says %q, want %q", voicemail, got, wantVoicemail)
			}
			if tk := find("+8613700137555"); tk.Channel != "phone" || !strings.Contains(tk.Subject, "Missed call") {
				t.Errorf("the missed call's ticket %+v: want a missed call to call back", tk)
			}
			if tk := find("oFirstRunFollower"); tk.Channel != "wechat" || !strings.Contains(bodies(tk.Ref), "理赔款什么时候到账？") {
				t.Errorf("the WeChat message's ticket %+v", tk)
			}
			if tk := find("wu.min@example.com"); tk.Channel != "email" || tk.Subject != "Claim CL-2026-0042 documents" {
				t.Errorf("the email's ticket %+v", tk)
			}

			// Another database: named, nothing sent; a SQLite file that is not there (another
			// directory's) is named, not created.
			otherDB := filepath.Join(t.TempDir(), "other.db")
			other := append(append([]string(nil), sim...), "DATABASE_URL=sqlite:"+otherDB)
			_, stderr, code := runHotline(t, t.TempDir(), other, "simulate", "sms", "--body", "hello")
			if _, err := os.Stat(otherDB); code == 0 || !strings.Contains(stderr, "simulate reads database sqlite:"+otherDB+", which does not exist") || err == nil {
				t.Errorf("simulate over a missing SQLite file exited %d (file made: %v):\n%s", code, err == nil, stderr)
			}
			runHotline(t, t.TempDir(), other, "migrate")
			_, stderr, code = runHotline(t, t.TempDir(), other, "simulate", "sms", "--body", "hello")
			if code == 0 || !strings.Contains(stderr, "simulate reads database sqlite:") || !strings.Contains(stderr, "uses another") || !strings.Contains(stderr, "DATABASE_URL") {
				t.Errorf("simulate over another database exited %d:\n%s", code, stderr)
			}
			// The same database, another secret: the desk's 403 is explained.
			wrong := append(append([]string(nil), sim...), "TWILIO_AUTH_TOKEN=not-this-desks-token")
			_, stderr, code = runHotline(t, t.TempDir(), wrong, "simulate", "sms", "--body", "hello")
			if code == 0 || !strings.Contains(stderr, "refused") || !strings.Contains(stderr, "TWILIO_AUTH_TOKEN") {
				t.Errorf("simulate with another token exited %d:\n%s", code, stderr)
			}
		})
	}
}
