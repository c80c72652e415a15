package tickets_test

import (
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// module is the import path the layout below is written under.
const module = "github.com/hotlinedesk/hotline/"

// chapters are the packages beside the domain's core (package tickets), named for what they
// hold, each with the other chapters it may use. Dependencies point one way: a chapter uses
// the core, the core knows nothing of any chapter, and a chapter knows only the chapters
// listed for it. A new chapter (complaints, aftercare, notices, deadlines, ...) gets a row.
var chapters = map[string][]string{
	"tickets/reports":    nil, // the supervisors' figures: reads only
	"tickets/aftercare":  nil, // what follows a resolution: surveys, follow-up calls (tickets.Aftercare)
	"tickets/complaints": nil, // formal complaints, their decision clock and board; the core opens them through tickets.Complaints
	"tickets/canned":     nil, // canned replies: titled texts with variables, global or a team's
	"tickets/outbox":     nil, // what Hotline tells staff through Slack: announcements collected, notices delivered, acknowledgements
	"tickets/deadlines":  nil, // the tickets' deadline sweep, SLA policies, the calendar's days; a breach opens complaints through tickets.Complaints
	"tickets/access":     nil, // the doors: staff sign-in and sessions, attempt limits, webhook nonces, customers' status lookups
	"tickets/delivery":   nil, // messages to customers after the commit: send claims, providers' reports, opt-outs, notice wordings
	"tickets/quality":    nil, // quality reviews (质检): rubrics, samples, reviews and answers, calibration
	"tickets/privacy":    nil, // personal values masked in everyday views and logs and revealed on purpose; retention, legal holds, a customer's copy and erasure, the trail of who read what
	"tickets/stages":     nil, // progress stages per category, where each ticket stands, stage deadlines, documents awaited
	"tickets/files":      nil, // the file stores (tickets.FileStore): a local directory, S3-compatible buckets; app plugs one in
}

// TestChaptersPointOneWay fails when the core or a chapter depends, directly or through any
// other package, on a chapter it may not use.
func TestChaptersPointOneWay(t *testing.T) {
	const core = "tickets"
	may := map[string][]string{core: nil} // package → the chapters it may use
	for c, uses := range chapters {
		may[c] = append([]string{c}, uses...)
	}
	var args []string
	for p := range may {
		args = append(args, module+p)
	}
	// One line a package: its import path, then every package it depends on (tests aside).
	cmd := exec.Command("go", append([]string{"list", "-f", "{{.ImportPath}}{{range .Deps}} {{.}}{{end}}"}, args...)...)
	out, err := cmd.Output()
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		t.Fatalf("go list: %v\n%s", err, ee.Stderr)
	} else if err != nil {
		t.Fatalf("go list: %v", err)
	}
	listed := 0
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		pkg := strings.TrimPrefix(f[0], module)
		uses, ok := may[pkg]
		if !ok {
			t.Fatalf("go list described %s, which is not in the layout", f[0])
		}
		listed++
		for _, d := range f[1:] {
			if c := chapterOf(strings.TrimPrefix(d, module)); c != "" && !slices.Contains(uses, c) {
				t.Errorf("%s depends on %s: chapters point one way (see chapters in tickets/layout_test.go)", pkg, d)
			}
		}
	}
	if listed != len(may) {
		t.Fatalf("go list described %d packages of %d:\n%s", listed, len(may), out)
	}
}

// chapterOf is the chapter pkg belongs to (itself or a package under it), or "".
func chapterOf(pkg string) string {
	for c := range chapters {
		if pkg == c || strings.HasPrefix(pkg, c+"/") {
			return c
		}
	}
	return ""
}
