package ui

// deliveryText words what happens to a reply on its way: the files each channel carries,
// and why a send failed (tickets.DeliveryFailure's kinds).
var deliveryText = texts{
	"files.attach":   {"附件", "Attach"},
	"files.none":     {"此渠道不能发送附件", "This channel cannot carry files"},
	"files.limits":   {"最多 %d 个文件，共 %s；格式：%s", "Up to %d file(s), %s in all; types: %s"},
	"files.too_many": {"此渠道最多 %d 个文件", "This channel takes at most %d file(s)"},
	"files.too_big":  {"%s 超过此渠道的 %s 上限", "%s is over this channel's %s limit"},
	"files.total":    {"附件合计超过此渠道的 %s 上限", "The files together are over this channel's %s limit"},
	"files.type":     {"%s 的格式此渠道不支持", "This channel cannot carry %s's type"},

	"delivery.status.queued":      {"待发送", "Waiting to send"},
	"delivery.status.sent":        {"已发送", "Sent"},
	"delivery.status.delivered":   {"已送达", "Delivered"},
	"delivery.status.read":        {"已读", "Read"},
	"delivery.status.undelivered": {"未送达", "Not delivered"},
	"delivery.status.failed":      {"发送失败", "Failed to send"},

	"delivery.not_delivered":    {"未送达", "Not delivered"},
	"delivery.opted_out":        {"客户已退订此渠道的消息", "The customer opted out of these messages"},
	"delivery.no_provider":      {"此渠道尚未配置", "This channel is not configured"},
	"delivery.no_address":       {"客户在此渠道没有联系方式", "The customer has no address on this channel"},
	"delivery.bad_address":      {"号码或账号无效", "The number or account is not valid"},
	"delivery.unreachable":      {"客户手机关机或不在服务区", "The customer's phone is off or out of coverage"},
	"delivery.blocked":          {"被运营商作为疑似垃圾信息拦截", "The carrier blocked it as possible spam"},
	"delivery.window_closed":    {"已超过微信 48 小时回复时限", "WeChat's 48-hour reply window had closed"},
	"delivery.unsubscribed":     {"客户已取消关注公众号", "The customer unfollowed the official account"},
	"delivery.rate_limited":     {"已达到对该客户的发送次数上限", "The provider's limit of messages to this customer was reached"},
	"delivery.media_rejected":   {"服务商拒收附件（大小或格式）", "The provider refused the attached file (size or type)"},
	"delivery.mail_rejected":    {"客户的邮件服务器拒收或退信", "The customer's mail server refused it or bounced it"},
	"delivery.gave_up":          {"服务商多次失败，已停止重试", "The provider kept failing; Hotline stopped retrying"},
	"delivery.no_media_address": {"没有服务商可访问的公网地址来获取附件", "Hotline has no public address the provider can fetch the file from"},
	"delivery.unknown":          {"未知原因", "Unknown reason"},
	"delivery.code":             {"错误代码 %s", "error code %s"},
}
