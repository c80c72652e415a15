package reports_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/reports"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// Three weeks of texts, counted by week with the change of the last week on the one before:
//
//	week of 2 Nov:  理赔进度                          claims 1
//	week of 9 Nov:  理赔进度, 车险定损                   claims 1, motor 1
//	week of 16 Nov: 理赔进度, 理赔到账, 理赔材料           claims 3
//
// Categories: claims 1 1 3 (+2, +200%), motor 0 1 0 (-1, -100%). Keywords: 理赔 (a rule's)
// 1 1 3, 进度 1 1 1, 车险 (a rule's, from one mention) 0 1 0; 定损, 到账 and 材料 come up
// once in all and are not a trend.
func TestFrequentIssues(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		monday := time.Date(2026, 11, 2, 2, 0, 0, 0, time.UTC) // 10:00 in Shanghai
		d := reportDesk(t, db, monday)
		phone := 0
		text := func(week int, bodies ...string) {
			d.at(t, monday.AddDate(0, 0, 7*week+1))
			for _, b := range bodies {
				phone++
				d.text(t, "+861390000"+string(rune('0'+phone/10))+string(rune('0'+phone%10))+"00", b)
			}
		}
		text(0, "理赔进度")
		text(1, "理赔进度", "车险定损")
		text(2, "理赔进度", "理赔到账", "理赔材料")

		fi, err := d.rep.FrequentIssues(ctx, d.Clock.Now(), 3, nil, 10)
		if err != nil {
			t.Fatal(err)
		}
		loc := tickettest.Shanghai(t)
		if len(fi.Weeks) != 3 || !fi.Weeks[0].Equal(time.Date(2026, 11, 2, 0, 0, 0, 0, loc)) || !fi.Weeks[2].Equal(time.Date(2026, 11, 16, 0, 0, 0, 0, loc)) || !fi.Partial {
			t.Fatalf("weeks %v, partial %v", fi.Weeks, fi.Partial)
		}
		type row struct {
			key    string
			weeks  []int64
			change int64
			rate   float64
			rated  bool
		}
		check := func(what string, got []reports.IssueTrend, want []row) {
			t.Helper()
			if len(got) != len(want) {
				t.Fatalf("%s: %+v, want %+v", what, got, want)
			}
			for i, w := range want {
				g := got[i]
				rate, rated := g.ChangeRate()
				if g.Key != w.key || !slices.Equal(g.Weeks, w.weeks) || g.Change() != w.change || rated != w.rated || !near(rate, w.rate) {
					t.Errorf("%s %d: %+v (change %d, rate %v %v), want %+v", what, i, g, g.Change(), rate, rated, w)
				}
			}
		}
		check("categories", fi.Categories, []row{{"claims", []int64{1, 1, 3}, 2, 2, true}, {"motor", []int64{0, 1, 0}, -1, -1, true}})
		check("keywords", fi.Keywords, []row{{"理赔", []int64{1, 1, 3}, 2, 2, true}, {"进度", []int64{1, 1, 1}, 0, 0, true}, {"车险", []int64{0, 1, 0}, -1, -1, true}})
		if fi.Sampled != 6 {
			t.Errorf("%d messages read, want 6", fi.Sampled)
		}

		// Ending with the week of 9 November: two weeks, the first without tickets.
		fi, err = d.rep.FrequentIssues(ctx, time.Date(2026, 11, 12, 0, 0, 0, 0, time.UTC), 2, &d.Claims.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		check("claims' categories, two weeks", fi.Categories, []row{{"claims", []int64{1, 1}, 0, 0, true}})
		if fi.Partial {
			t.Error("a past week is not partial")
		}
		nobody := int64(999)
		for name, call := range map[string]func() error{
			"one week":     func() error { _, err := d.rep.FrequentIssues(ctx, d.Clock.Now(), 1, nil, 10); return err },
			"a year":       func() error { _, err := d.rep.FrequentIssues(ctx, d.Clock.Now(), 52, nil, 10); return err },
			"unknown team": func() error { _, err := d.rep.FrequentIssues(ctx, d.Clock.Now(), 4, &nobody, 10); return err },
		} {
			if err := call(); !errors.Is(err, tickets.ErrInvalid) {
				t.Errorf("%s: %v, want invalid", name, err)
			}
		}
	})
}
