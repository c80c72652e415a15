package web_test

import (
	"context"
	"io"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/app/web"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/access"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// The status page lists only the replies that left: a queued reply may still fail, a failed
// one never arrived, and a note is never the customer's.
func TestStatusPageListsOnlySentReplies(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		svc := tickettest.Service(db, tickettest.NewClock(time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)))
		log := tickettest.Logger()
		app := api.New(api.Config{Service: svc, Log: log, Webhooks: []interface{ Register(*fiber.App) }{
			web.NewStatusPage(svc, access.New(svc, access.Config{}), func(c *fiber.Ctx) string { return c.IP() }, log).Company("平安示范保险")}})
		res, err := svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelEmail, From: tickets.IdentityEmail, Address: "kim@example.com",
			Subject: "车险理赔进度", Body: "进度？"})
		if err != nil {
			t.Fatal(err)
		}
		admin, err := svc.CreateAgent(ctx, tickets.Actor{Kind: "system"}, tickets.NewAgent{Email: "a@example.com", Role: tickets.RoleAdmin, Password: "long enough password"})
		if err != nil {
			t.Fatal(err)
		}
		replies := []struct {
			body, status string
			shown        bool
		}{
			{"REPLY-QUEUED", tickets.DeliveryQueued, false},
			{"REPLY-FAILED", tickets.DeliveryFailed, false},
			{"REPLY-UNDELIVERED", tickets.DeliveryUndelivered, false},
			{"REPLY-SENT", tickets.DeliverySent, true},
			{"REPLY-DELIVERED", tickets.DeliveryDelivered, true},
		}
		for _, r := range replies {
			m, err := svc.Reply(ctx, tickets.AgentActor(admin), res.Ticket.Ref(), r.body)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.NewUpdate().TableExpr("messages").Set("delivery_status = ?", r.status).Where("id = ?", m.ID).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := svc.AddNote(ctx, tickets.AgentActor(admin), res.Ticket.Ref(), "REPLY-NOTE"); err != nil {
			t.Fatal(err)
		}

		for _, lang := range []struct{ code, title, ticket, status string }{
			{"zh", "工单进度查询 · 平安示范保险", "工单 HL-000001 · 车险理赔进度", `class="status">处理中<`},
			{"en", "Check your ticket · 平安示范保险", "Ticket HL-000001 · 车险理赔进度", `class="status">Being worked on<`}} {
			t.Run(lang.code, func(t *testing.T) {
				req := httptest.NewRequest("GET", "/status?"+url.Values{"ref": {"HL-000001"}, "check": {"kim@example.com"}, "lang": {lang.code}}.Encode(), nil)
				r, err := app.Test(req, -1)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(r.Body)
				body := string(b)
				if r.StatusCode != 200 {
					t.Fatalf("status %d: %s", r.StatusCode, body)
				}
				for _, want := range []string{"<title>" + lang.title + "</title>", `<p class="company">平安示范保险</p>`, lang.ticket, lang.status} {
					if !strings.Contains(body, want) {
						t.Errorf("the page lacks %q", want)
					}
				}
				for _, rp := range replies {
					if strings.Contains(body, rp.body) != rp.shown {
						t.Errorf("%s (%s): shown %v, want %v", rp.body, rp.status, !rp.shown, rp.shown)
					}
				}
				if strings.Contains(body, "REPLY-NOTE") {
					t.Error("the page shows an internal note")
				}
			})
		}
	})
}

// The survey page names the company and the ticket rated, in both languages; an unknown
// link names no ticket. Without a configured name the pages say Hotline.
func TestSurveyPageNamesCompanyAndTicket(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		svc := tickettest.Service(db, tickettest.NewClock(time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)))
		care := aftercare.New(svc, aftercare.Config{Surveys: true, PublicBaseURL: "https://desk.example.com"})
		svc.SetAftercare(care)
		log := tickettest.Logger()
		admin, err := svc.CreateAgent(ctx, tickets.Actor{Kind: "system"}, tickets.NewAgent{Email: "a@example.com", Role: tickets.RoleAdmin, Password: "long enough password"})
		if err != nil {
			t.Fatal(err)
		}
		tok := surveyToken(t, svc, admin, "kim@example.com")
		for _, tc := range []struct {
			name, company, path string
			status              int
			want, notWant       []string
		}{
			{"Chinese", "平安示范保险", "/survey/" + tok, 200,
				[]string{"<title>服务评价 · 平安示范保险</title>", `<p class="company">平安示范保险</p>`, "工单 HL-000001 · claim", "您对平安示范保险本次服务满意吗"}, nil},
			{"English", "Acme Insurance", "/survey/" + tok + "?lang=en", 200,
				[]string{"<title>Rate our service · Acme Insurance</title>", "Ticket HL-000001 · claim", "with Acme Insurance&#39;s service"}, nil},
			{"default name", "  ", "/survey/" + tok + "?lang=en", 200, []string{`<p class="company">Hotline</p>`}, nil},
			{"unknown link", "Acme Insurance", "/survey/nope", 404, []string{`<p class="company">Acme Insurance</p>`}, []string{"HL-000001"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				app := api.New(api.Config{Service: svc, Log: log, Webhooks: []interface{ Register(*fiber.App) }{web.NewSurveyPage(care, log).Company(tc.company)}})
				r, err := app.Test(httptest.NewRequest("GET", tc.path, nil), -1)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(r.Body)
				body := string(b)
				if r.StatusCode != tc.status {
					t.Errorf("status %d, want %d", r.StatusCode, tc.status)
				}
				for _, w := range tc.want {
					if !strings.Contains(body, w) {
						t.Errorf("the page lacks %q: %s", w, body)
					}
				}
				for _, w := range tc.notWant {
					if strings.Contains(body, w) {
						t.Errorf("the page shows %q", w)
					}
				}
			})
		}
	})
}
