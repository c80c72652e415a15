package console_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/quality"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// qualityDesk is a desk with a rubric and a handled ticket reviewed by the supervisor and
// the admin, the agent having answered the supervisor's; another resolved ticket waits.
func qualityDesk(t *testing.T, d *consoletest.Desk) (reviewed, waiting *tickets.Ticket) {
	t.Helper()
	ctx := context.Background()
	q := quality.New(d.Service)
	rb, err := q.CreateRubric(ctx, tickets.AgentActor(d.Admin), quality.RubricInput{Name: "通话质检 Calls", Criteria: []quality.Criterion{
		{NameZH: "开场与礼貌用语", NameEN: "Greeting and courtesy", Weight: 20, Max: 5, DescZH: "自报工号，称呼客户", DescEN: "Names themself, addresses the customer"},
		{NameZH: "准确解答", NameEN: "Accurate answer", Weight: 40, Max: 10},
		{NameZH: "告知后续步骤", NameEN: "Next steps explained", Weight: 25, Max: 5},
		{NameZH: "服务记录完整", NameEN: "Notes complete", Weight: 15, Max: 3},
	}})
	if err != nil {
		t.Fatal(err)
	}
	resolve := func(phone, text string) *tickets.Ticket {
		tk := d.SMS(phone, text)
		must := func(_ any, err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		as := tickets.AgentActor(d.Agent)
		must(d.Service.Assign(ctx, tickets.AgentActor(d.Admin), tk.Ref(), tickets.Assignment{AssigneeID: &d.Agent.ID}))
		must(d.Service.Reply(ctx, as, tk.Ref(), "您好，您的理赔材料已收到，正在审核，预计3个工作日内给您答复。"))
		d.Clock.Advance(2 * time.Hour)
		must(d.Service.SetStatus(ctx, as, tk.Ref(), tickets.StatusResolved, "已答复"))
		return tk
	}
	reviewed = resolve("+8613800138000", "你好，我的车险理赔进度怎么样了？报案号 A123，已经等了一个星期")
	waiting = resolve("+8613800138001", "发票什么时候寄出")
	r, err := q.Submit(ctx, tickets.AgentActor(d.Super), quality.ReviewInput{TicketRef: reviewed.Ref(), RubricID: rb.ID,
		Marks: map[string]int{"k1": 4, "k2": 8, "k3": 3, "k4": 3}, Comment: "解答准确；没有说明下一步需要客户补充哪些材料。"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Answer(ctx, tickets.AgentActor(d.Agent), r.ID, "收到，下次会把需要补充的材料一次说清楚。"); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Submit(ctx, tickets.AgentActor(d.Admin), quality.ReviewInput{TicketRef: reviewed.Ref(), RubricID: rb.ID,
		Marks: map[string]int{"k1": 5, "k2": 8, "k3": 1, "k4": 3}}); err != nil {
		t.Fatal(err)
	}
	return reviewed, waiting
}

// TestBrowserQuality: the review page (the timeline beside the rubric) and the agent's
// reviews, with the sample, calibration and rubrics, at a phone's, half a monitor's and a
// laptop's width in both languages: none scrolls sideways, the submit button and the
// answer form can be reached. Screenshots: quality-*-<lang>-<width>.png.
func TestBrowserQuality(t *testing.T) {
	ctx := newBrowser(t)
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	base := serveScreens(t, d, d.Aftercare)
	reviewed, waiting := qualityDesk(t, d)
	day := d.Clock.Now().In(tickettest.Shanghai(t)).Format("2006-01-02")
	pages := []screen{
		{"quality-review", "/quality/tickets/" + waiting.Ref(), "#review-form", d.Super},
		{"quality-sample", "/quality?from=" + day + "&to=" + day + "&seed=20261204&team=" + consoletest.ID(d.Team.ID), "#sample-list", d.Super},
		{"quality-calibration", "/quality/tickets/" + reviewed.Ref() + "/calibration", "#calibration", d.Super},
		{"quality-mine", "/quality/mine", "#review-list", d.Agent},
		{"quality-rubrics", "/quality/rubrics", "#rubrics-page", d.Admin},
	}
	bg := context.Background()
	signedIn := (*tickets.Agent)(nil)
	for _, p := range pages {
		if signedIn != p.who {
			if signedIn != nil {
				run(t, ctx, 5*time.Second, "sign out", chromedp.EmulateViewport(1440, 900))
				submit(t, ctx, "sign out", `form[action="/logout"] button`)
			}
			run(t, ctx, 5*time.Second, "wide window", chromedp.EmulateViewport(1440, 900))
			signInBrowser(t, ctx, base, p.who)
			signedIn = p.who
		}
		for _, lang := range []string{"zh", "en"} {
			locale := map[string]string{"zh": "zh-CN", "en": "en"}[lang]
			if _, err := d.Service.UpdateAgent(bg, tickets.Actor{Kind: "system"}, p.who.ID, tickets.AgentUpdate{Locale: &locale}); err != nil {
				t.Fatal(err)
			}
			for _, w := range screenWidths {
				look(t, ctx, base, p, lang, w)
			}
		}
	}
}

// TestNoRawKeysQuality renders the quality pages in both languages and fails on any key or
// stored value shown as itself.
func TestNoRawKeysQuality(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	reviewed, waiting := qualityDesk(t, d)
	day := d.Clock.Now().In(tickettest.Shanghai(t)).Format("2006-01-02")
	for _, c := range []struct {
		who   *tickets.Agent
		pages []string
	}{
		{d.Super, []string{"/quality/tickets/" + waiting.Ref(), "/quality/tickets/" + reviewed.Ref(), "/quality/tickets/" + reviewed.Ref() + "/calibration",
			"/quality?from=" + day + "&to=" + day + "&team=" + consoletest.ID(d.Team.ID) + "&long=1&low_csat=1&complaints=1&hours=1", "/quality?from=" + day + "&to=" + day + "&team=" + consoletest.ID(d.Team.ID),
			"/quality/agents/" + consoletest.ID(d.Agent.ID)}},
		{d.Agent, []string{"/quality/mine", "/notices"}},
		{d.Admin, []string{"/quality/rubrics", "/quality"}},
	} {
		b := d.SignIn(c.who)
		for _, lang := range []string{"zh", "en"} {
			b.Post("/settings/language", url.Values{"lang": {lang}})
			for _, p := range c.pages {
				t.Run(lang+p, func(t *testing.T) {
					r := b.Get(p)
					if r.Status != 200 {
						t.Fatalf("status %d", r.Status)
					}
					if bad := untranslated(lang, r.Body); len(bad) > 0 {
						t.Errorf("untranslated on %s (%s): %q", p, lang, bad)
					}
				})
			}
		}
	}
}
