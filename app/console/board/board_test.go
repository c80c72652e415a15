package board_test

import (
	"context"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

var (
	sectionRe = regexp.MustCompile(`(?s)<section class="cp-col cp-col-(\w+)".*?</section>`)
	cardRe    = regexp.MustCompile(`(?s)<article class="cp-card[^"]*" data-ref="(CP-\d+)">.*?</article>`)
)

// board reads the complaints board into its columns: each a list of cards, in order.
func board(t *testing.T, r consoletest.Response) map[string][]string {
	t.Helper()
	consoletest.WantStatus(t, r, 200)
	cols := map[string][]string{}
	for _, s := range sectionRe.FindAllStringSubmatch(r.Body, -1) {
		cols[s[1]] = []string{}
		for _, c := range cardRe.FindAllStringSubmatch(s[0], -1) {
			cols[s[1]] = append(cols[s[1]], c[1])
		}
	}
	if len(cols) != 3 {
		t.Fatalf("board has columns %v, want received, investigating and decided", cols)
	}
	return cols
}

// card is one complaint's card on the board, as HTML.
func card(t *testing.T, r consoletest.Response, ref string) string {
	t.Helper()
	for _, c := range cardRe.FindAllStringSubmatch(r.Body, -1) {
		if c[1] == ref {
			return c[0]
		}
	}
	t.Fatalf("no card for %s on the board:\n%s", ref, consoletest.Clip(r.Body))
	return ""
}

func wantIn(t *testing.T, what, html string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(html, p) {
			t.Errorf("%s lacks %q:\n%s", what, p, html)
		}
	}
}

func sameList(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") }

// The board puts each complaint in its column, the overdue ones first and then the nearest
// deadline, and says in working days how long is left.
func TestComplaintBoard(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	ctx := context.Background()
	officer := tickets.AgentActor(d.Office)
	// t0 is Wednesday 2026-11-25, 09:30 at the desk.
	fresh := d.FileComplaint("周敏", "+8613600000001", "理赔款迟迟未到", consoletest.T0)                           // due 12-09
	late := d.FileComplaint("赵磊", "+8613600000002", "客服态度恶劣，挂断电话", consoletest.Local(2026, 11, 2, 10, 0)) // due 11-16
	soon := d.FileComplaint("钱芳", "+8613600000003", "保单退保手续费不合理", consoletest.Local(2026, 11, 12, 10, 0)) // due 11-26
	busy := d.FileComplaint("孙强", "+8613600000004", "查勘员三天未上门", consoletest.Local(2026, 11, 20, 10, 0))   // due 12-04
	done := d.FileComplaint("李雷", "+8613600000005", "Refund of the cancellation fee", consoletest.Local(2026, 11, 24, 10, 0))
	if _, err := d.Complaints().SetStatus(ctx, officer, busy.Ref(), tickets.ComplaintInvestigating, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Complaints().Assign(ctx, officer, busy.Ref(), d.Super.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Complaints().Decide(ctx, officer, done.Ref(), "The fee is refunded in full.", "upheld"); err != nil {
		t.Fatal(err)
	}

	b := d.SignIn(d.Office)
	r := b.Get("/complaints")
	cols := board(t, r)
	if !sameList(cols["received"], []string{late.Ref(), soon.Ref(), fresh.Ref()}) || !sameList(cols["investigating"], []string{busy.Ref()}) ||
		!sameList(cols["decided"], []string{done.Ref()}) {
		t.Errorf("columns %v; want received [%s %s %s] (overdue first, then nearest deadline), investigating [%s], decided [%s]",
			cols, late.Ref(), soon.Ref(), fresh.Ref(), busy.Ref(), done.Ref())
	}
	consoletest.WantContains(t, r, "1 件已逾期", "1 件 2 个工作日内到期", "4 件待决定")
	wantIn(t, "the overdue card", card(t, r, late.Ref()), `cp-card is-overdue`, `<span class="cp-left breach">逾期 7 个工作日</span>`,
		`href="/tickets/`+late.Ticket.Ref()+`"`, "赵磊", "客服态度恶劣", "王芳 Wang Fang", "截止 2026-11-16", "坐席登记")
	wantIn(t, "the card due tomorrow", card(t, r, soon.Ref()), `cp-card is-soon`, `<span class="cp-left warn">剩 1 个工作日</span>`, "截止 2026-11-26")
	wantIn(t, "the fresh card", card(t, r, fresh.Ref()), `<span class="cp-left ok">剩 10 个工作日</span>`, "截止 2026-12-09")
	wantIn(t, "the investigated card", card(t, r, busy.Ref()), `剩 7 个工作日`, "陈静 Chen Jing")
	wantIn(t, "the decided card", card(t, r, done.Ref()), "成立", "11-25 决定", "按时")

	// Mine: what the signed-in officer holds.
	cols = board(t, b.Get("/complaints?view=mine"))
	if !sameList(cols["received"], []string{late.Ref(), soon.Ref(), fresh.Ref()}) || len(cols["investigating"]) != 0 {
		t.Errorf("mine: %v; the investigated complaint is the supervisor's", cols)
	}
	cols = board(t, d.SignIn(d.Super).Get("/complaints?view=mine"))
	if len(cols["received"]) != 0 || !sameList(cols["investigating"], []string{busy.Ref()}) {
		t.Errorf("the supervisor's own: %v", cols)
	}

	// Time moves: Thursday the complaint due today is amber; Friday it is a day late.
	d.Clock.Advance(24 * time.Hour)
	r = b.Get("/complaints")
	wantIn(t, "Thursday", card(t, r, soon.Ref()), `<span class="cp-left warn">今天到期</span>`)
	wantIn(t, "Thursday", card(t, r, late.Ref()), `逾期 8 个工作日`)
	d.Clock.Advance(24 * time.Hour)
	r = b.Get("/complaints")
	wantIn(t, "Friday", card(t, r, soon.Ref()), `<span class="cp-left breach">逾期 1 个工作日</span>`)
	consoletest.WantContains(t, r, "2 件已逾期")
	if cols = board(t, r); !sameList(cols["received"], []string{late.Ref(), soon.Ref(), fresh.Ref()}) {
		t.Errorf("Friday: %v", cols["received"])
	}

	// In English.
	b.Post("/settings/language", url.Values{"lang": {"en"}})
	r = b.Get("/complaints")
	consoletest.WantContains(t, r, "Complaints board", "2 overdue", "Received", "Investigating", "Decided")
	wantIn(t, "the overdue card in English", card(t, r, late.Ref()), "overdue by 9 working days", "due 2026-11-16", "Logged by staff")
	wantIn(t, "the fresh card in English", card(t, r, fresh.Ref()), "8 working days left")
	wantIn(t, "the decided card in English", card(t, r, done.Ref()), "Upheld", "decided 2026-11-25", "on time")
	consoletest.WantLacks(t, r, "complaints.", "event.")

	r = b.Get("/complaints?view=everything")
	consoletest.WantStatus(t, r, 400)
	consoletest.WantContains(t, r, "view must be all or mine")
}

// Working days left skip the Spring Festival holiday and count its make-up Sundays.
func TestComplaintBoardCountsHolidays(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	d.Clock.Advance(consoletest.Local(2027, 1, 29, 15, 0).Sub(consoletest.T0)) // Friday before Spring Festival 2027
	// Sunday 1/31 worked, 2/1–2/4, 2/5–2/13 off, Sunday 2/14 worked, 2/15–2/18.
	c := d.FileComplaint("吴刚", "+8613600000009", "春节前的理赔还没有结果", d.Clock.Now())
	b := d.SignIn(d.Office)
	r := b.Get("/complaints")
	wantIn(t, "received before the holiday", card(t, r, c.Ref()), "剩 10 个工作日", "截止 2027-02-18")
	d.Clock.Advance(consoletest.Local(2027, 2, 8, 10, 0).Sub(d.Clock.Now())) // Monday, in the holiday
	r = b.Get("/complaints")
	wantIn(t, "in the holiday", card(t, r, c.Ref()), "剩 5 个工作日") // 2/14, 2/15, 2/16, 2/17, 2/18
	d.Clock.Advance(consoletest.Local(2027, 2, 17, 10, 0).Sub(d.Clock.Now()))
	r = b.Get("/complaints")
	wantIn(t, "the day before", card(t, r, c.Ref()), `<span class="cp-left warn">剩 1 个工作日</span>`)
}

// The complaint page shows everything an officer needs to decide, and the forms to do it.
func TestComplaintPage(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	tk := d.SMS("+8613800138000", "我要投诉！理赔三个星期没有消息")
	hist, err := d.Complaints().Complaints(context.Background(), complaints.Filter{TicketID: tk.ID})
	if err != nil || len(hist) != 1 {
		t.Fatalf("the customer's 投诉 opened %d complaints: %v", len(hist), err)
	}
	c := hist[0]
	b := d.SignIn(d.Office)
	r := b.Get("/complaints/" + strings.ToLower(c.Ref()))
	consoletest.WantStatus(t, r, 200)
	consoletest.WantContains(t, r, c.Ref(), "理赔三个星期没有消息", `href="/tickets/`+tk.Ref()+`"`, "138****8000", "客户投诉",
		"2026-11-25", "2026-12-09", "剩 10 个工作日", "未延期", "王芳 Wang Fang", "已受理",
		"升级为投诉", // the history: the complaint was opened
		`action="/complaints/`+c.Ref()+`/status"`, `value="investigating"`, `action="/complaints/`+c.Ref()+`/decision"`,
		`value="upheld"`, `value="partly_upheld"`, `value="not_upheld"`, `action="/complaints/`+c.Ref()+`/extend"`,
		`type="date" name="until" id="extend-until" min="2026-12-10"`, "每件投诉只能延期一次", `action="/complaints/`+c.Ref()+`/assign"`,
		`name="_csrf"`,
		// The conversation on the ticket, with who wrote it.
		`id="conversation"`, "客户对话", `<b>&#43;86 138****8000</b>`, "我要投诉！理赔三个星期没有消息")
	consoletest.WantLacks(t, r, `id="take"`, "complaints.", "event.") // already the officer's; no untranslated keys

	b.Post("/settings/language", url.Values{"lang": {"en"}})
	r = b.Get("/complaints/" + c.Ref())
	consoletest.WantContains(t, r, "Decision due", "10 working days left", "Not extended", "Preview what the customer receives", "Partly upheld",
		"A complaint can be extended once only, to a working day after 2026-12-09", "opened a complaint")
	consoletest.WantLacks(t, r, "complaints.", "event.")
}

// Every form changes the complaint, and the page tells what happened.
func TestComplaintForms(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	ctx := context.Background()
	c := d.FileComplaint("赵磊", "+8613600000002", "理赔被拒但没有说明理由", consoletest.T0)
	if _, err := d.Complaints().Assign(ctx, tickets.AgentActor(d.Admin), c.Ref(), d.Super.ID); err != nil {
		t.Fatal(err)
	}
	b := d.SignIn(d.Office)
	page := "/complaints/" + c.Ref()
	consoletest.WantContains(t, b.Get(page), `id="take"`)

	// Take it.
	r := b.Post(page+"/assign", url.Values{"officer": {"me"}})
	consoletest.WantStatus(t, r, 303)
	if r.Location != page {
		t.Errorf("after a form: to %q, want %q", r.Location, page)
	}
	if got := d.ComplaintNow(c.Ref()); got.OfficerID == nil || *got.OfficerID != d.Office.ID {
		t.Fatalf("taken: officer %v", got.OfficerID)
	}
	consoletest.WantContains(t, b.Get(page), "已分配给 王芳 Wang Fang。")

	// Give it to someone else, and back.
	consoletest.WantStatus(t, b.Post(page+"/assign", url.Values{"officer": {strconv.FormatInt(d.Admin.ID, 10)}}), 303)
	if got := d.ComplaintNow(c.Ref()); *got.OfficerID != d.Admin.ID {
		t.Fatalf("assigned: officer %v", *got.OfficerID)
	}
	b.Post(page+"/assign", url.Values{"officer": {"me"}})

	// Investigate.
	consoletest.WantStatus(t, b.Post(page+"/status", url.Values{"status": {"investigating"}, "reason": {"asked the branch for the file"}}), 303)
	if got := d.ComplaintNow(c.Ref()); got.Status != tickets.ComplaintInvestigating {
		t.Fatalf("status %s", got.Status)
	}
	r = b.Get(page)
	consoletest.WantContains(t, r, "状态已改为“调查中”。", "已受理 → 调查中 · 原因：asked the branch for the file")
	consoletest.WantLacks(t, r, `value="investigating"`) // nowhere further to move by hand before the decision

	// Extend to Friday 12-18: the end of that working day at the desk.
	consoletest.WantStatus(t, b.Post(page+"/extend", url.Values{"until": {"2026-12-18"}, "reason": {"等待医院出具病历"}}), 303)
	got := d.ComplaintNow(c.Ref())
	if got.ExtendedUntil == nil || got.ExtendedUntil.In(consoletest.Shanghai).Format(time.RFC3339) != "2026-12-18T23:59:59+08:00" || !got.DeadlineAt.Equal(*got.ExtendedUntil) {
		t.Fatalf("extended until %v, deadline %v", got.ExtendedUntil, got.DeadlineAt)
	}
	r = b.Get(page)
	consoletest.WantContains(t, r, "期限已延至 2026-12-18，正在通知客户。", "2026-12-18 · 等待医院出具病历", "原定 2026-12-09", "剩 17 个工作日",
		"已延期至 2026-12-18，不能再次延期。", "2026-12-09 → 2026-12-18")
	consoletest.WantLacks(t, r, `action="/complaints/`+c.Ref()+`/extend"`)

	// Decide: first the text the customer will receive, nothing sent; back to edit keeps
	// it; then confirmed.
	decision := "经复核，拒赔理由不成立，我司将于三个工作日内支付理赔款。"
	before := d.ComplaintNow(c.Ref())
	r = b.Post(page+"/decision", url.Values{"decision": {decision}, "outcome": {"partly_upheld"}})
	consoletest.WantStatus(t, r, 200)
	want, err := d.Service.Notice(ctx, tickets.TemplateComplaintDecided, "zh-CN", tickets.TemplateData{Complaint: c.Ref(), Decision: decision})
	if err != nil || !strings.Contains(want, decision) {
		t.Fatalf("the customer's words %q: %v", want, err)
	}
	consoletest.WantContains(t, r, "确认决定 "+c.Ref(), "确认后，以下内容会立即发送给客户", `id="customer-text">`+want+`</blockquote>`,
		"部分成立", `name="confirmed" value="1"`, "确认并发送给客户", "返回修改")
	d.WantUnchanged(before)
	r = b.Post(page+"/decision", url.Values{"decision": {decision}, "outcome": {"partly_upheld"}, "edit": {"1"}})
	consoletest.WantStatus(t, r, 200)
	consoletest.WantContains(t, r, `id="decision-text" rows="6" required placeholder="决定及理由。拒绝时请引用合同条款，并用通俗的话说明。">`+decision+`</textarea>`,
		`value="partly_upheld" required checked`)
	d.WantUnchanged(before)
	consoletest.WantStatus(t, b.Post(page+"/decision", url.Values{"decision": {decision}, "outcome": {"partly_upheld"}, "confirmed": {"1"}}), 303)
	got = d.ComplaintNow(c.Ref())
	if got.Status != tickets.ComplaintDecided || got.Decision != decision || got.Outcome != "partly_upheld" || got.DecidedAt == nil {
		t.Fatalf("decided: %s %q %q", got.Status, got.Decision, got.Outcome)
	}
	detail, err := d.Service.Ticket(ctx, got.Ticket.Ref())
	if err != nil {
		t.Fatal(err)
	}
	if last := detail.Messages[len(detail.Messages)-1]; last.Direction != tickets.DirectionOutbound || !strings.Contains(last.Body, decision) {
		t.Errorf("the customer was not told the decision: %+v", last)
	}
	r = b.Get(page)
	consoletest.WantContains(t, r, "决定已记录，正在通知客户。", decision, "部分成立", "按时", "投诉已决定", "结论：部分成立",
		`value="closed"`, "结案归档", "重新调查")
	consoletest.WantLacks(t, r, `action="/complaints/`+c.Ref()+`/decision"`)

	// Close it.
	consoletest.WantStatus(t, b.Post(page+"/status", url.Values{"status": {"closed"}}), 303)
	if got := d.ComplaintNow(c.Ref()); got.Status != tickets.ComplaintClosed {
		t.Fatalf("status %s", got.Status)
	}
	r = b.Get(page)
	consoletest.WantContains(t, r, "此投诉已结案", "已结案")
	consoletest.WantLacks(t, r, `action="/complaints/`+c.Ref()+`/status"`)
	if cols := board(t, b.Get("/complaints")); !sameList(cols["decided"], []string{c.Ref()}) {
		t.Errorf("a closed complaint stays among the recently decided: %v", cols)
	}
}

// A form that cannot be right as typed answers 4xx with the reason, keeps what was typed
// and changes nothing.
func TestComplaintFormsRefuseBadInput(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	c := d.FileComplaint("赵磊", "+8613600000002", "理赔被拒", consoletest.T0)
	b := d.SignIn(d.Office)
	page := "/complaints/" + c.Ref()
	cases := []struct {
		name   string
		path   string
		form   url.Values
		status int
		want   []string
	}{
		{"decision without text", "/decision", url.Values{"decision": {"  "}, "outcome": {"upheld"}}, 400,
			[]string{"请填写决定内容。", `value="upheld" required checked`}},
		{"decision without outcome", "/decision", url.Values{"decision": {"我司维持原决定。"}}, 400,
			[]string{"请选择结论：成立、部分成立或不成立。", ">我司维持原决定。</textarea>"}},
		{"decision with an unknown outcome", "/decision", url.Values{"decision": {"x"}, "outcome": {"maybe"}}, 400,
			[]string{"请选择结论"}},
		{"extension without a date", "/extend", url.Values{"reason": {"等待病历"}}, 400, []string{"请选择新期限的日期。", ">等待病历</textarea>"}},
		{"extension to a bad date", "/extend", url.Values{"until": {"2026-13-45"}, "reason": {"等待病历"}}, 400,
			[]string{"is not a date like 2026-12-18", `value="2026-13-45"`}},
		{"extension to a Saturday", "/extend", url.Values{"until": {"2026-12-19"}, "reason": {"等待病历"}}, 400,
			[]string{"2026-12-19 is not a working day"}},
		{"extension to a holiday", "/extend", url.Values{"until": {"2027-01-01"}, "reason": {"等待病历"}}, 400,
			[]string{"2027-01-01 is not a working day"}},
		{"extension before the deadline", "/extend", url.Values{"until": {"2026-12-01"}, "reason": {"等待病历"}}, 400,
			[]string{"the new deadline must be after the current one"}},
		{"extension without a reason", "/extend", url.Values{"until": {"2026-12-18"}}, 400,
			[]string{"an extension needs a reason", `value="2026-12-18"`}},
		{"no status", "/status", url.Values{}, 400, []string{"请选择要改成的状态。"}},
		{"deciding by status", "/status", url.Values{"status": {"decided"}}, 400, []string{"record a decision to decide a complaint"}},
		{"an unknown status", "/status", url.Values{"status": {"archived"}}, 400, []string{"unknown complaint status"}},
		{"closing an undecided complaint", "/status", url.Values{"status": {"closed"}, "reason": {"done"}}, 409,
			[]string{"cannot go from received to closed", `value="done"`}},
		{"no officer", "/assign", url.Values{"officer": {""}}, 400, []string{"请选择一位投诉专员。"}},
		{"a plain agent as officer", "/assign", url.Values{"officer": {strconv.FormatInt(d.Agent.ID, 10)}}, 409,
			[]string{"li@desk.test cannot handle complaints"}},
		{"an unknown officer", "/assign", url.Values{"officer": {"99999"}}, 404, []string{"not found"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := d.ComplaintNow(c.Ref())
			r := b.Post(page+tc.path, tc.form)
			consoletest.WantStatus(t, r, tc.status)
			consoletest.WantContains(t, r, append([]string{`class="flash error"`, c.Ref()}, tc.want...)...)
			d.WantUnchanged(before)
		})
	}

	// Extended once: a second extension is refused.
	consoletest.WantStatus(t, b.Post(page+"/extend", url.Values{"until": {"2026-12-18"}, "reason": {"等待病历"}}), 303)
	before := d.ComplaintNow(c.Ref())
	r := b.Post(page+"/extend", url.Values{"until": {"2026-12-25"}, "reason": {"again"}})
	consoletest.WantStatus(t, r, 409)
	consoletest.WantContains(t, r, "was already extended once, to 2026-12-18")
	d.WantUnchanged(before)
}

// Forms without the session's token are refused and change nothing.
func TestComplaintFormsNeedCSRFToken(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	c := d.FileComplaint("赵磊", "+8613600000002", "理赔被拒", consoletest.T0)
	b := d.SignIn(d.Office)
	page := "/complaints/" + c.Ref()
	for path, form := range map[string]url.Values{
		"/status":   {"status": {"investigating"}},
		"/assign":   {"officer": {strconv.FormatInt(d.Admin.ID, 10)}},
		"/decision": {"decision": {"Upheld."}, "outcome": {"upheld"}},
		"/extend":   {"until": {"2026-12-18"}, "reason": {"records"}},
	} {
		before := d.ComplaintNow(c.Ref())
		r := b.PostRaw(page+path, form)
		consoletest.WantStatus(t, r, 403)
		consoletest.WantContains(t, r, "表单已过期或来自其他网站")
		d.WantUnchanged(before)
		form.Set("_csrf", "forged")
		consoletest.WantStatus(t, b.PostRaw(page+path, form), 403)
		d.WantUnchanged(before)
	}
}

// Any agent may read complaints, as the service allows; only complaint officers,
// supervisors and admins may act on them.
func TestComplaintRoles(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	c := d.FileComplaint("赵磊", "+8613600000002", "理赔被拒", consoletest.T0)
	page := "/complaints/" + c.Ref()

	agent := d.SignIn(d.Agent)
	board(t, agent.Get("/complaints"))
	r := agent.Get(page)
	consoletest.WantStatus(t, r, 200)
	consoletest.WantContains(t, r, c.Ref(), "只有投诉专员、主管和管理员可以处理投诉")
	consoletest.WantLacks(t, r, `action="/complaints/`)
	for path, form := range map[string]url.Values{
		"/status":   {"status": {"investigating"}},
		"/assign":   {"officer": {"me"}},
		"/decision": {"decision": {""}, "outcome": {""}}, // refused for who, before what
		"/extend":   {"until": {"2026-12-18"}, "reason": {"records"}},
	} {
		before := d.ComplaintNow(c.Ref())
		r := agent.Post(page+path, form)
		consoletest.WantStatus(t, r, 403)
		consoletest.WantContains(t, r, "只有投诉专员、主管和管理员可以处理投诉")
		d.WantUnchanged(before)
	}

	// A supervisor and an admin decide as an officer does.
	for _, a := range []*tickets.Agent{d.Super, d.Admin} {
		x := d.FileComplaint("钱芳", "+86136000000"+strconv.FormatInt(a.ID, 10), "退保手续费", consoletest.T0)
		b := d.SignIn(a)
		consoletest.WantContains(t, b.Get("/complaints/"+x.Ref()), `action="/complaints/`+x.Ref()+`/decision"`)
		consoletest.WantStatus(t, b.Post("/complaints/"+x.Ref()+"/decision", url.Values{"decision": {"Refunded."}, "outcome": {"upheld"}, "confirmed": {"1"}}), 303)
		if got := d.ComplaintNow(x.Ref()); got.Status != tickets.ComplaintDecided {
			t.Errorf("%s could not decide: %s", a.Role, got.Status)
		}
	}

	// Signed out: the board asks to sign in; a form is refused.
	anon := d.Browser()
	r = anon.Get("/complaints")
	consoletest.WantStatus(t, r, 303)
	if !strings.HasPrefix(r.Location, "/login") {
		t.Errorf("signed out: to %q", r.Location)
	}
	consoletest.WantStatus(t, anon.PostRaw(page+"/status", url.Values{"status": {"investigating"}}), 401)
}

func TestUnknownComplaint(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	b := d.SignIn(d.Office)
	for _, ref := range []string{"CP-999999", "nonsense", "HL-000001"} {
		r := b.Get("/complaints/" + ref)
		consoletest.WantStatus(t, r, 404)
		consoletest.WantContains(t, r, "not", "出错了")
	}
	r := b.Post("/complaints/CP-999999/decision", url.Values{"decision": {"x"}, "outcome": {"upheld"}})
	consoletest.WantStatus(t, r, 404)
	consoletest.WantContains(t, r, "complaint CP-999999 not found")
	// An empty board still has its columns.
	cols := board(t, b.Get("/complaints"))
	for _, k := range []string{"received", "investigating", "decided"} {
		if len(cols[k]) != 0 {
			t.Errorf("%s: %v", k, cols[k])
		}
	}
}
