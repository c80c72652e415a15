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
	"github.com/hotlinedesk/hotline/tickets/aftercare"
	"github.com/hotlinedesk/hotline/tickets/delivery"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

func TestSurveyPage(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		clock := tickettest.NewClock(time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC))
		svc := tickettest.Service(db, clock)
		care := aftercare.New(svc, aftercare.Config{Surveys: true, PublicBaseURL: "https://desk.example.com"})
		svc.SetAftercare(care)
		log := tickettest.Logger()
		app := api.New(api.Config{Service: svc, Log: log, Webhooks: []interface{ Register(*fiber.App) }{web.NewSurveyPage(care, log)}})
		admin, err := svc.CreateAgent(ctx, tickets.Actor{Kind: "system"}, tickets.NewAgent{Email: "a@example.com", Role: tickets.RoleAdmin, Password: "long enough password"})
		if err != nil {
			t.Fatal(err)
		}
		token := func(addr string) string { return surveyToken(t, svc, admin, addr) }
		send := func(method, path string, form url.Values) (int, string) {
			t.Helper()
			req := httptest.NewRequest(method, path, nil)
			if form != nil {
				req = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			r, err := app.Test(req, -1)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(r.Body)
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("%s %s: Content-Type %q", method, path, ct)
			}
			return r.StatusCode, string(b)
		}

		tok := token("kim@example.com")
		late := token("lee@example.com")
		cases := []struct {
			name, method, path string
			form               url.Values
			status             int
			want, notWant      []string
		}{
			{"form", "GET", "/survey/" + tok, nil, 200,
				[]string{"服务评价", `name="score" value="5"`, `name="score" value="1"`, `name="comment"`}, []string{"感谢"}},
			{"form in English", "GET", "/survey/" + tok + "?lang=en", nil, 200, []string{"Rate our service", "Very satisfied", `href="/public/page.css"`}, nil},
			{"unknown token", "GET", "/survey/nope", nil, 404, []string{"无效或已过期"}, []string{`name="score"`}},
			{"unknown token posted", "POST", "/survey/nope", url.Values{"score": {"5"}}, 404, []string{"无效或已过期"}, nil},
			{"bad score", "POST", "/survey/" + tok, url.Values{"score": {"9"}}, 400, []string{"请选择 1 到 5 分", `name="score"`}, nil},
			{"answer", "POST", "/survey/" + tok, url.Values{"score": {"4"}, "comment": {"<b>quick</b> 谢谢"}}, 200,
				[]string{"感谢您的评价", `class="score">4<`, "&lt;b&gt;quick&lt;/b&gt; 谢谢"}, []string{`name="score"`, "<b>quick"}},
			{"answered twice", "POST", "/survey/" + tok, url.Values{"score": {"1"}}, 200, []string{"感谢您的评价", `class="score">4<`}, []string{`class="score">1<`}},
			{"answered, shown again", "GET", "/survey/" + tok, nil, 200, []string{`class="score">4<`}, []string{`name="score"`}},
		}
		for _, c := range cases {
			status, body := send(c.method, c.path, c.form)
			if status != c.status {
				t.Errorf("%s: status %d, want %d", c.name, status, c.status)
			}
			for _, w := range c.want {
				if !strings.Contains(body, w) {
					t.Errorf("%s: page lacks %q", c.name, w)
				}
			}
			for _, w := range c.notWant {
				if strings.Contains(body, w) {
					t.Errorf("%s: page shows %q", c.name, w)
				}
			}
		}
		res, err := care.SurveyByToken(ctx, tok)
		if err != nil || *res.Score != 4 || res.Comment != "<b>quick</b> 谢谢" || res.AnsweredVia != "email" {
			t.Errorf("stored answer %+v %v", res, err)
		}

		// Eight days later the unanswered survey is gone.
		clock.Advance(8 * 24 * time.Hour)
		if status, _ := send("GET", "/survey/"+late, nil); status != 404 {
			t.Errorf("expired GET: %d", status)
		}
		if status, _ := send("POST", "/survey/"+late, url.Values{"score": {"5"}}); status != 404 {
			t.Errorf("expired POST: %d", status)
		}
	})
}

// surveyToken resolves a new email ticket from addr and reads the survey link its
// customer was emailed.
func surveyToken(t *testing.T, svc *tickets.Service, admin *tickets.Agent, addr string) string {
	t.Helper()
	ctx := context.Background()
	res, err := svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelEmail, From: tickets.IdentityEmail, Address: addr, Subject: "claim", Body: "news?"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SetStatus(ctx, tickets.AgentActor(admin), res.Ticket.Ref(), tickets.StatusResolved, ""); err != nil {
		t.Fatal(err)
	}
	d, err := svc.Ticket(ctx, res.Ticket.Ref())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range d.Messages {
		if m.Direction != tickets.DirectionOutbound {
			continue
		}
		sent, err := delivery.New(svc).Delivery(ctx, m.ID) // what the customer receives
		if err != nil || sent == nil {
			continue
		}
		if _, tok, ok := strings.Cut(sent.Body, "https://desk.example.com/survey/"); ok {
			return strings.Fields(tok)[0]
		}
	}
	t.Fatal("no survey link was emailed")
	return ""
}
