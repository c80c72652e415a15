package desk_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

func TestQueues(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := consoletest.NewDesk(t, db)
		ctx := context.Background()
		mine := d.SMS("+8613800138001", "车险理赔进度")
		theirs := d.SMS("+8613800138002", "保单地址变更")
		waiting := d.SMS("+8613800138003", "发票开具")
		if _, err := d.Service.Assign(ctx, tickets.AgentActor(d.Super), mine.Ref(), tickets.Assignment{AssigneeID: &d.Agent.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Service.Assign(ctx, tickets.AgentActor(d.Super), theirs.Ref(), tickets.Assignment{AssigneeID: &d.Agent2.ID}); err != nil {
			t.Fatal(err)
		}
		b := d.SignIn(d.Agent)
		tests := []struct {
			path       string
			has, lacks []string
		}{
			{"/queue", []string{mine.Ref()}, []string{theirs.Ref(), waiting.Ref()}},
			{"/queue?view=mine", []string{mine.Ref(), "车险理赔进度", "&#43;86 138****8001"}, []string{theirs.Ref()}},
			{"/queue?view=team", []string{mine.Ref(), theirs.Ref()}, []string{waiting.Ref()}},
			{"/queue?view=unassigned", []string{waiting.Ref()}, []string{mine.Ref(), theirs.Ref()}},
			{"/queue?view=all", []string{mine.Ref(), theirs.Ref(), waiting.Ref()}, nil},
			{"/queue?view=all&q=地址", []string{theirs.Ref()}, []string{mine.Ref(), waiting.Ref()}},
			{"/queue?view=all&q=" + waiting.Ref(), []string{waiting.Ref()}, []string{mine.Ref()}},
			{"/queue?view=all&channel=email", []string{"没有符合条件的工单"}, []string{mine.Ref()}},
			{"/queue?view=all&status=resolved", nil, []string{mine.Ref(), theirs.Ref(), waiting.Ref()}},
		}
		for _, tc := range tests {
			r := b.Get(tc.path)
			consoletest.WantStatus(t, r, 200)
			for _, h := range tc.has {
				if !strings.Contains(r.Body, h) {
					t.Errorf("%s lacks %q", tc.path, h)
				}
			}
			for _, l := range tc.lacks {
				if strings.Contains(r.Body, `data-ref="`+l+`"`) {
					t.Errorf("%s shows %s", tc.path, l)
				}
			}
		}

		t.Run("rows carry the countdown the page turns amber and red", func(t *testing.T) {
			r := b.Get("/queue?view=mine")
			due := mine.FirstResponseDueAt.UTC().Format(time.RFC3339)
			consoletest.WantContains(t, r, `class="sla ok" data-due="`+due+`"`)
			d.Clock.Advance(23 * time.Hour) // past the 75% warning point
			consoletest.WantContains(t, b.Get("/queue?view=mine"), `class="sla warn" data-due="`+due+`"`)
			d.Clock.Advance(2 * time.Hour)
			consoletest.WantContains(t, b.Get("/queue?view=mine"), `class="sla breach" data-due="`+due+`"`)
		})

		t.Run("partial answers only the rows, for live refreshes", func(t *testing.T) {
			r := b.Get("/queue?view=all&partial=1")
			consoletest.WantStatus(t, r, 200)
			consoletest.WantContains(t, r, `data-ref="`+waiting.Ref()+`"`)
			consoletest.WantLacks(t, r, "<html", "nav class=\"side\"")
		})

		t.Run("bad filters are a 400 with the reason", func(t *testing.T) {
			for path, says := range map[string]string{
				"/queue?view=everyone":         "view must be",
				"/queue?view=all&status=maybe": "没有“maybe”这个状态",
				"/queue?view=all&channel=fax":  "unknown channel",
				"/queue?view=all&cursor=zzz":   "cursor",
			} {
				r := b.Get(path)
				consoletest.WantStatus(t, r, 400)
				consoletest.WantContains(t, r, says)
			}
		})

		t.Run("an agent without a team has no team queue", func(t *testing.T) {
			r := d.SignIn(d.Office).Get("/queue?view=team")
			consoletest.WantStatus(t, r, 400)
			consoletest.WantContains(t, r, "还没有加入团队")
		})
	})
}

func TestPagingFollowsTheNextLink(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	for i := range 55 {
		d.SMS(fmt.Sprintf("+86138001380%02d", i), "question")
	}
	b := d.SignIn(d.Agent)
	r := b.Get("/queue?view=all")
	if n := strings.Count(r.Body, "<tr data-href"); n != 50 {
		t.Fatalf("first page has %d rows", n)
	}
	i := strings.Index(r.Body, `<a class="btn" href="/queue?`)
	if i < 0 {
		t.Fatal("no next page link")
	}
	next := r.Body[i+len(`<a class="btn" href="`):]
	next = strings.ReplaceAll(next[:strings.Index(next, `"`)], "&amp;", "&")
	r = b.Get(next)
	if n := strings.Count(r.Body, "<tr data-href"); n != 5 {
		t.Fatalf("second page has %d rows", n)
	}
	consoletest.WantLacks(t, r, `<a class="btn" href="/queue?`)
}

func TestTicketPage(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	ctx := context.Background()
	tk := d.SMS("+8613800138000", "你好，我的理赔进度怎么样了？")
	b := d.SignIn(d.Agent)

	t.Run("shows the timeline, the customer and what can be done", func(t *testing.T) {
		r := b.Get("/tickets/" + strings.ToLower(tk.Ref()))
		consoletest.WantStatus(t, r, 200)
		consoletest.WantContains(t, r, tk.Ref(), "理赔进度", "&#43;86 138****8000", "创建了工单",
			`<option value="sms" selected>`, // the reply goes back by SMS
			`id="segments"`, "我来处理", "升级为投诉")
		consoletest.WantLacks(t, r, `value="wechat"`) // the customer has no WeChat
	})

	steps := []struct {
		name  string
		path  string
		form  url.Values
		flash string
		check func(t *testing.T, d *tickets.TicketDetail)
	}{
		{"take it", "/assign", url.Values{"assignee": {"me"}}, "已更新", func(t *testing.T, td *tickets.TicketDetail) {
			if td.AssigneeID == nil || *td.AssigneeID != d.Agent.ID {
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
			cs, err := d.Complaints().Complaints(ctx, complaints.Filter{TicketID: td.ID})
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
			r := b.Post("/tickets/"+tk.Ref()+s.path, s.form)
			consoletest.WantStatus(t, r, 303)
			if r.Location != "/tickets/"+tk.Ref() {
				t.Fatalf("went to %q", r.Location)
			}
			consoletest.WantContains(t, b.Get(r.Location), s.flash)
			td, err := d.Service.Ticket(ctx, tk.Ref())
			if err != nil {
				t.Fatal(err)
			}
			s.check(t, td)
		})
	}

	t.Run("the timeline shows notes, replies and audit events in order", func(t *testing.T) {
		r := b.Get("/tickets/" + tk.Ref() + "?partial=timeline")
		consoletest.WantStatus(t, r, 200)
		consoletest.WantLacks(t, r, "<html", `id="composer"`)
		order := []string{"你好，我的理赔进度", "您好，正在处理。", "客户来电两次", "将优先级从“普通”改为“高”", "升级为投诉 "}
		at := 0
		for _, o := range order {
			i := strings.Index(r.Body[at:], o)
			if i < 0 {
				t.Fatalf("timeline lacks %q after position %d", o, at)
			}
			at += i
		}
	})

	t.Run("refused: an agent gives the ticket away", func(t *testing.T) {
		r := b.Post("/tickets/"+tk.Ref()+"/assign", url.Values{"assignee": {consoletest.ID(d.Agent2.ID)}})
		consoletest.WantStatus(t, r, 403)
		consoletest.WantContains(t, r, "坐席只能把工单分配给自己。")
	})
	refused := []struct {
		name string
		path string
		form url.Values
		says string
	}{
		{"empty reply", "/reply", url.Values{"body": {"  "}}, "回复内容为空"},
		{"unknown status", "/status", url.Values{"status": {"maybe"}}, "status"},
		{"unknown priority", "/priority", url.Values{"priority": {"whenever"}}, "priority"},
		{"reply on a channel the customer lacks", "/reply", url.Values{"body": {"hi"}, "channel": {"email"}}, "没有可用的联系方式"},
	}
	for _, tc := range refused {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			b.Get("/tickets/" + tk.Ref())
			r := b.Post("/tickets/"+tk.Ref()+tc.path, tc.form)
			consoletest.WantStatus(t, r, 303)
			if r.Location != "/tickets/"+tk.Ref() {
				t.Fatalf("went back to %q", r.Location)
			}
			page := b.Get(r.Location)
			consoletest.WantContains(t, page, `class="flash error"`)
			if !strings.Contains(strings.ToLower(page.Body), strings.ToLower(tc.says)) {
				t.Fatalf("the page does not say why (%q):\n%s", tc.says, consoletest.Clip(page.Body))
			}
		})
	}

	t.Run("an unknown ticket is a 404 page", func(t *testing.T) {
		for _, ref := range []string{"HL-999999", "nonsense"} {
			r := b.Get("/tickets/" + ref)
			consoletest.WantStatus(t, r, 404)
			consoletest.WantContains(t, r, "返回工单队列")
		}
	})
}

func TestWeChatWindowInComposer(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	res, err := d.Service.Intake(context.Background(), tickets.Inbound{Channel: tickets.ChannelWeChat, ProviderMessageID: "wx-1",
		From: tickets.IdentityWeChat, Address: "oAbCdEfGhIjKlMnOpQrStUvWxYz0", Body: "请问怎么报案"})
	if err != nil {
		t.Fatal(err)
	}
	b := d.SignIn(d.Agent)
	r := b.Get("/tickets/" + res.Ticket.Ref())
	consoletest.WantContains(t, r, `<option value="wechat" selected>`, "微信 48 小时窗口开放至 11-27 09:30")
	d.Clock.Advance(49 * time.Hour)
	r = b.Get("/tickets/" + res.Ticket.Ref())
	consoletest.WantContains(t, r, "微信 48 小时窗口已关闭")
}

func TestLogACall(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	b := d.SignIn(d.Agent)
	consoletest.WantContains(t, b.Get("/calls/new"), `id="call-form"`, `name="phone"`)

	r := b.Post("/calls", url.Values{"phone": {"138 0013 8000"}, "name": {"王先生"}, "subject": {"询问保单续期"},
		"body": {"客户想知道续保价格"}, "priority": {"normal"}})
	consoletest.WantStatus(t, r, 303)
	if r.Location != "/tickets/HL-000001" {
		t.Fatalf("went to %q", r.Location)
	}
	td, err := d.Service.Ticket(context.Background(), "HL-000001")
	if err != nil {
		t.Fatal(err)
	}
	if td.Channel != tickets.ChannelPhone || td.AssigneeID == nil || *td.AssigneeID != d.Agent.ID || td.Customer.Identity(tickets.IdentityPhone) != "+8613800138000" || td.Customer.Name != "王先生" {
		t.Fatalf("logged call %+v customer %+v", td.Ticket, td.Customer)
	}

	t.Run("a walk-in", func(t *testing.T) {
		r := b.Post("/calls", url.Values{"name": {"Li"}, "subject": {"counter visit"}, "walk_in": {"on"}, "phone": {"13900139000"}})
		consoletest.WantStatus(t, r, 303)
		td, err := d.Service.Ticket(context.Background(), strings.TrimPrefix(r.Location, "/tickets/"))
		if err != nil || td.Channel != tickets.ChannelWalkIn {
			t.Fatalf("walk-in %v %v", td, err)
		}
	})

	t.Run("a refused call keeps what was typed", func(t *testing.T) {
		r := b.Post("/calls", url.Values{"phone": {"138"}, "name": {"赵女士"}, "body": {"说了很多话"}, "priority": {"soon"}})
		consoletest.WantStatus(t, r, 400)
		consoletest.WantContains(t, r, `class="flash error"`, `value="赵女士"`, "说了很多话")
	})
}

func TestAttachmentsOpenFromTheTicket(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	png := []byte("\x89PNG\r\n\x1a\nfake image bytes")
	page := []byte("<script>alert(1)</script>")
	res, err := d.Service.Intake(context.Background(), tickets.Inbound{Channel: tickets.ChannelEmail, From: tickets.IdentityEmail,
		Address: "zhou@example.cn", Subject: "照片", Body: "见附件", ProviderMessageID: "<p@x>",
		Attachments: []tickets.NewAttachment{
			{Filename: "车损照片.png", ContentType: "image/png", SizeBytes: int64(len(png)), Content: png},
			{Filename: "page.html", ContentType: "text/html", SizeBytes: int64(len(page)), Content: page},
			{Filename: "invoice.pdf", ContentType: "application/pdf", SizeBytes: 1000}, // metadata only
		}})
	if err != nil {
		t.Fatal(err)
	}
	td, err := d.Service.Ticket(context.Background(), res.Ticket.Ref())
	if err != nil {
		t.Fatal(err)
	}
	atts := td.Messages[0].Attachments
	imgURL, htmlURL := "/attachments/"+consoletest.ID(atts[0].ID), "/attachments/"+consoletest.ID(atts[1].ID)
	b := d.SignIn(d.Agent)
	r := b.Get("/tickets/" + res.Ticket.Ref())
	consoletest.WantContains(t, r, `<img src="`+imgURL+`"`, `href="`+htmlURL+`"`, "invoice.pdf", "文件未保存在 Hotline 中")

	tests := []struct {
		path        string
		status      int
		contentType string
		disposition string
		body        []byte
	}{
		{imgURL, 200, "image/png", "inline", png},
		{htmlURL, 200, "application/octet-stream", "attachment", page}, // never shown as a page of this site
		{"/attachments/" + consoletest.ID(atts[2].ID), 404, "", "", nil},
		{"/attachments/nope", 404, "", "", nil},
	}
	for _, tc := range tests {
		r := b.Get(tc.path)
		consoletest.WantStatus(t, r, tc.status)
		if tc.status != 200 {
			continue
		}
		if ct := r.Header.Get("Content-Type"); ct != tc.contentType {
			t.Errorf("%s: content type %q, want %q", tc.path, ct, tc.contentType)
		}
		if cd := r.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, tc.disposition+";") {
			t.Errorf("%s: disposition %q", tc.path, cd)
		}
		if r.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(r.Header.Get("Content-Security-Policy"), "sandbox") {
			t.Errorf("%s: served without nosniff and a sandbox: %v", tc.path, r.Header)
		}
		if r.Body != string(tc.body) {
			t.Errorf("%s: body %q", tc.path, r.Body)
		}
	}
	if r := d.Browser().Get(imgURL); r.Status != 303 {
		t.Errorf("a signed-out visitor got the file: %d", r.Status)
	}
}
