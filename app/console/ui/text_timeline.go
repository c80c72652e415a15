package ui

// timelineText is the ticket timeline's story: each audit event as a line with its
// particulars, and the reasons the service records itself.
var timelineText = texts{
	"story.created":                 {"通过%s创建了工单", "created the ticket by %s"},
	"story.assigned":                {"将工单分配给 %s", "assigned the ticket to %s"},
	"story.assigned_team":           {"将工单分配给 %s（%s）", "assigned the ticket to %s (%s)"},
	"story.assigned_to_team":        {"将工单转给团队 %s", "passed the ticket to team %s"},
	"story.unassigned":              {"取消了工单的分配", "unassigned the ticket"},
	"story.status.changed":          {"将状态从“%s”改为“%s”", "changed the status from %s to %s"},
	"story.ticket.reopened":         {"重新打开了工单（%s → %s）", "reopened the ticket (%s → %s)"},
	"story.priority":                {"将优先级从“%s”改为“%s”", "changed the priority from %s to %s"},
	"story.category":                {"将类别从“%s”改为“%s”", "changed the category from %s to %s"},
	"story.warning":                 {"%s时限预警：%s 到期", "warned: the %s deadline is due %s"},
	"story.warning_skipped":         {"%s时限预警未发送：时限已过", "skipped a %s deadline warning: the deadline had passed"},
	"story.breached":                {"超过了%s时限", "missed the %s deadline"},
	"story.raised":                  {"，优先级已自动从“%s”提高到“%s”", "; priority raised automatically from %s to %s"},
	"story.policy_applied":          {"按新的时效策略重新计时，解决时限 %s", "re-timed the ticket under a new SLA policy: resolution due %s"},
	"story.followups":               {"安排了回访：%s", "scheduled follow-up calls: %s"},
	"story.complaint_opened":        {"升级为投诉 %s，%s 前作出决定", "opened complaint %s, to be decided by %s"},
	"story.complaint_decided":       {"对投诉 %s 作出决定：%s", "decided complaint %s: %s"},
	"story.complaint_extended":      {"将投诉 %s 的期限延长至 %s", "extended complaint %s to %s"},
	"story.complaint_status":        {"将投诉 %s 改为“%s”", "moved complaint %s to %s"},
	"story.complaint_assigned":      {"将投诉 %s 交给 %s", "gave complaint %s to %s"},
	"story.survey_sent":             {"通过%s发送了满意度调查", "sent the satisfaction survey by %s"},
	"story.survey_answered":         {"给出满意度评分 %s", "rated the service %s"},
	"story.fallback":                {"改用%s通知客户", "told the customer by %s instead"},
	"story.other":                   {"记录了一项操作", "recorded a change"},
	"story.reason":                  {"（原因：%s）", " (reason: %s)"},
	"story.an_agent":                {"坐席", "An agent"},
	"story.someone":                 {"（已删除的人员）", "(someone no longer here)"},
	"story.deadline.first_response": {"首次响应", "first response"},
	"story.deadline.resolution":     {"解决", "resolution"},
	"story.deadline.any":            {"", "a"},
	"story.group":                   {"%d 项自动操作", "%d automatic steps"},

	"reason.first_reply":      {"首次回复", "first reply"},
	"reason.customer_replied": {"客户回复", "the customer replied"},
	"reason.reopened":         {"工单重新打开", "the ticket was reopened"},
	"reason.auto_fewest":      {"自动分配给团队中未结工单最少的坐席", "auto-assigned to the agent with the fewest open tickets"},
	"reason.auto_queue":       {"从团队队列自动分配", "auto-assigned from the team queue"},
	"reason.wechat_window":    {"微信 48 小时会话窗口已关闭", "WeChat's 48-hour window has closed"},
	"reason.deadline_passed":  {"时限已过", "the deadline had passed"},
}

// serviceErrorText is how the Chinese console says the service's refusals (the English
// console shows the service's own English).
var serviceErrorText = texts{
	"svcerr.ticket_not_found": {"找不到工单 %s。", "Ticket %s not found."},
	"svcerr.not_a_reference":  {"“%s”不是工单号（例如 HL-000001）。", "%q is not a ticket reference (e.g. HL-000001)."},
	"svcerr.closed":           {"%s 已关闭，请先重新打开再回复。", "%s is closed; reopen it before replying."},
	"svcerr.taken":            {"%s 已被 %s 接手。", "%s is already taken by %s."},
	"svcerr.cannot_move":      {"%s 不能从“%s”改为“%s”。", "%s cannot go from %s to %s."},
	"svcerr.already":          {"%s 已经是“%s”。", "%s is already %s."},
	"svcerr.opted_out":        {"客户已退订此渠道的消息，请改用其他渠道或等客户恢复订阅。", "The customer opted out of this channel; reply on another channel or wait for them to opt back in."},
	"svcerr.unknown_status":   {"没有“%s”这个状态。", "There is no status %q."},
	"svcerr.not_found":        {"找不到您要的内容", "Not found"},
	"svcerr.conflict":         {"这项操作与当前状态冲突", "This conflicts with the current state"},
	"svcerr.invalid":          {"输入有误", "Something in the form is not right"},
	"svcerr.with":             {"%s（%s）", "%s (%s)"},
}
