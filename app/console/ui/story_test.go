package ui_test

import (
	"testing"
	"time"

	"github.com/hotlinedesk/hotline/app/console/ui"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// Each timeline line says what happened in words, in both languages: to whom, which
// deadline, when, and never an email, an id or an internal key.
func TestEventLines(t *testing.T) {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	kit := ui.New(loc, tickettest.NewClock(tickettest.T0))
	names := ui.Names{Agents: map[int64]string{3: "李娜"}, Teams: map[int64]string{1: "Claims"}, Customer: "王先生"}
	agent := int64(3)
	cases := []struct {
		name        string
		actorKind   string
		kind, data  string
		zhActor, zh string
		enActor, en string
	}{
		{"assigned by the system", "system", "ticket.assigned",
			`{"to_assignee":3,"to_team":1,"reason":"auto-assigned: fewest open tickets in the team"}`,
			"系统", "将工单分配给 李娜（Claims）（原因：自动分配给团队中未结工单最少的坐席）",
			"System", "assigned the ticket to 李娜 (Claims) (reason: auto-assigned to the agent with the fewest open tickets)"},
		{"assigned to a team by an agent", "agent", "ticket.assigned", `{"from_assignee":null,"to_team":1,"to_assignee":null}`,
			"李娜", "将工单转给团队 Claims", "李娜", "passed the ticket to team Claims"},
		{"unassigned", "agent", "ticket.assigned", `{"from_assignee":3,"to_assignee":null,"to_team":null}`,
			"李娜", "取消了工单的分配", "李娜", "unassigned the ticket"},
		{"status by the first reply", "agent", "status.changed", `{"from":"new","to":"open","reason":"first reply"}`,
			"李娜", "将状态从“新建”改为“处理中”（原因：首次回复）", "李娜", "changed the status from New to Open (reason: first reply)"},
		{"a reason typed by a person is kept", "agent", "status.changed", `{"from":"open","to":"pending","reason":"等发票"}`,
			"李娜", "将状态从“处理中”改为“等待客户”（原因：等发票）", "李娜", "changed the status from Open to Pending (reason: 等发票)"},
		{"created by SMS", "customer", "ticket.created", `{"channel":"sms","priority":"normal"}`,
			"王先生", "通过短信创建了工单", "王先生", "created the ticket by SMS"},
		{"warning names its deadline", "system", "sla.warning", `{"deadline":"first_response","due_at":"2026-11-25T02:00:00Z","percent":75}`,
			"系统", "首次响应时限预警：11-25 10:00 到期", "System", "warned: the first response deadline is due 11-25 10:00"},
		{"breach raises the priority", "system", "sla.breached", `{"deadline":"resolution","action":"escalate","priority_from":"normal","priority_to":"high"}`,
			"系统", "超过了解决时限，优先级已自动从“普通”提高到“高”", "System", "missed the resolution deadline; priority raised automatically from Normal to High"},
		{"skipped warning", "system", "sla.warning_skipped", `{"deadline":"resolution","percent":50,"reason":"skipped: deadline already passed"}`,
			"系统", "解决时限预警未发送：时限已过", "System", "skipped a resolution deadline warning: the deadline had passed"},
		{"priority", "agent", "priority.changed", `{"from":"normal","to":"urgent"}`,
			"李娜", "将优先级从“普通”改为“紧急”", "李娜", "changed the priority from Normal to Urgent"},
		{"category", "agent", "category.changed", `{"from":"","to":"claims"}`,
			"李娜", "将类别从“—”改为“理赔”", "李娜", "changed the category from — to Claims"},
		{"survey answered", "customer", "survey.answered", `{"score":5,"via":"sms"}`,
			"王先生", "给出满意度评分 5", "王先生", "rated the service 5"},
		{"complaint decided", "agent", "complaint.decided", `{"complaint":"CP-000001","outcome":"partly_upheld"}`,
			"李娜", "对投诉 CP-000001 作出决定：部分成立", "李娜", "decided complaint CP-000001: Partly upheld"},
		{"fallback channel", "system", "notice.fallback", `{"from":"wechat","to":"sms","reason":"WeChat's 48-hour window has closed"}`,
			"系统", "改用短信通知客户（原因：微信 48 小时会话窗口已关闭）", "System", "told the customer by SMS instead (reason: WeChat's 48-hour window has closed)"},
		{"an agent no longer listed is not shown by email", "agent", "priority.changed", `{"from":"low","to":"high"}`,
			"坐席", "将优先级从“低”改为“高”", "An agent", "changed the priority from Low to High"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := &tickets.Event{Kind: c.kind, ActorKind: c.actorKind, Actor: "lina@example.com", Data: c.data}
			if c.actorKind == "agent" && c.name != "an agent no longer listed is not shown by email" {
				e.ActorID = &agent
			}
			for _, l := range []struct{ lang, actor, text string }{{"zh", c.zhActor, c.zh}, {"en", c.enActor, c.en}} {
				got := kit.EventLine(l.lang, e, names)
				if got.Actor != l.actor || got.Text != l.text {
					t.Errorf("%s: %q %q, want %q %q", l.lang, got.Actor, got.Text, l.actor, l.text)
				}
			}
		})
	}
}

// The three follow-up calls one resolution schedules read as one line with their times.
func TestFollowUpsLine(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	kit := ui.New(loc, tickettest.NewClock(tickettest.T0))
	var evs []*tickets.Event
	for _, at := range []string{"2026-11-25T08:00:00Z", "2026-12-02T01:00:00Z", "2026-12-25T01:00:00Z"} {
		evs = append(evs, &tickets.Event{Kind: "followup.scheduled", ActorKind: "system", Data: `{"due_at":"` + at + `"}`})
	}
	for lang, want := range map[string]string{
		"zh": "安排了回访：11-25 16:00、12-02 09:00、12-25 09:00",
		"en": "scheduled follow-up calls: 11-25 16:00, 12-02 09:00, 12-25 09:00",
	} {
		if got := kit.FollowUpsLine(lang, evs, ui.Names{}); got.Text != want {
			t.Errorf("%s: %q, want %q", lang, got.Text, want)
		}
	}
}
