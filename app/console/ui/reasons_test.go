package ui

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/hotlinedesk/hotline/tickets"
)

// latin is a run of English words: in a Chinese sentence only references, names, sizes
// and file types may be in Latin letters.
var latin = regexp.MustCompile(`[A-Za-z]{3,}(?:\s+[A-Za-z]{2,}){2,}`)

// The refusals an agent meets in the console's forms, worded as the service words them,
// read in Chinese as a whole Chinese sentence without the English particulars, and in
// English as the service said them.
func TestStatusInChinese(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{tickets.Invalidf("reply text is empty"), "回复内容为空。"},
		{tickets.Invalidf("a webhook needs at least one event (%s)", "ticket.created, ticket.assigned"), "请至少选择一个事件。"},
		{tickets.Invalidf("a webhook URL may not point at a private, loopback or link-local address, nor a reserved one (set HOTLINE_WEBHOOKS_ALLOW_PRIVATE for a receiver on this network)"), "接收地址不能指向内网、本机、链路本地或保留地址（同一网络内的接收方需由运维开启 HOTLINE_WEBHOOKS_ALLOW_PRIVATE）。"},
		{tickets.Invalidf("a webhook's name is one line of text, without control characters"), "Webhook 名称须为一行文字，不能包含换行或控制字符。"},
		{tickets.Invalidf("a webhook URL is text without control characters (percent-encode them)"), "接收地址不能包含换行或控制字符（请先做百分号编码）。"},
		{tickets.Invalidf("a webhook URL is an http:// or https:// address with a host"), "接收地址须为以 http:// 或 https:// 开头的完整网址（最多 2000 个字符）。"},
		{tickets.Conflictf("two-step sign-in is required by the configuration (HOTLINE_REQUIRE_2FA) and cannot be turned off here"), "服务器配置要求两步验证（HOTLINE_REQUIRE_2FA），无法在此关闭。"},
		{tickets.Conflictf("%s has no two-step sign-in to reset", "张伟 Zhang Wei"), "张伟 Zhang Wei 没有开启两步验证，无需重置。"},
		{tickets.Forbiddenf("an admin cannot reset their own two-step sign-in: sign in with a recovery code, or ask another admin"), "不能在此重置自己的两步验证：请用恢复码登录，或请另一位管理员重置。"},
		{tickets.Invalidf("note text is empty"), "备注内容为空。"},
		{tickets.Invalidf("reply is %d bytes, more than the %d allowed", 70000, 65536), "内容太长，请删减后再提交。"},
		{tickets.Conflictf("the customer has no %s to send %s to", "email address", "email"), "客户在此渠道没有可用的联系方式，请改用其他渠道。"},
		{tickets.Conflictf("%s is already %s priority", "HL-000003", tickets.PriorityHigh), "HL-000003 的优先级已经是“高”。"},
		{tickets.Conflictf("%s is already in category %q", "HL-000003", "claims"), "HL-000003 的类别已经是“理赔”。"},
		{tickets.Conflictf("%s is already in category %q", "HL-000003", "车险"), "HL-000003 的类别已经是“车险”。"},
		{tickets.Conflictf("%s cannot go from %s to %s", "HL-000003", "closed", "pending"), "HL-000003 不能从“已关闭”改为“等待客户”。"},
		{tickets.Forbiddenf("agents can only assign tickets to themselves"), "坐席只能把工单分配给自己。"},
		{tickets.Forbiddenf("agents take tickets into their own team; ask a supervisor to move it"), "坐席只能接手本团队的工单，请主管转派。"},
		{tickets.Invalidf("say which team or agent to assign to"), "请选择要分配的团队或坐席。"},
		{tickets.Conflictf("%s is deactivated", "zhang@desk.test"), "zhang@desk.test 已停用。"},
		{tickets.Forbiddenf("only the assignee, their supervisor or an admin can change %s", "HL-000003"), "只有处理人、其主管或管理员可以修改 HL-000003。"},
		{tickets.Invalidf("say what the customer needs: a subject or a description"), "请填写客户的诉求：主题或描述。"},
		{tickets.Invalidf("a phone number or an email address is needed to reach the customer"), "需要电话号码或邮箱地址才能联系客户。"},
		{tickets.Invalidf("phone number %q needs a country code, e.g. +86", "13800138000"), "电话号码“13800138000”无效，请填写带国家代码的号码，例如 +86 138 0013 8000。"},
		{tickets.Invalidf("phone number %q has an unexpected character %q", "138x", "x"), "电话号码“138x”无效，请填写带国家代码的号码，例如 +86 138 0013 8000。"},
		{tickets.Invalidf("email address %q is not valid", "kim@"), "邮箱地址“kim@”无效。"},
		{tickets.Invalidf("say what to search for: a phone number or its last %d digits, a name, an email address or a WeChat openid", 4), "请输入要搜索的内容：电话号码或其后几位、姓名、邮箱或微信 openid。"},
		{tickets.Invalidf("a reply by %s cannot carry files", "sms"), "此渠道的回复不能带附件。"},
		{tickets.Invalidf("a reply by %s carries at most %d file(s), not %d", "wechat", 1, 2), "此渠道的回复最多带 1 个附件。"},
		{tickets.Invalidf("%s is %s; a file sent by %s may be at most %s", "发票.pdf", "12.5 MB", "email", "10.0 MB"), "发票.pdf 太大，此渠道单个附件最大 10.0 MB。"},
		{tickets.Invalidf("the files come to %s; a reply by %s may carry at most %s", "30.0 MB", "email", "20.0 MB"), "附件总大小超出此渠道上限 20.0 MB。"},
		{tickets.Invalidf("%s: %s takes only %s", "a.exe", "wechat", "jpg, png"), "a.exe：此渠道只支持 jpg, png。"},
		{tickets.Invalidf("%s is not the %s its name says", "a.pdf", "application/pdf"), "a.pdf 的内容与文件名所示类型不符。"},
		{tickets.Invalidf("record a decision to decide a complaint"), "请先记录处理决定，再将投诉标为已决定。"},
		{tickets.Invalidf("a decision needs its text and an outcome"), "处理决定需要填写内容并选择结果。"},
		{tickets.Invalidf("an extension needs a reason"), "延期需要填写理由。"},
		{tickets.Conflictf("%s was already extended once, to %s", "CP-000001", "2026-12-31"), "CP-000001 已延期过一次（至 2026-12-31），不能再次延期。"},
		{tickets.Conflictf("%s is %s; only an open complaint can be extended", "CP-000001", "decided"), "CP-000001 当前为“已决定”，只有未结投诉可以延期。"},
		{tickets.Invalidf("the new deadline must be after the current one (%s)", "2026-12-18T18:00:00+08:00"), "新的期限必须晚于当前期限。"},
		{tickets.Conflictf("%s already has an open complaint, %s", "HL-000003", "CP-000001"), "HL-000003 已有未结投诉 CP-000001。"},
		{tickets.Invalidf("say what the complaint is about in a summary"), "请在摘要中写明投诉内容。"},
		{tickets.Invalidf("say how the follow-up went in a note"), "请在备注中写明回访情况。"},
		{tickets.Conflictf("follow-up %d was already completed", 7), "这次回访已经完成。"},
		{tickets.Conflictf("follow-up %d was cancelled when its ticket was reopened", 7), "工单重新打开后，这次回访已取消。"},
		{tickets.Forbiddenf("only the follow-up's assignee, their supervisor or an admin can complete it"), "只有回访负责人、其主管或管理员可以完成这次回访。"},
		{tickets.Forbiddenf("this notice was for someone else; only they, a supervisor or an admin can acknowledge it"), "这条通知是发给别人的，只有本人、主管或管理员可以确认。"},
		{tickets.Forbiddenf("the current password is wrong"), "当前密码不正确。"},
		{tickets.Invalidf("a password needs at least %d characters", 10), "密码至少需要 10 个字符。"},
		{tickets.Invalidf("a password may have at most 72 bytes"), "密码最多 72 字节。"},
		{tickets.Conflictf("your password was changed meanwhile; sign in again with the new one"), "密码已在别处修改，请用新密码重新登录。"},
		{tickets.Invalidf("a canned reply needs a title"), "快捷回复需要标题。"},
		{tickets.Invalidf("a canned reply needs a text in Chinese or English"), "快捷回复需要中文或英文内容。"},
		{tickets.Invalidf("the title is longer than %d characters", 80), "标题最多 80 个字符。"},
		{tickets.Invalidf("unknown variable %s; the variables are {{%s}}", "{{nme}}", "name}}, {{ref"), "未知变量 {{nme}}。"},
		{tickets.Invalidf(`"{{" is not closed with "}}"`), "“{{”没有用“}}”闭合。"},
		{tickets.Forbiddenf("supervisors manage the canned replies of their own team only"), "主管只能管理本团队的快捷回复。"},
		{tickets.Conflictf("an agent with email %s already exists", "li@desk.test"), "已有使用邮箱 li@desk.test 的坐席。"},
		{tickets.Invalidf("name cannot be empty"), "姓名不能为空。"},
		{tickets.Invalidf("capacity must be between 0 and 1000"), "接单上限必须在 0 到 1000 之间。"},
		{tickets.Conflictf("admins cannot demote themselves; ask another admin"), "管理员不能降低自己的角色，请让另一位管理员操作。"},
		{tickets.Conflictf("admins cannot deactivate themselves"), "管理员不能停用自己。"},
		{tickets.Invalidf("nothing to change"), "没有需要修改的内容。"},
		{tickets.Invalidf("a team needs a name of 1 to 100 characters"), "团队名称需为 1 到 100 个字符。"},
		{tickets.Conflictf("a team named %q already exists", "理赔服务"), "已有名为“理赔服务”的团队。"},
		{tickets.Conflictf("team %q still has %d %s; move them first", "理赔服务", 3, "routing rules"), "团队“理赔服务”仍有成员、工单或规则，请先移走。"},
		{tickets.Invalidf("a routing rule needs a name"), "路由规则需要名称。"},
		{tickets.Invalidf("an SLA policy needs a name"), "SLA 策略需要名称。"},
		{tickets.Invalidf("first response and resolution times must be positive"), "首次响应和解决时限必须大于零。"},
		{tickets.Invalidf("day %q is not a date like 2026-10-01", "10/01"), "“10/01”不是有效日期（例如 2026-10-01）。"},
		{tickets.Invalidf("day %q is outside the years the calendar keeps (2000 to 2100)", "1999-01-01"), "“1999-01-01”超出日历范围（2000 至 2100 年）。"},
		{tickets.Conflictf("%s is not locked out and has no failed sign-ins to forget", "李娜"), "李娜 没有被锁定，也没有失败的登录记录。"},
		{tickets.Invalidf("the wording does not render: %v (variables: {{.Ref}})", "template: x:1: unexpected"), "模板无法生成内容，请检查变量写法。"},
		{tickets.Conflictf("customer %d is under a legal hold (on the %s, since %s, by %s: %s); release it before erasing", 7, "complaint", "2026-12-01", "chen@desk.test", "法院调取"),
			"该客户处于法律保全中（2026-12-01 起，chen@desk.test：法院调取），解除保全后才能删除。"},
		{tickets.Conflictf("customer %d has open tickets (%s); resolve or close them before erasing", 7, "HL-000001, HL-000002"), "该客户还有未结工单（HL-000001, HL-000002），请先解决或结案再删除。"},
		{tickets.Conflictf("customer %d has a complaint still open; decide it before erasing", 7), "该客户还有未处理完的投诉，请先作出决定再删除。"},
		{tickets.Conflictf("this %s is under a legal hold already", "customer"), "已处于法律保全中。"},
		{tickets.Conflictf("legal hold %d is not in force", 3), "该法律保全已解除。"},
		{tickets.Invalidf("say why (a case number, the authority that asked)"), "请填写原因（案号、要求保全的机关等）。"},
		{tickets.Invalidf("the reason is longer than %d characters", 500), "原因不能超过 500 个字。"},
		{tickets.Forbiddenf("only supervisors, complaint officers and admins place or release legal holds"), "只有主管、投诉专员和管理员可以设置或解除法律保全。"},
		{tickets.Forbiddenf("only supervisors and admins may %s", "erase a customer"), "只有主管和管理员可以导出或删除客户信息。"},
	} {
		reason := tickets.Reason(c.err)
		t.Run(reason, func(t *testing.T) {
			st, zh := StatusIn("zh", c.err)
			if st < 400 || st >= 500 {
				t.Errorf("status %d, want a 4xx", st)
			}
			if zh != c.want {
				t.Errorf("zh: %q, want %q", zh, c.want)
			}
			if m := latin.FindString(zh); m != "" {
				t.Errorf("zh %q still holds English %q", zh, m)
			}
			if _, en := StatusIn("en", c.err); en != reason {
				t.Errorf("en: %q, want the service's %q", en, reason)
			}
		})
	}
}

// What the console does not expect keeps the service's particulars after its kind, and
// every worded refusal has words in both languages.
func TestStatusInUnexpected(t *testing.T) {
	st, zh := StatusIn("zh", tickets.Invalidf("provider message id is not valid UTF-8 text"))
	if want := "输入有误（provider message id is not valid UTF-8 text）"; st != http.StatusBadRequest || zh != want {
		t.Errorf("got %d %q, want 400 %q", st, zh, want)
	}
	for _, r := range allReasons() {
		for _, lang := range []string{"zh", "en"} {
			if w := T(lang, r.key, "x", "y", "z"); strings.HasPrefix(w, r.key) {
				t.Errorf("%s has no %s words: %q", r.key, lang, w)
			}
		}
	}
}
