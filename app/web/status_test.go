package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/app/web"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/access"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

func TestStatusPage(t *testing.T) {
	ctx := context.Background()
	svc := tickettest.Service(tickettest.SQLite(t), tickettest.NewClock(time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)))
	log := tickettest.Logger()
	app := api.New(api.Config{Service: svc, Log: log, Webhooks: []interface{ Register(*fiber.App) }{
		web.NewStatusPage(svc, access.New(svc, access.Config{}), func(c *fiber.Ctx) string { return c.IP() }, log)}})
	res, err := svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: "+8613800138000",
		Body: "<script>alert(1)</script> 理赔进度？"})
	if err != nil {
		t.Fatal(err)
	}
	admin, _ := svc.CreateAgent(ctx, tickets.Actor{Kind: "system"}, tickets.NewAgent{Email: "a@example.com", Role: tickets.RoleAdmin, Password: "long enough password"})
	reply, err := svc.Reply(ctx, tickets.AgentActor(admin), res.Ticket.Ref(), "您好，材料已收到。我们会致电 13800138000 核对卡号 6217 0012 3456 7893。")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.DB().NewUpdate().TableExpr("messages").Set("delivery_status = ?", tickets.DeliverySent).Where("id = ?", reply.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	svc.AddNote(ctx, tickets.AgentActor(admin), res.Ticket.Ref(), "INTERNAL NOTE do not show") //nolint:errcheck

	get := func(q url.Values) (int, string) {
		req := httptest.NewRequest("GET", "/status?"+q.Encode(), nil)
		r, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(b)
	}
	status, body := get(url.Values{})
	if status != 200 || !strings.Contains(body, "工单进度查询") || !strings.Contains(body, `name="check"`) || !strings.Contains(body, `href="/public/page.css"`) {
		t.Fatalf("form: %d", status)
	}
	status, body = get(url.Values{"ref": {"HL-000001"}, "check": {"8000"}})
	if status != 200 || !strings.Contains(body, "您好，材料已收到。") || !strings.Contains(body, "处理中") || !strings.Contains(body, "2026-11-27 17:30") {
		t.Errorf("lookup: %d %s", status, body)
	}
	if strings.Contains(body, "INTERNAL NOTE") || strings.Contains(body, "13800138000") || strings.Contains(body, "0012 3456") || strings.Contains(body, "<script>alert") {
		t.Error("the page shows a note, a number in full, or unescaped HTML")
	}
	// Four digits prove little: numbers in the replies stay masked.
	if !strings.Contains(body, "我们会致电 138****8000 核对卡号 6217 **** **** 7893。") {
		t.Errorf("the reply's numbers are not masked: %s", body)
	}
	// In English the status stands as a label, not as the sentence word it is in an SMS.
	if _, body := get(url.Values{"ref": {"HL-000001"}, "check": {"8000"}, "lang": {"en"}}); !strings.Contains(body, `<span class="status">Being worked on</span>`) {
		t.Errorf("English status: %s", body)
	}
	status, body = get(url.Values{"ref": {"HL-000001"}, "check": {"1234"}, "lang": {"en"}})
	if status != 404 || !strings.Contains(body, "No ticket matches") {
		t.Errorf("wrong check: %d", status)
	}
}

// Four digits are guessed from forty addresses as easily as from one: wrong checks are
// limited per reference, whoever asks, and per client; the page says which, in the
// customer's language, and when to come back.
func TestStatusPageLimitsGuessing(t *testing.T) {
	ctx := context.Background()
	svc := tickettest.Service(tickettest.SQLite(t), tickettest.NewClock(time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)))
	log := tickettest.Logger()
	// Behind a load balancer (the test's requests come from 0.0.0.0), X-Forwarded-For names
	// the client.
	app := api.New(api.Config{Service: svc, Log: log, Webhooks: []interface{ Register(*fiber.App) }{
		web.NewStatusPage(svc, access.New(svc, access.Config{}), api.ClientAddr([]string{"0.0.0.0"}), log)}})
	for _, phone := range []string{"+8613800138000", "+8613900139000"} {
		if _, err := svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: phone, Body: "进度？"}); err != nil {
			t.Fatal(err)
		}
	}
	type answer struct {
		status int
		body   string
		retry  string
	}
	get := func(client string, q url.Values) answer {
		req := httptest.NewRequest("GET", "/status?"+q.Encode(), nil)
		req.Header.Set("X-Forwarded-For", client)
		r, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		return answer{r.StatusCode, string(b), r.Header.Get("Retry-After")}
	}
	lookup := func(client, ref, check, lang string) answer {
		return get(client, url.Values{"ref": {ref}, "check": {check}, "lang": {lang}})
	}

	for i := range 40 {
		a := lookup(fmt.Sprintf("10.1.0.%d", i+1), "HL-000001", fmt.Sprintf("%04d", 7990+i), "zh")
		want := 404
		if i >= 5 {
			want = 429
		}
		if a.status != want {
			t.Fatalf("guess %d from its own address: %d, want %d", i+1, a.status, want)
		}
		if i == 5 && (!strings.Contains(a.body, "该工单号的核对信息错误次数过多") || !strings.Contains(a.body, "15 分钟") || a.retry != "900") {
			t.Errorf("the locked reference in Chinese: Retry-After %q, page %s", a.retry, a.body)
		}
		if i >= 10 && strings.Contains(a.body, "您好") {
			t.Fatal("a guess found the ticket")
		}
	}
	for _, tc := range []struct {
		name, client, ref, check, lang string
		status                         int
		says                           string
	}{
		{"the right digits while locked", "10.2.0.1", "HL-000001", "8000", "en", 429, "This reference was checked wrongly too often; try again in 15 minutes or contact us."},
		{"another reference, same addresses", "10.1.0.1", "HL-000002", "9000", "en", 200, "Received"},
		{"the empty form", "10.1.0.40", "", "", "zh", 200, "工单进度查询"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := lookup(tc.client, tc.ref, tc.check, tc.lang)
			if a.status != tc.status || !strings.Contains(a.body, tc.says) {
				t.Errorf("%d, want %d saying %q: %s", a.status, tc.status, tc.says, a.body)
			}
		})
	}

	// One client's wrong lookups are limited too, whatever references it tries.
	for i := range 10 {
		if a := lookup("10.3.0.1", fmt.Sprintf("HL-%06d", 100+i), "1234", "zh"); a.status != 404 {
			t.Fatalf("wrong lookup %d from one client: %d", i+1, a.status)
		}
	}
	if a := lookup("10.3.0.1", "HL-000002", "9000", "zh"); a.status != 429 || !strings.Contains(a.body, "错误查询次数过多") || a.retry == "" {
		t.Errorf("11th lookup in a minute from one client: %d (Retry-After %q): %s", a.status, a.retry, a.body)
	}
}
