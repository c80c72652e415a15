// Package exports writes the CSV files supervisors take to a spreadsheet: the queue, the
// complaints register and the monthly KPI. The API and the console serve the same files.
// Each is streamed a page at a time (never the whole table in memory), UTF-8 with a
// byte-order mark so Excel reads Chinese, and every cell a spreadsheet would run as a
// formula is neutralised.
package exports

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/privacy"
	"github.com/hotlinedesk/hotline/tickets/reports"
)

// MaxDays bounds an export's date range.
const MaxDays = 366

// timeout bounds how long one export may keep reading after its handler returned.
const timeout = 5 * time.Minute

// Cell neutralises a cell a spreadsheet would read as a formula (= + - @, and the tab and
// carriage return some read the same way) with a leading apostrophe.
func Cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// Writer writes one CSV file: the byte-order mark, then rows of neutralised cells, each
// handed on as it is written.
type Writer struct {
	bw  *bufio.Writer
	w   *csv.Writer
	bom bool
}

// Row writes one row, its cells masked (privacy.MaskText) and defused (Cell).
func (w *Writer) Row(cells ...string) error {
	if !w.bom {
		w.bom = true
		if _, err := w.bw.WriteString("\uFEFF"); err != nil {
			return err
		}
	}
	for i := range cells {
		// A file leaves the desk: customers' numbers and addresses in it are masked.
		cells[i] = Cell(privacy.MaskText(cells[i]))
	}
	if err := w.w.Write(cells); err != nil {
		return err
	}
	w.w.Flush()
	return w.w.Error()
}

// Stream answers with the CSV file name, written by fn after the handler returns: fn gets
// a context of its own, since the request's is recycled by then. A failure half way can no
// longer change the status: it is logged and the file ends there.
func Stream(c *fiber.Ctx, log *slog.Logger, name string, fn func(context.Context, *Writer) error) error {
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.UserContext()), timeout)
	c.Context().SetBodyStreamWriter(func(bw *bufio.Writer) {
		defer cancel()
		w := &Writer{bw: bw, w: csv.NewWriter(bw)}
		err := fn(ctx, w)
		if err == nil {
			err = bw.Flush()
		}
		if err != nil {
			log.Error("export stopped", "export", name, "err", err)
		}
	})
	return nil
}

// Range reads from and to (dates, 2026-11-01, in loc, to inclusive; or RFC 3339 times, to
// exclusive), by default the 30 days up to the end of today, at most MaxDays.
func Range(query func(key string, def ...string) string, now time.Time, loc *time.Location) (from, to time.Time, err error) {
	parse := func(name string, end bool) (time.Time, bool, error) {
		v := query(name)
		if v == "" {
			return time.Time{}, false, nil
		}
		if d, err := time.ParseInLocation(time.DateOnly, v, loc); err == nil {
			if end {
				d = d.AddDate(0, 0, 1)
			}
			return d, true, nil
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return time.Time{}, false, tickets.Invalidf("%s must be a date such as 2026-11-01 or an RFC 3339 time", name)
		}
		return t, true, nil
	}
	to, ok, err := parse("to", true)
	if err != nil {
		return from, to, err
	}
	if !ok {
		n := now.In(loc)
		to = time.Date(n.Year(), n.Month(), n.Day()+1, 0, 0, 0, 0, loc)
	}
	if from, ok, err = parse("from", false); err != nil {
		return from, to, err
	}
	if !ok {
		from = to.AddDate(0, 0, -30)
	}
	if !from.Before(to) {
		return from, to, tickets.Invalidf("from must be before to")
	}
	if to.Sub(from) > MaxDays*24*time.Hour+time.Hour { // an hour for a daylight-saving change
		return from, to, tickets.Invalidf("an export covers at most %d days", MaxDays)
	}
	return from, to, nil
}

// MonthRange reads from and to as Range does, but by default from the first of this month
// to the end of today: an assessment's period (the scorecards).
func MonthRange(query func(key string, def ...string) string, now time.Time, loc *time.Location) (from, to time.Time, err error) {
	n := now.In(loc)
	return Range(func(key string, def ...string) string {
		v := query(key)
		if v == "" && key == "from" {
			v = time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, loc).Format(time.DateOnly)
		}
		return v
	}, now, loc)
}

// words picks an export's words in its language.
func words(english bool, zh, en string) string {
	if english {
		return en
	}
	return zh
}

func when(t *time.Time, loc *time.Location) string {
	if t == nil || t.Year() >= 9999 {
		return ""
	}
	return t.In(loc).Format("2006-01-02 15:04")
}

// Tickets writes the queue f selects (its cursor and limit are the export's), the tickets
// created in [from, to), in the queue's order: nearest deadline first.
func Tickets(ctx context.Context, w *Writer, svc *tickets.Service, f tickets.TicketFilter, from, to time.Time, en bool) error {
	loc := svc.Calendar().Location()
	if err := w.Row(words(en, "工单号", "Reference"), words(en, "主题", "Subject"), words(en, "客户", "Customer"), words(en, "状态", "Status"),
		words(en, "渠道", "Channel"), words(en, "优先级", "Priority"), words(en, "类别", "Category"), words(en, "团队", "Team"),
		words(en, "处理人", "Assignee"), words(en, "创建时间", "Created"), words(en, "下一期限", "Next deadline")); err != nil {
		return err
	}
	f.Limit, f.Cursor = 200, ""
	for {
		page, err := svc.ListTickets(ctx, f)
		if err != nil {
			return err
		}
		for _, t := range page.Items {
			if t.CreatedAt.Before(from) || !t.CreatedAt.Before(to) {
				continue
			}
			var customer, team, assignee string
			if t.Customer != nil {
				customer = t.Customer.Name
			}
			if t.Team != nil {
				team = t.Team.Name
			}
			if t.Assignee != nil {
				assignee = t.Assignee.Name
			}
			due := t.NextDueAt
			if err := w.Row(t.Ref(), t.Subject, customer, t.Status.Words(en), string(t.Channel), string(t.Priority), t.Category,
				team, assignee, when(&t.CreatedAt, loc), when(&due, loc)); err != nil {
				return err
			}
		}
		if page.NextCursor == "" {
			return nil
		}
		f.Cursor = page.NextCursor
	}
}

// Complaints writes the complaints register: those received in [from, to), oldest first.
func Complaints(ctx context.Context, w *Writer, rd *reports.Reader, loc *time.Location, from, to time.Time, en bool) error {
	if err := w.Row(words(en, "投诉编号", "Complaint"), words(en, "工单号", "Ticket"), words(en, "客户", "Customer"), words(en, "团队", "Team"),
		words(en, "来源", "Source"), words(en, "状态", "Status"), words(en, "摘要", "Summary"), words(en, "投诉专员", "Officer"),
		words(en, "受理时间", "Received"), words(en, "处理期限", "Deadline"), words(en, "决定时间", "Decided"), words(en, "按时", "On time"),
		words(en, "处理决定", "Decision"), words(en, "结果", "Outcome"), words(en, "结案时间", "Closed")); err != nil {
		return err
	}
	var after int64
	for {
		rows, err := rd.ComplaintRegister(ctx, from, to, after, reports.MaxRegisterPage)
		if err != nil {
			return err
		}
		for _, r := range rows {
			onTime := ""
			if ok, decided := r.OnTime(); decided {
				onTime = words(en, "否", "no")
				if ok {
					onTime = words(en, "是", "yes")
				}
			}
			if err := w.Row(r.Ref(), tickets.FormatRef(r.TicketID), r.Customer, r.Team, string(r.Source), string(r.Status), r.Summary,
				r.Officer, when(&r.ReceivedAt, loc), when(&r.DeadlineAt, loc), when(r.DecidedAt, loc), onTime,
				r.Decision, r.Outcome, when(r.ClosedAt, loc)); err != nil {
				return err
			}
			after = r.ID
		}
		if len(rows) < reports.MaxRegisterPage {
			return nil
		}
	}
}

// KPI writes a month's KPI table: each promise with how many were kept, of how many, and
// the rate.
func KPI(w *Writer, k *reports.KPI, en bool) error {
	share := func(name string, sh reports.Share) []string {
		rate := ""
		if r, ok := sh.Rate(); ok {
			rate = strconv.FormatFloat(r*100, 'f', 1, 64) + "%"
		}
		return []string{name, strconv.FormatInt(sh.Met, 10), strconv.FormatInt(sh.Total, 10), rate}
	}
	var satisfied, average string
	if k.CSAT.Responses > 0 {
		satisfied = strconv.FormatFloat(k.CSAT.SatisfiedShare*100, 'f', 1, 64) + "%"
		average = strconv.FormatFloat(k.CSAT.Average, 'f', 2, 64)
	}
	responses := strconv.FormatInt(k.CSAT.Responses, 10)
	rows := [][]string{
		{words(en, "指标", "Measure"), words(en, "达标", "Met"), words(en, "总数", "Total"), words(en, "比率", "Rate")},
		share(words(en, "24 小时内首次响应", "First response within its deadline (24 h)"), k.FirstResponse),
		share(words(en, "48 小时内解决", "Resolved within its deadline (48 h)"), k.Resolution),
		share(words(en, "投诉 10 个工作日内作出决定", "Complaints decided within 10 working days"), k.Complaints),
		share(words(en, "回访完成", "Follow-up visits completed"), k.FollowUps),
		{words(en, "满意度（4-5 分）", "Satisfied (4-5)"), fmt.Sprint(int64(float64(k.CSAT.Responses)*k.CSAT.SatisfiedShare + 0.5)), responses, satisfied},
		{words(en, "平均评分（1-5）", "Average score (1-5)"), "", responses, average},
		{words(en, "新建工单", "Tickets created"), "", strconv.FormatInt(k.Created, 10), ""},
	}
	for _, r := range rows {
		if err := w.Row(r...); err != nil {
			return err
		}
	}
	return nil
}

// KPIName is the file name of month's KPI.
func KPIName(k *reports.KPI) string { return "kpi-" + k.Month.Format("2006-01") + ".csv" }

// FrequentIssues writes the weekly categories and keywords: each with its count in every
// week, the total, and the last week's change on the one before (absolute, and in percent
// where the week before had any).
func FrequentIssues(w *Writer, fi *reports.FrequentIssues, en bool) error {
	head := []string{words(en, "类型", "Kind"), words(en, "名称", "Name")}
	for i, wk := range fi.Weeks {
		label := wk.Format("2006-01-02")
		if i == len(fi.Weeks)-1 && fi.Partial {
			label += words(en, "（未完）", " (so far)")
		}
		head = append(head, label)
	}
	head = append(head, words(en, "合计", "Total"), words(en, "较上周", "Change on the week before"), words(en, "较上周 %", "Change %"))
	if err := w.Row(head...); err != nil {
		return err
	}
	write := func(kind string, trends []reports.IssueTrend) error {
		for _, t := range trends {
			name := t.Key
			if name == "" {
				name = words(en, "未分类", "Uncategorised")
			}
			row := []string{kind, name}
			for _, n := range t.Weeks {
				row = append(row, strconv.FormatInt(n, 10))
			}
			rate := ""
			if r, ok := t.ChangeRate(); ok {
				rate = strconv.FormatFloat(r*100, 'f', 1, 64) + "%"
			}
			row = append(row, strconv.FormatInt(t.Total, 10), strconv.FormatInt(t.Change(), 10), rate)
			if err := w.Row(row...); err != nil {
				return err
			}
		}
		return nil
	}
	if err := write(words(en, "类别", "Category"), fi.Categories); err != nil {
		return err
	}
	return write(words(en, "关键词", "Keyword"), fi.Keywords)
}

// FrequentIssuesName is the file name of a frequent-issues export.
func FrequentIssuesName(fi *reports.FrequentIssues) string {
	return "frequent-issues-" + fi.Weeks[0].Format("2006-01-02") + ".csv"
}
