package console_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/app/console"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

func TestSignIn(t *testing.T) {
	d := newDesk(t, tickettest.SQLite(t))

	t.Run("pages send a signed-out visitor to the sign-in form and back", func(t *testing.T) {
		b := d.browser()
		r := b.get("/tickets/HL-000001?x=1")
		wantStatus(t, r, 303)
		if r.location != "/login?next=%2Ftickets%2FHL-000001%3Fx%3D1" {
			t.Fatalf("redirected to %q", r.location)
		}
		b.get(r.location)
		r = b.post("/login", url.Values{"email": {d.agent.Email}, "password": {password}, "next": {"/tickets/HL-000001?x=1"}})
		wantStatus(t, r, 303)
		if r.location != "/tickets/HL-000001?x=1" {
			t.Fatalf("after sign-in went to %q", r.location)
		}
	})

	t.Run("the session cookie is HttpOnly and SameSite", func(t *testing.T) {
		b := d.browser()
		b.get("/login")
		req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(url.Values{
			"email": {d.agent.Email}, "password": {password}, "_csrf": {b.csrf}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range b.cookies {
			req.AddCookie(&http.Cookie{Name: k, Value: v})
		}
		res, err := d.app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		var session *http.Cookie
		for _, c := range res.Cookies() {
			if c.Name == "hotline_session" {
				session = c
			}
		}
		if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/" {
			t.Fatalf("session cookie %+v", session)
		}
	})

	tests := []struct {
		name   string
		form   url.Values
		csrf   bool
		status int
		says   string
	}{
		{"wrong password", url.Values{"email": {"li@desk.test"}, "password": {"nope"}}, true, 401, "邮箱或密码错误"},
		{"unknown email", url.Values{"email": {"who@desk.test"}, "password": {password}}, true, 401, "邮箱或密码错误"},
		{"no form token", url.Values{"email": {"li@desk.test"}, "password": {password}}, false, 403, "表单已过期"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := d.browser()
			b.get("/login")
			if tc.csrf {
				tc.form.Set("_csrf", b.csrf)
			}
			r := b.postRaw("/login", tc.form)
			wantStatus(t, r, tc.status)
			wantContains(t, r, tc.says)
			if _, ok := b.cookies["hotline_session"]; ok {
				t.Fatal("a refused sign-in set a session")
			}
		})
	}

	t.Run("an open redirect is not followed", func(t *testing.T) {
		for _, next := range []string{"//evil.example/x", "/\\evil.example", "/\t/evil.example/x", "/\r\n/evil.example",
			"https://evil.example/", "/%09/evil.example", "javascript:alert(1)"} {
			b := d.browser()
			b.get("/login")
			r := b.post("/login", url.Values{"email": {d.agent.Email}, "password": {password}, "next": {next}})
			wantStatus(t, r, 303)
			if r.location != "/queue" && r.location != next {
				t.Fatalf("next %q went to %q", next, r.location)
			}
			if strings.ContainsAny(r.location, "\t\r\n\\") || strings.HasPrefix(r.location, "//") || strings.Contains(r.location, ":") {
				t.Fatalf("next %q sent the browser to %q", next, r.location)
			}
			// Signed in, the sign-in page sends them on at once: the same check applies.
			if r := b.get("/login?next=" + url.QueryEscape(next)); r.location != "/queue" && r.location != next {
				t.Fatalf("signed in, next %q went to %q", next, r.location)
			}
		}
	})

	t.Run("the language chosen on the sign-in page is kept", func(t *testing.T) {
		b := d.browser()
		wantContains(t, b.get("/login?lang=en"), "Sign in")
		r := b.post("/login", url.Values{"email": {d.agent2.Email}, "password": {"wrong"}})
		wantStatus(t, r, 401)
		wantContains(t, r, "Wrong email or password")
		wantStatus(t, b.post("/login", url.Values{"email": {d.agent2.Email}, "password": {password}}), 303)
		wantContains(t, b.get("/queue"), `lang="en"`, "My queue")
		a, err := d.svc.Agent(context.Background(), d.agent2.ID)
		if err != nil || a.Locale != "en" {
			t.Fatalf("agent's language %q %v", a.Locale, err)
		}
	})

	t.Run("signing out ends the session everywhere", func(t *testing.T) {
		b := d.signIn(d.agent)
		stolen := b.cookies["hotline_session"]
		wantStatus(t, b.post("/logout", nil), 303)
		wantStatus(t, b.get("/queue"), 303)
		other := d.browser()
		other.cookies["hotline_session"] = stolen
		if r := other.get("/queue"); r.status != 303 || !strings.HasPrefix(r.location, "/login") {
			t.Fatalf("the old session still opens the queue: %d %s", r.status, r.location)
		}
	})

	t.Run("the sign-in page follows the chosen language", func(t *testing.T) {
		b := d.browser()
		wantContains(t, b.get("/login?lang=en"), "Sign in")
		wantContains(t, b.get("/login?lang=zh"), "登录")
	})
}

func TestFormsNeedTheSessionToken(t *testing.T) {
	d := newDesk(t, tickettest.SQLite(t))
	tk := d.sms("+8613800138000", "我要改地址")
	b := d.signIn(d.agent)
	forms := []struct {
		path string
		form url.Values
	}{
		{"/tickets/" + tk.Ref() + "/reply", url.Values{"body": {"hello"}}},
		{"/tickets/" + tk.Ref() + "/note", url.Values{"body": {"note"}}},
		{"/tickets/" + tk.Ref() + "/assign", url.Values{"assignee": {"me"}}},
		{"/tickets/" + tk.Ref() + "/status", url.Values{"status": {"pending"}}},
		{"/tickets/" + tk.Ref() + "/priority", url.Values{"priority": {"urgent"}}},
		{"/tickets/" + tk.Ref() + "/escalate", url.Values{"summary": {"angry"}}},
		{"/calls", url.Values{"subject": {"call"}, "phone": {"13900139000"}}},
		{"/settings/language", url.Values{"lang": {"en"}}},
		{"/settings/presence", url.Values{"online": {"true"}}},
		{"/logout", nil},
	}
	for _, f := range forms {
		t.Run(f.path, func(t *testing.T) {
			for name, token := range map[string]string{"missing": "", "wrong": "not-the-token"} {
				form := url.Values{}
				for k, v := range f.form {
					form[k] = v
				}
				if token != "" {
					form.Set("_csrf", token)
				}
				r := b.postRaw(f.path, form)
				if r.status != 403 {
					t.Fatalf("%s token: status %d, want 403", name, r.status)
				}
			}
		})
	}
	t.Run("a form from another site is refused even with the token", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodPost, "/tickets/"+tk.Ref()+"/note", strings.NewReader(url.Values{"body": {"x"}, "_csrf": {b.csrf}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		wantStatus(t, b.do(req), 403)
	})
	// Nothing above changed the ticket, and the session still works.
	detail, err := d.svc.Ticket(context.Background(), tk.Ref())
	if err != nil {
		t.Fatal(err)
	}
	if len(detail.Messages) != 1 || detail.Status != tickets.StatusNew || detail.AssigneeID != nil || detail.Priority != tickets.PriorityNormal {
		t.Fatalf("refused forms changed the ticket: %d messages, %s, assignee %v, %s", len(detail.Messages), detail.Status, detail.AssigneeID, detail.Priority)
	}
	wantStatus(t, b.get("/queue"), 200)
}

func TestQueues(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newDesk(t, db)
		ctx := context.Background()
		mine := d.sms("+8613800138001", "车险理赔进度")
		theirs := d.sms("+8613800138002", "保单地址变更")
		waiting := d.sms("+8613800138003", "发票开具")
		if _, err := d.svc.Assign(ctx, tickets.AgentActor(d.super), mine.Ref(), tickets.Assignment{AssigneeID: &d.agent.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := d.svc.Assign(ctx, tickets.AgentActor(d.super), theirs.Ref(), tickets.Assignment{AssigneeID: &d.agent2.ID}); err != nil {
			t.Fatal(err)
		}
		b := d.signIn(d.agent)
		tests := []struct {
			path       string
			has, lacks []string
		}{
			{"/queue", []string{mine.Ref()}, []string{theirs.Ref(), waiting.Ref()}},
			{"/queue?view=mine", []string{mine.Ref(), "车险理赔进度", "&#43;8613800138001"}, []string{theirs.Ref()}},
			{"/queue?view=team", []string{mine.Ref(), theirs.Ref()}, []string{waiting.Ref()}},
			{"/queue?view=unassigned", []string{waiting.Ref()}, []string{mine.Ref(), theirs.Ref()}},
			{"/queue?view=all", []string{mine.Ref(), theirs.Ref(), waiting.Ref()}, nil},
			{"/queue?view=all&q=地址", []string{theirs.Ref()}, []string{mine.Ref(), waiting.Ref()}},
			{"/queue?view=all&q=" + waiting.Ref(), []string{waiting.Ref()}, []string{mine.Ref()}},
			{"/queue?view=all&channel=email", []string{"没有符合条件的工单"}, []string{mine.Ref()}},
			{"/queue?view=all&status=resolved", nil, []string{mine.Ref(), theirs.Ref(), waiting.Ref()}},
		}
		for _, tc := range tests {
			r := b.get(tc.path)
			wantStatus(t, r, 200)
			for _, h := range tc.has {
				if !strings.Contains(r.body, h) {
					t.Errorf("%s lacks %q", tc.path, h)
				}
			}
			for _, l := range tc.lacks {
				if strings.Contains(r.body, `data-ref="`+l+`"`) {
					t.Errorf("%s shows %s", tc.path, l)
				}
			}
		}

		t.Run("rows carry the countdown the page turns amber and red", func(t *testing.T) {
			r := b.get("/queue?view=mine")
			due := mine.FirstResponseDueAt.UTC().Format(time.RFC3339)
			wantContains(t, r, `class="sla ok" data-due="`+due+`"`)
			d.clock.Advance(23 * time.Hour) // past the 75% warning point
			wantContains(t, b.get("/queue?view=mine"), `class="sla warn" data-due="`+due+`"`)
			d.clock.Advance(2 * time.Hour)
			wantContains(t, b.get("/queue?view=mine"), `class="sla breach" data-due="`+due+`"`)
		})

		t.Run("partial answers only the rows, for live refreshes", func(t *testing.T) {
			r := b.get("/queue?view=all&partial=1")
			wantStatus(t, r, 200)
			wantContains(t, r, `data-ref="`+waiting.Ref()+`"`)
			wantLacks(t, r, "<html", "nav class=\"side\"")
		})

		t.Run("bad filters are a 400 with the reason", func(t *testing.T) {
			for path, says := range map[string]string{
				"/queue?view=everyone":         "view must be",
				"/queue?view=all&status=maybe": "unknown status",
				"/queue?view=all&channel=fax":  "unknown channel",
				"/queue?view=all&cursor=zzz":   "cursor",
			} {
				r := b.get(path)
				wantStatus(t, r, 400)
				wantContains(t, r, says)
			}
		})

		t.Run("an agent without a team has no team queue", func(t *testing.T) {
			r := d.signIn(d.office).get("/queue?view=team")
			wantStatus(t, r, 400)
			wantContains(t, r, "还没有加入团队")
		})
	})
}

func TestPagingFollowsTheNextLink(t *testing.T) {
	d := newDesk(t, tickettest.SQLite(t))
	for i := range 55 {
		d.sms(fmt.Sprintf("+86138001380%02d", i), "question")
	}
	b := d.signIn(d.agent)
	r := b.get("/queue?view=all")
	if n := strings.Count(r.body, "<tr data-href"); n != 50 {
		t.Fatalf("first page has %d rows", n)
	}
	i := strings.Index(r.body, `<a class="btn" href="/queue?`)
	if i < 0 {
		t.Fatal("no next page link")
	}
	next := r.body[i+len(`<a class="btn" href="`):]
	next = strings.ReplaceAll(next[:strings.Index(next, `"`)], "&amp;", "&")
	r = b.get(next)
	if n := strings.Count(r.body, "<tr data-href"); n != 5 {
		t.Fatalf("second page has %d rows", n)
	}
	wantLacks(t, r, `<a class="btn" href="/queue?`)
}

func TestTicketPage(t *testing.T) {
	d := newDesk(t, tickettest.SQLite(t))
	ctx := context.Background()
	tk := d.sms("+8613800138000", "你好，我的理赔进度怎么样了？")
	b := d.signIn(d.agent)

	t.Run("shows the timeline, the customer and what can be done", func(t *testing.T) {
		r := b.get("/tickets/" + strings.ToLower(tk.Ref()))
		wantStatus(t, r, 200)
		wantContains(t, r, tk.Ref(), "理赔进度", "&#43;8613800138000", "创建了工单",
			`<option value="sms" selected>`, // the reply goes back by SMS
			`id="segments"`, "我来处理", "升级为投诉")
		wantLacks(t, r, `value="wechat"`) // the customer has no WeChat
	})

	steps := []struct {
		name  string
		path  string
		form  url.Values
		flash string
		check func(t *testing.T, d *tickets.TicketDetail)
	}{
		{"take it", "/assign", url.Values{"assignee": {"me"}}, "已更新", func(t *testing.T, td *tickets.TicketDetail) {
			if td.AssigneeID == nil || *td.AssigneeID != d.agent.ID {
				t.Fatalf("assignee %v", td.AssigneeID)
			}
		}},
		{"reply", "/reply", url.Values{"body": {"您好，正在处理。"}}, "回复已排队发送", func(t *testing.T, td *tickets.TicketDetail) {
			last := td.Messages[len(td.Messages)-1]
			if last.Direction != tickets.DirectionOutbound || last.Channel != tickets.ChannelSMS || last.Body != "您好，正在处理。" {
				t.Fatalf("last message %+v", last)
			}
		}},
		{"note", "/note", url.Values{"body": {"客户来电两次"}}, "备注已添加", func(t *testing.T, td *tickets.TicketDetail) {
			if last := td.Messages[len(td.Messages)-1]; last.Direction != tickets.DirectionNote {
				t.Fatalf("last message %+v", last)
			}
		}},
		{"priority", "/priority", url.Values{"priority": {"high"}}, "已更新", func(t *testing.T, td *tickets.TicketDetail) {
			if td.Priority != tickets.PriorityHigh {
				t.Fatalf("priority %s", td.Priority)
			}
		}},
		{"pending", "/status", url.Values{"status": {"pending"}, "reason": {"waiting for documents"}}, "已更新", func(t *testing.T, td *tickets.TicketDetail) {
			if td.Status != tickets.StatusPending {
				t.Fatalf("status %s", td.Status)
			}
		}},
		{"escalate", "/escalate", url.Values{"summary": {"客户对理赔时效不满"}}, "已升级为投诉 CP-000001", func(t *testing.T, td *tickets.TicketDetail) {
			cs, err := d.cps().Complaints(ctx, complaints.Filter{TicketID: td.ID})
			if err != nil || len(cs) != 1 || cs[0].Summary != "客户对理赔时效不满" {
				t.Fatalf("complaints %v %v", cs, err)
			}
		}},
		{"resolve", "/status", url.Values{"status": {"resolved"}}, "已更新", func(t *testing.T, td *tickets.TicketDetail) {
			if td.Status != tickets.StatusResolved {
				t.Fatalf("status %s", td.Status)
			}
		}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			r := b.post("/tickets/"+tk.Ref()+s.path, s.form)
			wantStatus(t, r, 303)
			if r.location != "/tickets/"+tk.Ref() {
				t.Fatalf("went to %q", r.location)
			}
			wantContains(t, b.get(r.location), s.flash)
			td, err := d.svc.Ticket(ctx, tk.Ref())
			if err != nil {
				t.Fatal(err)
			}
			s.check(t, td)
		})
	}

	t.Run("the timeline shows notes, replies and audit events in order", func(t *testing.T) {
		r := b.get("/tickets/" + tk.Ref() + "?partial=timeline")
		wantStatus(t, r, 200)
		wantLacks(t, r, "<html", `id="composer"`)
		order := []string{"你好，我的理赔进度", "您好，正在处理。", "客户来电两次", "更改了优先级", "升级为投诉"}
		at := 0
		for _, o := range order {
			i := strings.Index(r.body[at:], o)
			if i < 0 {
				t.Fatalf("timeline lacks %q after position %d", o, at)
			}
			at += i
		}
	})

	t.Run("refused: an agent gives the ticket away", func(t *testing.T) {
		r := b.post("/tickets/"+tk.Ref()+"/assign", url.Values{"assignee": {itoa64(d.agent2.ID)}})
		wantStatus(t, r, 403)
		wantContains(t, r, "agents can only assign tickets to themselves")
	})
	refused := []struct {
		name string
		path string
		form url.Values
		says string
	}{
		{"empty reply", "/reply", url.Values{"body": {"  "}}, "empty"},
		{"unknown status", "/status", url.Values{"status": {"maybe"}}, "status"},
		{"unknown priority", "/priority", url.Values{"priority": {"whenever"}}, "priority"},
		{"reply on a channel the customer lacks", "/reply", url.Values{"body": {"hi"}, "channel": {"email"}}, "no email"},
	}
	for _, tc := range refused {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			b.get("/tickets/" + tk.Ref())
			r := b.post("/tickets/"+tk.Ref()+tc.path, tc.form)
			wantStatus(t, r, 303)
			if r.location != "/tickets/"+tk.Ref() {
				t.Fatalf("went back to %q", r.location)
			}
			page := b.get(r.location)
			wantContains(t, page, `class="flash error"`)
			if !strings.Contains(strings.ToLower(page.body), strings.ToLower(tc.says)) {
				t.Fatalf("the page does not say why (%q):\n%s", tc.says, clip(page.body))
			}
		})
	}

	t.Run("an unknown ticket is a 404 page", func(t *testing.T) {
		for _, ref := range []string{"HL-999999", "nonsense"} {
			r := b.get("/tickets/" + ref)
			wantStatus(t, r, 404)
			wantContains(t, r, "返回工单队列")
		}
	})
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

func TestWeChatWindowInComposer(t *testing.T) {
	d := newDesk(t, tickettest.SQLite(t))
	res, err := d.svc.Intake(context.Background(), tickets.Inbound{Channel: tickets.ChannelWeChat, ProviderMessageID: "wx-1",
		From: tickets.IdentityWeChat, Address: "oAbCdEfGhIjKlMnOpQrStUvWxYz0", Body: "请问怎么报案"})
	if err != nil {
		t.Fatal(err)
	}
	b := d.signIn(d.agent)
	r := b.get("/tickets/" + res.Ticket.Ref())
	wantContains(t, r, `<option value="wechat" selected>`, "微信 48 小时窗口开放至 11-27 09:30")
	d.clock.Advance(49 * time.Hour)
	r = b.get("/tickets/" + res.Ticket.Ref())
	wantContains(t, r, "微信 48 小时窗口已关闭")
}

func TestLogACall(t *testing.T) {
	d := newDesk(t, tickettest.SQLite(t))
	b := d.signIn(d.agent)
	wantContains(t, b.get("/calls/new"), `id="call-form"`, `name="phone"`)

	r := b.post("/calls", url.Values{"phone": {"138 0013 8000"}, "name": {"王先生"}, "subject": {"询问保单续期"},
		"body": {"客户想知道续保价格"}, "priority": {"normal"}})
	wantStatus(t, r, 303)
	if r.location != "/tickets/HL-000001" {
		t.Fatalf("went to %q", r.location)
	}
	td, err := d.svc.Ticket(context.Background(), "HL-000001")
	if err != nil {
		t.Fatal(err)
	}
	if td.Channel != tickets.ChannelPhone || td.AssigneeID == nil || *td.AssigneeID != d.agent.ID || td.Customer.Identity(tickets.IdentityPhone) != "+8613800138000" || td.Customer.Name != "王先生" {
		t.Fatalf("logged call %+v customer %+v", td.Ticket, td.Customer)
	}

	t.Run("a walk-in", func(t *testing.T) {
		r := b.post("/calls", url.Values{"name": {"Li"}, "subject": {"counter visit"}, "walk_in": {"on"}, "phone": {"13900139000"}})
		wantStatus(t, r, 303)
		td, err := d.svc.Ticket(context.Background(), strings.TrimPrefix(r.location, "/tickets/"))
		if err != nil || td.Channel != tickets.ChannelWalkIn {
			t.Fatalf("walk-in %v %v", td, err)
		}
	})

	t.Run("a refused call keeps what was typed", func(t *testing.T) {
		r := b.post("/calls", url.Values{"phone": {"138"}, "name": {"赵女士"}, "body": {"说了很多话"}, "priority": {"soon"}})
		wantStatus(t, r, 400)
		wantContains(t, r, `class="flash error"`, `value="赵女士"`, "说了很多话")
	})
}

func TestLanguageAndPresence(t *testing.T) {
	d := newDesk(t, tickettest.SQLite(t))
	b := d.signIn(d.agent)
	wantContains(t, b.get("/queue"), "我的工单")
	wantStatus(t, b.post("/settings/language", url.Values{"lang": {"en"}}), 303)
	wantContains(t, b.get("/queue"), "My queue", `lang="en"`)
	a, err := d.svc.Agent(context.Background(), d.agent.ID)
	if err != nil || a.Locale != "en" {
		t.Fatalf("locale %q %v", a.Locale, err)
	}
	// Remembered on the agent: a new sign-in is in English too.
	wantContains(t, d.signIn(d.agent).get("/queue"), "My queue")
	b.get("/queue")
	r := b.post("/settings/language", url.Values{"lang": {"fr"}})
	wantStatus(t, r, 303)
	wantContains(t, b.get(r.location), "lang must be zh or en")

	wantStatus(t, b.post("/settings/presence", url.Values{"online": {"true"}}), 303)
	if a, _ = d.svc.Agent(context.Background(), d.agent.ID); !a.Online {
		t.Fatal("still away after going online")
	}
	wantContains(t, b.get("/queue"), "Go away")
	wantStatus(t, b.post("/settings/presence", url.Values{"online": {"false"}}), 303)
	if a, _ = d.svc.Agent(context.Background(), d.agent.ID); a.Online {
		t.Fatal("still online after going away")
	}
}

// TestLiveFeed: a change made after a page was drawn reaches the open stream, and one made
// between two streams is replayed on reconnect.
func TestLiveFeed(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newDesk(t, db)
		b := d.signIn(d.agent)
		after, err := d.svc.LastEventID(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var stream response
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream = b.get("/live?after=" + itoa64(after))
		}()
		time.Sleep(200 * time.Millisecond)
		tk := d.sms("+8613800138000", "live one")
		wg.Wait()
		wantStatus(t, stream, 200)
		if ct := stream.header.Get("Content-Type"); ct != "text/event-stream" {
			t.Fatalf("content type %q", ct)
		}
		wantContains(t, stream, "event: change", `"kind":"ticket.created"`, `"ticket":"`+tk.Ref()+`"`)

		// Reconnecting with the last id replays what happened in between.
		last := stream.body[strings.LastIndex(stream.body, "id: ")+4:]
		last = last[:strings.Index(last, "\n")]
		d.clock.Advance(time.Minute) // the first stream's changes are no longer fresh enough to be replayed as late commits
		if _, err := d.svc.Assign(context.Background(), tickets.AgentActor(d.agent), tk.Ref(), tickets.Assignment{AssigneeID: &d.agent.ID}); err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodGet, "/live", nil)
		req.Header.Set("Last-Event-ID", last)
		r := b.do(req)
		wantContains(t, r, `"kind":"ticket.assigned"`, `"assignee":`+itoa64(d.agent.ID))
		wantLacks(t, r, `"kind":"ticket.created"`)
	})
	t.Run("signed out", func(t *testing.T) {
		d := newDesk(t, tickettest.SQLite(t))
		wantStatus(t, d.browser().get("/live"), 401)
	})
}

func TestAttachmentsOpenFromTheTicket(t *testing.T) {
	d := newDesk(t, tickettest.SQLite(t))
	png := []byte("\x89PNG\r\n\x1a\nfake image bytes")
	page := []byte("<script>alert(1)</script>")
	res, err := d.svc.Intake(context.Background(), tickets.Inbound{Channel: tickets.ChannelEmail, From: tickets.IdentityEmail,
		Address: "zhou@example.cn", Subject: "照片", Body: "见附件", ProviderMessageID: "<p@x>",
		Attachments: []tickets.NewAttachment{
			{Filename: "车损照片.png", ContentType: "image/png", SizeBytes: int64(len(png)), Content: png},
			{Filename: "page.html", ContentType: "text/html", SizeBytes: int64(len(page)), Content: page},
			{Filename: "invoice.pdf", ContentType: "application/pdf", SizeBytes: 1000}, // metadata only
		}})
	if err != nil {
		t.Fatal(err)
	}
	td, err := d.svc.Ticket(context.Background(), res.Ticket.Ref())
	if err != nil {
		t.Fatal(err)
	}
	atts := td.Messages[0].Attachments
	imgURL, htmlURL := "/attachments/"+itoa64(atts[0].ID), "/attachments/"+itoa64(atts[1].ID)
	b := d.signIn(d.agent)
	r := b.get("/tickets/" + res.Ticket.Ref())
	wantContains(t, r, `<img src="`+imgURL+`"`, `href="`+htmlURL+`"`, "invoice.pdf", "文件未保存在 Hotline 中")

	tests := []struct {
		path        string
		status      int
		contentType string
		disposition string
		body        []byte
	}{
		{imgURL, 200, "image/png", "inline", png},
		{htmlURL, 200, "application/octet-stream", "attachment", page}, // never shown as a page of this site
		{"/attachments/" + itoa64(atts[2].ID), 404, "", "", nil},
		{"/attachments/nope", 404, "", "", nil},
	}
	for _, tc := range tests {
		r := b.get(tc.path)
		wantStatus(t, r, tc.status)
		if tc.status != 200 {
			continue
		}
		if ct := r.header.Get("Content-Type"); ct != tc.contentType {
			t.Errorf("%s: content type %q, want %q", tc.path, ct, tc.contentType)
		}
		if cd := r.header.Get("Content-Disposition"); !strings.HasPrefix(cd, tc.disposition+";") {
			t.Errorf("%s: disposition %q", tc.path, cd)
		}
		if r.header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(r.header.Get("Content-Security-Policy"), "sandbox") {
			t.Errorf("%s: served without nosniff and a sandbox: %v", tc.path, r.header)
		}
		if r.body != string(tc.body) {
			t.Errorf("%s: body %q", tc.path, r.body)
		}
	}
	if r := d.browser().get(imgURL); r.status != 303 {
		t.Errorf("a signed-out visitor got the file: %d", r.status)
	}
}

// TestCloseEndsLiveStreams: a server with consoles open shuts down at once once the console
// is closed, rather than waiting out every live stream.
func TestCloseEndsLiveStreams(t *testing.T) {
	d := newDesk(t, tickettest.SQLite(t))
	c := console.New(console.Config{Service: d.svc, Clock: d.clock, StreamFor: time.Minute})
	app := api.New(api.Config{Service: d.svc, Webhooks: []interface{ Register(*fiber.App) }{c}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln) //nolint:errcheck // ends with Shutdown below
	b := d.signIn(d.agent)
	req, _ := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+"/live", nil)
	req.AddCookie(&http.Cookie{Name: "hotline_session", Value: b.cookies["hotline_session"]})
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	first := make([]byte, 5)
	if _, err := io.ReadFull(res.Body, first); err != nil || string(first) != "retry" {
		t.Fatalf("stream began %q %v", first, err)
	}
	start := time.Now()
	c.Close()
	if err := app.ShutdownWithTimeout(5 * time.Second); err != nil {
		t.Fatalf("shutdown with a console open: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("shutdown took %v with a console open", took)
	}
}

// TestLiveFeedCatchesLateCommits: an event numbered before one already sent, because its
// transaction committed later, still reaches the open page.
func TestLiveFeedCatchesLateCommits(t *testing.T) {
	db := tickettest.Postgres(t)
	d := newDesk(t, db, func(c *console.Config) { c.StreamFor = 1500 * time.Millisecond })
	b := d.signIn(d.agent)
	tk := d.sms("+8613800138000", "hello")
	ctx := context.Background()
	after, err := d.svc.LastEventID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan response)
	go func() { done <- b.get("/live?after=" + itoa64(after)) }()
	time.Sleep(200 * time.Millisecond)
	const insert = "INSERT INTO events (entity, entity_id, kind, actor_kind, actor, data, created_at) VALUES ('ticket', ?, ?, 'system', 'test', '{}', ?) RETURNING id"
	slow, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var slowID, fastID int64
	if err := slow.QueryRowContext(ctx, insert, tk.ID, "status.changed", t0).Scan(&slowID); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, insert, tk.ID, "priority.changed", t0).Scan(&fastID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the fast one is sent first
	if err := slow.Commit(); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if slowID >= fastID {
		t.Fatalf("ids %d, %d: the slow transaction's event should be numbered first", slowID, fastID)
	}
	wantContains(t, r, `"kind":"priority.changed"`, `"kind":"status.changed"`)
	if i, j := strings.Index(r.body, "priority.changed"), strings.Index(r.body, "status.changed"); i > j {
		t.Errorf("the late commit arrived before the earlier one:\n%s", r.body)
	}
}
