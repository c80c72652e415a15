package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/hotlinedesk/hotline/tickets"
)

// demoPassword signs in every demo agent. Demo data is for trying Hotline out, never for a
// desk that serves customers.
const demoPassword = "hotline-demo"

// demoPeople are the demo's agents: their team is "claims" or "complaints".
var demoPeople = []struct {
	email, name string
	role        tickets.Role
	team        string
}{
	{"li.na@demo.hotline", "李娜 Li Na", tickets.RoleAgent, "claims"},
	{"zhang.wei@demo.hotline", "张伟 Zhang Wei", tickets.RoleAgent, "claims"},
	{"chen.jing@demo.hotline", "陈静 Chen Jing", tickets.RoleSupervisor, "claims"},
	{"wang.fang@demo.hotline", "王芳 Wang Fang", tickets.RoleComplaintOfficer, "complaints"},
}

// demoAccounts are the demo's sign-ins with a role ("agent", "supervisor", "complaint officer").
func demoAccounts(role string) []string {
	var out []string
	for _, p := range demoPeople {
		if strings.ReplaceAll(string(p.role), "_", " ") == role {
			out = append(out, p.email)
		}
	}
	return out
}

// demoComplaintWords route a new contact to the Complaints team (any one, in the subject
// or the text; Chinese is matched inside words).
const demoComplaintWords = "投诉,complain"

// seedDemo adds two teams, a few agents and tickets from each channel, once, and reports
// whether it did (a desk with teams is left as it is).
func seedDemo(ctx context.Context, svc *tickets.Service, log *slog.Logger) (bool, error) {
	teams, err := svc.Teams(ctx)
	if err != nil {
		return false, err
	}
	if len(teams) > 0 {
		log.Info("demo data skipped: the desk already has teams")
		return false, nil
	}
	system := tickets.Actor{Kind: "system"}
	claims, err := svc.CreateTeam(ctx, system, "理赔服务 Claims")
	if err != nil {
		return false, err
	}
	complaints, err := svc.CreateTeam(ctx, system, "投诉处理 Complaints")
	if err != nil {
		return false, err
	}
	teamOf := map[string]*int64{"claims": &claims.ID, "complaints": &complaints.ID}
	agents := make([]*tickets.Agent, len(demoPeople))
	for i, p := range demoPeople {
		if agents[i], err = svc.CreateAgent(ctx, system, tickets.NewAgent{Email: p.email, Name: p.name, Role: p.role,
			TeamID: teamOf[p.team], Password: demoPassword}); err != nil {
			return false, err
		}
	}

	// A contact that complains goes to Complaints, every other to Claims, and everyone
	// starts online, so a message that arrives in the demo is given to someone at once:
	// routing and auto-assignment are what the demo shows first.
	for _, rule := range []*tickets.RoutingRule{
		{Position: 1, Name: "投诉 Complaints", Keywords: demoComplaintWords, TeamID: complaints.ID, SetPriority: tickets.PriorityHigh},
		{Position: 2, Name: "所有来信 Everything to Claims", TeamID: claims.ID},
	} {
		if _, err := svc.SaveRoutingRule(ctx, system, rule); err != nil {
			return false, fmt.Errorf("demo routing rule: %w", err)
		}
	}
	for _, a := range agents {
		if _, err := svc.SetOnline(ctx, tickets.AgentActor(a), true); err != nil {
			return false, fmt.Errorf("demo agent online: %w", err)
		}
	}

	contacts := []tickets.Inbound{
		{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: "+8613800138001", ProviderMessageID: "demo-sms-1",
			Body: "你好，我上周提交的车险理赔（保单号 PA2026-0098）现在进度如何？"},
		{Channel: tickets.ChannelEmail, From: tickets.IdentityEmail, Address: "Zhao Lei <zhao.lei@example.com>", ProviderMessageID: "<demo-1@example.com>",
			Subject: "Hospital invoice for claim CL-2026-1147", Body: "Please find the invoice attached. How long until payment?",
			Attachments: []tickets.NewAttachment{{Filename: "invoice.txt", ContentType: "text/plain", SizeBytes: int64(len(demoInvoice)), Content: []byte(demoInvoice)}}},
		{Channel: tickets.ChannelWeChat, From: tickets.IdentityWeChat, Address: "oDemo_Customer_3", ProviderMessageID: "demo-wx-1",
			Body: "理赔款什么时候到账？已经等了两周了。"},
		{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: "+8613900139002", ProviderMessageID: "demo-sms-2",
			Body: "I want to complain: nobody called me back about my home insurance claim."},
	}
	var refs []string
	for _, in := range contacts {
		res, err := svc.Intake(ctx, in)
		if err != nil {
			return false, fmt.Errorf("demo ticket: %w", err)
		}
		refs = append(refs, res.Ticket.Ref())
	}
	liNa := tickets.AgentActor(agents[0])
	if _, err := svc.Assign(ctx, liNa, refs[0], tickets.Assignment{AssigneeID: &agents[0].ID}); err != nil {
		return false, err
	}
	if _, err := svc.Reply(ctx, liNa, refs[0], "您好，您的理赔材料已收到，正在审核中，预计 2 个工作日内给您答复。"); err != nil {
		return false, err
	}
	if _, err := svc.SetStatus(ctx, liNa, refs[0], tickets.StatusPending, "waiting for the repair invoice"); err != nil {
		return false, err
	}
	if _, err := svc.Assign(ctx, tickets.AgentActor(agents[2]), refs[1], tickets.Assignment{AssigneeID: &agents[1].ID, Reason: "medical claims"}); err != nil {
		return false, err
	}
	if _, err := svc.CreateTicket(ctx, liNa, tickets.NewTicket{Channel: tickets.ChannelPhone, Name: "刘洋", Phone: "13700137003",
		Subject: "来电：询问退保手续", Body: "客户来电询问退保需要哪些材料。", Category: "policy", Priority: tickets.PriorityLow}); err != nil {
		return false, err
	}
	// The accounts and their password are printed in the sign-in block, not logged.
	log.Info("demo data seeded", "agents", len(agents), "tickets", len(refs)+1)
	return true, nil
}

// demoInvoice is the file the demo's email customer attached.
const demoInvoice = `Shanghai Renji Hospital — invoice
Patient: Zhao Lei          Claim: CL-2026-1147
Date: 2026-11-18
  Outpatient consultation          ¥   180.00
  X-ray, left wrist                ¥   420.00
  Cast and dressing                ¥   680.00
Total                              ¥ 1,280.00
`
