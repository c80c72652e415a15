package dashboard

import (
	"encoding/xml"
	"errors"
	"html/template"
	"io"
	"math"
	"strings"
	"testing"
)

// svgDoc parses a chart as XML, failing the test when it is not well-formed, and returns
// its elements by name (with their attributes) and all its text.
func svgDoc(t *testing.T, h template.HTML) (elems map[string][]map[string]string, text string) {
	t.Helper()
	elems = map[string][]map[string]string{}
	var sb strings.Builder
	dec := xml.NewDecoder(strings.NewReader(string(h)))
	dec.Strict = true
	depth, roots := 0, 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, h)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
			attrs := map[string]string{}
			for _, a := range tk.Attr {
				attrs[a.Name.Local] = a.Value
			}
			elems[tk.Name.Local] = append(elems[tk.Name.Local], attrs)
		case xml.EndElement:
			depth--
		case xml.CharData:
			sb.Write(tk)
		}
	}
	if roots != 1 || depth != 0 {
		t.Fatalf("%d root elements, depth %d at the end:\n%s", roots, depth, h)
	}
	return elems, sb.String()
}

func noBadNumbers(t *testing.T, h template.HTML) {
	t.Helper()
	for _, bad := range []string{"NaN", "Inf", "-%"} {
		if strings.Contains(string(h), bad) {
			t.Errorf("chart has %q:\n%s", bad, h)
		}
	}
}

func TestHBars(t *testing.T) {
	h := hbars([]barItem{
		{Label: "短信", Value: 30, Note: "30 · 60%", Class: "c-sms"},
		{Label: "邮件", Value: 15, Class: "c-email"},
		{Label: "柜面", Value: 0},
		{Label: "A very long category name indeed", Value: 5},
	}, "By channel", "nothing")
	elems, text := svgDoc(t, h)
	noBadNumbers(t, h)
	if svg := elems["svg"]; len(svg) != 1 || svg[0]["height"] != "120" || svg[0]["width"] != "100%" || svg[0]["aria-label"] != "By channel" {
		t.Errorf("svg %v", svg)
	}
	// The longest bar takes the whole bar area; the others in proportion; a zero draws none.
	var widths []string
	for _, r := range elems["rect"] {
		if r["class"] == "bar" {
			widths = append(widths, r["width"])
		}
	}
	if got := strings.Join(widths, " "); got != "48% 24% 8%" {
		t.Errorf("bar widths %s", got)
	}
	for _, want := range []string{"短信", "30 · 60%", "邮件", "15", "柜面", "A very long cat…", "A very long category name indeed: 5"} {
		if !strings.Contains(text, want) {
			t.Errorf("chart text lacks %q: %q", want, text)
		}
	}
}

func TestColumns(t *testing.T) {
	cols := make([]column, 30)
	for i := range cols {
		cols[i] = column{Value: int64(i % 7), Title: "day"}
	}
	cols[29] = column{Value: 23, Label: "11-25", Class: "today", Title: "2026-11-25: 23 tickets"}
	h := columns(cols, "Per day", "nothing")
	elems, text := svgDoc(t, h)
	noBadNumbers(t, h)
	var bars, ticks int
	for _, r := range elems["rect"] {
		if r["class"] == "bar" {
			bars++
		}
	}
	if want := 30 - 5; bars != want { // the days with 0 have no column (i%7 == 0 for 5 of the first 29)
		t.Errorf("%d columns drawn, want %d", bars, want)
	}
	for _, tx := range elems["text"] {
		if tx["class"] == "tick" {
			ticks++
		}
	}
	// Axis: steps of 10 up to 30 (23 → step niceStep(6) = 10), labelled above each line.
	if !strings.Contains(text, "10") || !strings.Contains(text, "20") || !strings.Contains(text, "30") || strings.Contains(text, "40") {
		t.Errorf("axis labels in %q", text)
	}
	if ticks != 1 || !strings.Contains(text, "11-25") || !strings.Contains(text, "2026-11-25: 23 tickets") {
		t.Errorf("ticks %d, text %q", ticks, text)
	}
	// The tallest column reaches 23/30 of the plot.
	for _, r := range elems["rect"] {
		if r["class"] == "bar" && r["height"] == "122.67" {
			return
		}
	}
	t.Errorf("no column of height 160*23/30 = 122.67: %v", elems["rect"])
}

// Labels are data (category names, customers' words): they must come out as text.
func TestChartsEscapeLabels(t *testing.T) {
	evil := `<script>alert("x")</script>&'`
	for name, h := range map[string]template.HTML{
		"hbars":   hbars([]barItem{{Label: evil, Value: 3, Note: evil, Class: `x" onmouseover="alert(1)`}}, evil, evil),
		"columns": columns([]column{{Label: evil, Title: evil, Value: 2, Class: `"><script>`}}, evil, evil),
		"empty":   hbars(nil, evil, evil),
		"control": hbars([]barItem{{Label: "bell\x07 and\x00 null\ufffe", Value: 1}}, "x", "y"),
	} {
		t.Run(name, func(t *testing.T) {
			if strings.Contains(string(h), "<script") || strings.Contains(string(h), `" onmouseover`) {
				t.Fatalf("markup got through:\n%s", h)
			}
			if name == "empty" {
				if !strings.Contains(string(h), "&lt;script&gt;") {
					t.Errorf("empty state not escaped: %s", h)
				}
				return
			}
			elems, text := svgDoc(t, h)
			if name == "control" {
				if !strings.Contains(text, "bell and null") {
					t.Errorf("control characters: %q", text)
				}
				return
			}
			if !strings.Contains(text, "<script>") { // decoded back to what was given
				t.Errorf("text %q", text)
			}
			if elems["svg"][0]["aria-label"] != evil {
				t.Errorf("aria-label %q", elems["svg"][0]["aria-label"])
			}
		})
	}
}

// No data is an empty state, never a division by zero.
func TestChartsWithoutData(t *testing.T) {
	for name, h := range map[string]template.HTML{
		"no bars":       hbars(nil, "l", "Nothing yet"),
		"zero bars":     hbars([]barItem{{Label: "a"}, {Label: "b"}}, "l", "Nothing yet"),
		"negative bars": hbars([]barItem{{Label: "a", Value: -3}}, "l", "Nothing yet"),
		"no columns":    columns(nil, "l", "Nothing yet"),
		"zero columns":  columns(make([]column, 30), "l", "Nothing yet"),
	} {
		if string(h) != `<div class="chart-empty">Nothing yet</div>` {
			t.Errorf("%s: %s", name, h)
		}
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), -1, 0, 0.5, 1.7} {
		h := meter(f, "good")
		svgDoc(t, h)
		noBadNumbers(t, h)
		switch {
		case f == 0.5 && !strings.Contains(string(h), `width="50%"`):
			t.Errorf("meter(0.5): %s", h)
		case f > 1 && !strings.Contains(string(h), `class="fill good" width="100%"`):
			t.Errorf("meter(%v) not clamped: %s", f, h)
		case (f <= 0 || math.IsNaN(f)) && strings.Contains(string(h), "fill good"):
			t.Errorf("meter(%v) filled: %s", f, h)
		}
	}
}

func TestShorten(t *testing.T) {
	for in, want := range map[string]string{
		"Uncategorised":      "Uncategorised",
		"医疗险住院报销":            "医疗险住院报销",
		"医疗险住院报销与门诊":         "医疗险住院报销…",
		"车险 claims and more": "车险 claims and…",
		"  spaced   out  ":   "spaced out",
	} {
		if got := shorten(in, 16); got != want {
			t.Errorf("shorten(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNiceStep(t *testing.T) {
	for n, want := range map[int64]int64{-1: 1, 0: 1, 1: 1, 2: 2, 3: 5, 5: 5, 6: 10, 11: 20, 21: 50, 99: 100, 101: 200, 4999: 5000} {
		if got := niceStep(n); got != want {
			t.Errorf("niceStep(%d) = %d, want %d", n, got, want)
		}
	}
}
