package tickets

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The supervisor's reports: how many promises the desk kept, how satisfied customers were,
// where the work came from and what customers wrote about, and who is carrying the load.
//
// How a period counts (every figure is for one half-open period [from, to)):
//
//   - Deadlines (first response, resolution, complaint decision) count in the period in
//     which their outcome became known, against each row's own deadline as it stands now
//     (the policy's 24h/48h or the complaint's 10 working days, moved by pauses and
//     extensions). A deadline is met when it was answered by the deadline, and counts when
//     the answer came (first_responded_at <= first_response_due_at, resolved_at <=
//     resolution_due_at, decided_at <= deadline_at, counted at that time). It is missed
//     when its deadline passed unanswered or answered late, and counts when the deadline
//     passed, which is never after now. The share is met of met+missed; a deadline still
//     running is in neither. Rows the sweep no longer waits on count as it does: a ticket
//     resolved without a reply before its first-response deadline passed has no outcome,
//     and a resolution clock paused while waiting on the customer has not run out.
//   - Volumes (by channel, by category, by day) count tickets created in the period; days
//     are calendar days in the desk's time zone.
//   - Satisfaction is the surveys answered in the period (CSAT).
//   - Keywords are counted in the inbound messages of the period, at most
//     KeywordSample of them (the most recent), see TopKeywords.
//
// A team filter keeps tickets of that team, complaints about them, surveys answered for
// them (the team when the ticket was resolved) and the team's agents.

// Share is how many deadlines were met out of those whose outcome is known.
type Share struct {
	Met   int64
	Total int64 // met + missed
}

// Missed is how many deadlines were not met.
func (s Share) Missed() int64 { return s.Total - s.Met }

// Rate is the share met, 0..1; ok is false when no deadline came to an end.
func (s Share) Rate() (rate float64, ok bool) {
	if s.Total <= 0 {
		return 0, false
	}
	return float64(s.Met) / float64(s.Total), true
}

// Satisfaction sums up the surveys answered in a period.
type Satisfaction struct {
	Responses      int64
	Average        float64 // 1..5; 0 without responses
	SatisfiedShare float64 // the share of 4s and 5s, 0..1
}

// Count is how often something occurred: a channel, a category, a keyword.
type Count struct {
	Key string `bun:"key"`
	N   int64  `bun:"n"`
}

// DayCount is the tickets created on one calendar day.
type DayCount struct {
	Day time.Time // midnight in the desk's time zone
	N   int64
}

// Report is one period's figures.
type Report struct {
	From, To      time.Time
	TeamID        *int64
	FirstResponse Share
	Resolution    Share
	Complaints    Share
	CSAT          Satisfaction
	Created       int64      // tickets created in the period
	ByChannel     []Count    // most first
	ByCategory    []Count    // most first; "" is uncategorised
	Daily         []DayCount // each calendar day the period touches, oldest first
}

// maxReportDays bounds a report's daily series.
const maxReportDays = 92

// Report computes the figures of [from, to), optionally for one team.
func (s *Service) Report(ctx context.Context, from, to time.Time, teamID *int64) (*Report, error) {
	from, to = from.UTC(), to.UTC()
	if !from.Before(to) {
		return nil, invalidf("a report's start must be before its end")
	}
	days := s.dayBounds(from, to)
	if len(days)-1 > maxReportDays {
		return nil, invalidf("a report covers at most %d days", maxReportDays)
	}
	if err := s.checkTeam(ctx, teamID); err != nil {
		return nil, err
	}
	r := &Report{From: from, To: to, TeamID: teamID}
	cut := s.now().Add(time.Microsecond) // a deadline has passed once it is at or before now
	if to.Before(cut) {
		cut = to
	}
	if err := s.deadlineShares(ctx, r, cut); err != nil {
		return nil, err
	}
	var err error
	if r.CSAT, err = s.satisfaction(ctx, from, to, teamID); err != nil {
		return nil, err
	}
	if r.ByChannel, err = s.ticketCounts(ctx, "channel", from, to, teamID); err != nil {
		return nil, err
	}
	for _, c := range r.ByChannel {
		r.Created += c.N
	}
	if r.ByCategory, err = s.ticketCounts(ctx, "category", from, to, teamID); err != nil {
		return nil, err
	}
	if r.Daily, err = s.dailyVolume(ctx, days, teamID); err != nil {
		return nil, err
	}
	return r, nil
}

// checkTeam refuses a filter on a team that does not exist.
func (s *Service) checkTeam(ctx context.Context, teamID *int64) error {
	if teamID == nil {
		return nil
	}
	n, err := s.db.NewSelect().Table("teams").Where("id = ?", *teamID).Count(ctx)
	if err != nil {
		return fmt.Errorf("find team %d: %w", *teamID, err)
	}
	if n == 0 {
		return invalidf("there is no team %d", *teamID)
	}
	return nil
}

// teamClause narrows a query on tickets aliased t to one team.
func teamClause(teamID *int64) (string, []any) {
	if teamID == nil {
		return "", nil
	}
	return " AND t.team_id = ?", []any{*teamID}
}

// deadlineShares counts met and missed deadlines of tickets and complaints. cut is when
// deadlines stop counting as passed: the end of the period, or now.
//
// Each figure is a count of the rows with one outcome in the period, read through an index
// that holds only rows with that outcome (migration 0011) or, for deadlines still running,
// the sweep's own index (migration 0002): a report reads the period's rows, not the desk.
// A count's WHERE repeats its index's predicate word for word, which is how the planner
// knows the partial index applies.
func (s *Service) deadlineShares(ctx context.Context, r *Report, cut time.Time) error {
	team, teamArgs := teamClause(r.TeamID)
	team = strings.ReplaceAll(team, "?", "?3")
	// met: answered in the period, by the deadline; missed: the deadline passed in the
	// period (before cut) without an answer by then. Unanswered rows count as missed only
	// while the sweep would still wait on them, or once it recorded the breach. Missed is
	// two disjoint counts: answered late or breached (tickets_*_missed_idx), and still
	// waiting, unbreached (tickets_*_due_idx).
	tq := `SELECT
  (SELECT COUNT(*) FROM tickets AS t WHERE t.first_responded_at >= ?0 AND t.first_responded_at < ?1
    AND t.first_responded_at <= t.first_response_due_at` + team + `),
  (SELECT COUNT(*) FROM tickets AS t WHERE t.first_response_due_at >= ?0 AND t.first_response_due_at < ?2
    AND (t.first_responded_at > t.first_response_due_at OR (t.first_responded_at IS NULL AND t.first_response_breached_at IS NOT NULL))` + team + `)
  + (SELECT COUNT(*) FROM tickets AS t WHERE t.first_response_due_at >= ?0 AND t.first_response_due_at < ?2
    AND t.first_responded_at IS NULL AND t.first_response_breached_at IS NULL AND t.status IN ('new', 'open', 'pending')` + team + `),
  (SELECT COUNT(*) FROM tickets AS t WHERE t.resolved_at >= ?0 AND t.resolved_at < ?1
    AND t.resolved_at <= t.resolution_due_at` + team + `),
  (SELECT COUNT(*) FROM tickets AS t WHERE t.resolution_due_at >= ?0 AND t.resolution_due_at < ?2
    AND (t.resolved_at > t.resolution_due_at OR (t.resolved_at IS NULL AND t.resolution_breached_at IS NOT NULL))` + team + `)
  + (SELECT COUNT(*) FROM tickets AS t WHERE t.resolution_due_at >= ?0 AND t.resolution_due_at < ?2
    AND t.resolved_at IS NULL AND t.resolution_breached_at IS NULL AND t.paused_at IS NULL` + team + `)`
	args := append([]any{r.From, r.To, cut}, teamArgs...)
	var firstMet, firstMissed, resMet, resMissed int64
	if err := s.db.NewRaw(tq, args...).Scan(ctx, &firstMet, &firstMissed, &resMet, &resMissed); err != nil {
		return fmt.Errorf("count ticket deadlines: %w", err)
	}
	// Complaints: the ticket is joined only to filter by team. Missed is decided late or
	// breached undecided (complaints_decision_missed_idx), plus undecided and unbreached
	// (complaints_deadline_idx): together, every undecided one.
	from := "complaints AS c"
	if r.TeamID != nil {
		from += " JOIN tickets AS t ON t.id = c.ticket_id"
	}
	cq := `SELECT
  (SELECT COUNT(*) FROM ` + from + ` WHERE c.decided_at >= ?0 AND c.decided_at < ?1 AND c.decided_at <= c.deadline_at` + team + `),
  (SELECT COUNT(*) FROM ` + from + ` WHERE c.deadline_at >= ?0 AND c.deadline_at < ?2
    AND (c.decided_at > c.deadline_at OR (c.decided_at IS NULL AND c.breached_at IS NOT NULL))` + team + `)
  + (SELECT COUNT(*) FROM ` + from + ` WHERE c.deadline_at >= ?0 AND c.deadline_at < ?2
    AND c.breached_at IS NULL AND c.decided_at IS NULL` + team + `)`
	var cMet, cMissed int64
	if err := s.db.NewRaw(cq, args...).Scan(ctx, &cMet, &cMissed); err != nil {
		return fmt.Errorf("count complaint deadlines: %w", err)
	}
	r.FirstResponse = Share{Met: firstMet, Total: firstMet + firstMissed}
	r.Resolution = Share{Met: resMet, Total: resMet + resMissed}
	r.Complaints = Share{Met: cMet, Total: cMet + cMissed}
	return nil
}

// satisfaction is the CSAT report's totals, or its line for the team.
func (s *Service) satisfaction(ctx context.Context, from, to time.Time, teamID *int64) (Satisfaction, error) {
	c, err := s.CSAT(ctx, from, to)
	if err != nil {
		return Satisfaction{}, err
	}
	if teamID == nil {
		return Satisfaction{Responses: c.Responses, Average: c.Average, SatisfiedShare: c.SatisfiedShare}, nil
	}
	for _, g := range c.ByTeam {
		if g.ID == *teamID {
			return Satisfaction{Responses: g.Responses, Average: g.Average, SatisfiedShare: g.SatisfiedShare}, nil
		}
	}
	return Satisfaction{}, nil
}

// ticketCounts counts the tickets created in [from, to) by a column: channel or category.
func (s *Service) ticketCounts(ctx context.Context, column string, from, to time.Time, teamID *int64) ([]Count, error) {
	if column != "channel" && column != "category" {
		return nil, fmt.Errorf("count tickets by %q: not a reported column", column)
	}
	team, teamArgs := teamClause(teamID)
	var out []Count
	if err := s.db.NewRaw("SELECT t."+column+" AS key, COUNT(*) AS n FROM tickets AS t WHERE t.created_at >= ? AND t.created_at < ?"+team+
		" GROUP BY t."+column+" ORDER BY n DESC, key", append([]any{from, to}, teamArgs...)...).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("count tickets by %s: %w", column, err)
	}
	return out, nil
}

// dayBounds splits [from, to) at midnights in the desk's zone: n+1 bounds for n days.
func (s *Service) dayBounds(from, to time.Time) []time.Time {
	loc := s.cal.Location()
	bounds := []time.Time{from}
	y, m, d := from.In(loc).Date()
	for i := 1; ; i++ {
		next := time.Date(y, m, d+i, 0, 0, 0, 0, loc).UTC()
		if !next.Before(to) || len(bounds) > maxReportDays+1 {
			break
		}
		bounds = append(bounds, next)
	}
	return append(bounds, to)
}

// dailyVolume counts the tickets created between each pair of bounds, in one statement:
// a CASE puts each ticket in its day, which is the same on both databases and follows the
// zone's own midnights.
func (s *Service) dailyVolume(ctx context.Context, bounds []time.Time, teamID *int64) ([]DayCount, error) {
	var b strings.Builder
	args := []any{}
	b.WriteString("SELECT x.day AS day, COUNT(*) AS n FROM (SELECT CASE")
	for i := 1; i < len(bounds); i++ {
		b.WriteString(" WHEN t.created_at < ? THEN ")
		fmt.Fprintf(&b, "%d", i-1)
		args = append(args, bounds[i])
	}
	team, teamArgs := teamClause(teamID)
	b.WriteString(" END AS day FROM tickets AS t WHERE t.created_at >= ? AND t.created_at < ?" + team + ") AS x GROUP BY x.day")
	args = append(append(args, bounds[0], bounds[len(bounds)-1]), teamArgs...)
	var rows []struct {
		Day int   `bun:"day"`
		N   int64 `bun:"n"`
	}
	if err := s.db.NewRaw(b.String(), args...).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("count tickets by day: %w", err)
	}
	loc := s.cal.Location()
	out := make([]DayCount, len(bounds)-1)
	for i := range out {
		y, m, d := bounds[i].In(loc).Date()
		out[i].Day = time.Date(y, m, d, 0, 0, 0, 0, loc)
	}
	for _, r := range rows {
		if r.Day >= 0 && r.Day < len(out) {
			out[r.Day].N = r.N
		}
	}
	return out, nil
}

// AgentLoad is one agent's presence and open work.
type AgentLoad struct {
	ID       int64  `bun:"id"`
	Name     string `bun:"name"`
	Email    string `bun:"email"`
	Role     Role   `bun:"role"`
	TeamID   *int64 `bun:"team_id"`
	TeamName string `bun:"team_name"`
	Online   bool   `bun:"online"`
	Load     int    `bun:"load"`     // open tickets assigned: new, open or pending
	Capacity int    `bun:"capacity"` // how many auto-assignment gives them at most
}

// openLoad is an agent's open tickets, counted as auto-assignment counts them (autoAssign).
const openLoad = "(SELECT COUNT(*) FROM tickets AS t WHERE t.assignee_id = agent.id AND t.status IN ('new', 'open', 'pending'))"

// AgentLoads lists the active agents (admins aside), optionally of one team, online first,
// with their open tickets against their capacity.
func (s *Service) AgentLoads(ctx context.Context, teamID *int64) ([]*AgentLoad, error) {
	if err := s.checkTeam(ctx, teamID); err != nil {
		return nil, err
	}
	var out []*AgentLoad
	q := "SELECT agent.id AS id, agent.name AS name, agent.email AS email, agent.role AS role, agent.team_id AS team_id, " +
		"COALESCE(tm.name, '') AS team_name, agent.online AS online, agent.capacity AS capacity, " + openLoad + " AS load " +
		"FROM agents AS agent LEFT JOIN teams AS tm ON tm.id = agent.team_id WHERE agent.active AND agent.role <> ?"
	args := []any{RoleAdmin}
	if teamID != nil {
		q += " AND agent.team_id = ?"
		args = append(args, *teamID)
	}
	q += " ORDER BY agent.online DESC, agent.name, agent.id"
	if err := s.db.NewRaw(q, args...).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("list agents' load: %w", err)
	}
	return out, nil
}

// Dashboard is what the supervisor's page shows: today and the last 30 days.
type Dashboard struct {
	Now      time.Time
	TeamID   *int64
	Today    *Report // since midnight in the desk's zone
	Month    *Report // the 30 calendar days ending today, today included
	Keywords []Count // the month's top keywords
	Sampled  int     // inbound messages the keywords were counted in
	Agents   []*AgentLoad
}

// DashboardDays is how many calendar days the dashboard's longer period covers.
const DashboardDays = 30

// Dashboard computes the supervisor's page as of now, optionally for one team. "Today" is
// the calendar day in the desk's zone; the month is the 30 calendar days ending today, so
// its daily series has 30 days and sums to its volume.
func (s *Service) Dashboard(ctx context.Context, teamID *int64) (*Dashboard, error) {
	now := s.now()
	loc := s.cal.Location()
	y, m, d := now.In(loc).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, loc)
	tomorrow := time.Date(y, m, d+1, 0, 0, 0, 0, loc)
	monthStart := time.Date(y, m, d-(DashboardDays-1), 0, 0, 0, 0, loc)
	out := &Dashboard{Now: now, TeamID: teamID}
	var err error
	if out.Today, err = s.Report(ctx, today, tomorrow, teamID); err != nil {
		return nil, err
	}
	if out.Month, err = s.Report(ctx, monthStart, tomorrow, teamID); err != nil {
		return nil, err
	}
	if out.Keywords, out.Sampled, err = s.TopKeywords(ctx, monthStart, tomorrow, teamID, 10, KeywordSample); err != nil {
		return nil, err
	}
	if out.Agents, err = s.AgentLoads(ctx, teamID); err != nil {
		return nil, err
	}
	return out, nil
}

// KeywordSample bounds the inbound messages TopKeywords reads: the most recent ones.
const KeywordSample = 5000

// keywordBodyRunes is how much of each message TopKeywords reads.
const keywordBodyRunes = 2000

// TopKeywords finds what customers wrote about in [from, to): the n terms mentioned in the
// most tickets, counted in the most recent `sample` inbound messages of the period (at most
// and by default KeywordSample) and their tickets' subjects, each ticket counting a term
// once. It also returns how many messages it read. See keywordTerms for what a term is.
func (s *Service) TopKeywords(ctx context.Context, from, to time.Time, teamID *int64, n, sample int) ([]Count, int, error) {
	if sample <= 0 || sample > KeywordSample {
		sample = KeywordSample
	}
	from, to = from.UTC(), to.UTC()
	if !from.Before(to) {
		return nil, 0, invalidf("a report's start must be before its end")
	}
	if err := s.checkTeam(ctx, teamID); err != nil {
		return nil, 0, err
	}
	rules, err := s.RoutingRules(ctx)
	if err != nil {
		return nil, 0, err
	}
	var ruleWords []string
	for _, r := range rules {
		if r.Active {
			ruleWords = append(ruleWords, splitList(r.Keywords)...)
		}
	}
	team, teamArgs := teamClause(teamID)
	var rows []struct {
		TicketID int64  `bun:"ticket_id"`
		Body     string `bun:"body"`
		Subject  string `bun:"subject"`
	}
	if err := s.db.NewRaw(fmt.Sprintf("SELECT m.ticket_id AS ticket_id, SUBSTR(m.body, 1, %d) AS body, t.subject AS subject "+
		"FROM messages AS m JOIN tickets AS t ON t.id = m.ticket_id "+
		"WHERE m.direction = ? AND m.created_at >= ? AND m.created_at < ?%s ORDER BY m.id DESC LIMIT %d", keywordBodyRunes, team, sample),
		append([]any{DirectionInbound, from, to}, teamArgs...)...).Scan(ctx, &rows); err != nil {
		return nil, 0, fmt.Errorf("read inbound messages for keywords: %w", err)
	}
	texts := map[int64][]string{}
	var order []int64
	for _, r := range rows {
		if _, ok := texts[r.TicketID]; !ok {
			order = append(order, r.TicketID)
			texts[r.TicketID] = []string{r.Subject}
		}
		texts[r.TicketID] = append(texts[r.TicketID], r.Body)
	}
	docs := make([]string, 0, len(order))
	for _, id := range order {
		docs = append(docs, strings.Join(texts[id], "\n"))
	}
	return topTerms(docs, ruleWords, n), len(rows), nil
}

// topTerms counts, for each term, the documents that mention it, and returns the n most
// mentioned: a term the desk's routing rules name counts from one mention, any other from
// two (one customer's words are not a trend). Ties go to the rules' terms, then the longer,
// then the alphabetically first.
func topTerms(docs []string, ruleWords []string, n int) []Count {
	counts := map[string]int64{}
	shown := map[string]string{} // lower-cased term → as first seen (a rule's own spelling)
	isRule := map[string]bool{}
	for _, w := range ruleWords {
		k := strings.ToLower(w)
		isRule[k] = true
		if _, ok := shown[k]; !ok {
			shown[k] = w
		}
	}
	lexicon := chineseLexicon(ruleWords)
	for _, doc := range docs {
		seen := map[string]bool{}
		keywordTerms(doc, ruleWords, lexicon, func(term string) {
			k := strings.ToLower(term)
			if seen[k] {
				return
			}
			seen[k] = true
			counts[k]++
			if _, ok := shown[k]; !ok {
				shown[k] = term
			}
		})
	}
	out := make([]Count, 0, len(counts))
	for k, c := range counts {
		if c >= 2 || isRule[k] {
			out = append(out, Count{Key: k, N: c})
		}
	}
	slices.SortFunc(out, func(a, b Count) int {
		if c := cmp.Compare(b.N, a.N); c != 0 {
			return c
		}
		if isRule[a.Key] != isRule[b.Key] {
			if isRule[a.Key] {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(utf8.RuneCountInString(b.Key), utf8.RuneCountInString(a.Key)); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	if len(out) > n {
		out = out[:n]
	}
	for i := range out {
		out[i].Key = shown[out[i].Key]
	}
	return out
}

// keywordTerms calls add for each term of text. Chinese is written without spaces, so
// terms are found three ways:
//   - the keywords of the desk's routing rules, found as substrings, as routing finds them;
//   - words in other scripts (English, pinyin): runs of letters and digits, lower-cased,
//     of three or more characters, with a letter, and not a stop word;
//   - in runs of Chinese characters, the longest known word at each place: the rules'
//     Chinese keywords and the desk's everyday words (deskWords: 理赔, 进度, …) count,
//     common phrases (silentWords: 你好, 什么, 尽快, …) are cut out uncounted; in what is
//     left between known words, every pair of neighbouring characters (a 2-gram) counts,
//     except pairs with a function character (的, 了, 吗, 我, 您, 请, …).
func keywordTerms(text string, ruleWords []string, lexicon map[string]bool, add func(string)) {
	lower := strings.ToLower(text)
	for _, w := range ruleWords {
		if strings.Contains(lower, strings.ToLower(w)) {
			add(w)
		}
	}
	var word, han []rune
	flushWord := func() {
		w := string(word)
		word = word[:0]
		if utf8.RuneCountInString(w) < 3 || englishStop[w] || !strings.ContainsFunc(w, unicode.IsLetter) {
			return
		}
		add(w)
	}
	flushHan := func() {
		chineseTerms(han, lexicon, add)
		han = han[:0]
	}
	for _, r := range lower {
		switch {
		case unicode.Is(unicode.Han, r):
			flushWord()
			han = append(han, r)
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			flushHan()
			word = append(word, r)
		case r == '\'' || r == '’':
			// don't, it's: one word
		default:
			flushWord()
			flushHan()
		}
	}
	flushWord()
	flushHan()
}

// chineseTerms finds the terms of one run of Chinese characters.
func chineseTerms(run []rune, lexicon map[string]bool, add func(string)) {
	start := 0 // where the stretch of unknown characters began
	grams := func(end int) {
		for i := start; i+1 < end; i++ {
			g := string(run[i : i+2])
			if !stopHan[run[i]] && !stopHan[run[i+1]] {
				add(g)
			}
		}
	}
	for i := 0; i < len(run); {
		n, counted := 0, false
		for l := min(len(run)-i, maxLexiconRunes); l >= 2; l-- {
			if c, ok := lexicon[string(run[i:i+l])]; ok {
				n, counted = l, c
				break
			}
		}
		if n == 0 {
			i++
			continue
		}
		grams(i)
		if counted {
			add(string(run[i : i+n]))
		}
		i += n
		start = i
	}
	grams(len(run))
}

const maxLexiconRunes = 8

// deskWords are everyday words of an insurer's service desk: known words keep the 2-grams
// that straddle two of them ("赔进" in 理赔进度) out of the counts.
var deskWords = strings.Fields(`理赔 报案 投诉 退保 保单 进度 赔付 赔款 理赔款 退款 续保 缴费 保费 发票 材料 审核 车险 寿险 医疗 意外 住院 门诊
	事故 定损 维修 扣款 账户 密码 登录 短信 电话 客服 态度 延误 拒赔 到账 银行卡 身份证 受益人 保险 合同 条款 报销 体检 批改 地址 手机号
	满意 不满意 退订 查询 修改 取消 申请 回访`)

// silentWords are known words too common to be keywords (greetings, question words, "as
// soon as possible", "handle"): they are cut out of the text like deskWords but not counted.
var silentWords = strings.Fields(`你好 您好 谢谢 感谢 请问 一下 什么 怎么 为何 为什么 怎样 可以 已经 没有 现在 今天 明天 昨天 时候 知道 需要
	一直 如何 能否 麻烦 帮忙 问题 情况 多少 不能 不会 如果 因为 所以 但是 然后 以后 之前 之后 一样 一些 一点 希望 告诉 说明 联系
	回复 收到 看看 不了 好的 一次 两次 几天 多久 有没有 尽快 处理 服务 时间 结果 工作人员 客户`)

// chineseLexicon maps the known words to whether they count: deskWords and the rules'
// Chinese keywords do, silentWords do not.
func chineseLexicon(ruleWords []string) map[string]bool {
	lex := map[string]bool{}
	put := func(words []string, counted bool) {
		for _, w := range words {
			r := []rune(strings.ToLower(strings.TrimSpace(w)))
			if len(r) >= 2 && len(r) <= maxLexiconRunes && unicode.Is(unicode.Han, r[0]) {
				lex[string(r)] = counted
			}
		}
	}
	put(silentWords, false)
	put(deskWords, true)
	put(ruleWords, true)
	return lex
}

// stopHan are function characters: a 2-gram with one is not a keyword.
var stopHan = func() map[rune]bool {
	m := map[rune]bool{}
	for _, r := range "的了吗呢吧啊呀哦嗯哈么我你您他她它们这那个是在就都也还很和与及或被把给让对从而又请" {
		m[r] = true
	}
	return m
}()

// englishStop are English words too common to be keywords.
var englishStop = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`the and for are but not you your yours all any can had has have her his him was were one our out
	get got just now new yes who why how what when where which this that these those there their them they then than with
	from into onto about after before again also been being did does doing done dont cant wont isnt didnt doesnt im ive
	its it's i'm don't can't won't isn't didn't doesn't i've i'll ill youre you're we're were very more most much many
	some such only own same too will would could should shall may might must here hello dear thanks thank please regards
	sir madam hi hey ok okay let lets let's would've tell told know want need like still yet over under off per via
	http https www com net org cn html mail email sent reply re fw fwd subject`) {
		m[w] = true
	}
	return m
}()
