package bench

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Runs alternate between the binaries in pairs, the other one first: other, this, this,
// other, other, this.
func TestRunOrder(t *testing.T) {
	for _, c := range []struct {
		runs, sides int
		want        []int
	}{
		{3, 2, []int{0, 1, 1, 0, 0, 1}},
		{4, 2, []int{0, 1, 1, 0, 0, 1, 1, 0}},
		{1, 2, []int{0, 1}},
		{2, 3, []int{0, 1, 2, 2, 1, 0}},
		{3, 1, []int{0, 0, 0}},
		{1, 1, []int{0}},
	} {
		if got := runOrder(c.runs, c.sides); !slices.Equal(got, c.want) {
			t.Errorf("runOrder(%d, %d) = %v, want %v", c.runs, c.sides, got, c.want)
		}
	}
}

// A range prints its ends at the precision asked, one figure when they print the same,
// says how many runs measured it when not all did, and ignores what was not measured.
func TestSpanFormat(t *testing.T) {
	for _, c := range []struct {
		name   string
		values []float64
		prec   int
		unit   string
		runs   int
		want   string
	}{
		{"nothing measured", nil, 0, "", 3, ""},
		{"only zeros: not measured", []float64{0, 0}, 2, " ms", 2, ""},
		{"one run", []float64{338.4}, 0, "", 1, "338"},
		{"throughput", []float64{429.2, 338.4, 401}, 0, "", 3, "338–429"},
		{"order does not matter", []float64{9.7, 4.4, 6}, 2, " ms", 3, "4.40–9.70 ms"},
		{"ends that print the same", []float64{0.501, 0.499}, 2, "", 2, "0.50"},
		{"a run that did not measure it", []float64{0.8, 0, 0.9}, 2, " ms", 3, "0.80–0.90 ms (2 of 3 runs)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var s span
			for _, v := range c.values {
				s.add(v)
			}
			if got := s.format(c.prec, c.unit, c.runs); got != c.want {
				t.Errorf("format = %q, want %q", got, c.want)
			}
		})
	}
}

// The intake check is the lowest level's ratio, and says of each level whether it reached
// the target: the best level alone does not pass it.
func TestCheckLevels(t *testing.T) {
	for _, c := range []struct {
		name   string
		levels []LevelRatio
		lowest float64
		met    bool
		notes  []string
	}{
		{"every level", []LevelRatio{{1, 0.52}, {4, 0.61}, {16, 0.5}}, 0.5, true,
			[]string{"every level met it", "1: 0.52 met", "4: 0.61 met", "16: 0.50 met"}},
		{"the best level high, one low", []LevelRatio{{1, 0.19}, {4, 0.47}, {64, 0.73}}, 0.19, false,
			[]string{"not every level met it", "1: 0.19 below", "4: 0.47 below", "64: 0.73 met"}},
		{"a level the baseline did not serve", []LevelRatio{{1, 0.9}, {4, 0}}, 0, false,
			[]string{"4: 0.00 below"}},
		{"no levels", nil, 0, false, []string{"no levels measured"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			lowest, met, note := checkLevels(c.levels, IntakeTarget)
			if lowest != c.lowest || met != c.met {
				t.Errorf("checkLevels = %.2f, %v; want %.2f, %v", lowest, met, c.lowest, c.met)
			}
			for _, want := range c.notes {
				if !strings.Contains(note, want) {
					t.Errorf("note %q lacks %q", note, want)
				}
			}
		})
	}
}

// report is a run's report with the rows given.
func report(met bool, rows ...Row) *Report {
	return &Report{Machine: "test machine", Setup: &Setup{CPUs: 2, GoVersion: "go1.x", Fsync: 110 * time.Microsecond, FsyncOps: 10},
		Rows: rows, TargetMet: met, IdleRSS: 40 << 20, LoadRSS: 90 << 20}
}

// The side-by-side table: every row with a figure, keyed by scenario, concurrency and
// which of the rows sharing both it is; each binary's ranges over its runs; the after÷before
// throughput run by run; rows without figures left out.
func TestSummarize(t *testing.T) {
	intake := func(thr float64, p99 time.Duration, ratio float64, pg time.Duration) Row {
		return Row{Scenario: "intake: signed SMS", Concurrency: 1, Throughput: thr, P99: p99, Ratio: ratio, PGCPUPer: pg}
	}
	base := func(thr float64) Row { return Row{Scenario: "baseline: bare INSERT", Concurrency: 1, Throughput: thr} }
	memory := Row{Scenario: "memory", Notes: "no figures"}
	before := &Side{Label: "before", Path: "/tmp/hl-before", Reports: []*Report{
		report(false, base(1000), intake(300, 9*time.Millisecond, 0.30, 2*time.Millisecond), base(900), memory),
		report(false, base(1100), intake(400, 7*time.Millisecond, 0.36, 3*time.Millisecond), base(950), memory),
	}}
	after := &Side{Label: "after", Path: "/tmp/hl-after", Reports: []*Report{
		report(true, base(1000), intake(600, 5*time.Millisecond, 0.60, time.Millisecond), base(1000), memory),
		report(false, base(1000), intake(500, 6*time.Millisecond, 0.45, time.Millisecond), base(800), memory),
	}}
	rows := summarize([]*Side{before, after})
	var keys []rowKey
	for _, r := range rows {
		keys = append(keys, r.rowKey)
	}
	want := []rowKey{{"baseline: bare INSERT", 1, 0}, {"intake: signed SMS", 1, 0}, {"baseline: bare INSERT", 1, 1}}
	if !slices.Equal(keys, want) {
		t.Fatalf("rows %v, want %v", keys, want)
	}
	in := rows[1]
	if b, a := in.Sides[0], in.Sides[1]; b.Throughput != (span{300, 400, 2}) || a.Throughput != (span{500, 600, 2}) ||
		b.P99 != (span{7, 9, 2}) || b.Ratio != (span{0.30, 0.36, 2}) || b.PGCPU != (span{2, 3, 2}) || a.PGCPU != (span{1, 1, 2}) {
		t.Errorf("intake ranges: before %+v, after %+v", b, a)
	}
	if in.Speedup != (span{1.25, 2, 2}) { // 600/300 in the first pair of runs, 500/400 in the second
		t.Errorf("after÷before %+v, want 1.25–2", in.Speedup)
	}
	if second := rows[2]; second.Sides[0].Throughput != (span{900, 950, 2}) || second.Sides[1].Throughput != (span{800, 1000, 2}) {
		t.Errorf("the second baseline row was mixed with the first: %+v", second.Sides)
	}

	var out bytes.Buffer
	PrintSeries(&out, []*Side{before, after})
	for _, w := range []string{"test machine", "before: /tmp/hl-before", "after: /tmp/hl-after", "after÷before throughput",
		"300–400", "500–600", "5.00–6.00 ms", "0.30–0.36", "2.00–3.00 ms", "1.00 ms", "1.25–2.00",
		"before: intake at ≥ 0.50 of the bare insert at every level in 0 of 2 runs", "after: intake at ≥ 0.50 of the bare insert at every level in 1 of 2 runs",
		"peak 90 MiB", "fdatasync 110 µs"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("the table lacks %q:\n%s", w, out.String())
		}
	}
	if strings.Contains(out.String(), "memory  ") {
		t.Errorf("a row without figures was printed:\n%s", out.String())
	}

	// One binary, several runs: its ranges, no ratio between binaries.
	out.Reset()
	PrintSeries(&out, []*Side{after})
	if !strings.Contains(out.String(), "500–600") || strings.Contains(out.String(), "÷before") {
		t.Errorf("one binary's table:\n%s", out.String())
	}
}

// A run's output all goes to its file; its progress lines also go out, tagged, even when
// they arrive in pieces.
func TestProgressTee(t *testing.T) {
	var file, out bytes.Buffer
	tee := &progressTee{file: &file, out: &out, tag: "[1/2 before] "}
	for _, p := range []string{"Machine: 2 CPUs\nbench: inta", "ke at concurrency 1\n", "scenario  conc\n", "bench: FAILED: x\nbench: partial"} {
		if _, err := tee.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	if want := "Machine: 2 CPUs\nbench: intake at concurrency 1\nscenario  conc\nbench: FAILED: x\nbench: partial"; file.String() != want {
		t.Errorf("file got %q, want %q", file.String(), want)
	}
	if want := "[1/2 before] bench: intake at concurrency 1\n[1/2 before] bench: FAILED: x\n"; out.String() != want {
		t.Errorf("out got %q, want %q", out.String(), want)
	}
}

// The series' flags: labels by default, and refusals of what cannot run.
func TestSeriesFlags(t *testing.T) {
	dir := t.TempDir()
	exe, plain := filepath.Join(dir, "hl-before"), filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(plain, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args        []string
		runs        int
		label, comp string
		series      bool
	}{
		{nil, 1, "this", "", false},
		{[]string{"-runs", "3"}, 3, "this", "", true},
		{[]string{"-compare", exe}, 1, "after", exe, true},
		{[]string{"-compare", exe, "-runs", "3", "-label", "main", "-compare-label", "5fab4ee"}, 3, "main", exe, true},
	} {
		cfg, err := ParseFlags(c.args, &bytes.Buffer{})
		if err != nil {
			t.Errorf("%q: %v", c.args, err)
			continue
		}
		s := cfg.Series
		if s.Runs != c.runs || s.Label != c.label || s.Compare != c.comp || s.series() != c.series {
			t.Errorf("%q: %+v (series %v)", c.args, s, s.series())
		}
	}
	for _, args := range [][]string{
		{"-runs", "0"}, {"-runs", "101"}, {"-compare", filepath.Join(dir, "missing")}, {"-compare", plain}, {"-compare", dir},
		{"-compare", exe, "-label", "before"}, {"-compare", exe, "-compare-label", ""},
		{"-first-levels", "0"}, {"-first-levels", "a"},
	} {
		if _, err := ParseFlags(args, &bytes.Buffer{}); err == nil {
			t.Errorf("flags %q accepted", args)
		}
	}
	cfg, err := ParseFlags([]string{"-first-levels", ""}, &bytes.Buffer{})
	if err != nil || cfg.FirstLevels != nil {
		t.Errorf("-first-levels \"\": %v, %v; want none", cfg.FirstLevels, err)
	}
	if cfg, err := ParseFlags(nil, &bytes.Buffer{}); err != nil || !slices.Equal(cfg.FirstLevels, []int{1}) {
		t.Errorf("first texts by default at %v (%v), want at 1", cfg.FirstLevels, err)
	}
}

// A binary is named by what its build stamped, and a file that is no Go program says so.
func TestBinaryVersion(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if v := binaryVersion(exe); v == "" || strings.HasPrefix(v, "not a Go executable") {
		t.Errorf("this test binary's version: %q", v)
	}
	plain := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(plain, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if v := binaryVersion(plain); !strings.HasPrefix(v, "not a Go executable") {
		t.Errorf("a shell script's version: %q", v)
	}
}

// The floor's rows (intake's rows, bare) get ranges of their own beside the bare INSERT's
// and intake's, its ratio (intake over the floor) among them, and are not mixed with the
// floor's rows beside the first texts.
func TestSummarizeFloorRows(t *testing.T) {
	run := func(bare, floor, intake, firstFloor float64, pg time.Duration) *Report {
		return report(false,
			Row{Scenario: "baseline: bare INSERT", Concurrency: 4, Throughput: bare},
			Row{Scenario: FloorScenario, Concurrency: 4, Throughput: floor, Ratio: intake / floor, PGCPUPer: pg},
			Row{Scenario: "intake: signed SMS", Concurrency: 4, Throughput: intake, Ratio: intake / bare},
			Row{Scenario: FloorScenario + ", beside first texts", Concurrency: 4, Throughput: firstFloor, Ratio: 0.5},
		)
	}
	this := &Side{Label: "this", Reports: []*Report{run(1000, 600, 300, 400, time.Millisecond), run(1200, 500, 350, 450, 2*time.Millisecond), run(1100, 700, 280, 420, time.Millisecond)}}
	for _, r := range this.Reports {
		r.FloorShares = []LevelRatio{{4, r.Rows[1].Throughput / r.Rows[0].Throughput}}
	}
	this.Reports[1].FloorShares = append(this.Reports[1].FloorShares, LevelRatio{16, 0.5})
	rows := summarize([]*Side{this})
	want := []rowKey{{"baseline: bare INSERT", 4, 0}, {FloorScenario, 4, 0}, {"intake: signed SMS", 4, 0}, {FloorScenario + ", beside first texts", 4, 0}}
	var keys []rowKey
	for _, r := range rows {
		keys = append(keys, r.rowKey)
	}
	if !slices.Equal(keys, want) {
		t.Fatalf("rows %v, want %v", keys, want)
	}
	fl := rows[1].Sides[0]
	if fl.Throughput != (span{500, 700, 3}) || fl.Ratio != (span{0.4, 0.7, 3}) || fl.PGCPU != (span{1, 2, 3}) {
		t.Errorf("floor ranges %+v, want throughput 500–700, ratio 0.40–0.70, pg cpu 1–2 ms", fl)
	}
	if first := rows[3].Sides[0]; first.Throughput != (span{400, 450, 3}) {
		t.Errorf("the floor beside first texts was mixed with the other: %+v", first)
	}
	var out bytes.Buffer
	PrintSeries(&out, []*Side{this})
	for _, w := range []string{FloorScenario + "  ", "500–700", "0.40–0.70", "1.00–2.00 ms",
		"; the rows alone reach 4: 0.42–0.64, 16: 0.50 (1 of 3 runs) of the bare insert"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("the table lacks %q:\n%s", w, out.String())
		}
	}
}
