package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/app/web"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

func TestStatusPage(t *testing.T) {
	ctx := context.Background()
	svc := tickettest.Service(tickettest.SQLite(t), tickettest.NewClock(time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)))
	log := slog.New(slog.DiscardHandler)
	app := api.New(api.Config{Service: svc, Log: log, Webhooks: []interface{ Register(*fiber.App) }{
		web.NewStatusPage(svc, func(c *fiber.Ctx) string { return c.IP() }, 3, log)}})
	res, err := svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: "+8613800138000",
		Body: "<script>alert(1)</script> 理赔进度？"})
	if err != nil {
		t.Fatal(err)
	}
	admin, _ := svc.CreateAgent(ctx, tickets.Actor{Kind: "system"}, tickets.NewAgent{Email: "a@example.com", Role: tickets.RoleAdmin, Password: "long enough password"})
	svc.Reply(ctx, tickets.AgentActor(admin), res.Ticket.Ref(), "您好，材料已收到。")                   //nolint:errcheck
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
	if status != 200 || !strings.Contains(body, "工单进度查询") || !strings.Contains(body, `name="check"`) || !strings.Contains(body, "--accent: #0b6bcb") {
		t.Fatalf("form: %d", status)
	}
	status, body = get(url.Values{"ref": {"HL-000001"}, "check": {"8000"}})
	if status != 200 || !strings.Contains(body, "您好，材料已收到。") || !strings.Contains(body, "处理中") || !strings.Contains(body, "2026-11-27 17:30") {
		t.Errorf("lookup: %d %s", status, body)
	}
	if strings.Contains(body, "INTERNAL NOTE") || strings.Contains(body, "13800138000") || strings.Contains(body, "<script>alert") {
		t.Error("the page shows a note, the phone number, or unescaped HTML")
	}
	status, body = get(url.Values{"ref": {"HL-000001"}, "check": {"1234"}, "lang": {"en"}})
	if status != 404 || !strings.Contains(body, "No ticket matches") {
		t.Errorf("wrong check: %d", status)
	}
	get(url.Values{"ref": {"HL-000001"}, "check": {"0000"}}) // the third lookup this minute
	if status, body = get(url.Values{"ref": {"HL-000001"}, "check": {"8000"}}); status != 429 || !strings.Contains(body, "查询过于频繁") {
		t.Errorf("fourth lookup in a minute: %d, want 429 even with the right check", status)
	}
	if status, _ = get(url.Values{}); status != 200 {
		t.Errorf("the empty form is not limited: %d", status)
	}
}
