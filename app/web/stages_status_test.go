package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/app/web"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/access"
	"github.com/hotlinedesk/hotline/tickets/stages"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// The status page shows a claim's stages in the customer's language: those passed with
// their dates, the current one marked, those ahead, and the documents still missing.
func TestStatusPageStages(t *testing.T) {
	ctx := context.Background()
	svc := tickettest.Service(tickettest.SQLite(t), tickettest.NewClock(time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)))
	log := slog.New(slog.DiscardHandler)
	app := api.New(api.Config{Service: svc, Log: log, Webhooks: []interface{ Register(*fiber.App) }{
		web.NewStatusPage(svc, access.New(svc, access.Config{}), func(c *fiber.Ctx) string { return c.IP() }, log)}})
	res, err := svc.Intake(ctx, tickettest.SMS("+8613800138000", "理赔进度？", ""))
	if err != nil {
		t.Fatal(err)
	}
	admin, _ := svc.CreateAgent(ctx, tickets.Actor{Kind: "system"}, tickets.NewAgent{Email: "a@example.com", Role: tickets.RoleAdmin, Password: "long enough password"})
	actor := tickets.AgentActor(admin)
	ref := res.Ticket.Ref()
	if _, err := svc.SetCategory(ctx, actor, ref, "claims", ""); err != nil {
		t.Fatal(err)
	}
	st := stages.New(svc)
	sts, _ := st.Stages(ctx, "claims")
	for _, i := range []int{0, 1} {
		if _, err := st.Move(ctx, actor, ref, sts[i].ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.RequestDocuments(ctx, actor, ref, []string{"发票原件"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		lang string
		want []string
	}{
		{"zh", []string{"办理进度", `<li class="stage passed"`, "报案已受理", "2026-11-25", `aria-current="step"`, "材料已收齐", "当前 · 2026-11-25", `<li class="stage ahead"`, "已赔付", "还需要您提供", "发票原件"}},
		{"en", []string{"Progress", "Claim received", "Documents complete", "Now · 2026-11-25", "Paid", "Ahead", "Still needed from you"}},
	} {
		r, err := app.Test(httptest.NewRequest("GET", "/status?ref="+ref+"&check=8000&lang="+c.lang, nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		for _, w := range c.want {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s page lacks %q", c.lang, w)
			}
		}
	}
}
