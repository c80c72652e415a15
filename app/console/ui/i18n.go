package ui

import (
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/tickets"
)

// texts maps a message key to its Chinese and English wording. Each section of the console
// has its own table (text_*.go); catalog is where T looks.
type texts map[string][2]string

var catalog = []texts{coreText, complaintsText, dashboardText, adminText, followupsText, noticesText, customersText, cannedText, deliveryText, accountText, floorText, scorecardText, timelineText, serviceErrorText, qualityText, stagesText, privacyText, webhooksText}

// T finds key in lang ("zh" or "en"), formatting args into it with fmt verbs. A missing
// key shows as itself, so a gap is visible on the page and in tests.
func T(lang, key string, args ...any) string {
	for _, t := range catalog {
		if w, ok := t[key]; ok {
			s := w[0]
			if lang == "en" {
				s = w[1]
			}
			if len(args) > 0 {
				return fmt.Sprintf(s, args...)
			}
			return s
		}
	}
	return key
}

// Lang is the page's language: the agent's own, or before signing in the one chosen on
// the sign-in page, or the browser's.
func Lang(ctx *fiber.Ctx, a *tickets.Agent) string {
	if a != nil {
		return ShortLang(a.Locale)
	}
	if l := ctx.Query("lang"); l == "zh" || l == "en" {
		return l
	}
	if l := ctx.Cookies(LangCookie); l == "zh" || l == "en" {
		return l
	}
	if strings.HasPrefix(strings.ToLower(ctx.Get(fiber.HeaderAcceptLanguage)), "en") {
		return "en"
	}
	return "zh"
}

// ShortLang is the console's language ("zh" or "en") for a locale stored on an agent.
func ShortLang(locale string) string {
	if strings.HasPrefix(strings.ToLower(locale), "en") {
		return "en"
	}
	return "zh"
}

// coreText is the words of the shell (sign-in, menu, errors) and of the desk (queues, the
// ticket page, logging a call), and the audit events' names on any timeline.
var coreText = texts{
	"app.name":        {"Hotline 客服台", "Hotline desk"},
	"nav.queue":       {"工单队列", "Queues"},
	"nav.call":        {"登记来电", "Log a call"},
	"nav.complaints":  {"投诉", "Complaints"},
	"nav.dashboard":   {"主管看板", "Dashboard"},
	"nav.admin":       {"管理", "Admin"},
	"nav.logout":      {"退出", "Sign out"},
	"nav.menu":        {"菜单", "Menu"},
	"nav.online":      {"在线接单", "Online"},
	"nav.away":        {"离开", "Away"},
	"nav.go_online":   {"上线接单", "Go online"},
	"nav.go_away":     {"设为离开", "Go away"},
	"nav.presence":    {"接单", "Taking work"},
	"a11y.skip":       {"跳到主要内容", "Skip to main content"},
	"nav.lang_switch": {"English", "中文"},
	"nav.live":        {"实时", "Live"},
	"nav.live_hint":   {"新消息和分配会自动出现", "New messages and assignments appear by themselves"},
	"nav.search":      {"搜索工单号、主题、电话（可输尾号）、姓名、邮箱", "Search reference, subject, phone (or its last digits), name, email"},

	"error.internal":         {"服务器出错了，请稍后再试；问题已记录。", "Something went wrong on the server; it has been logged. Try again in a moment."},
	"error.signed_out":       {"登录已失效，请重新登录。", "You are signed out. Sign in again."},
	"error.csrf":             {"表单已过期或来自其他网站，请刷新页面后重试。", "This form expired or came from another site. Reload the page and try again."},
	"error.title":            {"出错了", "Something went wrong"},
	"error.back":             {"返回工单队列", "Back to the queues"},
	"error.forbidden":        {"您的角色无权查看此页面。", "Your role may not open this page."},
	"login.title":            {"登录", "Sign in"},
	"login.email":            {"邮箱", "Email"},
	"login.password":         {"密码", "Password"},
	"login.submit":           {"登录", "Sign in"},
	"login.wrong":            {"邮箱或密码错误。", "Wrong email or password."},
	"login.too_many":         {"此地址登录失败次数过多，请 %s后再试。", "Too many failed sign-ins from your address. Try again in %s."},
	"login.locked":           {"该账号登录失败次数过多，已暂时锁定：请 %s后再试，或请管理员解锁。", "Too many failed sign-ins for this account: it is locked. Try again in %s, or ask an admin to unlock it."},
	"login.tagline":          {"电话 · 短信 · 微信 · 邮件，一处处理。", "Phone, SMS, WeChat and email in one place."},
	"role.agent":             {"坐席", "Agent"},
	"role.supervisor":        {"主管", "Supervisor"},
	"role.complaint_officer": {"投诉专员", "Complaint officer"},
	"role.admin":             {"管理员", "Admin"},
	"queue.no_team":          {"您还没有加入团队。", "You are not in a team yet."},
	"queue.mine":             {"我的工单", "My queue"},
	"queue.team":             {"团队队列", "Team queue"},
	"queue.unassigned":       {"未分配", "Unassigned"},
	"queue.all":              {"全部", "All"},
	"queue.export":           {"导出 CSV", "Export CSV"},
	"queue.empty":            {"没有符合条件的工单。", "No tickets match."},
	"queue.more":             {"下一页", "Next page"},
	"queue.filter":           {"筛选", "Filter"},
	"queue.any_status":       {"未结工单", "Open work"},
	"queue.every_status":     {"所有状态", "Every status"},
	"queue.any_channel":      {"所有渠道", "All channels"},
	"queue.any_prio":         {"所有优先级", "All priorities"},
	"queue.keys":             {"j/k 上下移动 · Enter 打开 · r 回复 · / 搜索 · ? 快捷键", "j/k move · Enter open · r reply · / search · ? shortcuts"},
	"queue.new_items":        {"有新的变动，已刷新。", "New activity; the list is up to date."},
	"col.ref":                {"工单号", "Ticket"},
	"col.customer":           {"客户", "Customer"},
	"col.subject":            {"主题", "Subject"},
	"col.status":             {"状态", "Status"},
	"col.priority":           {"优先级", "Priority"},
	"col.owner":              {"处理人", "Owner"},
	"col.due":                {"时限", "Due"},
	"sla.none":               {"无时限", "no deadline"},
	"sla.left":               {"剩余", "left"},
	"sla.overdue":            {"已超时", "overdue"},
	"sla.first":              {"首次响应", "First response"},
	"sla.resolution":         {"解决", "Resolution"},
	"sla.paused":             {"已暂停（等待客户）", "paused (waiting on customer)"},
	"sla.met":                {"已达成", "met"},
	"sla.short.first":        {"首响", "1st reply"},
	"sla.short.resolution":   {"解决", "Resolve"},
	"sla.due_title":          {"%s截止 %s（%s 时间）", "%s due %s (%s time)"},
	"sla.due_at":             {"截止 %s", "due %s"},

	"status.new":      {"新建", "New"},
	"status.open":     {"处理中", "Open"},
	"status.pending":  {"等待客户", "Pending"},
	"status.resolved": {"已解决", "Resolved"},
	"status.closed":   {"已关闭", "Closed"},
	"prio.low":        {"低", "Low"},
	"prio.normal":     {"普通", "Normal"},
	"prio.high":       {"高", "High"},
	"prio.urgent":     {"紧急", "Urgent"},
	"chan.sms":        {"短信", "SMS"},
	"chan.phone":      {"电话", "Phone"},
	"chan.wechat":     {"微信", "WeChat"},
	"chan.email":      {"邮件", "Email"},
	"chan.walk_in":    {"柜面", "Walk-in"},

	"ticket.timeline":           {"时间线", "Timeline"},
	"ticket.customer":           {"客户", "Customer"},
	"ticket.other_tickets":      {"其他工单", "Other tickets"},
	"ticket.complaints":         {"投诉", "Complaints"},
	"ticket.csat":               {"满意度", "Satisfaction"},
	"ticket.no_other":           {"没有其他工单", "No other tickets"},
	"ticket.none":               {"无", "None"},
	"ticket.reply":              {"回复客户", "Reply to customer"},
	"ticket.reply_via":          {"发送渠道", "Send by"},
	"ticket.send":               {"发送", "Send"},
	"ticket.note":               {"内部备注", "Internal note"},
	"ticket.add_note":           {"添加备注", "Add note"},
	"ticket.note_hint":          {"只有同事可见，不会发给客户。", "Only colleagues see this; it is never sent."},
	"ticket.reply_label":        {"回复内容", "Your reply"},
	"ticket.note_label":         {"备注内容", "Your note"},
	"ticket.draft_kept":         {"未发送的内容已恢复，请确认后重新提交。", "What you typed was kept: check it and send it again."},
	"ticket.assign":             {"分配", "Assign"},
	"ticket.take":               {"我来处理", "Take it"},
	"ticket.team":               {"团队", "Team"},
	"ticket.agent":              {"坐席", "Agent"},
	"ticket.set_status":         {"更改状态", "Change status"},
	"ticket.set_priority":       {"更改优先级", "Change priority"},
	"ticket.reason":             {"原因（可选）", "Reason (optional)"},
	"ticket.save":               {"保存", "Save"},
	"ticket.escalate":           {"升级为投诉", "Escalate to complaint"},
	"ticket.escalate_hint":      {"投诉须在 10 个工作日内作出决定。", "A complaint must be decided within 10 working days."},
	"ticket.summary":            {"投诉摘要", "Complaint summary"},
	"ticket.attachments":        {"附件", "Attachments"},
	"ticket.not_kept":           {"文件未保存在 Hotline 中", "Hotline does not keep this file"},
	"ticket.segments":           {"%d 条短信 · %d 字符 · %s", "%d SMS · %d characters · %s"},
	"ticket.wechat_open":        {"微信 48 小时窗口开放至 %s", "WeChat 48-hour window open until %s"},
	"ticket.wechat_closed":      {"微信 48 小时窗口已关闭，请改用短信或邮件", "WeChat 48-hour window is closed; reply by SMS or email"},
	"ticket.replied":            {"回复已排队发送。", "Reply queued to send."},
	"ticket.noted":              {"备注已添加。", "Note added."},
	"ticket.updated":            {"已更新。", "Updated."},
	"ticket.escalated":          {"已升级为投诉 %s。", "Escalated to complaint %s."},
	"ticket.from_customer":      {"客户", "Customer"},
	"ticket.system":             {"系统", "System"},
	"ticket.delivery":           {"投递", "Delivery"},
	"ticket.opted_out":          {"已退订", "opted out"},
	"ticket.created":            {"创建于", "Created"},
	"ticket.changed_live":       {"此工单有新的变动。", "This ticket just changed."},
	"ticket.reload":             {"刷新", "Reload"},
	"ticket.send_resolve":       {"发送并解决", "Send and resolve"},
	"ticket.send_pending":       {"发送并等待客户", "Send, wait on customer"},
	"ticket.resolve":            {"解决", "Resolve"},
	"ticket.moved":              {"%s %s。", "%s: %s."},
	"ticket.next":               {"下一个：%s。", "Next: %s."},
	"ticket.queue_done":         {"此队列已没有其他工单。", "Nothing else in this queue."},
	"ticket.back":               {"返回队列", "Back to the queue"},
	"keys.title":                {"快捷键", "Keyboard shortcuts"},
	"keys.open_help":            {"按 ? 查看快捷键", "Press ? for shortcuts"},
	"keys.close_help":           {"按 Esc 或 ? 关闭", "Press Esc or ? to close"},
	"keys.queue":                {"队列", "Queue"},
	"keys.ticket":               {"工单", "Ticket"},
	"keys.move":                 {"上下移动", "move up and down"},
	"keys.open":                 {"打开工单", "open the ticket"},
	"keys.search":               {"搜索", "search"},
	"keys.reply":                {"写回复", "write a reply"},
	"keys.open_reply":           {"打开工单并写回复", "open the ticket to reply"},
	"keys.canned":               {"快捷回复（回复框为空时按 /，或随时按 Alt+/）", "canned reply (/ in an empty reply box, Alt+/ anywhere in it)"},
	"keys.note":                 {"写内部备注", "write an internal note"},
	"keys.send":                 {"发送", "send"},
	"keys.send_resolve":         {"发送并解决，转到下一个", "send, resolve and go to the next"},
	"keys.take":                 {"我来处理", "take the ticket"},
	"keys.resolve":              {"解决，转到下一个", "resolve and go to the next"},
	"keys.help":                 {"显示或隐藏本帮助", "show or hide this help"},
	"keys.leave":                {"离开输入框", "leave the text box"},
	"ticket.no_reach":           {"客户没有可回复的渠道。", "The customer has no channel to reply on."},
	"ticket.tags":               {"标签", "Tags"},
	"ticket.language":           {"语言", "Language"},
	"ticket.unassigned":         {"未分配", "Unassigned"},
	"call.title":                {"登记来电", "Log a call"},
	"call.name":                 {"来电人姓名", "Caller's name"},
	"call.phone":                {"来电号码", "Caller's number"},
	"call.email":                {"邮箱（可选）", "Email (optional)"},
	"call.subject":              {"主题", "Subject"},
	"call.body":                 {"来电内容", "What the caller said"},
	"call.category":             {"类别（可选）", "Category (optional)"},
	"call.bad_category":         {"请从列表中选择类别。", "Choose a category from the list."},
	"call.has_open":             {"该来电人有 %d 张未结工单：可将来电记入其中，或仍新建工单。", "This caller has %d open tickets: add the call to one, or open a new ticket anyway."},
	"call.open_tickets":         {"%s 的未结工单", "%s's open tickets"},
	"call.add_to":               {"记入 %s", "Add to %s"},
	"call.new_anyway":           {"仍新建工单", "Open a new ticket anyway"},
	"call.not_open":             {"%s 不是该来电人的未结工单。", "%s is not an open ticket of this caller."},
	"call.note_head":            {"客户来电：", "The customer called:"},
	"call.added":                {"来电已记入 %s。", "Call added to %s."},
	"category.claims":           {"理赔", "Claims"},
	"category.policy":           {"保单服务", "Policy service"},
	"category.payment":          {"缴费", "Payment"},
	"category.enquiry":          {"咨询", "Enquiry"},
	"category.other":            {"其他", "Other"},
	"call.submit":               {"创建工单", "Create ticket"},
	"call.walk_in":              {"柜面来访", "Walk-in visit"},
	"call.hint":                 {"Tab 切换字段，Ctrl+Enter 提交。工单会分配给您。", "Tab between fields, Ctrl+Enter to save. The ticket is assigned to you."},
	"call.created":              {"已创建工单 %s。", "Created ticket %s."},
	"event.ticket.created":      {"创建了工单", "created the ticket"},
	"event.ticket.assigned":     {"分配了工单", "assigned the ticket"},
	"event.status.changed":      {"更改了状态", "changed the status"},
	"event.priority.changed":    {"更改了优先级", "changed the priority"},
	"event.category.changed":    {"更改了类别", "changed the category"},
	"event.sla.breached":        {"时限已超", "missed a deadline"},
	"event.sla.warning":         {"时限预警", "deadline warning"},
	"event.sla.warning_skipped": {"时限预警未发送（时限已过）", "deadline warning skipped: deadline already passed"},
	"event.ticket.reopened":     {"重新打开了工单", "reopened the ticket"},
	"event.complaint.opened":    {"升级为投诉", "opened a complaint"},
	"event.survey.sent":         {"发送了满意度调查", "sent the satisfaction survey"},
	"event.survey.answered":     {"客户评价了服务", "the customer rated the service"},
	"event.survey.skipped":      {"未发送满意度调查", "skipped the satisfaction survey"},
	"event.sla.policy_applied":  {"适用时效策略", "applied an SLA policy"},
	"event.ticket.urgent":       {"标记为紧急", "marked the ticket urgent"},
	"event.ticket.resolved":     {"解决了工单", "resolved the ticket"},
	"event.ticket.acknowledged": {"向客户确认收到", "acknowledged receipt to the customer"},
	"event.delivery.failed":     {"消息投递失败", "a message could not be delivered"},
	"event.notice.fallback":     {"改用其他渠道通知客户", "told the customer on another channel"},
	"event.notice.acknowledged": {"确认了通知", "acknowledged a notice"},
	"event.followup.scheduled":  {"安排了回访", "scheduled a follow-up call"},
	"event.followup.completed":  {"完成了回访", "completed a follow-up call"},
	"event.followup.cancelled":  {"取消了回访", "cancelled a follow-up call"},
	"event.customer.opted_out":  {"客户退订", "the customer opted out"},
	"event.customer.opted_in":   {"客户恢复订阅", "the customer opted back in"},
	"event.complaint.decided":   {"投诉已决定", "decided the complaint"},
	"event.complaint.extended":  {"延长了投诉期限", "extended the complaint deadline"},
	"event.complaint.breached":  {"投诉已超期", "the complaint went overdue"},
	"event.complaint.warning":   {"投诉临近期限", "the complaint is near its deadline"},

	"event.voicemail.transcribed":          {"录音留言已转写", "transcribed the voicemail"},
	"event.voicemail.transcription_failed": {"录音留言未能转写", "could not transcribe the voicemail"},
}
