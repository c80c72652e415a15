package replies_test

import (
	"context"
	"html"
	"net/url"
	"slices"
	"testing"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/canned"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

func titles(t *testing.T, d *consoletest.Desk) []string {
	t.Helper()
	rs, err := canned.New(d.Service).List(context.Background(), tickets.AgentActor(d.Admin), "")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rs {
		out = append(out, r.Title)
	}
	return out
}

// TestCannedRepliesPage: supervisors keep their team's canned replies and see the global
// ones without changing them; admins keep all; agents are not let in. A refused reply is
// shown again as typed, with the reason.
func TestCannedRepliesPage(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	ctx := context.Background()
	cs := canned.New(d.Service)
	global, err := cs.Create(ctx, tickets.AgentActor(d.Admin), canned.Input{Title: "问候 Greeting", BodyZH: "{{customer_name}}您好"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := cs.Create(ctx, tickets.AgentActor(d.Admin), canned.Input{TeamID: &d.Other.ID, Title: "车险 Motor", BodyEN: "Motor"})
	if err != nil {
		t.Fatal(err)
	}

	// Agents and complaint officers: no menu entry, no page, no form.
	for _, a := range []*tickets.Agent{d.Agent, d.Office} {
		b := d.SignIn(a)
		consoletest.WantLacks(t, b.Get("/queue"), `href="/canned-replies"`)
		consoletest.WantStatus(t, b.Get("/canned-replies"), 403)
		consoletest.WantStatus(t, b.Post("/canned-replies", url.Values{"title": {"x"}, "body_zh": {"x"}, "team": {consoletest.ID(d.Team.ID)}}), 403)
	}

	sup := d.SignIn(d.Super)
	consoletest.WantContains(t, sup.Get("/queue"), `href="/canned-replies"`)
	r := sup.Get("/canned-replies")
	consoletest.WantStatus(t, r, 200)
	consoletest.WantContains(t, r, "问候 Greeting", "全部团队", "{{customer_name}}", "客户姓名", "投诉处理期限")
	consoletest.WantLacks(t, r, "车险 Motor", // another team's
		`action="/canned-replies/`+consoletest.ID(global.ID)+`"`, // the global one is the admins'
		`<option value="">`) // nor can they write a global one
	// A reply of their team, in the menu language they work in.
	r = sup.Post("/canned-replies", url.Values{"title": {"补充材料"}, "team": {consoletest.ID(d.Team.ID)},
		"body_zh": {"工单{{ticket_ref}}请补充材料"}, "body_en": {"Please send the documents for {{ticket_ref}}"}})
	consoletest.WantStatus(t, r, 303)
	r = sup.Get(r.Location)
	consoletest.WantContains(t, r, "快捷回复已保存", "补充材料", "Please send the documents for {{ticket_ref}}")
	// An unknown variable: refused with the reason, what was typed kept.
	typed := "工单{{ticket_no}}请补充材料"
	r = sup.Post("/canned-replies", url.Values{"title": {"补充材料二"}, "team": {consoletest.ID(d.Team.ID)}, "body_zh": {typed}})
	consoletest.WantStatus(t, r, 400)
	consoletest.WantContains(t, r, "The Chinese text: unknown variable {{ticket_no}}", ">"+html.EscapeString(typed)+"</textarea>", `value="补充材料二"`)
	// Another team's or a global reply: refused.
	for _, c := range []struct {
		path string
		form url.Values
		want int
	}{
		{"/canned-replies", url.Values{"title": {"x"}, "body_zh": {"x"}, "team": {consoletest.ID(d.Other.ID)}}, 403},
		{"/canned-replies", url.Values{"title": {"x"}, "body_zh": {"x"}}, 403},
		{"/canned-replies/" + consoletest.ID(global.ID), url.Values{"title": {"x"}, "body_zh": {"x"}, "team": {consoletest.ID(d.Team.ID)}}, 403},
		{"/canned-replies/" + consoletest.ID(other.ID) + "/delete", nil, 303}, // not theirs to know of: back with the reason
		{"/canned-replies/x", url.Values{"title": {"x"}, "body_zh": {"x"}}, 303},
	} {
		sup.Get("/canned-replies")
		if r := sup.Post(c.path, c.form); r.Status != c.want {
			t.Errorf("POST %s as a supervisor: %d, want %d", c.path, r.Status, c.want)
		}
	}
	if got := titles(t, d); !slices.Equal(got, []string{"补充材料", "车险 Motor", "问候 Greeting"}) {
		t.Errorf("after the supervisor's attempts: %q", got)
	}

	// Admins keep every reply: edit a refused text, then fix it; delete another team's.
	adm := d.SignIn(d.Admin)
	r = adm.Get("/canned-replies")
	consoletest.WantContains(t, r, "车险 Motor", `action="/canned-replies/`+consoletest.ID(global.ID)+`"`, `<option value="" selected>`)
	path := "/canned-replies/" + consoletest.ID(global.ID)
	r = adm.Post(path, url.Values{"title": {"问候 Greeting"}, "body_zh": {"{{customer_name}}您好"}, "body_en": {"Hello {{customer_name"}})
	consoletest.WantStatus(t, r, 400)
	consoletest.WantContains(t, r, `canned-entry failed" id="canned-`+consoletest.ID(global.ID)+`"`, "<details open>", "The English text", ">Hello {{customer_name</textarea>")
	consoletest.WantStatus(t, adm.Post(path, url.Values{"title": {"问候 Greeting"}, "body_zh": {"{{customer_name}}您好"}, "body_en": {"Hello {{customer_name}}"}}), 303)
	consoletest.WantStatus(t, adm.Post("/canned-replies/"+consoletest.ID(other.ID)+"/delete", nil), 303)
	if got := titles(t, d); !slices.Equal(got, []string{"补充材料", "问候 Greeting"}) {
		t.Errorf("after the admin's changes: %q", got)
	}
	if r, _ := cs.Get(ctx, tickets.AgentActor(d.Admin), global.ID); r == nil || r.BodyEN != "Hello {{customer_name}}" {
		t.Errorf("the admin's edit: %+v", r)
	}
}
