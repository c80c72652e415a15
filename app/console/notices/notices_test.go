package notices_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/outbox"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// give has the supervisor give a customer's new ticket to a, and the outbox write the
// notice the assignment implies.
func give(t *testing.T, d *consoletest.Desk, a *tickets.Agent, phone, text string) *tickets.Ticket {
	t.Helper()
	ctx := context.Background()
	tk := d.SMS(phone, text)
	if _, err := d.Service.Assign(ctx, tickets.AgentActor(d.Super), tk.Ref(), tickets.Assignment{AssigneeID: &a.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := outbox.New(d.Service).CollectAnnouncements(ctx); err != nil {
		t.Fatal(err)
	}
	return tk
}

var unreadBadge = regexp.MustCompile(`<span class="unread" id="unread-count" title="[^"]*"( hidden)?>(\d+)</span>`)

// unread is the count the menu shows, "" when it is hidden.
func unread(t *testing.T, r consoletest.Response) string {
	t.Helper()
	m := unreadBadge.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no unread count on the menu:\n%s", consoletest.Clip(r.Body))
	}
	if m[1] != "" {
		return ""
	}
	return m[2]
}

func TestNoticesPage(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := consoletest.NewDesk(t, db)
		li, zhang := d.SignIn(d.Agent), d.SignIn(d.Agent2)
		if got := unread(t, li.Get("/queue")); got != "" {
			t.Fatalf("a new agent's menu shows %q unread", got)
		}
		first := give(t, d, d.Agent, "+8613800138001", "理赔进度查询")
		second := give(t, d, d.Agent, "+8613800138002", "报案材料")
		other := give(t, d, d.Agent2, "+8613800138003", "保单变更")

		// Every page's menu counts the agent's own unread notices.
		for _, page := range []string{"/queue", "/complaints", "/followups", "/tickets/" + first.Ref()} {
			if got := unread(t, li.Get(page)); got != "2" {
				t.Errorf("%s: li's menu shows %q unread, want 2", page, got)
			}
		}
		if got := unread(t, zhang.Get("/queue")); got != "1" {
			t.Errorf("zhang's menu shows %q unread, want 1", got)
		}

		r := li.Get("/notices")
		consoletest.WantStatus(t, r, 200)
		consoletest.WantContains(t, r, "我的通知", "工单分配给您", `href="/tickets/`+first.Ref()+`"`, `href="/tickets/`+second.Ref()+`"`,
			"全部标为已读", `class="notice unread"`)
		consoletest.WantLacks(t, r, other.Ref(), "notices.") // not zhang's; no raw keys
		if strings.Index(r.Body, second.Ref()) > strings.Index(r.Body, first.Ref()) {
			t.Error("the newest notice is not listed first")
		}
		if got := li.Get("/notices/unread"); got.Status != 200 || strings.TrimSpace(got.Body) != `{"unread":2}` {
			t.Errorf("GET /notices/unread: %d %s", got.Status, got.Body)
		}

		// Mark read: li's count drops to nothing, zhang's stays.
		m := regexp.MustCompile(`name="up_to" value="(\d+)"`).FindStringSubmatch(r.Body)
		if m == nil {
			t.Fatal("no mark-read form")
		}
		r = li.Post("/notices/read", url.Values{"up_to": {m[1]}})
		consoletest.WantStatus(t, r, 303)
		r = li.Get(r.Location)
		consoletest.WantContains(t, r, "通知已标为已读。")
		consoletest.WantLacks(t, r, `class="notice unread"`, `id="notices-read"`)
		if got := unread(t, r); got != "" {
			t.Errorf("after reading, li's menu shows %q", got)
		}
		if got := unread(t, zhang.Get("/queue")); got != "1" {
			t.Errorf("li reading changed zhang's count to %q", got)
		}

		// English, and the unread view.
		give(t, d, d.Agent, "+8613800138004", "claim documents")
		li.Post("/settings/language", url.Values{"lang": {"en"}})
		r = li.Get("/notices?unread=1")
		consoletest.WantContains(t, r, "My notices", "Ticket given to you", "Mark all read", "claim documents", `lang="en"`)
		consoletest.WantLacks(t, r, first.Ref(), second.Ref(), "notices.")
	})
}

func TestNoticesForms(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	give(t, d, d.Agent2, "+8613800138009", "理赔")
	li := d.SignIn(d.Agent)
	for _, c := range []struct {
		name string
		r    func() consoletest.Response
		want int
	}{
		{"a page cursor that is not an id", func() consoletest.Response { return li.Get("/notices?cursor=HL-1") }, 400},
		{"a negative page cursor", func() consoletest.Response { return li.Get("/notices?cursor=-1") }, 400},
		{"mark read without an id", func() consoletest.Response { return li.Post("/notices/read", url.Values{}) }, 303},
		{"mark read with words", func() consoletest.Response { return li.Post("/notices/read", url.Values{"up_to": {"all"}}) }, 303},
		{"mark read without the form token", func() consoletest.Response {
			return li.PostRaw("/notices/read", url.Values{"up_to": {"999"}})
		}, 403},
		{"signed out", func() consoletest.Response { return d.Browser().Get("/notices/unread") }, 303},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := c.r()
			consoletest.WantStatus(t, r, c.want)
		})
	}
	// None of it read zhang's notice, even naming every id.
	li.Post("/notices/read", url.Values{"up_to": {"1000000"}})
	if got := unread(t, d.SignIn(d.Agent2).Get("/queue")); got != "1" {
		t.Errorf("zhang's notice was read by li's form: %q unread", got)
	}
	// A refused form says why on the page it came from.
	li.Get("/notices")
	r := li.Post("/notices/read", url.Values{"up_to": {"0"}})
	consoletest.WantStatus(t, r, 303)
	consoletest.WantContains(t, li.Get(r.Location), "请说明读到哪一条通知。")
}
