package bench

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Runs over runs: "hotline bench -runs 3" runs the selected scenarios three times, and
// "-compare OTHER" runs them as often for another Hotline executable, alternately (other,
// this, other, this, ...) so that both share the machine's slow and fast moments; each run
// on a freshly emptied database and Redis db, as a single run is. Each run's whole table
// goes to a file; the command prints the ranges, minimum to maximum over the runs, side by
// side: figures from a machine whose speed moves by a fifth between runs, never a best run.

// SeriesConfig is how many runs, and against which other Hotline.
type SeriesConfig struct {
	Runs         int    // runs of each binary
	Compare      string // another Hotline executable, measured alternately with this one; "": none
	Label        string // this binary's name in the table
	CompareLabel string // the other one's
}

// seriesFlags declares the flags on fs; the function it returns checks them once fs has
// parsed them.
func seriesFlags(fs *flag.FlagSet, cfg *SeriesConfig) func() error {
	fs.IntVar(&cfg.Runs, "runs", 1, "runs of the selected scenarios for each binary; more than 1 (or -compare) prints ranges over the runs")
	fs.StringVar(&cfg.Compare, "compare", "", "another Hotline executable: run it and this one (or -binary) alternately, -runs times each, and print their ranges side by side")
	fs.StringVar(&cfg.Label, "label", "", "this binary's name in the side-by-side table (default \"after\" with -compare, else \"this\")")
	fs.StringVar(&cfg.CompareLabel, "compare-label", "before", "the -compare binary's name in the side-by-side table")
	return func() error {
		if cfg.Label == "" {
			cfg.Label = "this"
			if cfg.Compare != "" {
				cfg.Label = "after"
			}
		}
		switch {
		case cfg.Runs < 1 || cfg.Runs > 100:
			return errors.New("-runs is from 1 to 100")
		case cfg.Compare != "" && (cfg.Label == cfg.CompareLabel || strings.TrimSpace(cfg.CompareLabel) == "" || strings.TrimSpace(cfg.Label) == ""):
			return errors.New("-label and -compare-label must be two different names")
		case cfg.Compare != "":
			st, err := os.Stat(cfg.Compare)
			if err != nil {
				return fmt.Errorf("-compare: %w", err)
			}
			if !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
				return fmt.Errorf("-compare %s is not an executable file", cfg.Compare)
			}
		}
		return nil
	}
}

// series says whether the settings ask for more than one run.
func (c SeriesConfig) series() bool { return c.Runs > 1 || c.Compare != "" }

// Side is one binary of a series and the reports of its runs.
type Side struct {
	Label, Path string
	Version     string // from the build information stamped in the file
	Reports     []*Report
}

// runOrder is the side of each run in turn: one run of every side, runs times, every other
// round in reverse (ABBA: before, after, after, before, before, after, …), so that a machine
// growing steadily slower or faster over the series does not favour one side.
func runOrder(runs, sides int) []int {
	order := make([]int, 0, runs*sides)
	for r := range runs {
		for s := range sides {
			if r%2 == 1 {
				s = sides - 1 - s
			}
			order = append(order, s)
		}
	}
	return order
}

// RunSeries runs the scenarios cfg.Series asks for and prints the ranges. It stops at the
// first run that fails (a guarantee that did not hold, or a scenario that could not run),
// prints the ranges of the runs before it, and returns that run's error.
func RunSeries(ctx context.Context, cfg Config, out io.Writer) ([]*Side, error) {
	this := cfg.Binary
	if this == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find the Hotline executable: %w", err)
		}
		this = exe
	}
	sides := []*Side{{Label: cfg.Series.Label, Path: this}}
	if cfg.Series.Compare != "" {
		sides = []*Side{{Label: cfg.Series.CompareLabel, Path: cfg.Series.Compare}, sides[0]}
	}
	for _, s := range sides {
		s.Version = binaryVersion(s.Path)
	}
	root := cfg.LogDir
	if root == "" {
		dir, err := os.MkdirTemp("", "hotline-bench-")
		if err != nil {
			return nil, fmt.Errorf("make a log folder: %w", err)
		}
		root = dir
	}
	order := runOrder(cfg.Series.Runs, len(sides))
	fmt.Fprintf(out, "bench: %d runs, each one's output and logs in %s\n", len(order), root)
	for i, si := range order {
		s := sides[si]
		name := fmt.Sprintf("run-%d-%s", i+1, fileSafe(s.Label))
		rcfg := cfg
		rcfg.Binary, rcfg.LogDir = s.Path, filepath.Join(root, name)
		if err := os.MkdirAll(rcfg.LogDir, 0o755); err != nil {
			return sides, fmt.Errorf("make a log folder: %w", err)
		}
		path := filepath.Join(root, name+".txt")
		f, err := os.Create(path)
		if err != nil {
			return sides, fmt.Errorf("create %s: %w", path, err)
		}
		tag := fmt.Sprintf("[%d/%d %s] ", i+1, len(order), s.Label)
		fmt.Fprintf(out, "%sbench: %s (%s), output in %s\n", tag, s.Path, s.Version, path)
		rep, err := Run(ctx, rcfg, &progressTee{file: f, out: out, tag: tag})
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write %s: %w", path, cerr)
		}
		if err != nil {
			PrintSeries(out, sides)
			return sides, fmt.Errorf("run %d of %d (%s, %s) failed, its output is in %s: %w", i+1, len(order), s.Label, s.Path, path, err)
		}
		s.Reports = append(s.Reports, rep)
	}
	PrintSeries(out, sides)
	return sides, nil
}

// fileSafe is a label as a part of a file name.
func fileSafe(label string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == os.PathSeparator || r == ' ' || r < ' ' {
			return '_'
		}
		return r
	}, label)
}

// binaryVersion is what a Go executable says of its source: its module version when it
// has one, else the commit it was built from (and whether the tree had changes), as the
// go command stamps it when building in a git checkout, else the file's time.
func binaryVersion(path string) string {
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return "not a Go executable: " + err.Error()
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, at, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		// Built with -buildvcs=false or outside a checkout: the file's time tells builds
		// apart at least.
		v := "no commit stamped" // go build -buildvcs=true stamps it
		if st, err := os.Stat(path); err == nil {
			v += ", built " + st.ModTime().UTC().Format("2006-01-02 15:04 UTC")
		}
		return v
	}
	v := rev[:min(12, len(rev))]
	if modified == "true" {
		v += "-dirty"
	}
	if at != "" {
		v += " of " + at
	}
	return v
}

// progressTee writes a run's output to its file, and its progress lines ("bench: ...")
// to out too, tagged with the run.
type progressTee struct {
	file io.Writer
	out  io.Writer
	tag  string
	line []byte // the last line, until its end comes
}

func (t *progressTee) Write(p []byte) (int, error) {
	n, err := t.file.Write(p)
	if err != nil {
		return n, err
	}
	t.line = append(t.line, p...)
	for {
		i := bytes.IndexByte(t.line, '\n')
		if i < 0 {
			break
		}
		if l := t.line[:i+1]; bytes.HasPrefix(l, []byte("bench: ")) {
			fmt.Fprintf(t.out, "%s%s", t.tag, l)
		}
		t.line = t.line[i+1:]
	}
	return n, nil
}

// span is the range of a figure over runs: the runs that measured it (a value above 0).
type span struct {
	Min, Max float64
	N        int
}

func (s *span) add(v float64) {
	if v <= 0 {
		return
	}
	if s.N == 0 || v < s.Min {
		s.Min = v
	}
	if s.N == 0 || v > s.Max {
		s.Max = v
	}
	s.N++
}

// format prints the range with prec decimals and unit after it ("338–429", "4.40–9.70
// ms"), one figure when both ends print the same, and how many of runs measured it when
// not all did; "" when none did.
func (s span) format(prec int, unit string, runs int) string {
	if s.N == 0 {
		return ""
	}
	lo, hi := strconv.FormatFloat(s.Min, 'f', prec, 64), strconv.FormatFloat(s.Max, 'f', prec, 64)
	out := lo
	if hi != lo {
		out += "–" + hi
	}
	out += unit
	if s.N < runs {
		out += fmt.Sprintf(" (%d of %d runs)", s.N, runs)
	}
	return out
}

// rowKey names a row across runs: its scenario, its concurrency, and which of the rows
// with both it is in its table.
type rowKey struct {
	Scenario    string
	Concurrency int
	Nth         int
}

// keyed is a report's rows by key, and the keys in the table's order.
func keyed(r *Report) (map[rowKey]Row, []rowKey) {
	rows := make(map[rowKey]Row, len(r.Rows))
	keys := make([]rowKey, 0, len(r.Rows))
	seen := map[rowKey]int{}
	for _, row := range r.Rows {
		k := rowKey{Scenario: row.Scenario, Concurrency: row.Concurrency}
		k.Nth = seen[k]
		seen[k]++
		rows[k] = row
		keys = append(keys, k)
	}
	return rows, keys
}

// sideRanges is what one side measured in one row over its runs.
type sideRanges struct {
	Runs                          int // the side's runs
	Throughput, P99, Ratio, PGCPU span
	Errors                        int // over all its runs
}

// seriesRow is one row of the side-by-side table.
type seriesRow struct {
	rowKey
	Sides []sideRanges
	// Speedup is the last side's throughput over the first's, run by run (the runs that
	// went one after the other); only with two sides.
	Speedup span
}

// summarize gathers the sides' rows that carry a figure, in the order of the tables.
func summarize(sides []*Side) []seriesRow {
	var (
		order []rowKey
		known = map[rowKey]bool{}
		index = make([][]map[rowKey]Row, len(sides))
	)
	for si, s := range sides {
		for _, r := range s.Reports {
			rows, keys := keyed(r)
			index[si] = append(index[si], rows)
			for _, k := range keys {
				if !known[k] {
					known[k] = true
					order = append(order, k)
				}
			}
		}
	}
	var out []seriesRow
	for _, k := range order {
		sr := seriesRow{rowKey: k, Sides: make([]sideRanges, len(sides))}
		figures := false
		for si := range sides {
			rg := &sr.Sides[si]
			rg.Runs = len(index[si])
			for _, rows := range index[si] {
				row, ok := rows[k]
				if !ok {
					continue
				}
				rg.Throughput.add(row.Throughput)
				rg.P99.add(float64(row.P99) / float64(time.Millisecond))
				rg.Ratio.add(row.Ratio)
				rg.PGCPU.add(float64(row.PGCPUPer) / float64(time.Millisecond))
				rg.Errors += row.Errors
			}
			figures = figures || rg.Throughput.N+rg.P99.N+rg.Ratio.N+rg.PGCPU.N > 0
		}
		if !figures {
			continue
		}
		if len(sides) == 2 {
			for i := range min(len(index[0]), len(index[1])) {
				if a, b := index[0][i][k], index[1][i][k]; a.Throughput > 0 && b.Throughput > 0 {
					sr.Speedup.add(b.Throughput / a.Throughput)
				}
			}
		}
		out = append(out, sr)
	}
	return out
}

// PrintSeries writes the machine once, then every row's ranges for each side.
func PrintSeries(out io.Writer, sides []*Side) {
	var first *Report
	runs := 0
	for _, s := range sides {
		runs = max(runs, len(s.Reports))
		if first == nil && len(s.Reports) > 0 {
			first = s.Reports[0]
		}
	}
	if first == nil {
		fmt.Fprintln(out, "\nbench: no run finished; nothing to compare")
		return
	}
	names := make([]string, len(sides))
	for i, s := range sides {
		names[i] = s.Label
	}
	fmt.Fprintf(out, "\nHotline load harness, ranges over runs (minimum–maximum, never a best run) — %s\n", first.Machine)
	fmt.Fprintf(out, "Runs: %s, in that order, %d times over; each on an emptied database and Redis db.\n", strings.Join(names, ", "), runs)
	for _, s := range sides {
		fmt.Fprintf(out, "  %s: %s (%s), %d runs\n", s.Label, s.Path, s.Version, len(s.Reports))
	}
	first.Setup.Print(out)
	var fsync span
	for _, s := range sides {
		for _, r := range s.Reports {
			if r.Setup != nil && r.Setup.FsyncErr == nil {
				fsync.add(float64(r.Setup.Fsync.Nanoseconds()) / 1000)
			}
		}
	}
	if fsync.N > 1 {
		fmt.Fprintf(out, "Disk over the runs: 8 KB write + fdatasync %s.\n", fsync.format(0, " µs", fsync.N))
	}
	fmt.Fprintf(out, "%s\n\n", pgCPUExplained)

	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	speedup := ""
	if len(sides) == 2 {
		speedup = fmt.Sprintf("\t%s÷%s throughput, run by run", sides[1].Label, sides[0].Label)
	}
	fmt.Fprintf(w, "scenario\tconc\tbinary\tthroughput/s\tp99\tratio\tpg cpu/row\terrors%s\n", speedup)
	for _, r := range summarize(sides) {
		for si, rg := range r.Sides {
			scenario, conc := "", ""
			if si == 0 {
				scenario = r.Scenario
				if r.Concurrency > 0 {
					conc = strconv.Itoa(r.Concurrency)
				}
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d", scenario, conc, sides[si].Label, rg.Throughput.format(0, "", rg.Runs),
				rg.P99.format(2, " ms", rg.Runs), rg.Ratio.format(2, "", rg.Runs), rg.PGCPU.format(2, " ms", rg.Runs), rg.Errors)
			if speedup != "" {
				fmt.Fprint(w, "\t")
				if si == len(r.Sides)-1 {
					fmt.Fprint(w, r.Speedup.format(2, "", min(len(sides[0].Reports), len(sides[1].Reports))))
				}
			}
			fmt.Fprintln(w)
		}
	}
	w.Flush()

	fmt.Fprintln(out)
	for _, s := range sides {
		met := 0
		var idle, peak, redis span
		for _, r := range s.Reports {
			if r.TargetMet {
				met++
			}
			idle.add(float64(r.IdleRSS) / (1 << 20))
			peak.add(float64(r.LoadRSS) / (1 << 20))
			if r.RedisMeasured {
				redis.add(max(r.RedisPerTicket, 1e-9)) // 0 bytes is a measurement
			}
		}
		n := len(s.Reports)
		fmt.Fprintf(out, "%s: intake at ≥ %.2f of the bare insert at every level in %d of %d runs; server RSS idle %s, peak %s; Redis %s per open ticket%s\n",
			s.Label, IntakeTarget, met, n, orNone(idle.format(0, " MiB", n)), orNone(peak.format(0, " MiB", n)), orNone(redis.format(0, " bytes", n)),
			floorSharesNote(s.Reports))
	}
}

// floorSharesNote is the range over runs of the floor's share of the bare insert at each
// signed-SMS level ("; the rows alone reach 1: 0.55–0.62, 4: 0.70 of the bare insert"),
// "" when no run measured one.
func floorSharesNote(reports []*Report) string {
	var levels []int
	spans := map[int]*span{}
	for _, r := range reports {
		for _, l := range r.FloorShares {
			if spans[l.Concurrency] == nil {
				spans[l.Concurrency] = &span{}
				levels = append(levels, l.Concurrency)
			}
			spans[l.Concurrency].add(l.Ratio)
		}
	}
	var parts []string
	for _, c := range levels {
		if sp := spans[c]; sp.N > 0 {
			parts = append(parts, fmt.Sprintf("%d: %s", c, sp.format(2, "", len(reports))))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "; the rows alone reach " + strings.Join(parts, ", ") + " of the bare insert"
}

func orNone(s string) string {
	if s == "" {
		return "not measured"
	}
	return s
}
