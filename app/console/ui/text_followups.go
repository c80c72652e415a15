package ui

// The follow-up calls' words.
var followupsText = texts{
	"nav.followups":        {"回访", "Follow-ups"},
	"followups.title":      {"回访电话", "Follow-up calls"},
	"followups.mine":       {"我的回访", "Mine"},
	"followups.unassigned": {"团队待认领", "Team, unassigned"},
	"followups.done":       {"已完成", "Done"},
	"followups.empty":      {"没有待办的回访。", "No follow-up calls here."},
	"followups.due":        {"到期", "Due"},
	"followups.after":      {"解决后", "After resolution"},
	"followups.same_day":   {"当天", "same day"},
	"followups.days":       {"%d 天", "%d days"},
	"followups.call":       {"拨打", "Call"},
	"followups.note":       {"回访记录（必填）", "What was said (required)"},
	"followups.complete":   {"完成回访", "Mark done"},
	"followups.completed":  {"回访已完成。", "Follow-up call done."},
	"followups.overdue":    {"已逾期", "overdue"},
	"followups.done_at":    {"%s 完成", "done %s"},
	"followups.no_phone":   {"客户没有电话号码", "The customer has no phone number"},
}
