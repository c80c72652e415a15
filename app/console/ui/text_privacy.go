package ui

// privacyText are the words of masked values and their "show" buttons.
var privacyText = texts{
	"privacy.show":         {"显示", "Show"},
	"privacy.show_hint":    {"查看完整信息，将记录查看人和时间", "See it in full; who looked and when is recorded"},
	"privacy.show_phone":   {"显示完整电话号码", "Show the full phone number"},
	"privacy.show_email":   {"显示完整邮箱地址", "Show the full email address"},
	"privacy.show_wechat":  {"显示完整微信 openid", "Show the full WeChat openid"},
	"privacy.show_message": {"显示完整消息内容", "Show the message in full"},
	"privacy.revealed":     {"完整信息（已记录本次查看）", "In full (this look is recorded)"},
	"privacy.refused":      {"您无权查看此信息", "You may not see this in full"},
}
