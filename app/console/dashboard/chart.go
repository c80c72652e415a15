package dashboard

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Charts are drawn on the server as inline SVG: no script, no inline style (the CSP allows
// neither), and crisp at any width. Widths are percentages of the chart, heights are
// pixels, so text keeps its size whatever the card's width. Every text is escaped here;
// colours come from classes styled in console.css, with fill attributes as a fallback.

// barItem is one row of a horizontal bar chart.
type barItem struct {
	Label string // left of the bar; long labels are shortened (the tooltip has all of it)
	Value int64
	Note  string // right of the bar; the value when empty
	Class string // a colour class for the row, e.g. "c-sms"
}

// column is one column of a column chart.
type column struct {
	Label string // under the column; "" for none
	Title string // the tooltip
	Value int64
	Class string // e.g. "today"
}

const (
	barRow       = 30   // px per row
	barHeight    = 14   // px
	barLabelPct  = 30.0 // % of the width for labels
	barAreaPct   = 48.0 // % of the width the longest bar takes
	barLabelMax  = 16   // columns of a label shown (a Chinese character takes two)
	colHeight    = 200  // px, the whole column chart
	colPlotTop   = 12   // px
	colPlotBot   = 172  // px, the baseline
	colAxisPct   = 5.0  // % of the width kept for the axis labels
	colWidthFrac = 0.62 // of each column's slot
)

// hbars draws a horizontal bar chart; with no items, or only zeros, it shows empty instead.
func hbars(items []barItem, label, empty string) template.HTML {
	var max int64
	for _, it := range items {
		if it.Value > max {
			max = it.Value
		}
	}
	if max <= 0 {
		return emptyChart(empty)
	}
	var b strings.Builder
	h := len(items) * barRow
	fmt.Fprintf(&b, `<svg class="chart hbars" xmlns="http://www.w3.org/2000/svg" width="100%%" height="%d" role="img" aria-label="%s">`, h, esc(label))
	for i, it := range items {
		y := i * barRow
		w := barAreaPct * float64(max64(it.Value, 0)) / float64(max)
		note := it.Note
		if note == "" {
			note = strconv.FormatInt(it.Value, 10)
		}
		fmt.Fprintf(&b, `<g class="row %s"><title>%s: %s</title>`, esc(it.Class), esc(it.Label), esc(note))
		fmt.Fprintf(&b, `<text class="lbl" x="0" y="%d">%s</text>`, y+barRow/2+5, esc(shorten(it.Label, barLabelMax)))
		fmt.Fprintf(&b, `<rect class="track" x="%s%%" y="%d" width="%s%%" height="%d" rx="3" fill="#eef1f5"/>`, num(barLabelPct), y+(barRow-barHeight)/2, num(barAreaPct), barHeight)
		if w > 0 {
			fmt.Fprintf(&b, `<rect class="bar" x="%s%%" y="%d" width="%s%%" height="%d" rx="3" fill="#2563eb"/>`, num(barLabelPct), y+(barRow-barHeight)/2, num(w), barHeight)
		}
		fmt.Fprintf(&b, `<text class="val" x="%s%%" dx="8" y="%d">%s</text></g>`, num(barLabelPct+barAreaPct), y+barRow/2+5, esc(note))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// columns draws a column chart with a value axis; with no items, or only zeros, it shows
// empty instead.
func columns(cols []column, label, empty string) template.HTML {
	var max int64
	for _, c := range cols {
		if c.Value > max {
			max = c.Value
		}
	}
	if max <= 0 {
		return emptyChart(empty)
	}
	step := niceStep((max + 3) / 4)
	top := step * ((max + step - 1) / step)
	plot := float64(colPlotBot - colPlotTop)
	y := func(v int64) float64 { return colPlotBot - plot*float64(v)/float64(top) }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart cols" xmlns="http://www.w3.org/2000/svg" width="100%%" height="%d" role="img" aria-label="%s">`, colHeight, esc(label))
	for v := int64(0); v <= top; v += step {
		gy, cls := num(y(v)), "grid"
		if v == 0 {
			cls = "grid base"
		}
		fmt.Fprintf(&b, `<line class="%s" x1="0" x2="100%%" y1="%s" y2="%s" stroke="#e3e7ee"/>`, cls, gy, gy)
		if v > 0 {
			fmt.Fprintf(&b, `<text class="axis" x="0" y="%s" dy="-4">%d</text>`, gy, v)
		}
	}
	slot := (100 - colAxisPct) / float64(len(cols))
	for i, c := range cols {
		x := colAxisPct + slot*float64(i) + slot*(1-colWidthFrac)/2
		cy := y(max64(c.Value, 0))
		title := c.Title
		if title == "" {
			title = strconv.FormatInt(c.Value, 10)
		}
		fmt.Fprintf(&b, `<g class="col %s"><title>%s</title>`, esc(c.Class), esc(title))
		// An invisible full-height target makes small columns easy to hover.
		fmt.Fprintf(&b, `<rect class="hit" x="%s%%" y="%d" width="%s%%" height="%d" fill="transparent"/>`, num(colAxisPct+slot*float64(i)), colPlotTop, num(slot), colPlotBot-colPlotTop)
		if c.Value > 0 {
			fmt.Fprintf(&b, `<rect class="bar" x="%s%%" y="%s" width="%s%%" height="%s" rx="2" fill="#2563eb"/>`, num(x), num(cy), num(slot*colWidthFrac), num(colPlotBot-cy))
		}
		if c.Label != "" {
			fmt.Fprintf(&b, `<text class="tick" x="%s%%" y="%d" text-anchor="middle">%s</text>`, num(colAxisPct+slot*(float64(i)+0.5)), colPlotBot+18, esc(c.Label))
		}
		b.WriteString(`</g>`)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// meter draws a thin progress bar filled to frac (0..1, clamped) in a tone class: "good",
// "warn", "bad" or "".
func meter(frac float64, tone string) template.HTML {
	if math.IsNaN(frac) || frac < 0 {
		frac = 0
	}
	if frac > 1 {
		frac = 1
	}
	var b strings.Builder
	b.WriteString(`<svg class="meter" xmlns="http://www.w3.org/2000/svg" width="100%" height="6" aria-hidden="true">`)
	b.WriteString(`<rect class="track" width="100%" height="6" rx="3" fill="#eef1f5"/>`)
	if frac > 0 {
		fmt.Fprintf(&b, `<rect class="fill %s" width="%s%%" height="6" rx="3" fill="#2563eb"/>`, esc(tone), num(frac*100))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func emptyChart(text string) template.HTML {
	return template.HTML(`<div class="chart-empty">` + esc(text) + `</div>`)
}

// niceStep is the smallest of 1, 2, 5, 10, 20, 50, … at least n.
func niceStep(n int64) int64 {
	if n < 1 {
		return 1
	}
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if m*p >= n {
				return m * p
			}
		}
	}
}

// esc makes text safe inside SVG (XML) text and attributes: control characters XML cannot
// carry are dropped, markup characters escaped.
func esc(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		if r < 0x20 || r == 0xFFFE || r == 0xFFFF || r == utf8.RuneError || (r >= 0xD800 && r <= 0xDFFF) {
			return -1
		}
		return r
	}, s)
	return html.EscapeString(s)
}

// shorten keeps at most n columns of s, a wide (Chinese, Japanese, Korean, full-width)
// character taking two, marking a cut with an ellipsis.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	w := 0
	for _, r := range s {
		w += runeWidth(r)
	}
	if w <= n {
		return s
	}
	var b strings.Builder
	w = 0
	for _, r := range s {
		if w+runeWidth(r) > n-1 {
			break
		}
		w += runeWidth(r)
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String()) + "…"
}

func runeWidth(r rune) int {
	if unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) || (r >= 0xFF01 && r <= 0xFF60) || (r >= 0x3000 && r <= 0x303F) {
		return 2
	}
	return 1
}

// num formats a coordinate: at most two decimals, never NaN or infinite.
func num(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		f = 0
	}
	return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64)
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}
