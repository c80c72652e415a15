package reports

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hotlinedesk/hotline/tickets"
)

// Frequent issues: what customers come about, week by week, so that a problem that keeps
// coming back, or suddenly grows, stands out (常见问题分析). Weeks run Monday to Monday in
// the desk's zone. Categories count the tickets created in each week; keywords count, as
// TopKeywords does, the tickets mentioning a term among each week's most recent
// IssueWeekSample inbound messages.

// IssueWeekSample bounds the inbound messages read for each week's keywords.
const IssueWeekSample = 2000

// MaxIssueWeeks bounds the weeks of one report.
const MaxIssueWeeks = 26

// IssueTrend is one category's or keyword's weekly counts.
type IssueTrend struct {
	Key       string  // a category ("" is uncategorised) or a term
	Weeks     []int64 // one per week, oldest first
	Total     int64
	WeeksSeen int // weeks with at least one
}

// Last is the last week's count.
func (t IssueTrend) Last() int64 { return t.Weeks[len(t.Weeks)-1] }

// Previous is the count of the week before the last.
func (t IssueTrend) Previous() int64 { return t.Weeks[len(t.Weeks)-2] }

// Change is the last week's count less the week before's.
func (t IssueTrend) Change() int64 { return t.Last() - t.Previous() }

// ChangeRate is Change as a share of the week before; ok is false when that week had none.
func (t IssueTrend) ChangeRate() (rate float64, ok bool) {
	if t.Previous() == 0 {
		return 0, false
	}
	return float64(t.Change()) / float64(t.Previous()), true
}

// FrequentIssues is the weekly report.
type FrequentIssues struct {
	Weeks      []time.Time // each week's Monday at midnight in the desk's zone, oldest first
	Partial    bool        // the last week is not over yet
	TeamID     *int64
	Categories []IssueTrend // by total, most first
	Keywords   []IssueTrend // the n terms of most tickets over the weeks, most first
	Sampled    int          // inbound messages the keywords were counted in
}

// FrequentIssues computes the `weeks` weeks ending with the one holding end (2 to
// MaxIssueWeeks), optionally for one team, with the n most mentioned keywords.
func (rd *Reader) FrequentIssues(ctx context.Context, end time.Time, weeks int, teamID *int64, n int) (*FrequentIssues, error) {
	if weeks < 2 || weeks > MaxIssueWeeks {
		return nil, tickets.Invalidf("frequent issues cover 2 to %d weeks", MaxIssueWeeks)
	}
	if err := rd.checkTeam(ctx, teamID); err != nil {
		return nil, err
	}
	loc := rd.cal.Location()
	e := end.In(loc)
	monday := time.Date(e.Year(), e.Month(), e.Day()-(int(e.Weekday())+6)%7, 0, 0, 0, 0, loc)
	out := &FrequentIssues{TeamID: teamID}
	bounds := make([]time.Time, weeks+1)
	for i := range bounds {
		bounds[i] = time.Date(monday.Year(), monday.Month(), monday.Day()+7*(i-weeks+1), 0, 0, 0, 0, loc)
	}
	out.Weeks = bounds[:weeks]
	out.Partial = rd.now().Before(bounds[weeks])
	var err error
	if out.Categories, err = rd.weeklyCategories(ctx, bounds, teamID); err != nil {
		return nil, err
	}
	if out.Keywords, out.Sampled, err = rd.weeklyKeywords(ctx, bounds, teamID, n); err != nil {
		return nil, err
	}
	return out, nil
}

// weeklyCategories counts the tickets created in each week by category, in one statement
// (the weeks put in by a CASE, as dailyVolume puts days).
func (rd *Reader) weeklyCategories(ctx context.Context, bounds []time.Time, teamID *int64) ([]IssueTrend, error) {
	var b strings.Builder
	var args []any
	b.WriteString("SELECT x.week AS week, x.category AS category, COUNT(*) AS n FROM (SELECT t.category AS category, CASE")
	for i := 1; i < len(bounds); i++ {
		fmt.Fprintf(&b, " WHEN t.created_at < ? THEN %d", i-1)
		args = append(args, bounds[i].UTC())
	}
	team, teamArgs := teamClause(teamID)
	b.WriteString(" END AS week FROM tickets AS t WHERE t.created_at >= ? AND t.created_at < ?" + team + ") AS x GROUP BY x.week, x.category")
	args = append(append(args, bounds[0].UTC(), bounds[len(bounds)-1].UTC()), teamArgs...)
	var rows []struct {
		Week     int    `bun:"week"`
		Category string `bun:"category"`
		N        int64  `bun:"n"`
	}
	if err := rd.db.NewRaw(b.String(), args...).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("count tickets by week and category: %w", err)
	}
	weeks := len(bounds) - 1
	by := map[string]*IssueTrend{}
	var order []string
	for _, r := range rows {
		if r.Week < 0 || r.Week >= weeks {
			continue
		}
		tr := by[r.Category]
		if tr == nil {
			tr = &IssueTrend{Key: r.Category, Weeks: make([]int64, weeks)}
			by[r.Category] = tr
			order = append(order, r.Category)
		}
		tr.Weeks[r.Week] += r.N
	}
	out := make([]IssueTrend, 0, len(order))
	for _, k := range order {
		out = append(out, finishTrend(*by[k]))
	}
	sortTrends(out)
	return out, nil
}

// weeklyKeywords counts each week's terms and keeps the n mentioned in most tickets over
// the weeks: a rule's keyword from one mention, any other from two.
func (rd *Reader) weeklyKeywords(ctx context.Context, bounds []time.Time, teamID *int64, n int) ([]IssueTrend, int, error) {
	weeks := len(bounds) - 1
	read := 0
	by := map[string]*IssueTrend{}
	total := termCounts{counts: map[string]int64{}, shown: map[string]string{}, isRule: map[string]bool{}}
	for i := range weeks {
		docs, ruleWords, got, err := rd.keywordDocs(ctx, bounds[i].UTC(), bounds[i+1].UTC(), teamID, IssueWeekSample)
		if err != nil {
			return nil, 0, err
		}
		read += got
		tc := countTerms(docs, ruleWords)
		for k, c := range tc.counts {
			tr := by[k]
			if tr == nil {
				tr = &IssueTrend{Key: k, Weeks: make([]int64, weeks)}
				by[k] = tr
			}
			tr.Weeks[i] = c
			total.counts[k] += c
			if _, ok := total.shown[k]; !ok {
				total.shown[k] = tc.shown[k]
			}
		}
		for k := range tc.isRule {
			total.isRule[k] = true
		}
	}
	ranked := make([]Count, 0, len(total.counts))
	for k, c := range total.counts {
		if c >= 2 || total.isRule[k] {
			ranked = append(ranked, Count{Key: k, N: c})
		}
	}
	total.sort(ranked)
	if len(ranked) > n {
		ranked = ranked[:n]
	}
	out := make([]IssueTrend, 0, len(ranked))
	for _, c := range ranked {
		tr := finishTrend(*by[c.Key])
		tr.Key = total.shown[c.Key]
		out = append(out, tr)
	}
	return out, read, nil
}

func finishTrend(t IssueTrend) IssueTrend {
	t.Total, t.WeeksSeen = 0, 0
	for _, n := range t.Weeks {
		t.Total += n
		if n > 0 {
			t.WeeksSeen++
		}
	}
	return t
}

// sortTrends orders by total, most first, then by the last week's count, then by key.
func sortTrends(ts []IssueTrend) {
	slices.SortFunc(ts, func(a, b IssueTrend) int {
		return cmp.Or(cmp.Compare(b.Total, a.Total), cmp.Compare(b.Last(), a.Last()), strings.Compare(a.Key, b.Key))
	})
}
