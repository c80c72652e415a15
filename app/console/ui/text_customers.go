package ui

// The customer page's words.
var customersText = texts{
	"customer.title":         {"客户", "Customer"},
	"customer.open":          {"查看客户", "Open customer"},
	"customer.since":         {"首次联系", "First contact"},
	"customer.tickets":       {"全部工单", "All tickets"},
	"customer.reach":         {"联系方式", "How to reach them"},
	"customer.subscribed":    {"可联系", "reachable"},
	"customer.details":       {"客户资料", "Details"},
	"customer.name":          {"姓名", "Name"},
	"customer.language":      {"沟通语言", "Language"},
	"customer.locale.":       {"未知", "Not known"},
	"customer.locale.zh-CN":  {"中文", "Chinese"},
	"customer.locale.en":     {"英文", "English"},
	"customer.tags_hint":     {"用逗号分隔，路由规则按标签分配。", "Separate with commas; routing rules match on tags."},
	"customer.save":          {"保存", "Save"},
	"customer.saved":         {"客户资料已保存。", "Customer details saved."},
	"customer.bad_locale":    {"请选择列表中的语言。", "Choose a language from the list."},
	"customer.decide_by":     {"决定期限", "decide by"},
	"customer.fu.open":       {"待回访", "to call"},
	"customer.fu.done":       {"已回访", "done"},
	"customer.fu.cancelled":  {"已取消", "cancelled"},
	"customer.matches":       {"匹配的客户", "Matching customers"},
	"customer.tickets_count": {"%d 张工单", "%d tickets"},
}
