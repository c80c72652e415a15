package console

import (
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/tickets"
)

// The admin section: agents, teams, routing rules, SLA policies, the working-day calendar,
// customer notice templates and channel settings. Every page and form is for admins only;
// the service checks the role again. A form the service refuses for a reason a person can
// act on is shown again on its page, with the reason, what was typed (never a secret) and
// the 4xx status; anything else goes to wrap.

func (c *Console) registerAdmin(app *fiber.App) {
	c.adminGet(app, "/admin", func(ctx *fiber.Ctx, _ *tickets.Agent) error {
		return ctx.Redirect("/admin/agents", fiber.StatusSeeOther)
	})

	c.adminGet(app, "/admin/agents", c.adminAgents)
	c.adminPost(app, "/admin/agents", c.createAgent)
	c.adminGet(app, "/admin/agents/:id", c.adminAgent)
	c.adminPost(app, "/admin/agents/:id", c.updateAgent)
	c.adminPost(app, "/admin/agents/:id/password", c.resetPassword)
	c.adminPost(app, "/admin/agents/:id/active", c.setAgentActive)
	c.adminPost(app, "/admin/agents/:id/unlock", c.unlockAgent)

	c.adminGet(app, "/admin/teams", c.adminTeams)
	c.adminPost(app, "/admin/teams", c.createTeam)
	c.adminPost(app, "/admin/teams/:id", c.renameTeam)
	c.adminPost(app, "/admin/teams/:id/delete", c.deleteTeam)

	c.adminGet(app, "/admin/routing", c.adminRouting)
	c.adminGet(app, "/admin/routing/:id", c.adminRule)
	c.adminPost(app, "/admin/routing", c.saveRule)
	c.adminPost(app, "/admin/routing/:id", c.saveRule)
	c.adminPost(app, "/admin/routing/:id/delete", c.deleteRule)

	c.adminGet(app, "/admin/sla", c.adminSLA)
	c.adminGet(app, "/admin/sla/:id", c.adminPolicy)
	c.adminPost(app, "/admin/sla", c.savePolicy)
	c.adminPost(app, "/admin/sla/:id", c.savePolicy)
	c.adminPost(app, "/admin/sla/:id/delete", c.deletePolicy)

	c.adminGet(app, "/admin/calendar", c.adminCalendar)
	c.adminPost(app, "/admin/calendar", c.setCalendarDay)

	c.adminGet(app, "/admin/templates", c.adminTemplates)
	c.adminPost(app, "/admin/templates/:key/:locale", c.saveTemplate)

	c.adminGet(app, "/admin/channels", c.adminChannels)
	c.adminPost(app, "/admin/channels/:channel", c.saveChannel)
}

func (c *Console) adminGet(app *fiber.App, path string, h handler) { c.get(app, path, adminOnly(h)) }

func (c *Console) adminPost(app *fiber.App, path string, h handler) { c.post(app, path, adminOnly(h)) }

// adminOnly refuses everyone but admins, before anything is read or changed.
func adminOnly(h handler) handler {
	return func(ctx *fiber.Ctx, a *tickets.Agent) error {
		if a.Role != tickets.RoleAdmin {
			return fiber.NewError(fiber.StatusForbidden, translate(langOf(ctx, a), "error.forbidden"))
		}
		return h(ctx, a)
	}
}

// adminTabs are the admin section's pages, in the order of its tab bar.
var adminTabs = []string{"agents", "teams", "routing", "sla", "calendar", "templates", "channels"}

type adminTab struct {
	Key, URL string
	On       bool
}

// adminPage is what every admin page has: the tab bar, and a refused form's reason.
type adminPage struct {
	Tabs    []adminTab
	Error   string // why the form was refused
	Refused string // which form was refused, e.g. "new", "edit", "password"
}

func newAdminPage(current string) adminPage {
	p := adminPage{}
	for _, k := range adminTabs {
		p.Tabs = append(p.Tabs, adminTab{Key: k, URL: "/admin/" + k, On: k == current})
	}
	return p
}

// refused is a refusal: the form it refused, the reason and the status to answer with.
type refused struct {
	form   string
	status int
	reason string
}

// set puts the refusal on a page.
func (r *refused) set(p *adminPage) int {
	if r == nil {
		return fiber.StatusOK
	}
	p.Refused, p.Error = r.form, r.reason
	return r.status
}

// refusal tells a refusal a person can act on (bad input, a conflict, something gone)
// from a failure that is not theirs to fix, or a forbidden request, which go to wrap.
func refusal(form string, err error) (*refused, bool) {
	status, reason := statusOf(err)
	if status >= 500 || status == fiber.StatusForbidden || status == fiber.StatusUnauthorized || reason == "" {
		return nil, false
	}
	// The service words its reasons as clauses ("a team needs a name"); shown on their
	// own they start with a capital.
	if r, size := utf8.DecodeRuneInString(reason); unicode.IsLower(r) {
		reason = string(unicode.ToUpper(r)) + reason[size:]
	}
	return &refused{form: form, status: status, reason: reason}, true
}

// badInput is a refusal of the console's own, in the page's language.
func badInput(ctx *fiber.Ctx, a *tickets.Agent, key string, args ...any) error {
	return fiber.NewError(fiber.StatusBadRequest, translate(langOf(ctx, a), key, args...))
}

// pathID reads a numeric id from the path; anything else names nothing.
func pathID(ctx *fiber.Ctx, a *tickets.Agent, name string) (int64, error) {
	id, err := strconv.ParseInt(ctx.Params(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, fiber.NewError(fiber.StatusNotFound, translate(langOf(ctx, a), "admin.not_found"))
	}
	return id, nil
}

// optionalInt reads a whole number from a form; empty is def.
func optionalInt(ctx *fiber.Ctx, a *tickets.Agent, field string, def int) (int, error) {
	v := ctx.FormValue(field)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, badInput(ctx, a, "admin.bad_number", translate(langOf(ctx, a), "admin.field."+field))
	}
	return n, nil
}

// optionalTeam reads a team id from a form; empty is no team.
func optionalTeam(ctx *fiber.Ctx, a *tickets.Agent, field string) (*int64, error) {
	v := ctx.FormValue(field)
	if v == "" {
		return nil, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return nil, badInput(ctx, a, "admin.bad_team")
	}
	return &id, nil
}

func (c *Console) adminView(ctx *fiber.Ctx, a *tickets.Agent, titleKey string, data any) view {
	v := c.view(ctx, a, "admin", data)
	v.Title = v.T(titleKey) + " · " + v.T("nav.admin")
	return v
}

var adminText = texts{
	"admin.agents":             {"坐席", "Agents"},
	"admin.teams":              {"团队", "Teams"},
	"admin.routing":            {"分配规则", "Routing"},
	"admin.sla":                {"服务时限", "SLA policies"},
	"admin.calendar":           {"工作日历", "Calendar"},
	"admin.templates":          {"客户通知", "Templates"},
	"admin.channels":           {"渠道设置", "Channels"},
	"admin.save":               {"保存", "Save"},
	"admin.edit":               {"编辑", "Edit"},
	"admin.confirm_delete":     {"确定删除吗？此操作无法撤销。", "Delete it? This cannot be undone."},
	"admin.confirm_deactivate": {"确定停用此账号吗？其所有会话将立即退出。", "Deactivate this account? Every session of it ends at once."},
	"admin.delete":             {"删除", "Delete"},
	"admin.any":                {"不限", "Any"},
	"admin.keep":               {"不改变", "Leave as is"},
	"admin.choose":             {"请选择…", "Choose…"},
	"admin.no_team":            {"无团队", "No team"},
	"admin.paused":             {"已停用", "Paused"},
	"admin.not_found":          {"找不到该项，可能已被删除。", "Not found; it may have been deleted."},
	"admin.nothing_changed":    {"没有改动。", "Nothing changed."},
	"admin.list_sep":           {"、", ", "},
	"admin.bad_number":         {"“%s”必须是整数。", "%s must be a whole number."},
	"admin.bad_team":           {"请选择一个有效的团队。", "Choose a team from the list."},
	"admin.lang.zh":            {"中文", "Chinese"},
	"admin.lang.en":            {"英文", "English"},

	"admin.col.name":     {"名称", "Name"},
	"admin.col.role":     {"角色", "Role"},
	"admin.col.team":     {"团队", "Team"},
	"admin.col.capacity": {"接单上限", "Capacity"},
	"admin.col.presence": {"状态", "Presence"},
	"admin.col.access":   {"账号", "Access"},
	"admin.col.members":  {"成员", "Members"},
	"admin.col.who":      {"在岗坐席", "Active agents"},
	"admin.col.order":    {"顺序", "Order"},

	"admin.field.name":             {"姓名", "Name"},
	"admin.field.rule_name":        {"规则名称", "Name"},
	"admin.field.email":            {"邮箱（登录名）", "Email (sign-in)"},
	"admin.field.role":             {"角色", "Role"},
	"admin.field.team":             {"团队", "Team"},
	"admin.field.capacity":         {"同时处理工单上限", "Open tickets at once"},
	"admin.field.locale":           {"界面语言", "Console language"},
	"admin.field.initial_password": {"初始密码", "Initial password"},
	"admin.field.new_password":     {"新密码", "New password"},
	"admin.field.confirm_password": {"再次输入新密码", "New password again"},
	"admin.field.position":         {"顺序", "Order"},
	"admin.field.keywords":         {"关键词", "Keywords"},
	"admin.field.channel":          {"渠道", "Channel"},
	"admin.field.language":         {"客户语言", "Customer's language"},
	"admin.field.customer_tag":     {"客户标签", "Customer tag"},
	"admin.field.category":         {"类别", "Category"},
	"admin.field.priority":         {"优先级", "Priority"},
	"admin.field.set_priority":     {"设置优先级", "Set priority"},
	"admin.field.set_category":     {"设置类别", "Set category"},

	"admin.agent.active":          {"启用", "Active"},
	"admin.agent.inactive":        {"已停用", "Deactivated"},
	"admin.agent.none":            {"还没有坐席。", "No agents yet."},
	"admin.agent.new":             {"添加坐席", "Add an agent"},
	"admin.agent.new_hint":        {"密码至少 10 个字符；请当面或通过安全渠道告知本人，首次登录后可自行修改。", "At least 10 characters. Hand it over in person or another safe way; they can change it after signing in."},
	"admin.agent.create":          {"添加", "Add agent"},
	"admin.agent.created":         {"已添加坐席 %s。", "Added %s."},
	"admin.agent.saved":           {"已保存 %s 的设置。", "Saved %s."},
	"admin.agent.since":           {"%s 加入", "since %s"},
	"admin.agent.settings":        {"设置", "Settings"},
	"admin.agent.capacity_hint":   {"自动分配时，此坐席手上未结工单达到上限后不再分配新工单。", "Auto-assignment stops giving this agent new tickets at this many open ones."},
	"admin.agent.self_hint":       {"这是您自己的账号：您不能取消自己的管理员角色，也不能停用自己。", "This is you: you cannot remove your own admin role or deactivate yourself."},
	"admin.agent.reset_pw":        {"重置密码", "Reset password"},
	"admin.agent.reset_hint":      {"重置后，此坐席所有已登录的会话都会退出。", "Every session of this agent ends when the password changes."},
	"admin.agent.pw_mismatch":     {"两次输入的密码不一致。", "The two passwords differ."},
	"admin.agent.pw_reset":        {"已重置 %s 的密码，其会话已全部退出。", "Reset the password of %s; their sessions have ended."},
	"admin.agent.deactivate":      {"停用账号", "Deactivate"},
	"admin.agent.deactivate_hint": {"停用后无法登录，所有会话立即退出；其处理过的工单和记录保留。", "They can no longer sign in and every session ends at once; their tickets and history stay."},
	"admin.agent.reactivate":      {"重新启用", "Reactivate"},
	"admin.agent.reactivate_hint": {"此账号已停用。重新启用后可用原密码登录。", "This account is deactivated. Reactivated, it signs in with its old password."},
	"admin.agent.deactivated":     {"已停用 %s。", "Deactivated %s."},
	"admin.agent.reactivated":     {"已重新启用 %s。", "Reactivated %s."},
	"admin.agent.locked":          {"已锁定至 %s", "Locked until %s"},
	"admin.agent.locked_hint":     {"登录失败次数过多，暂时锁定；到时自动解除。", "Too many failed sign-ins; the lock ends by itself."},
	"admin.agent.unlock":          {"解锁", "Unlock"},
	"admin.agent.unlocked":        {"已解除 %s 的登录锁定。", "Unlocked %s: they can sign in now."},

	"admin.team.none":        {"还没有团队。", "No teams yet."},
	"admin.team.name":        {"团队名称", "Team name"},
	"admin.team.rename":      {"改名", "Rename"},
	"admin.team.empty":       {"暂无成员", "No one yet"},
	"admin.team.new":         {"新建团队", "New team"},
	"admin.team.create":      {"新建", "Create team"},
	"admin.team.created":     {"已新建团队 %s。", "Created team %s."},
	"admin.team.renamed":     {"团队已改名为 %s。", "Renamed the team to %s."},
	"admin.team.deleted":     {"已删除团队 %s。", "Deleted team %s."},
	"admin.team.delete_hint": {"仍有在岗坐席或工单的团队不能删除，请先将其移到其他团队。", "A team that still has agents or tickets cannot be deleted; move them to another team first."},

	"admin.rule.intro":         {"新工单按顺序逐条匹配，第一条符合的规则决定分配到哪个团队；都不符合的留在未分配队列。", "New tickets are tried against the rules in order; the first that matches sends the ticket to its team. Tickets no rule matches stay unassigned."},
	"admin.rule.new":           {"新建规则", "New rule"},
	"admin.rule.none":          {"还没有规则：所有新工单都进入未分配队列。", "No rules yet: every new ticket waits in the unassigned queue."},
	"admin.rule.when":          {"当工单符合", "When a ticket matches"},
	"admin.rule.then":          {"则", "Then"},
	"admin.rule.goes":          {"分配到", "Goes to"},
	"admin.rule.lang_chip":     {"客户语言：%s", "Speaks %s"},
	"admin.rule.any":           {"所有工单", "Any ticket"},
	"admin.rule.name_hint":     {"例如：理赔咨询转理赔组", "e.g. Claims questions to the claims team"},
	"admin.rule.position_hint": {"数字小的先匹配。", "Lower numbers are tried first."},
	"admin.rule.active":        {"启用此规则", "Rule is active"},
	"admin.rule.when_hint":     {"留空的条件不限制；填写的条件须全部满足。", "Empty conditions match anything; all filled-in ones must match."},
	"admin.rule.keywords_hint": {"用逗号分隔，中英文均可；主题或正文包含任一关键词即符合（不区分大小写）。", "Separated by commas, in Chinese or English; a ticket matches when its subject or text contains any of them (any case)."},
	"admin.rule.save_hint":     {"只影响之后进来的新工单。", "Applies to new tickets from now on."},
	"admin.rule.need_team":     {"请选择要分配到的团队。", "Choose the team the rule sends tickets to."},
	"admin.rule.bad_language":  {"客户语言只能是中文或英文。", "The customer's language is Chinese or English."},
	"admin.rule.saved":         {"已保存规则“%s”。", "Saved the rule “%s”."},
	"admin.rule.deleted":       {"已删除规则。", "Deleted the rule."},
	"admin.rule.delete":        {"删除此规则", "Delete this rule"},

	"admin.sla.intro":             {"工单按顺序匹配第一条符合的时限规则；修改后，未结工单的时限会重新计算。", "Each ticket gets the first policy that matches it; after a change, open tickets' deadlines are worked out again."},
	"admin.sla.new":               {"新建时限规则", "New policy"},
	"admin.sla.none":              {"还没有时限规则。", "No policies yet."},
	"admin.sla.applies":           {"适用于", "Applies to"},
	"admin.sla.promise":           {"承诺时限", "Promise"},
	"admin.sla.first":             {"首次响应", "First response"},
	"admin.sla.resolution":        {"解决", "Resolution"},
	"admin.sla.counted":           {"计时方式", "Counted in"},
	"admin.sla.clock":             {"自然时间", "Clock time"},
	"admin.sla.working":           {"工作时间", "Working time"},
	"admin.sla.clock_hint":        {"24 小时不间断计时，含夜间、周末和节假日。", "Round the clock, nights, weekends and holidays included."},
	"admin.sla.working_hint":      {"只计工作日的工作时段，按工作日历跳过周末、法定节假日，调休日照常计时。", "Working hours of working days only, on the working-day calendar: weekends and holidays skipped, make-up days counted."},
	"admin.sla.then":              {"超时后", "then"},
	"admin.sla.first_breach":      {"首次响应超时后", "When the first response is late"},
	"admin.sla.resolution_breach": {"解决超时后", "When the resolution is late"},
	"admin.sla.action.warn":       {"提醒主管", "warn supervisors"},
	"admin.sla.action.escalate":   {"提醒并提高优先级", "escalate priority"},
	"admin.sla.action.complaint":  {"自动转为投诉", "open a complaint"},
	"admin.sla.duration_hint":     {"时长写法：24h（24 小时）、90m（90 分钟）、1h30m、3d（3 × 24 小时）。", "Durations: 24h (hours), 90m (minutes), 1h30m, 3d (3 × 24 hours)."},
	"admin.sla.bad_duration":      {"%s时限“%s”无法识别：请写成 24h、90m、1h30m 或 3d 这样的形式。", "%s “%s” is not a duration: write it like 24h, 90m, 1h30m or 3d."},
	"admin.sla.name_hint":         {"例如：紧急工单", "e.g. Urgent tickets"},
	"admin.sla.position_hint":     {"数字小的先匹配。", "Lower numbers are tried first."},
	"admin.sla.save_hint":         {"保存后，所有未结工单按新规则重新计算时限。", "Saving re-times every open ticket against the policies."},
	"admin.sla.saved":             {"已保存时限规则“%s”，未结工单的时限将重新计算。", "Saved the policy “%s”; open tickets are being re-timed."},
	"admin.sla.deleted":           {"已删除时限规则，未结工单的时限将重新计算。", "Deleted the policy; open tickets are being re-timed."},
	"admin.sla.delete":            {"删除此规则", "Delete this policy"},
	"admin.sla.default":           {"没有规则匹配的工单使用内置时限：首次响应 24 小时（邮件 48 小时），解决 48 小时，按自然时间计；首次响应超时提高优先级，解决超时转为投诉。这些默认值可用环境变量 HOTLINE_SLA_FIRST_RESPONSE、HOTLINE_SLA_EMAIL_FIRST_RESPONSE、HOTLINE_SLA_RESOLUTION 调整。", "Tickets no policy matches get the built-in promise: first response in 24 hours (48 for email), resolution in 48, clock time; a late first response raises the priority, a late resolution opens a complaint. HOTLINE_SLA_FIRST_RESPONSE, HOTLINE_SLA_EMAIL_FIRST_RESPONSE and HOTLINE_SLA_RESOLUTION change these defaults."},

	"admin.cal.year":              {"年份", "Year"},
	"admin.cal.year_n":            {"%d 年", "%d"},
	"admin.cal.bad_year":          {"年份须是 2000 到 2100 之间的整数，例如 2026。", "The year must be a year between 2000 and 2100, like 2026."},
	"admin.cal.month":             {"%d 月", "Month %d"},
	"admin.cal.weekdays":          {"一 二 三 四 五 六 日", "Mo Tu We Th Fr Sa Su"},
	"admin.cal.weekend":           {"周末", "Weekend"},
	"admin.cal.zone":              {"时区 %s", "Time zone %s"},
	"admin.cal.missing_title":     {"%d 年没有节假日数据！", "No holiday data for %d!"},
	"admin.cal.missing_body":      {"这一年的投诉 10 个工作日时限和按工作时间计的时限只会跳过周末，不会跳过法定节假日，也不会计入调休上班日。请在国务院公布放假安排后，逐日录入这一年的节假日和调休日。", "Complaint deadlines (10 working days) and working-time deadlines in this year skip weekends only: no statutory holidays, no make-up working days. Enter this year's holidays and make-up days as soon as the State Council publishes them."},
	"admin.cal.next_missing":      {"%d 年还没有节假日数据，年底收到的投诉的时限会跨入这一年。", "%d has no holiday data yet; deadlines of complaints received late this year run into it."},
	"admin.cal.open_year":         {"去录入 %d 年", "Enter %d"},
	"admin.cal.set_day":           {"设置某一天", "Set a day"},
	"admin.cal.date":              {"日期", "Date"},
	"admin.cal.kind":              {"这一天", "This day is"},
	"admin.cal.kind.holiday":      {"放假", "Holiday"},
	"admin.cal.kind.workday":      {"调休上班", "Make-up working day"},
	"admin.cal.kind.normal":       {"按星期规则", "Normal"},
	"admin.cal.kind_hint.holiday": {"不上班，即使是工作日（法定节假日）。", "Off, though a weekday (a statutory holiday)."},
	"admin.cal.kind_hint.workday": {"上班，即使是周末（调休）。", "Worked, though a weekend (调休)."},
	"admin.cal.kind_hint.normal":  {"撤销特殊安排：周一至周五上班，周末休息。", "Undo a special day: Monday to Friday worked, weekends off."},
	"admin.cal.name":              {"名称（可选）", "Name (optional)"},
	"admin.cal.name_hint":         {"例如：国庆节", "e.g. National Day"},
	"admin.cal.saved":             {"已将 %s 设为“%s”。", "Set %s to “%s”."},
	"admin.cal.list":              {"%d 年特殊日期", "Special days of %d"},
	"admin.cal.list_empty":        {"这一年没有录入任何节假日或调休日。", "No holidays or make-up days entered for this year."},
	"admin.cal.by_admin":          {"管理员设置", "set by an admin"},

	"admin.tpl.intro":                    {"Hotline 自动发给客户的通知，按客户语言发送中文或英文版本。修改前会用示例数据试渲染，变量写错会被拒绝，不会发出。", "The notices Hotline sends customers by itself, in Chinese or English by the customer's language. A wording is tried on sample data before it is saved: a mistyped variable is refused, never sent."},
	"admin.tpl.uses":                     {"常用变量：", "Uses:"},
	"admin.tpl.custom":                   {"已自定义", "Customised"},
	"admin.tpl.builtin":                  {"默认", "Built-in"},
	"admin.tpl.preview":                  {"示例效果", "Preview"},
	"admin.tpl.chars":                    {"%d 字", "%d characters"},
	"admin.tpl.restore":                  {"恢复默认", "Restore built-in"},
	"admin.tpl.saved":                    {"已保存“%s”（%s）。", "Saved “%s” (%s)."},
	"admin.tpl.restored":                 {"“%s”（%s）已恢复默认文字。", "“%s” (%s) is back to the built-in wording."},
	"admin.tpl.ph.Ref":                   {"工单号，例如 HL-000123", "the ticket's reference, e.g. HL-000123"},
	"admin.tpl.ph.Complaint":             {"投诉编号，例如 CP-000042", "the complaint's reference, e.g. CP-000042"},
	"admin.tpl.ph.Due":                   {"答复期限（收到确认为日期和时间，其余为日期）", "when the answer is due (date and time in an acknowledgement, else a date)"},
	"admin.tpl.ph.Decision":              {"投诉处理决定", "the complaint's decision"},
	"admin.tpl.ph.Reason":                {"延期原因", "why more time is needed"},
	"admin.tpl.ticket.acknowledged":      {"收到确认", "Acknowledgement"},
	"admin.tpl.ticket.resolved":          {"处理完毕", "Resolution"},
	"admin.tpl.complaint.received":       {"投诉受理", "Complaint receipt"},
	"admin.tpl.complaint.extended":       {"投诉延期", "Complaint extension"},
	"admin.tpl.complaint.decided":        {"投诉处理决定", "Complaint decision"},
	"admin.tpl.when.ticket.acknowledged": {"客户通过邮件或微信发来新问题时发送，告知工单号和答复期限（短信在回执中告知）。", "Sent when a new email or WeChat ticket arrives: its reference and when to expect an answer (SMS gets it in the webhook's reply)."},
	"admin.tpl.when.ticket.resolved":     {"工单标记为已解决时发送。", "Sent when a ticket is resolved."},
	"admin.tpl.when.complaint.received":  {"升级为投诉时发送，告知投诉编号和 10 个工作日内的答复日期。", "Sent when a complaint is opened: its reference and the answer date, 10 working days on."},
	"admin.tpl.when.complaint.extended":  {"投诉专员延长处理期限时发送。", "Sent when a complaint officer extends the deadline."},
	"admin.tpl.when.complaint.decided":   {"投诉作出处理决定时发送，附决定内容。", "Sent with the decision when a complaint is decided."},

	"admin.ch.restart_title":                   {"重启后生效。", "Takes effect on restart."},
	"admin.ch.restart_body":                    {"这里保存的设置会覆盖同名环境变量，但正在运行的 Hotline 进程不会读取新值：保存后请重启所有 Hotline 进程（API 和 worker）。密钥只写不读，保存后不再显示。", "Settings saved here override the environment variables of the same name, but running Hotline processes do not pick them up: restart every Hotline process (API and workers) after saving. Secrets are write-only and never shown again."},
	"admin.ch.twilio":                          {"Twilio（短信和电话）", "Twilio (SMS and voice)"},
	"admin.ch.wechat":                          {"微信公众号", "WeChat official account"},
	"admin.ch.email":                           {"邮件", "Email"},
	"admin.ch.slack":                           {"Slack 通知", "Slack"},
	"admin.ch.twilio.about":                    {"接收和发送短信、接听来电。", "Receives and sends SMS, answers calls."},
	"admin.ch.wechat.about":                    {"接收公众号消息，并通过客服消息接口回复。", "Receives the official account's messages and replies through the customer-service API."},
	"admin.ch.email.about":                     {"通过 SMTP 发送回复，通过 IMAP 收信或由邮件网关推送。", "Sends replies by SMTP; receives by IMAP polling or a mail gateway's webhook."},
	"admin.ch.slack.about":                     {"向团队频道和坐席发送时限预警和升级提醒。", "Tells team channels and agents about deadline warnings and escalations."},
	"admin.ch.twilio.account_sid":              {"Account SID", "Account SID"},
	"admin.ch.twilio.auth_token":               {"Auth Token", "Auth token"},
	"admin.ch.twilio.from_number":              {"发送号码", "From number"},
	"admin.ch.twilio.messaging_service_sid":    {"Messaging Service SID", "Messaging service SID"},
	"admin.ch.wechat.token":                    {"令牌 (Token)", "Token"},
	"admin.ch.wechat.app_id":                   {"AppID", "AppID"},
	"admin.ch.wechat.app_secret":               {"AppSecret", "AppSecret"},
	"admin.ch.wechat.encoding_aes_key":         {"EncodingAESKey", "EncodingAESKey"},
	"admin.ch.email.smtp_url":                  {"SMTP 地址（含密码）", "SMTP URL (with password)"},
	"admin.ch.email.from":                      {"发件人", "From address"},
	"admin.ch.email.imap_url":                  {"IMAP 地址（含密码）", "IMAP URL (with password)"},
	"admin.ch.email.webhook_secret":            {"邮件推送密钥", "Webhook secret"},
	"admin.ch.slack.bot_token":                 {"Bot Token", "Bot token"},
	"admin.ch.slack.signing_secret":            {"Signing Secret", "Signing secret"},
	"admin.ch.slack.team_channels":             {"团队频道", "Team channels"},
	"admin.ch.twilio.account_sid.eg":           {"AC…（32 位）", "AC… (32 digits)"},
	"admin.ch.twilio.from_number.eg":           {"+8610095500", "+8610095500"},
	"admin.ch.twilio.messaging_service_sid.eg": {"MG…（可选，代替发送号码）", "MG… (optional, instead of a number)"},
	"admin.ch.wechat.app_id.eg":                {"wx…", "wx…"},
	"admin.ch.email.from.eg":                   {"客服 Support <support@example.com>", "Support <support@example.com>"},
	"admin.ch.slack.team_channels.eg":          {"理赔服务=C0123,Motor=C0456", "Claims=C0123,Motor=C0456"},
	"admin.ch.write_only":                      {"密钥：只写不读", "Secret: write-only"},
	"admin.ch.keep":                            {"已保存 · 留空则保持不变", "Saved · leave empty to keep"},
	"admin.ch.type_secret":                     {"未保存 · 在此输入", "Not saved · type it here"},
	"admin.ch.type_override":                   {"使用环境变量 · 输入则覆盖", "From the environment · type to override"},
	"admin.ch.set_here":                        {"于 %s 在此设置", "Set here on %s"},
	"admin.ch.by":                              {"（%s）", "by %s"},
	"admin.ch.overrides":                       {"· 覆盖环境变量", "· overrides the environment"},
	"admin.ch.from_env":                        {"来自环境变量", "From the environment"},
	"admin.ch.not_set":                         {"未设置", "Not set"},
	"admin.ch.clear":                           {"清除", "Clear"},
	"admin.ch.clear_env":                       {"清除（改用环境变量）", "Clear (use the environment's)"},
	"admin.ch.save":                            {"保存设置", "Save settings"},
	"admin.ch.retype":                          {"输入的密钥没有保存，请重新输入。", "The secrets you typed were not saved; type them again."},
	"admin.ch.save_hint":                       {"密钥留空表示不修改。", "Secrets left empty stay as they are."},
	"admin.ch.saved":                           {"已保存：%s。重启 Hotline 进程后生效。", "Saved: %s. Takes effect when the Hotline processes restart."},
	"admin.ch.hooks":                           {"在服务商后台填写", "Paste into the provider's console"},
	"admin.ch.hook.sms":                        {"Messaging · A message comes in", "Messaging · A message comes in"},
	"admin.ch.hook.voice":                      {"Voice · A call comes in", "Voice · A call comes in"},
	"admin.ch.hook.voice_status":               {"Voice · Call status changes", "Voice · Call status changes"},
	"admin.ch.hook.wechat":                     {"服务器地址 (URL)", "Server URL"},
	"admin.ch.hook.email":                      {"邮件推送地址（原始 MIME，POST）", "Inbound mail webhook (raw MIME, POST)"},
	"admin.ch.hook.slack":                      {"Interactivity · Request URL", "Interactivity · Request URL"},
	"admin.ch.twilio.hook_hint":                {"均使用 HTTP POST。短信送达状态回调由 Hotline 在发送时自动指定。", "All HTTP POST. SMS delivery callbacks are set by Hotline on each message."},
	"admin.ch.wechat.hook_hint":                {"在公众号后台“设置与开发 → 基本配置”中填写，令牌和 EncodingAESKey 须与上面一致；消息加解密方式可选明文或安全模式。", "In the official account's Settings and Development → Basic configuration; the token and EncodingAESKey must match the ones here. Plaintext or safe mode both work."},
	"admin.ch.email.hook_hint":                 {"推送时须带请求头 Authorization: Bearer <邮件推送密钥>。", "The gateway must send Authorization: Bearer <webhook secret>."},
	"admin.ch.no_base":                         {"未设置 PUBLIC_BASE_URL：以上地址取自您打开本页的地址，请确认服务商能访问它，并设置 PUBLIC_BASE_URL（Twilio 签名校验需要）。", "PUBLIC_BASE_URL is not set: these addresses use the one you opened this page at. Make sure providers can reach it, and set PUBLIC_BASE_URL (Twilio's signatures need it)."},
}
