package exports_test

import (
	"testing"
	"time"

	"github.com/hotlinedesk/hotline/app/exports"
)

func TestCell(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"=1+1", "'=1+1"}, {"+8613800138000", "'+8613800138000"}, {"-5", "'-5"}, {"@SUM(A1)", "'@SUM(A1)"},
		{"\t=cmd", "'\t=cmd"}, {"\r=cmd", "'\r=cmd"}, {"张伟", "张伟"}, {"a=b", "a=b"}, {"", ""}, {"HL-000001", "HL-000001"},
	} {
		if got := exports.Cell(tc.in); got != tc.want {
			t.Errorf("Cell(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRange(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC) // 17:30 in Shanghai
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 0, 0, 0, 0, loc) }
	for _, tc := range []struct {
		name     string
		q        map[string]string
		from, to time.Time
		bad      bool
	}{
		{"the last 30 days to the end of today", nil, day(11, 26).AddDate(0, 0, -30), day(11, 26), false},
		{"dates, to inclusive", map[string]string{"from": "2026-11-01", "to": "2026-11-30"}, day(11, 1), day(12, 1), false},
		{"times, to exclusive", map[string]string{"from": "2026-11-01T00:00:00+08:00", "to": "2026-11-02T00:00:00+08:00"}, day(11, 1), day(11, 2), false},
		{"a year", map[string]string{"from": "2025-11-26", "to": "2026-11-25"}, day(11, 26).AddDate(-1, 0, 0), day(11, 26), false},
		{"more than a year", map[string]string{"from": "2025-11-01", "to": "2026-11-25"}, time.Time{}, time.Time{}, true},
		{"backwards", map[string]string{"from": "2026-11-25", "to": "2026-11-01"}, time.Time{}, time.Time{}, true},
		{"not a date", map[string]string{"from": "last week"}, time.Time{}, time.Time{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := func(k string, _ ...string) string { return tc.q[k] }
			from, to, err := exports.Range(q, now, loc)
			if tc.bad {
				if err == nil {
					t.Errorf("%v – %v, want an error", from, to)
				}
				return
			}
			if err != nil || !from.Equal(tc.from) || !to.Equal(tc.to) {
				t.Errorf("%v – %v (%v), want %v – %v", from, to, err, tc.from, tc.to)
			}
		})
	}
}

// An assessment's period starts on the first of this month unless chosen.
func TestMonthRange(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 11, 30, 17, 0, 0, 0, time.UTC) // 1 December, 01:00 in Shanghai
	for _, tc := range []struct {
		q        map[string]string
		from, to time.Time
	}{
		{nil, time.Date(2026, 12, 1, 0, 0, 0, 0, loc), time.Date(2026, 12, 2, 0, 0, 0, 0, loc)},
		{map[string]string{"from": "2026-10-01", "to": "2026-12-31"}, time.Date(2026, 10, 1, 0, 0, 0, 0, loc), time.Date(2027, 1, 1, 0, 0, 0, 0, loc)},
	} {
		from, to, err := exports.MonthRange(func(k string, _ ...string) string { return tc.q[k] }, now, loc)
		if err != nil || !from.Equal(tc.from) || !to.Equal(tc.to) {
			t.Errorf("%v: %v – %v (%v), want %v – %v", tc.q, from, to, err, tc.from, tc.to)
		}
	}
	if _, _, err := exports.MonthRange(func(k string, _ ...string) string { return map[string]string{"from": "soon"}[k] }, now, loc); err == nil {
		t.Error("a bad date was taken")
	}
}
