package console

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/complaints"
)

// The complaints board and the complaint page, where complaint officers (and supervisors
// and admins) move, assign, decide and extend complaints. Any agent may read them, as the
// service allows; the forms are for those the service lets act.

var complaintsText = texts{
	"complaints.title":             {"投诉看板", "Complaints board"},
	"complaints.view.all":          {"全部投诉", "All complaints"},
	"complaints.view.mine":         {"我负责的", "Assigned to me"},
	"complaints.col.received":      {"已受理", "Received"},
	"complaints.col.investigating": {"调查中", "Investigating"},
	"complaints.col.decided":       {"已决定", "Decided"},
	"complaints.col.decided_hint":  {"近 %d 天", "last %d days"},
	"complaints.empty":             {"没有投诉", "Nothing here"},
	"complaints.count_overdue":     {"%d 件已逾期", "%d overdue"},
	"complaints.count_soon":        {"%d 件 2 个工作日内到期", "%d due within 2 working days"},
	"complaints.count_open":        {"%d 件待决定", "%d awaiting a decision"},
	"complaints.more":              {"只显示最紧急的 500 件待决定投诉。", "Showing the 500 most urgent open complaints."},
	"complaints.legend":            {"工作日不含周末和法定节假日，调休上班日计入。", "Working days skip weekends and public holidays; make-up working days count."},
	"complaints.due":               {"截止 %s", "due %s"},
	"complaints.left":              {"剩 %d 个工作日", "%d working days left"},
	"complaints.left_one":          {"剩 1 个工作日", "1 working day left"},
	"complaints.due_today":         {"今天到期", "due today"},
	"complaints.overdue":           {"已逾期", "overdue"},
	"complaints.overdue_by":        {"逾期 %d 个工作日", "overdue by %d working days"},
	"complaints.overdue_one":       {"逾期 1 个工作日", "overdue by 1 working day"},
	"complaints.extended":          {"已延期", "extended"},
	"complaints.no_officer":        {"未分配专员", "no officer"},
	"complaints.decided_on":        {"%s 决定", "decided %s"},
	"complaints.on_time":           {"按时", "on time"},
	"complaints.late":              {"超期", "late"},

	"complaints.st.received":       {"已受理", "Received"},
	"complaints.st.investigating":  {"调查中", "Investigating"},
	"complaints.st.decided":        {"已决定", "Decided"},
	"complaints.st.closed":         {"已结案", "Closed"},
	"complaints.src.sla_breach":    {"超时升级", "SLA breach"},
	"complaints.src.customer":      {"客户投诉", "Customer"},
	"complaints.src.ivr":           {"语音菜单", "Phone menu"},
	"complaints.src.api":           {"坐席登记", "Logged by staff"},
	"complaints.src.regulator":     {"监管转办", "Regulator"},
	"complaints.out.upheld":        {"成立", "Upheld"},
	"complaints.out.partly_upheld": {"部分成立", "Partly upheld"},
	"complaints.out.not_upheld":    {"不成立", "Not upheld"},

	"complaints.back":             {"投诉看板", "Complaints board"},
	"complaints.facts":            {"投诉信息", "Complaint"},
	"complaints.ticket":           {"工单", "Ticket"},
	"complaints.customer":         {"客户", "Customer"},
	"complaints.received":         {"受理时间", "Received"},
	"complaints.deadline":         {"决定期限", "Decision due"},
	"complaints.original_due":     {"原定 %s", "originally %s"},
	"complaints.extension":        {"延期", "Extension"},
	"complaints.no_extension":     {"未延期", "Not extended"},
	"complaints.officer":          {"投诉专员", "Officer"},
	"complaints.source":           {"来源", "Source"},
	"complaints.status":           {"状态", "Status"},
	"complaints.summary":          {"投诉内容", "Summary"},
	"complaints.decision":         {"决定", "Decision"},
	"complaints.outcome":          {"结论", "Outcome"},
	"complaints.history":          {"处理记录", "History"},
	"complaints.no_events":        {"暂无记录", "Nothing recorded yet"},
	"complaints.take":             {"由我负责", "Take it"},
	"complaints.assign":           {"投诉专员", "Officer"},
	"complaints.assign_btn":       {"分配", "Assign"},
	"complaints.open_n":           {"%d 件在办", "%d open"},
	"complaints.move":             {"更改状态", "Change status"},
	"complaints.to.investigating": {"开始调查", "Start investigating"},
	"complaints.to.reopen":        {"重新调查", "Reopen the investigation"},
	"complaints.to.closed":        {"结案归档", "Close and archive"},
	"complaints.reason_opt":       {"原因（可选）", "Reason (optional)"},
	"complaints.decide":           {"作出决定", "Decide"},
	"complaints.decision_ph":      {"决定及理由。拒绝时请引用合同条款，并用通俗的话说明。", "The decision and why. For a refusal, cite the contract clause in plain words."},
	"complaints.decide_hint":      {"决定内容会通过客户联系我们的渠道发送给客户。", "The decision text is sent to the customer on the channel they used."},
	"complaints.decide_btn":       {"记录决定", "Record decision"},
	"complaints.choose":           {"请选择…", "Choose…"},
	"complaints.extend":           {"延长期限", "Extend the deadline"},
	"complaints.extend_until":     {"新期限（工作日）", "New deadline (a working day)"},
	"complaints.extend_reason":    {"延期原因", "Reason"},
	"complaints.extend_hint":      {"每件投诉只能延期一次，新期限须晚于 %s；客户会收到通知。", "A complaint can be extended once only, to a working day after %s. The customer is told."},
	"complaints.extended_once":    {"已延期至 %s，不能再次延期。", "Already extended to %s; it cannot be extended again."},
	"complaints.extend_btn":       {"延期", "Extend"},
	"complaints.read_only":        {"您可以查看投诉；只有投诉专员、主管和管理员可以处理投诉。", "You can read complaints; only complaint officers, supervisors and admins can act on them."},
	"complaints.closed_note":      {"此投诉已结案，无需处理。", "This complaint is closed; nothing is left to do."},
	"complaints.done.assigned":    {"已分配给 %s。", "Assigned to %s."},
	"complaints.done.status":      {"状态已改为“%s”。", "Status changed to %s."},
	"complaints.done.decided":     {"决定已记录，正在通知客户。", "Decision recorded; the customer is being told."},
	"complaints.done.extended":    {"期限已延至 %s，正在通知客户。", "Deadline extended to %s; the customer is being told."},
	"complaints.err.decision":     {"请填写决定内容。", "Write the decision."},
	"complaints.err.outcome":      {"请选择结论：成立、部分成立或不成立。", "Choose an outcome: upheld, partly upheld or not upheld."},
	"complaints.err.officer":      {"请选择一位投诉专员。", "Choose an officer."},
	"complaints.err.date":         {"请选择新期限的日期。", "Pick the date of the new deadline."},
	"complaints.err.status":       {"请选择要改成的状态。", "Choose the status to move to."},
	"complaints.err.view":         {"view 只能是 all 或 mine。", "view must be all or mine."},
	"complaints.d.source":         {"来源：%s", "source: %s"},
	"complaints.d.due":            {"期限 %s", "due %s"},
	"complaints.d.outcome":        {"结论：%s", "outcome: %s"},
	"complaints.d.reason":         {"原因：%s", "reason: %s"},

	// The complaint's own events; the other complaint.* events are in coreText.
	"event.complaint.status_changed": {"更改了投诉状态", "changed the complaint's status"},
	"event.complaint.assigned":       {"分配了投诉", "assigned the complaint"},
}

func (c *Console) registerComplaints(app *fiber.App) {
	c.get(app, "/complaints", c.complaintBoard)
	c.get(app, "/complaints/:ref", c.complaintPage)
	c.post(app, "/complaints/:ref/status", c.complaintStatus)
	c.post(app, "/complaints/:ref/assign", c.complaintAssign)
	c.post(app, "/complaints/:ref/decision", c.complaintDecision)
	c.post(app, "/complaints/:ref/extend", c.complaintExtend)
}

// boardData is the complaints board: three columns, and how many are late or nearly so.
type boardData struct {
	View    string // "all" or "mine"
	Views   []string
	Board   *complaints.Board
	Columns []boardColumn
	Open    int
	Days    int // how far back the decided column reaches
}

type boardColumn struct {
	Key   string // received, investigating, decided
	Cards []cardView
}

// cardView is a complaint with its time left and outcome in the page's language.
type cardView struct {
	*complaints.Card
	Left      string // "3 working days left", "overdue by 2 working days", ...
	LeftState string // ok, warn or breach: the countdown's colour
	Outcome   string // the decision's outcome, named
}

func cardOf(lang string, k *complaints.Card) cardView {
	v := cardView{Card: k, Outcome: outcomeLabel(lang, k.Complaint.Outcome)}
	v.Left, v.LeftState = daysLeft(lang, k)
	return v
}

func cardsOf(lang string, ks []*complaints.Card) []cardView {
	out := make([]cardView, len(ks))
	for i, k := range ks {
		out[i] = cardOf(lang, k)
	}
	return out
}

var boardViews = []string{"all", "mine"}

// boardDecidedDays is how far back the board shows decided complaints.
const boardDecidedDays = 30

// complaintBoard serves GET /complaints?view=all|mine.
func (c *Console) complaintBoard(ctx *fiber.Ctx, a *tickets.Agent) error {
	d := boardData{View: ctx.Query("view", "all"), Views: boardViews, Days: boardDecidedDays}
	f := complaints.BoardFilter{DecidedDays: boardDecidedDays}
	switch d.View {
	case "all":
	case "mine":
		f.OfficerID = &a.ID
	default:
		return fiber.NewError(fiber.StatusBadRequest, translate(langOf(ctx, a), "complaints.err.view"))
	}
	b, err := c.complaints.Board(ctxOf(ctx), f)
	if err != nil {
		return err
	}
	d.Board, d.Open = b, len(b.Received)+len(b.Investigating)
	lang := langOf(ctx, a)
	d.Columns = []boardColumn{{"received", cardsOf(lang, b.Received)}, {"investigating", cardsOf(lang, b.Investigating)},
		{"decided", cardsOf(lang, b.Decided)}}
	v := c.view(ctx, a, "complaints", d)
	v.Title = v.T("complaints.title")
	return c.render(ctx, "complaints", v)
}

// complaintData is the complaint page.
type complaintData struct {
	C         *complaints.Detail
	Card      cardView
	Events    []complaintEvent
	Moves     []complaintMove
	Outcomes  []outcomeOption
	Mine      bool
	CanAct    bool   // the signed-in agent may change it
	ExtendMin string // the first date an extension may name, for the date picker
	Form      complaintForm
}

// complaintEvent is a line of the complaint's history, ready to show.
type complaintEvent struct {
	At     time.Time
	Kind   string
	Who    string
	Detail string
}

// complaintMove is a status the complaint may be moved to, and its button's label.
type complaintMove struct {
	To    tickets.ComplaintStatus
	Label string
}

// outcomeOption is an outcome the decision form offers.
type outcomeOption struct{ Value, Label string }

// complaintForm is what was typed into a refused form, so nobody types a decision twice.
type complaintForm struct {
	Decision, Outcome, Until, Reason, StatusReason string
}

// complaintPage serves GET /complaints/:ref.
func (c *Console) complaintPage(ctx *fiber.Ctx, a *tickets.Agent) error {
	return c.showComplaint(ctx, a, fiber.StatusOK, complaintForm{}, nil)
}

// showComplaint draws the complaint page; with a refusal it keeps what was typed and shows
// the reason, answering with the refusal's status.
func (c *Console) showComplaint(ctx *fiber.Ctx, a *tickets.Agent, status int, form complaintForm, refusal *flash) error {
	cx, lang := ctxOf(ctx), langOf(ctx, a)
	cd, err := c.complaints.Detail(cx, complaintRef(ctx))
	if err != nil {
		return err
	}
	agents, err := c.svc.Agents(cx, nil)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, ag := range agents {
		names[ag.ID] = ag.Name
	}
	d := &complaintData{C: cd, Card: cardOf(lang, cd.Card), CanAct: complaints.CanHandle(a), Form: form,
		Mine: cd.OfficerID != nil && *cd.OfficerID == a.ID}
	for _, o := range complaints.Outcomes {
		d.Outcomes = append(d.Outcomes, outcomeOption{o, outcomeLabel(lang, o)})
	}
	loc := c.svc.Calendar().Location()
	d.ExtendMin = cd.DueAt.In(loc).AddDate(0, 0, 1).Format(time.DateOnly)
	for _, m := range cd.Moves {
		key := "complaints.to." + string(m)
		if m == tickets.ComplaintInvestigating && cd.Status == tickets.ComplaintDecided {
			key = "complaints.to.reopen"
		}
		d.Moves = append(d.Moves, complaintMove{To: m, Label: translate(lang, key)})
	}
	for _, e := range cd.Events {
		d.Events = append(d.Events, complaintEvent{At: e.CreatedAt, Kind: e.Kind, Who: eventActor(lang, e, names),
			Detail: complaintEventDetail(lang, loc, e, names)})
	}
	v := c.view(ctx, a, "complaints", d)
	v.Title = cd.Ref() + " " + cd.Summary
	if refusal != nil {
		v.Flash = refusal
	}
	return c.renderStatus(ctx, status, "complaint", v)
}

// refuse answers a complaint form the service or the console turned down. A form that
// cannot be right as typed (4xx) shows the page again with the reason and what was typed;
// a refusal by role, an unknown complaint and server errors go the usual way.
func (c *Console) refuse(ctx *fiber.Ctx, a *tickets.Agent, err error, form complaintForm) error {
	status, reason := statusOf(err)
	if status >= 500 || status == fiber.StatusForbidden || status == fiber.StatusUnauthorized {
		return err
	}
	if err := c.showComplaint(ctx, a, status, form, &flash{Text: reason, Error: true}); err != nil {
		if s, r := statusOf(err); s == fiber.StatusNotFound {
			return c.errorPage(ctx, a, s, r) // the complaint itself is unknown: nowhere to go back to
		}
		return err
	}
	return nil
}

// mayAct refuses agents the service would refuse, before anything they typed is checked.
func mayAct(ctx *fiber.Ctx, a *tickets.Agent) error {
	if !complaints.CanHandle(a) {
		return fiber.NewError(fiber.StatusForbidden, translate(langOf(ctx, a), "complaints.read_only"))
	}
	return nil
}

func complaintRef(ctx *fiber.Ctx) string {
	return strings.ToUpper(strings.TrimSpace(ctx.Params("ref")))
}

func complaintURL(ref string) string { return "/complaints/" + ref }

// complaintStatus serves POST /complaints/:ref/status: status, reason.
func (c *Console) complaintStatus(ctx *fiber.Ctx, a *tickets.Agent) error {
	if err := mayAct(ctx, a); err != nil {
		return err
	}
	ref, lang := complaintRef(ctx), langOf(ctx, a)
	form := complaintForm{StatusReason: ctx.FormValue("reason")}
	to := tickets.ComplaintStatus(strings.TrimSpace(ctx.FormValue("status")))
	if to == "" {
		return c.refuse(ctx, a, fiber.NewError(fiber.StatusBadRequest, translate(lang, "complaints.err.status")), form)
	}
	cp, err := c.complaints.SetStatus(ctxOf(ctx), tickets.AgentActor(a), ref, to, form.StatusReason)
	if err != nil {
		return c.refuse(ctx, a, err, form)
	}
	return redirect(ctx, complaintURL(cp.Ref()), translate(lang, "complaints.done.status", translate(lang, "complaints.st."+string(cp.Status))))
}

// complaintAssign serves POST /complaints/:ref/assign: officer (an agent id, or "me").
func (c *Console) complaintAssign(ctx *fiber.Ctx, a *tickets.Agent) error {
	if err := mayAct(ctx, a); err != nil {
		return err
	}
	ref, lang := complaintRef(ctx), langOf(ctx, a)
	var id int64
	switch v := strings.TrimSpace(ctx.FormValue("officer")); v {
	case "me":
		id = a.ID
	default:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return c.refuse(ctx, a, fiber.NewError(fiber.StatusBadRequest, translate(lang, "complaints.err.officer")), complaintForm{})
		}
		id = n
	}
	cp, err := c.complaints.Assign(ctxOf(ctx), tickets.AgentActor(a), ref, id)
	if err != nil {
		return c.refuse(ctx, a, err, complaintForm{})
	}
	name := ""
	if cp.Officer != nil {
		name = cp.Officer.Name
	}
	return redirect(ctx, complaintURL(cp.Ref()), translate(lang, "complaints.done.assigned", name))
}

// complaintDecision serves POST /complaints/:ref/decision: decision, outcome.
func (c *Console) complaintDecision(ctx *fiber.Ctx, a *tickets.Agent) error {
	if err := mayAct(ctx, a); err != nil {
		return err
	}
	ref, lang := complaintRef(ctx), langOf(ctx, a)
	form := complaintForm{Decision: ctx.FormValue("decision"), Outcome: strings.TrimSpace(ctx.FormValue("outcome"))}
	switch {
	case strings.TrimSpace(form.Decision) == "":
		return c.refuse(ctx, a, fiber.NewError(fiber.StatusBadRequest, translate(lang, "complaints.err.decision")), form)
	case !complaints.ValidOutcome(form.Outcome):
		return c.refuse(ctx, a, fiber.NewError(fiber.StatusBadRequest, translate(lang, "complaints.err.outcome")), form)
	}
	cp, err := c.complaints.Decide(ctxOf(ctx), tickets.AgentActor(a), ref, form.Decision, form.Outcome)
	if err != nil {
		return c.refuse(ctx, a, err, form)
	}
	return redirect(ctx, complaintURL(cp.Ref()), translate(lang, "complaints.done.decided"))
}

// complaintExtend serves POST /complaints/:ref/extend: until (a date, YYYY-MM-DD, meaning
// the end of that working day in the desk's calendar zone), reason.
func (c *Console) complaintExtend(ctx *fiber.Ctx, a *tickets.Agent) error {
	if err := mayAct(ctx, a); err != nil {
		return err
	}
	ref, lang := complaintRef(ctx), langOf(ctx, a)
	form := complaintForm{Until: strings.TrimSpace(ctx.FormValue("until")), Reason: ctx.FormValue("reason")}
	if form.Until == "" {
		return c.refuse(ctx, a, fiber.NewError(fiber.StatusBadRequest, translate(lang, "complaints.err.date")), form)
	}
	until, err := c.svc.Calendar().EndOfWorkingDay(form.Until)
	if err != nil {
		return c.refuse(ctx, a, err, form)
	}
	cp, err := c.complaints.Extend(ctxOf(ctx), tickets.AgentActor(a), ref, until, form.Reason)
	if err != nil {
		return c.refuse(ctx, a, err, form)
	}
	return redirect(ctx, complaintURL(cp.Ref()), translate(lang, "complaints.done.extended", until.In(c.svc.Calendar().Location()).Format(time.DateOnly)))
}

// eventActor names who made a change.
func eventActor(lang string, e *tickets.Event, names map[int64]string) string {
	switch e.ActorKind {
	case "agent":
		if e.ActorID != nil && names[*e.ActorID] != "" {
			return names[*e.ActorID]
		}
		return e.Actor
	case "customer":
		return translate(lang, "ticket.from_customer")
	}
	return translate(lang, "ticket.system")
}

// complaintEventDetail shows a complaint event's particulars in a line, in the page's
// language: statuses and outcomes translated, officers named, times as dates of the desk.
func complaintEventDetail(lang string, loc *time.Location, e *tickets.Event, names map[int64]string) string {
	var d struct {
		Source  string          `json:"source"`
		DueAt   string          `json:"due_at"`
		From    json.RawMessage `json:"from"`
		To      json.RawMessage `json:"to"`
		Reason  string          `json:"reason"`
		Outcome string          `json:"outcome"`
		OnTime  *bool           `json:"on_time"`
		Via     string          `json:"via"`
	}
	if json.Unmarshal([]byte(e.Data), &d) != nil {
		return ""
	}
	day := func(s string) string {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.In(loc).Format(time.DateOnly)
		}
		return s
	}
	str := func(raw json.RawMessage) string {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		return ""
	}
	officer := func(raw json.RawMessage) string {
		var id int64
		if json.Unmarshal(raw, &id) == nil && id > 0 {
			if n := names[id]; n != "" {
				return n
			}
			return "#" + strconv.FormatInt(id, 10)
		}
		return "—"
	}
	var parts []string
	switch e.Kind {
	case "complaint.opened":
		parts = append(parts, translate(lang, "complaints.d.source", translate(lang, "complaints.src."+d.Source)))
		if d.DueAt != "" {
			parts = append(parts, translate(lang, "complaints.d.due", day(d.DueAt)))
		}
	case "complaint.status_changed":
		parts = append(parts, translate(lang, "complaints.st."+str(d.From))+" → "+translate(lang, "complaints.st."+str(d.To)))
	case "complaint.assigned":
		parts = append(parts, officer(d.From)+" → "+officer(d.To))
	case "complaint.decided":
		parts = append(parts, translate(lang, "complaints.d.outcome", outcomeLabel(lang, d.Outcome)))
		if d.OnTime != nil {
			parts = append(parts, map[bool]string{true: translate(lang, "complaints.on_time"), false: translate(lang, "complaints.late")}[*d.OnTime])
		}
	case "complaint.extended":
		parts = append(parts, day(str(d.From))+" → "+day(str(d.To)))
	case "complaint.warning", "complaint.breached":
		parts = append(parts, translate(lang, "complaints.d.due", day(d.DueAt)))
	case "notice.acknowledged":
		if d.Via != "" {
			parts = append(parts, strings.ToUpper(d.Via[:1])+d.Via[1:])
		}
	}
	if r := strings.TrimSpace(d.Reason); r != "" {
		parts = append(parts, translate(lang, "complaints.d.reason", r))
	}
	return strings.Join(parts, " · ")
}

// outcomeLabel names an outcome in lang; one recorded through the API in other words shows
// as it was written.
func outcomeLabel(lang, outcome string) string {
	if complaints.ValidOutcome(outcome) {
		return translate(lang, "complaints.out."+outcome)
	}
	return outcome
}

// daysLeft is how a card says its time left, and the colour it says it in.
func daysLeft(lang string, k *complaints.Card) (string, string) {
	switch {
	case k.Overdue && k.DaysLeft < -1:
		return translate(lang, "complaints.overdue_by", -k.DaysLeft), "breach"
	case k.Overdue && k.DaysLeft == -1:
		return translate(lang, "complaints.overdue_one"), "breach"
	case k.Overdue:
		return translate(lang, "complaints.overdue"), "breach"
	case k.DaysLeft <= 0:
		return translate(lang, "complaints.due_today"), "warn"
	case k.DaysLeft == 1:
		return translate(lang, "complaints.left_one"), "warn"
	case k.DueSoon:
		return translate(lang, "complaints.left", k.DaysLeft), "warn"
	}
	return translate(lang, "complaints.left", k.DaysLeft), "ok"
}
