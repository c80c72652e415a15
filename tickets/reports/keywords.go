package reports

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hotlinedesk/hotline/tickets"
)

// KeywordSample bounds the inbound messages TopKeywords reads: the most recent ones.
const KeywordSample = 5000

// keywordBodyRunes is how much of each message TopKeywords reads.
const keywordBodyRunes = 2000

// TopKeywords finds what customers wrote about in [from, to): the n terms mentioned in the
// most tickets, counted in the most recent `sample` inbound messages of the period (at most
// and by default KeywordSample) and their tickets' subjects, each ticket counting a term
// once. It also returns how many messages it read. See keywordTerms for what a term is.
func (rd *Reader) TopKeywords(ctx context.Context, from, to time.Time, teamID *int64, n, sample int) ([]Count, int, error) {
	if sample <= 0 || sample > KeywordSample {
		sample = KeywordSample
	}
	from, to = from.UTC(), to.UTC()
	if !from.Before(to) {
		return nil, 0, tickets.Invalidf("a report's start must be before its end")
	}
	if err := rd.checkTeam(ctx, teamID); err != nil {
		return nil, 0, err
	}
	docs, ruleWords, read, err := rd.keywordDocs(ctx, from, to, teamID, sample)
	if err != nil {
		return nil, 0, err
	}
	return topTerms(docs, ruleWords, n), read, nil
}

// keywordDocs reads the texts keywords are counted in: for each ticket with inbound
// messages among the most recent `sample` of [from, to), its subject and those messages;
// with the active routing rules' keywords and how many messages it read.
func (rd *Reader) keywordDocs(ctx context.Context, from, to time.Time, teamID *int64, sample int) ([]string, []string, int, error) {
	rules, err := rd.rules(ctx)
	if err != nil {
		return nil, nil, 0, err
	}
	var ruleWords []string
	for _, r := range rules {
		if r.Active {
			ruleWords = append(ruleWords, r.KeywordList()...)
		}
	}
	team, teamArgs := teamClause(teamID)
	var rows []struct {
		TicketID int64  `bun:"ticket_id"`
		Body     string `bun:"body"`
		Subject  string `bun:"subject"`
	}
	if err := rd.db.NewRaw(fmt.Sprintf("SELECT m.ticket_id AS ticket_id, SUBSTR(m.body, 1, %d) AS body, t.subject AS subject "+
		"FROM messages AS m JOIN tickets AS t ON t.id = m.ticket_id "+
		"WHERE m.direction = ? AND m.erased_at IS NULL AND m.created_at >= ? AND m.created_at < ?%s ORDER BY m.id DESC LIMIT %d", keywordBodyRunes, team, sample),
		append([]any{tickets.DirectionInbound, from, to}, teamArgs...)...).Scan(ctx, &rows); err != nil {
		return nil, nil, 0, fmt.Errorf("read inbound messages for keywords: %w", err)
	}
	texts := map[int64][]string{}
	var order []int64
	for _, r := range rows {
		if _, ok := texts[r.TicketID]; !ok {
			order = append(order, r.TicketID)
			if r.Subject == tickets.ErasedText {
				r.Subject = ""
			}
			texts[r.TicketID] = []string{r.Subject}
		}
		texts[r.TicketID] = append(texts[r.TicketID], r.Body)
	}
	docs := make([]string, 0, len(order))
	for _, id := range order {
		docs = append(docs, strings.Join(texts[id], "\n"))
	}
	return docs, ruleWords, len(rows), nil
}

// topTerms counts, for each term, the documents that mention it, and returns the n most
// mentioned: a term the desk's routing rules name counts from one mention, any other from
// two (one customer's words are not a trend). Ties go to the rules' terms, then the longer,
// then the alphabetically first.
func topTerms(docs []string, ruleWords []string, n int) []Count {
	tc := countTerms(docs, ruleWords)
	out := make([]Count, 0, len(tc.counts))
	for k, c := range tc.counts {
		if c >= 2 || tc.isRule[k] {
			out = append(out, Count{Key: k, N: c})
		}
	}
	tc.sort(out)
	if len(out) > n {
		out = out[:n]
	}
	for i := range out {
		out[i].Key = tc.shown[out[i].Key]
	}
	return out
}

// termCounts is how many documents mention each term, by its lower-cased form.
type termCounts struct {
	counts map[string]int64
	shown  map[string]string // lower-cased term → as first seen (a rule's own spelling)
	isRule map[string]bool
}

// countTerms counts, for each term, the documents that mention it.
func countTerms(docs []string, ruleWords []string) termCounts {
	tc := termCounts{counts: map[string]int64{}, shown: map[string]string{}, isRule: map[string]bool{}}
	for _, w := range ruleWords {
		k := strings.ToLower(w)
		tc.isRule[k] = true
		if _, ok := tc.shown[k]; !ok {
			tc.shown[k] = w
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
			tc.counts[k]++
			if _, ok := tc.shown[k]; !ok {
				tc.shown[k] = term
			}
		})
	}
	return tc
}

// sort orders counts most first; ties go to the rules' terms, then the longer, then the
// alphabetically first.
func (tc termCounts) sort(out []Count) {
	slices.SortFunc(out, func(a, b Count) int {
		if c := cmp.Compare(b.N, a.N); c != 0 {
			return c
		}
		if tc.isRule[a.Key] != tc.isRule[b.Key] {
			if tc.isRule[a.Key] {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(utf8.RuneCountInString(b.Key), utf8.RuneCountInString(a.Key)); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
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
