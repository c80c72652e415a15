package quality_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/quality"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// handled is a ticket of d's agent, resolved.
func handled(t *testing.T, d *consoletest.Desk, phone string, agent *tickets.Agent) *tickets.Ticket {
	t.Helper()
	ctx := context.Background()
	tk := d.SMS(phone, "理赔进度怎么样了？")
	if _, err := d.Service.Assign(ctx, tickets.AgentActor(d.Admin), tk.Ref(), tickets.Assignment{AssigneeID: &agent.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Service.SetStatus(ctx, tickets.AgentActor(agent), tk.Ref(), tickets.StatusResolved, "answered"); err != nil {
		t.Fatal(err)
	}
	return tk
}

// TestQualityPages: the admin sets up a rubric, the supervisor draws a sample and reviews a
// ticket beside its timeline, the agent reads it in "My reviews" and answers once, the
// calibration page shows where two reviewers differ; who may not is refused.
func TestQualityPages(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	tk := handled(t, d, "+8613800138000", d.Agent)

	admin := d.SignIn(d.Admin)
	r := admin.Post("/quality/rubrics", url.Values{"name": {"通话质检"},
		"key": {"", "", ""}, "name_zh": {"礼貌用语", "解决问题", ""}, "name_en": {"Greeting", "Solution", ""},
		"weight": {"40", "50", ""}, "max": {"5", "10", ""}, "desc_zh": {"", "", ""}, "desc_en": {"", "Was it solved?", ""}})
	consoletest.WantStatus(t, r, 400)
	consoletest.WantContains(t, r, "权重合计为 90，必须为 100", `value="礼貌用语"`)
	r = admin.Post("/quality/rubrics", url.Values{"name": {"通话质检"},
		"key": {"", "", ""}, "name_zh": {"礼貌用语", "解决问题", ""}, "name_en": {"Greeting", "Solution", ""},
		"weight": {"40", "60", ""}, "max": {"5", "10", ""}, "desc_zh": {"", "", ""}, "desc_en": {"", "Was it solved?", ""}})
	consoletest.WantStatus(t, r, 303)
	consoletest.WantContains(t, admin.Get(r.Location), "评分表已保存", "通话质检", "第1版")

	// Agents: a menu entry to their own reviews, no sample, no review form, no rubrics.
	agent := d.SignIn(d.Agent)
	consoletest.WantContains(t, agent.Get("/queue"), `href="/quality"`)
	r = agent.Get("/quality")
	consoletest.WantStatus(t, r, 303)
	if r.Location != "/quality/mine" {
		t.Errorf("an agent's /quality goes to %q", r.Location)
	}
	consoletest.WantContains(t, agent.Get("/quality/mine"), "我的质检", "还没有质检记录")
	for _, p := range []string{"/quality/tickets/" + tk.Ref(), "/quality/rubrics", "/quality/tickets/" + tk.Ref() + "/calibration"} {
		consoletest.WantStatus(t, agent.Get(p), 403)
	}
	consoletest.WantStatus(t, agent.Post("/quality/tickets/"+tk.Ref(), url.Values{"keys": {"k1"}, "mark_k1": {"5"}}), 403)
	consoletest.WantStatus(t, d.SignIn(d.Super).Get("/quality/rubrics"), 403)

	sup := d.SignIn(d.Super)
	day := d.Clock.Now().In(tickettest.Shanghai(t)).Format("2006-01-02")
	r = sup.Get("/quality?team=" + consoletest.ID(d.Team.ID) + "&from=" + day + "&to=" + day + "&n=5&seed=77")
	consoletest.WantStatus(t, r, 200)
	consoletest.WantContains(t, r, "种子 77", "抽取 1 张（共 1 张符合）", `href="/quality/tickets/`+tk.Ref()+`"`)
	consoletest.WantStatus(t, sup.Get("/quality?team="+consoletest.ID(d.Team.ID)+"&from=yesterday&to="+day), 400)

	r = sup.Get("/quality/tickets/" + tk.Ref())
	consoletest.WantStatus(t, r, 200)
	consoletest.WantContains(t, r, "理赔进度怎么样了？", "礼貌用语", "权重 40%", `name="mark_k2"`, "提交质检")
	consoletest.WantLacks(t, r, `name="body"`) // no composer: the timeline is read only
	// A criterion left unmarked: refused in Chinese, the marks given kept.
	r = sup.Post("/quality/tickets/"+tk.Ref(), url.Values{"rubric": {"1"}, "keys": {"k1", "k2"}, "mark_k1": {"4"}, "comment": {"开场白不完整"}})
	consoletest.WantStatus(t, r, 400)
	consoletest.WantContains(t, r, "请为“解决问题”打分", `name="mark_k1" value="4" checked`, "开场白不完整")
	r = sup.Post("/quality/tickets/"+tk.Ref(), url.Values{"rubric": {"1"}, "keys": {"k1", "k2"}, "mark_k1": {"4"}, "mark_k2": {"7"}, "comment": {"开场白不完整"}})
	consoletest.WantStatus(t, r, 303)
	// 40×4/5 + 60×7/10 = 74
	consoletest.WantContains(t, sup.Get(r.Location), "质检已提交，得分 74。", "保存修改")
	r = sup.Get("/quality?team=" + consoletest.ID(d.Team.ID) + "&from=" + day + "&to=" + day + "&n=5&seed=77")
	consoletest.WantContains(t, r, "已质检")

	// The agent: told, reads it, answers once.
	r = agent.Get("/notices")
	consoletest.WantContains(t, r, "新的质检", tk.Ref())
	r = agent.Get("/quality/mine")
	consoletest.WantContains(t, r, "74", "开场白不完整", "陈静 Chen Jing", "提交回复")
	rs, err := quality.New(d.Service).OfAgent(context.Background(), tickets.AgentActor(d.Agent), d.Agent.ID)
	if err != nil || len(rs) != 1 {
		t.Fatalf("reviews: %v %v", rs, err)
	}
	answer := "/quality/reviews/" + consoletest.ID(rs[0].ID) + "/answer"
	consoletest.WantStatus(t, d.SignIn(d.Agent2).Post(answer, url.Values{"answer": {"not mine"}}), 403)
	consoletest.WantStatus(t, agent.Post(answer, url.Values{"answer": {"下次注意开场白。"}}), 303)
	r = agent.Get("/quality/mine")
	consoletest.WantContains(t, r, "下次注意开场白。", "回复已提交")
	consoletest.WantLacks(t, r, "提交回复")
	r = agent.Post(answer, url.Values{"answer": {"再说一次"}})
	consoletest.WantStatus(t, r, 303) // back to the page with the reason
	consoletest.WantContains(t, agent.Get(r.Location), "这份质检已回复过")
	// The reviewer sees the answer; the review is locked.
	r = sup.Get("/quality/tickets/" + tk.Ref())
	consoletest.WantContains(t, r, "下次注意开场白。", "坐席已回复，质检不能再修改")
	consoletest.WantLacks(t, r, "保存修改")
	consoletest.WantContains(t, sup.Get("/quality/agents/"+consoletest.ID(d.Agent.ID)), "下次注意开场白。")
	consoletest.WantStatus(t, d.SignIn(d.Agent2).Get("/quality/agents/"+consoletest.ID(d.Agent.ID)), 403)

	// A second reviewer: calibration.
	d.Clock.Advance(time.Minute)
	consoletest.WantStatus(t, admin.Post("/quality/tickets/"+tk.Ref(), url.Values{"rubric": {"1"}, "keys": {"k1", "k2"}, "mark_k1": {"1"}, "mark_k2": {"7"}}), 303)
	r = sup.Get("/quality/tickets/" + tk.Ref() + "/calibration")
	consoletest.WantStatus(t, r, 200)
	consoletest.WantContains(t, r, "校准 "+tk.Ref(), `class="q-wide"`, "±3 差异大", "一致", "74", "50")
	if strings.Count(r.Body, `class="q-wide"`) != 1 {
		t.Errorf("wide lines: %d", strings.Count(r.Body, `class="q-wide"`))
	}
	consoletest.WantContains(t, sup.Get("/quality?team="+consoletest.ID(d.Team.ID)), "/quality/tickets/"+tk.Ref()+"/calibration")

	// A ticket still open, and one's own: the page says why, and offers no form.
	open := d.SMS("+8613800138009", "还在处理")
	own := handled(t, d, "+8613800138008", d.Super)
	for ref, why := range map[string]string{open.Ref(): "尚未解决", own.Ref(): "不能质检自己处理的工单"} {
		r := d.SignIn(d.Super).Get("/quality/tickets/" + ref)
		consoletest.WantStatus(t, r, 200)
		consoletest.WantContains(t, r, why)
		consoletest.WantLacks(t, r, `id="review-form"`)
	}
}

// TestReviewPageMasksTheCustomer: the review page judges the handling; the customer's
// number shows masked there.
func TestReviewPageMasksTheCustomer(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	tk := handled(t, d, "+8613800138000", d.Agent)
	// A message carrying a number goes through the shared timeline's masking, which the
	// review page must feed as the ticket page does.
	d.SMS("+8613800138000", "请回电 13900139000，身份证 11010519491231002X")
	r := d.SignIn(d.Super).Get("/quality/tickets/" + tk.Ref())
	consoletest.WantStatus(t, r, 200)
	consoletest.WantContains(t, r, "86138****8000", "139****9000")
	consoletest.WantLacks(t, r, "13800138000", "13900139000", "11010519491231002X")
}
