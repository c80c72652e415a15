package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"github.com/hotlinedesk/hotline/app/bench"
)

// command is one of hotline's commands, as help lists it.
type command struct{ name, args, summary string }

// commands are hotline's commands, in the order help lists them.
var commands = []command{
	{"serve", "[--demo] [--role api|worker|all]", "run the API, the web console and the job worker (the default command)"},
	{"worker", "", "run the job worker only (serve --role worker)"},
	{"migrate", "", "apply the database migrations and exit"},
	{"demo", "", "seed demo teams, agents and tickets (and the first admin) and exit"},
	{"files", "migrate [--batch N] [--dry-run]", "move the files the database keeps into the file store (FILES_URL) and exit"},
	{"simulate", "sms|call|wechat|email [flags]", "play a customer texting, calling, writing on WeChat or emailing a running desk"},
	{"bench", "[flags]", "load harness against PostgreSQL and Redis"},
}

func commandNamed(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func isHelp(arg string) bool { return arg == "-h" || arg == "-help" || arg == "--help" }

// usage lists the commands, one a line.
func usage(w io.Writer) {
	fmt.Fprint(w, "Hotline, the support and complaint desk.\n\nUsage: hotline [COMMAND] [FLAGS]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun \"hotline help COMMAND\" or \"hotline COMMAND -h\" for a command's flags.\n"+
		"Settings come from the environment (DATABASE_URL, REDIS_URL, HOTLINE_ADDR, ...): see docs/configuration.md.\n")
}

// help answers "hotline help [COMMAND [CHANNEL]]".
func help(ctx context.Context, w io.Writer, args []string) error {
	if len(args) == 0 {
		usage(w)
		return nil
	}
	switch args[0] {
	case "bench":
		// Its flag set prints its flags and says it did so.
		if err := bench.Main(ctx, []string{"-h"}, w); !errors.Is(err, flag.ErrHelp) {
			return err
		}
		return nil
	case "simulate":
		if len(args) > 1 {
			if s, ok := simulations[args[1]]; ok {
				fs, _ := s.flags()
				printFlags(w, fs, s.usage)
				return nil
			}
		}
		simulateUsage(w)
		return nil
	}
	if args[0] == "files" {
		fs, _ := filesFlags()
		printFlags(w, fs, "files migrate [--batch N] [--dry-run]")
		return nil
	}
	c, ok := commandNamed(args[0])
	if !ok {
		usage(os.Stderr)
		return fmt.Errorf("unknown command %q", args[0])
	}
	fs, _ := commandFlags(c.name)
	printFlags(w, fs, strings.TrimSpace(c.name+" "+c.args))
	return nil
}

// serveOptions are the flags of serve, worker, migrate and demo.
type serveOptions struct {
	demo bool
	role string
}

// commandFlags is a command's flag set and where its values go.
func commandFlags(name string) (*flag.FlagSet, *serveOptions) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	opts := &serveOptions{}
	if name == "serve" || name == "worker" {
		fs.BoolVar(&opts.demo, "demo", false, "seed demo teams, agents and tickets before serving (once: a desk with teams is left as it is)")
	}
	if name == "serve" {
		fs.StringVar(&opts.role, "role", "", "what this process does: api, worker or all (default HOTLINE_ROLE, else all)")
	}
	return fs, opts
}

// parseFlags parses a command's flags. Asked for help (-h), it prints them to stdout and
// returns flag.ErrHelp (the process then exits 0); a wrong flag prints them to stderr.
func parseFlags(fs *flag.FlagSet, usageLine string, args []string) error {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		printFlags(os.Stdout, fs, usageLine)
		return flag.ErrHelp
	}
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if err != nil {
		printFlags(os.Stderr, fs, usageLine)
		return fmt.Errorf("%s: %w", fs.Name(), err)
	}
	return nil
}

// printFlags prints a command's usage line and flags.
func printFlags(w io.Writer, fs *flag.FlagSet, usageLine string) {
	fmt.Fprintf(w, "Usage: hotline %s\n", usageLine)
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n == 0 {
		fmt.Fprintln(w, "\n(no flags; settings come from the environment)")
		return
	}
	fmt.Fprint(w, "\nFlags:\n")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// firstSignIn is the first admin a start created: Password is "" when HOTLINE_ADMIN_PASSWORD
// gave it (it is then not repeated).
type firstSignIn struct{ Email, Password string }

// signIn is what a start tells the person who ran it.
type signIn struct {
	URL     string
	Admin   *firstSignIn // the first admin, created by this start
	Demo    bool         // the demo's people, seeded by this start
	Worker  bool         // a worker serves no console
	Command string       // "demo": the command seeded and exits; the console is started apart
}

// printSignIn prints the one block that tells how to sign in. It is printed, never logged:
// a generated password appears here once and nowhere else, and a later start (nothing
// created) prints only where the console is.
func printSignIn(w io.Writer, s signIn) {
	var b strings.Builder
	line := strings.Repeat("─", 64)
	b.WriteString("\n" + line + "\n")
	switch {
	case s.Worker:
		b.WriteString("  Hotline worker is running; the console is served by the API processes.\n")
	case s.Command == "demo":
		fmt.Fprintf(&b, "  Demo data is in. Start Hotline (go run ./app) and open %s\n", s.URL)
	default:
		fmt.Fprintf(&b, "  Hotline is running. Open the console: %s\n", s.URL)
	}
	if s.Admin != nil {
		b.WriteString("\n  Sign in as the first admin:\n")
		fmt.Fprintf(&b, "    email     %s\n", s.Admin.Email)
		if s.Admin.Password != "" {
			fmt.Fprintf(&b, "    password  %s\n", s.Admin.Password)
			b.WriteString("    (generated, and shown only this once: change it after signing in)\n")
		} else {
			b.WriteString("    password  the one in HOTLINE_ADMIN_PASSWORD\n")
		}
	}
	if s.Demo {
		fmt.Fprintf(&b, "\n  Demo accounts, all with the password %s:\n", demoPassword)
		for _, role := range []string{"agent", "supervisor", "complaint officer"} {
			fmt.Fprintf(&b, "    %-18s %s\n", role, strings.Join(demoAccounts(role), ", "))
		}
	}
	if s.Admin == nil && !s.Demo && !s.Worker && s.Command != "demo" {
		b.WriteString("  Sign in with your account (the first admin's password was shown at the first start).\n")
	}
	b.WriteString(line + "\n\n")
	io.WriteString(w, b.String()) //nolint:errcheck // the terminal
}

// consoleURL is where people open the console: PUBLIC_BASE_URL, else the address Hotline
// listens on, as reached from this machine.
func consoleURL(cfg config) string {
	if cfg.PublicBaseURL != "" {
		return cfg.PublicBaseURL + "/"
	}
	return localURL(cfg.Addr) + "/"
}

// localURL is the address of a Hotline listening on addr, from this machine: a listener on
// every interface (":8080", "0.0.0.0:8080", "[::]:8080") is reached at localhost.
func localURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
