package api

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/reports"
)

// CSV exports: the queue, the complaints register and the monthly KPI. Each is streamed a
// page at a time (never the whole table in memory), UTF-8 with a byte-order mark so Excel
// reads Chinese, and every cell that a spreadsheet would run as a formula is neutralised.

// maxExportDays bounds an export's date range.
const maxExportDays = 366

// exportTimeout bounds how long one export may keep reading after its handler returned.
const exportTimeout = 5 * time.Minute

// csvCell neutralises a cell a spreadsheet would read as a formula (= + - @, and the tab
// and carriage return some read the same way) with a leading apostrophe.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// streamCSV answers with a CSV file named name, written by rows page by page after the
// handler returns: rows gets a writer and a context of its own, since the request's are
// recycled by then. A failure half way can no longer change the status: it is logged and
// the file ends there.
func (s *server) streamCSV(c *fiber.Ctx, name string, header []string, rows func(ctx context.Context, write func(...string) error) error) error {
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.UserContext()), exportTimeout)
	log := s.log.With("export", name)
	c.Context().SetBodyStreamWriter(func(bw *bufio.Writer) {
		defer cancel()
		bw.WriteString("\uFEFF") //nolint:errcheck // a failed write shows at Flush
		w := csv.NewWriter(bw)
		write := func(cells ...string) error {
			for i := range cells {
				cells[i] = csvCell(cells[i])
			}
			if err := w.Write(cells); err != nil {
				return err
			}
			return nil
		}
		err := write(header...)
		if err == nil {
			err = rows(ctx, func(cells ...string) error {
				if err := write(cells...); err != nil {
					return err
				}
				// Hand each row on as the buffer fills, so a slow reader holds no more.
				w.Flush()
				return w.Error()
			})
		}
		w.Flush()
		if err == nil {
			err = w.Error()
		}
		if err == nil {
			err = bw.Flush()
		}
		if err != nil {
			log.Error("export stopped", "err", err)
		}
	})
	return nil
}

// dateRange reads from and to (dates, 2026-11-01, in the desk's zone, to inclusive; or RFC
// 3339 times, to exclusive), by default the 30 days up to the end of today, at most maxExportDays.
func (s *server) dateRange(c *fiber.Ctx) (time.Time, time.Time, error) {
	loc := s.svc.Calendar().Location()
	parse := func(name string, end bool) (time.Time, bool, error) {
		v := c.Query(name)
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
			return time.Time{}, false, fiber.NewError(fiber.StatusBadRequest, name+" must be a date such as 2026-11-01 or an RFC 3339 time")
		}
		return t, true, nil
	}
	to, ok, err := parse("to", true)
	if err != nil {
		return to, to, err
	}
	if !ok { // to the end of today
		n := s.svc.Now().In(loc)
		to = time.Date(n.Year(), n.Month(), n.Day()+1, 0, 0, 0, 0, loc)
	}
	from, ok, err := parse("from", false)
	if err != nil {
		return from, to, err
	}
	if !ok {
		from = to.AddDate(0, 0, -30)
	}
	if !from.Before(to) {
		return from, to, fiber.NewError(fiber.StatusBadRequest, "from must be before to")
	}
	if to.Sub(from) > maxExportDays*24*time.Hour+time.Hour { // an hour for a daylight-saving change
		return from, to, fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("an export covers at most %d days", maxExportDays))
	}
	return from, to, nil
}

func exportEnglish(c *fiber.Ctx) bool { return c.Query("lang") == "en" }

// words picks an export's words in its language.
func words(english bool, zh, en string) string {
	if english {
		return en
	}
	return zh
}

func csvTime(t *time.Time, loc *time.Location) string {
	if t == nil || t.Year() >= 9999 {
		return ""
	}
	return t.In(loc).Format("2006-01-02 15:04")
}

// exportTickets serves GET /tickets.csv: the queue with the filters of GET /tickets (the
// console's view), created in the date range, in the queue's order: nearest deadline first.
func (s *server) exportTickets(c *fiber.Ctx) error {
	f, err := queueFilter(c)
	if err != nil {
		return err
	}
	from, to, err := s.dateRange(c)
	if err != nil {
		return err
	}
	f.Limit, f.Cursor = 200, ""
	// Check the filter before the answer starts: a bad one is a 400, not a broken file.
	probe := f
	probe.Limit = 1
	if _, err := s.svc.ListTickets(c.UserContext(), probe); err != nil {
		return err
	}
	en, loc := exportEnglish(c), s.svc.Calendar().Location()
	header := []string{words(en, "工单号", "Reference"), words(en, "主题", "Subject"), words(en, "客户", "Customer"), words(en, "状态", "Status"),
		words(en, "渠道", "Channel"), words(en, "优先级", "Priority"), words(en, "类别", "Category"), words(en, "团队", "Team"),
		words(en, "处理人", "Assignee"), words(en, "创建时间", "Created"), words(en, "下一期限", "Next deadline")}
	return s.streamCSV(c, "tickets.csv", header, func(ctx context.Context, write func(...string) error) error {
		for {
			page, err := s.svc.ListTickets(ctx, f)
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
				if err := write(t.Ref(), t.Subject, customer, t.Status.Words(en), string(t.Channel), string(t.Priority), t.Category,
					team, assignee, csvTime(&t.CreatedAt, loc), csvTime(&due, loc)); err != nil {
					return err
				}
			}
			if page.NextCursor == "" {
				return nil
			}
			f.Cursor = page.NextCursor
		}
	})
}

// exportComplaints serves GET /complaints.csv: the complaints register, received in the
// date range, oldest first.
func (s *server) exportComplaints(c *fiber.Ctx) error {
	from, to, err := s.dateRange(c)
	if err != nil {
		return err
	}
	en, loc := exportEnglish(c), s.svc.Calendar().Location()
	header := []string{words(en, "投诉编号", "Complaint"), words(en, "工单号", "Ticket"), words(en, "客户", "Customer"), words(en, "团队", "Team"),
		words(en, "来源", "Source"), words(en, "状态", "Status"), words(en, "摘要", "Summary"), words(en, "投诉专员", "Officer"),
		words(en, "受理时间", "Received"), words(en, "处理期限", "Deadline"), words(en, "决定时间", "Decided"), words(en, "按时", "On time"),
		words(en, "处理决定", "Decision"), words(en, "结果", "Outcome"), words(en, "结案时间", "Closed")}
	return s.streamCSV(c, "complaints.csv", header, func(ctx context.Context, write func(...string) error) error {
		var after int64
		for {
			rows, err := s.reports.ComplaintRegister(ctx, from, to, after, reports.MaxRegisterPage)
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
				if err := write(r.Ref(), tickets.FormatRef(r.TicketID), r.Customer, r.Team, string(r.Source), string(r.Status), r.Summary,
					r.Officer, csvTime(&r.ReceivedAt, loc), csvTime(&r.DeadlineAt, loc), csvTime(r.DecidedAt, loc), onTime,
					r.Decision, r.Outcome, csvTime(r.ClosedAt, loc)); err != nil {
					return err
				}
				after = r.ID
			}
			if len(rows) < reports.MaxRegisterPage {
				return nil
			}
		}
	})
}

// exportKPI serves GET /reports/kpi.csv?month=2026-11[&team=ID] to supervisors and admins,
// as the dashboard: a supervisor of a team sees that team unless they name another.
func (s *server) exportKPI(c *fiber.Ctx) error {
	a := agentOf(c)
	if a.Role != tickets.RoleSupervisor && a.Role != tickets.RoleAdmin {
		return fiber.NewError(fiber.StatusForbidden, "the KPI report is for supervisors and admins")
	}
	loc := s.svc.Calendar().Location()
	month := s.svc.Now()
	if v := c.Query("month"); v != "" {
		m, err := time.ParseInLocation("2006-01", v, loc)
		if err != nil {
			return fiber.NewError(fiber.StatusBadRequest, "month must be a month such as 2026-11")
		}
		month = m
	}
	var teamID *int64
	switch v := c.Query("team"); v {
	case "all":
	case "":
		if a.Role == tickets.RoleSupervisor {
			teamID = a.TeamID
		}
	default:
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fiber.NewError(fiber.StatusBadRequest, `team must be a team id or "all"`)
		}
		teamID = &id
	}
	k, err := s.reports.MonthKPI(c.UserContext(), month, teamID)
	if err != nil {
		return err
	}
	en := exportEnglish(c)
	share := func(name string, sh reports.Share) []string {
		rate := ""
		if r, ok := sh.Rate(); ok {
			rate = strconv.FormatFloat(r*100, 'f', 1, 64) + "%"
		}
		return []string{name, strconv.FormatInt(sh.Met, 10), strconv.FormatInt(sh.Total, 10), rate}
	}
	rows := [][]string{
		share(words(en, "24 小时内首次响应", "First response within its deadline (24 h)"), k.FirstResponse),
		share(words(en, "48 小时内解决", "Resolved within its deadline (48 h)"), k.Resolution),
		share(words(en, "投诉 10 个工作日内作出决定", "Complaints decided within 10 working days"), k.Complaints),
		share(words(en, "回访完成", "Follow-up visits completed"), k.FollowUps),
		{words(en, "满意度（4-5 分）", "Satisfied (4-5)"), strconv.FormatInt(int64(float64(k.CSAT.Responses)*k.CSAT.SatisfiedShare+0.5), 10),
			strconv.FormatInt(k.CSAT.Responses, 10), satisfiedRate(k.CSAT)},
		{words(en, "平均评分（1-5）", "Average score (1-5)"), "", strconv.FormatInt(k.CSAT.Responses, 10), avgScore(k.CSAT)},
		{words(en, "新建工单", "Tickets created"), "", strconv.FormatInt(k.Created, 10), ""},
	}
	header := []string{words(en, "指标", "Measure"), words(en, "达标", "Met"), words(en, "总数", "Total"), words(en, "比率", "Rate")}
	name := "kpi-" + k.Month.Format("2006-01") + ".csv"
	return s.streamCSV(c, name, header, func(_ context.Context, write func(...string) error) error {
		for _, r := range rows {
			if err := write(r...); err != nil {
				return err
			}
		}
		return nil
	})
}

func satisfiedRate(s reports.Satisfaction) string {
	if s.Responses == 0 {
		return ""
	}
	return strconv.FormatFloat(s.SatisfiedShare*100, 'f', 1, 64) + "%"
}

func avgScore(s reports.Satisfaction) string {
	if s.Responses == 0 {
		return ""
	}
	return strconv.FormatFloat(s.Average, 'f', 2, 64)
}
