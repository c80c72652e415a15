package desk_test

import (
	"context"
	"testing"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/canned"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// The ticket page offers the agent's canned replies filled for the ticket, in the
// customer's language, as a list that reads without JavaScript; another team's are not
// offered.
func TestTicketOffersCannedReplies(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	ctx := context.Background()
	tk := d.SMS("+8613800138000", "理赔进度")
	name, en := "Zhao Lei", "en"
	if _, err := d.Service.UpdateCustomer(ctx, tickets.AgentActor(d.Admin), tk.CustomerID, tickets.CustomerUpdate{Name: &name, Locale: &en}); err != nil {
		t.Fatal(err)
	}
	cs := canned.New(d.Service)
	for _, in := range []canned.Input{
		{Title: "Greeting", BodyZH: "{{customer_name}}您好", BodyEN: "Hello {{customer_name}}, about {{ticket_ref}}"},
		{TeamID: &d.Team.ID, Title: "仅中文", BodyZH: "{{customer_name}}您好，我是{{agent_name}}"},
		{TeamID: &d.Other.ID, Title: "Motor only", BodyEN: "not for this team"},
	} {
		if _, err := cs.Create(ctx, tickets.AgentActor(d.Admin), in); err != nil {
			t.Fatal(err)
		}
	}
	r := d.SignIn(d.Agent).Get("/tickets/" + tk.Ref())
	consoletest.WantStatus(t, r, 200)
	consoletest.WantContains(t, r, `id="canned-picker"`, "/assets/canned.js",
		`<span class="canned-text">Hello Zhao Lei, about `+tk.Ref()+`</span>`,
		`lang="zh-CN"><b>仅中文</b> <small class="muted">（另一语言）</small><span class="canned-text">Zhao Lei您好，我是李娜 Li Na</span>`)
	consoletest.WantLacks(t, r, "Motor only", "not for this team", "{{")

	// A complaint officer, in no team, is offered the global reply; with none, no picker.
	r = d.SignIn(d.Office).Get("/tickets/" + tk.Ref())
	consoletest.WantStatus(t, r, 200)
	consoletest.WantContains(t, r, "Hello Zhao Lei")
	consoletest.WantLacks(t, r, "仅中文")
	if err := cs.Delete(ctx, tickets.AgentActor(d.Admin), 1); err != nil {
		t.Fatal(err)
	}
	consoletest.WantLacks(t, d.SignIn(d.Office).Get("/tickets/"+tk.Ref()), `id="canned-picker"`, "/assets/canned.js")
}
