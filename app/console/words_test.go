package console_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/app/web"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/deadlines"
	"github.com/hotlinedesk/hotline/tickets/stages"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
	"github.com/hotlinedesk/hotline/tickets/webhooks"
)

var (
	// What a person reads: the text between tags, and the attributes shown on hover or
	// read aloud.
	scripts   = regexp.MustCompile(`(?is)<(script|style|svg)\b.*?</(script|style|svg)>`)
	readAttrs = regexp.MustCompile(`(?i)\s(?:title|placeholder|aria-label|alt)="([^"]*)"`)
	tags      = regexp.MustCompile(`(?s)<[^>]*>`)
	// What is content, not the console's words: placeholders typed as code, template
	// text in its own language, addresses to copy.
	content = regexp.MustCompile(`(?is)<(code|textarea)\b.*?</(code|textarea)>|<p lang="[^"]*">.*?</p>`)
	address = regexp.MustCompile(`https?://\S+`)
	// A message key T showed as itself ("status.foo", "event.sla.breached"), and a
	// snake_case internal value ("first_response", "walk_in").
	keyLike   = regexp.MustCompile(`(?:^|[^\w@./-])((?:status|event|chan|prio|delivery|category|story|reason|svcerr|role|queue|ticket|nav|error|complaints|sla|followup|followups|survey|complaint|notice|notices|customer|voicemail|call|admin|dashboard|privacy|score|issues|floor)\.[a-z_]+(?:\.[a-z_]+)*)`)
	snakeCase = regexp.MustCompile(`(?:^|[^\w@./-])([a-z]+_[a-z_]+)\b`)
	// The stored values of statuses, priorities, channels and delivery states: in the
	// Chinese console each has a word, so none may show in English.
	// A badge whose whole text is a stored state is a key in either language.
	rawBadge = regexp.MustCompile(`>\s*(new|open|pending|resolved|closed|low|normal|high|urgent|queued|sent|delivered|read|undelivered|failed|received|investigating|decided)\s*<`)
	rawValue = regexp.MustCompile(`\b(new|open|pending|resolved|closed|low|normal|high|urgent|sms|phone|wechat|email|queued|sent|delivered|failed|undelivered|received|investigating|decided|claims|policy|payment|enquiry|other)\b`)
)

// readable is the text a person reads on page.
func readable(page string) string {
	page = content.ReplaceAllString(scripts.ReplaceAllString(page, " "), " ")
	var b strings.Builder
	for _, m := range readAttrs.FindAllStringSubmatch(page, -1) {
		b.WriteString(m[1] + "\n")
	}
	b.WriteString(tags.ReplaceAllString(page, "\n"))
	return address.ReplaceAllString(html.UnescapeString(b.String()), " ")
}

// untranslated lists what on page is an internal key or value rather than a word.
func untranslated(lang, page string) []string {
	text := readable(page)
	var bad []string
	for _, m := range rawBadge.FindAllStringSubmatch(scripts.ReplaceAllString(page, " "), -1) {
		bad = append(bad, m[1])
	}
	for _, re := range []*regexp.Regexp{keyLike, snakeCase} {
		for _, m := range re.FindAllStringSubmatch(text, -1) {
			bad = append(bad, m[1])
		}
	}
	if lang == "zh" {
		for _, line := range strings.Split(text, "\n") {
			for _, m := range rawValue.FindAllString(line, -1) {
				bad = append(bad, m+" in "+strconv.Quote(strings.TrimSpace(line)))
			}
		}
	}
	return bad
}

// busyDesk fills d with tickets in every status, channel and priority, with every kind of
// event the timeline tells, a complaint and missed deadlines; it returns the busiest
// ticket, the others and the complaint.
func busyDesk(t *testing.T, d *consoletest.Desk) (busy *tickets.Ticket, others []*tickets.Ticket, cp *complaints.Complaint) {
	t.Helper()
	ctx := context.Background()
	as := tickets.AgentActor(d.Agent)
	admin := tickets.AgentActor(d.Admin)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	intake := func(ch tickets.Channel, kind tickets.IdentityKind, addr, body string) *tickets.Ticket {
		t.Helper()
		res, err := d.Service.Intake(ctx, tickets.Inbound{Channel: ch, ProviderMessageID: consoletest.NextSid(), From: kind, Address: addr, Body: body, Subject: body})
		if err != nil {
			t.Fatal(err)
		}
		return res.Ticket
	}
	// A ticket that goes the whole way: assigned, answered, re-filed, noted, paused,
	// resolved (three follow-up calls), reopened, and later breached.
	busy = d.SMS("+8613800138000", "我的理赔进度怎么样了")
	must(d.Service.Assign(ctx, admin, busy.Ref(), tickets.Assignment{AssigneeID: &d.Agent.ID}))
	must(d.Service.Reply(ctx, as, busy.Ref(), "您好，正在处理。"))
	must(d.Service.SetPriority(ctx, as, busy.Ref(), tickets.PriorityHigh, ""))
	must(d.Service.SetCategory(ctx, as, busy.Ref(), "claims", ""))
	must(d.Service.AddNote(ctx, as, busy.Ref(), "客户来电两次"))
	must(d.Service.SetStatus(ctx, as, busy.Ref(), tickets.StatusPending, "等发票"))
	must(d.Service.SetStatus(ctx, as, busy.Ref(), tickets.StatusResolved, "已赔付"))
	must(d.Service.SetStatus(ctx, as, busy.Ref(), tickets.StatusOpen, "客户仍有疑问"))
	// Its progress: two stages, documents asked for, one received; later the stage is overdue.
	st := stages.New(d.Service)
	claims, err := st.Stages(ctx, "claims")
	if err != nil {
		t.Fatal(err)
	}
	must(st.Move(ctx, as, busy.Ref(), claims[0].ID))
	must(st.Move(ctx, as, busy.Ref(), claims[2].ID))
	must(st.RequestDocuments(ctx, as, busy.Ref(), []string{"医院诊断证明", "发票原件"}))
	must(d.Service.SetStatus(ctx, as, busy.Ref(), tickets.StatusOpen, ""))
	// Others in every status, channel and priority.
	mail := intake(tickets.ChannelEmail, tickets.IdentityEmail, "zhao@example.com", "保单变更")
	must(d.Service.SetPriority(ctx, as, mail.Ref(), tickets.PriorityUrgent, ""))
	wx := intake(tickets.ChannelWeChat, tickets.IdentityWeChat, "oWX1234567890abcdef", "缴费问题")
	must(d.Service.SetPriority(ctx, as, wx.Ref(), tickets.PriorityLow, ""))
	must(d.Service.SetStatus(ctx, as, wx.Ref(), tickets.StatusResolved, ""))
	must(d.Service.SetStatus(ctx, as, wx.Ref(), tickets.StatusClosed, ""))
	cp = d.FileComplaint("钱女士", "13900139000", "理赔太慢", consoletest.T0)
	// A day and more later the open tickets miss their deadlines.
	d.Clock.Advance(50 * time.Hour)
	if _, err := deadlines.New(d.Service).Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Sweep(ctx); err != nil {
		t.Fatal(err)
	}

	return busy, []*tickets.Ticket{mail, wx}, cp
}

// Every page of the console, in both languages, over tickets in every status, channel and
// priority with every kind of event the timeline tells, speaks words and never keys.
func TestNoRawKeys(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	ctx := context.Background()
	busy, others, cp := busyDesk(t, d)
	cust, err := d.Service.Ticket(ctx, busy.Ref())
	if err != nil {
		t.Fatal(err)
	}
	pages := []string{
		"/queue?view=all", "/queue?view=all&status=pending", "/queue?view=all&status=closed", "/queue?view=all&status=resolved", "/queue?view=mine", "/call", "/followups", "/notices", "/complaints",
		"/dashboard", "/customers/" + strconv.FormatInt(cust.CustomerID, 10), "/customers/" + strconv.FormatInt(cust.CustomerID, 10) + "/erase", "/tickets/HL-999999",
		"/complaints/" + cp.Ref(),
	}
	for _, tk := range append(others, busy) {
		pages = append(pages, "/tickets/"+tk.Ref())
	}
	b := d.SignIn(d.Admin)
	for _, lang := range []string{"zh", "en"} {
		b.Post("/settings/language", url.Values{"lang": {lang}})
		for _, p := range pages {
			t.Run(lang+p, func(t *testing.T) {
				r := b.Get(p)
				if r.Status >= 500 {
					t.Fatalf("status %d", r.Status)
				}
				if bad := untranslated(lang, r.Body); len(bad) > 0 {
					t.Errorf("untranslated on %s (%s): %q", p, lang, bad)
				}
				// The service's refusal is said in the page's language.
				if p == "/tickets/HL-999999" {
					consoletest.WantContains(t, r, map[string]string{"zh": "找不到工单 HL-999999。", "en": "ticket HL-999999 not found"}[lang])
				}
			})
		}
	}
}

// The check sees what it must: a key shown as itself, a snake_case value, and in Chinese an
// English status.
func TestUntranslatedCatchesKeys(t *testing.T) {
	for _, c := range []struct {
		lang, page string
		bad        bool
	}{
		{"zh", `<li>事件 <b>event.sla.foo</b></li>`, true},
		{"en", `<span title="status.archived">x</span>`, true},
		{"en", `<td>first_response</td>`, true},
		{"zh", `<span class="delivery">queued</span>`, true},
		{"en", `<span class="delivery">queued</span>`, true},
		{"zh", `<td>状态：resolved</td>`, true},
		{"en", `<td>Resolved</td><td>li@desk.test</td><a href="/status.open">x</a>`, false},
		{"zh", `<span class="chip">类别: claims</span>`, true},
		{"en", `<dt><code>{{customer_name}}</code></dt><p lang="en">Your ticket is resolved.</p><input value="https://x.test/webhooks/sms">`, false},
		{"zh", `<td>李娜 Li Na · 理赔服务 Claims</td><script>var s = "status.open"</script>`, false},
	} {
		if got := untranslated(c.lang, c.page); (len(got) > 0) != c.bad {
			t.Errorf("%s %q: %q", c.lang, c.page, got)
		}
	}
}

// The admin pages, the live floor, the password page and the public survey page speak
// words too, over a routing rule, a policy, a holiday, a locked agent and a survey sent
// for a resolved ticket.
func TestNoRawKeysAdmin(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	ctx := context.Background()
	admin := tickets.AgentActor(d.Admin)
	care := aftercare.New(d.Service, aftercare.Config{Surveys: true, PublicBaseURL: "https://desk.example.com"})
	d.Service.SetAftercare(care)
	busyDesk(t, d)
	enrol(t, d, d.Agent2) // his page offers to reset it
	// A webhook paused by an admin, with a ping waiting.
	hooks := webhooks.New(d.Service, webhooks.Config{})
	hook, _, err := hooks.Create(ctx, admin, webhooks.SubscriptionInput{Name: "CRM", URL: "https://crm.example.com/in", Events: []string{"ticket.created", "survey.answered"}})
	if err != nil {
		t.Fatal(err)
	}
	ping, err := hooks.Ping(ctx, admin, hook.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := hooks.Pause(ctx, admin, hook.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Service.SaveRoutingRule(ctx, admin, &tickets.RoutingRule{Name: "理赔关键词", Channel: tickets.ChannelSMS,
		Keywords: "理赔,赔款", Category: "claims", Priority: tickets.PriorityHigh, Language: "zh", TeamID: d.Other.ID,
		SetPriority: tickets.PriorityUrgent, SetCategory: "complaint", Active: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := deadlines.New(d.Service).SavePolicy(ctx, admin, &tickets.Policy{Name: "邮件", Channel: tickets.ChannelEmail,
		Priority: tickets.PriorityUrgent, Category: "payment", FirstResponseSeconds: 4 * 3600, ResolutionSeconds: 48 * 3600,
		WorkingTime: true, FirstResponseBreach: tickets.BreachEscalate, ResolutionBreach: tickets.BreachComplaint}); err != nil {
		t.Fatal(err)
	}
	if _, err := deadlines.New(d.Service).SetCalendarDay(ctx, admin, "2027-01-01", tickets.DayHoliday, "元旦"); err != nil {
		t.Fatal(err)
	}
	if _, err := deadlines.New(d.Service).SetCalendarDay(ctx, admin, "2027-02-07", tickets.DayWorkday, "春节调休"); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, _, err := d.Access.LoginFrom(ctx, fmt.Sprintf("198.51.100.%d", i+1), d.Agent2.Email, "a wrong guess"); err == nil {
			t.Fatal("a wrong password signed in")
		}
	}
	res, err := d.Service.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelEmail, ProviderMessageID: consoletest.NextSid(), From: tickets.IdentityEmail,
		Address: "kim@example.com", Subject: "Claim documents", Body: "I sent the documents; what next?"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Service.SetStatus(ctx, tickets.AgentActor(d.Super), res.Ticket.Ref(), tickets.StatusResolved, ""); err != nil {
		t.Fatal(err)
	}
	token := surveyLink(t, d.Service, res.Ticket.Ref())
	survey := fiber.New()
	web.NewSurveyPage(care, tickettest.Logger()).Register(survey)

	pages := []struct {
		who  *tickets.Agent
		path string
	}{
		{d.Admin, "/admin/agents"}, {d.Admin, "/admin/agents/" + consoletest.ID(d.Agent2.ID)},
		{d.Admin, "/admin/teams"}, {d.Admin, "/admin/routing"}, {d.Admin, "/admin/sla"},
		{d.Admin, "/admin/calendar?year=2027"}, {d.Admin, "/admin/templates"}, {d.Admin, "/admin/channels"}, {d.Admin, "/admin/retention"},
		{d.Admin, "/admin/stages"}, {d.Admin, "/admin/keys"}, {d.Admin, "/admin/signin"},
		{d.Admin, "/admin/webhooks"}, {d.Admin, "/admin/webhooks/" + consoletest.ID(hook.ID)}, {d.Admin, "/admin/webhook-deliveries/" + consoletest.ID(ping.ID)},
		{d.Super, "/canned-replies"}, {d.Super, "/dashboard/floor"}, {d.Super, "/account/password"},
		{d.Super, "/dashboard/scorecard"}, {d.Admin, "/dashboard/scorecard"}, {d.Agent, "/dashboard/scorecard"},
		{d.Super, "/dashboard/scorecard/tickets?figure=first_missed"}, {d.Super, "/dashboard/issues"},
		{nil, "/survey/" + token}, {nil, "/survey/not-a-token"},
	}
	for _, lang := range []string{"zh", "en"} {
		browsers := map[*tickets.Agent]*consoletest.Browser{}
		for _, p := range pages {
			t.Run(lang+p.path, func(t *testing.T) {
				var status int
				var body string
				if p.who == nil {
					resp, err := survey.Test(httptest.NewRequest(fiber.MethodGet, p.path+"?lang="+lang, nil), -1)
					if err != nil {
						t.Fatal(err)
					}
					b, _ := io.ReadAll(resp.Body)
					status, body = resp.StatusCode, string(b)
				} else {
					b := browsers[p.who]
					if b == nil {
						b = d.SignIn(p.who)
						b.Post("/settings/language", url.Values{"lang": {lang}})
						browsers[p.who] = b
					}
					r := b.Get(p.path)
					status, body = r.Status, r.Body
				}
				if status >= 500 || status == 0 {
					t.Fatalf("status %d", status)
				}
				if bad := untranslated(lang, body); len(bad) > 0 {
					t.Errorf("untranslated on %s (%s): %q", p.path, lang, bad)
				}
			})
		}
	}
}
