package jobs_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/slack-go/slack"
	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/jobs"
	"github.com/hotlinedesk/hotline/notifications"
	"github.com/hotlinedesk/hotline/notifications/slackfake"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/deadlines"
	"github.com/hotlinedesk/hotline/tickets/outbox"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// notifyDesk: Claims (channel C0123) with li.na (on Slack as U1) and zhang.wei (not on
// Slack), supervisor chen; Sales has no channel.
type notifyDesk struct {
	svc              *tickets.Service
	box              *outbox.Service
	fake             *slackfake.FakeSlack
	slack            *notifications.Slack
	chen, liNa, sale tickets.Actor
	liNaID, zhangID  int64
	phones           int
}

func newNotifyDesk(t *testing.T, db *bun.DB) *notifyDesk {
	t.Helper()
	ctx := context.Background()
	svc := tickettest.Service(db, tickets.SystemClock{})
	svc.SetComplaints(complaints.New(svc)) // as app wires it
	admin, err := svc.CreateAgent(ctx, tickets.Actor{Kind: "system"}, tickets.NewAgent{Email: "admin@example.com", Role: tickets.RoleAdmin, Password: "long enough password"})
	if err != nil {
		t.Fatal(err)
	}
	adm := tickets.AgentActor(admin)
	claims, err := svc.CreateTeam(ctx, adm, "Claims")
	if err != nil {
		t.Fatal(err)
	}
	sales, err := svc.CreateTeam(ctx, adm, "Sales")
	if err != nil {
		t.Fatal(err)
	}
	mk := func(email string, role tickets.Role, team *tickets.Team) *tickets.Agent {
		a, err := svc.CreateAgent(ctx, adm, tickets.NewAgent{Email: email, Role: role, TeamID: &team.ID, Password: "long enough password"})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	liNa, zhang := mk("li.na@example.com", tickets.RoleAgent, claims), mk("zhang.wei@example.com", tickets.RoleAgent, claims)
	chen, sale := mk("chen@example.com", tickets.RoleSupervisor, claims), mk("sale@example.com", tickets.RoleAgent, sales)
	fake := slackfake.NewFakeSlack()
	t.Cleanup(fake.Close)
	fake.AddUser("U1", "li.na@example.com")
	fake.AddChannel("C0123")
	s := notifications.NewSlack(notifications.SlackConfig{Token: "xoxb-test", APIURL: fake.URL(), PublicBaseURL: "https://desk.example.com",
		TeamChannels: map[string]string{"Claims": "C0123"}})
	d := &notifyDesk{svc: svc, box: outbox.New(svc), fake: fake, slack: s, chen: tickets.AgentActor(chen), liNa: tickets.AgentActor(liNa), sale: tickets.AgentActor(sale),
		liNaID: liNa.ID, zhangID: zhang.ID}
	// Collected once before the tests make news (agents and teams are not announced).
	if _, err := d.box.CollectAnnouncements(ctx); err != nil {
		t.Fatal(err)
	}
	return d
}

func (d *notifyDesk) urgent(t *testing.T, by tickets.Actor, subject string) *tickets.Ticket {
	t.Helper()
	tk, err := d.svc.CreateTicket(context.Background(), by, tickets.NewTicket{Phone: "+8613800138000", Subject: subject, Body: subject, Priority: tickets.PriorityUrgent})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// given is an SMS ticket (from a new customer) the supervisor gives to an agent.
func (d *notifyDesk) given(t *testing.T, to int64) *tickets.Ticket {
	t.Helper()
	ctx := context.Background()
	d.phones++
	res, err := d.svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone,
		Address: fmt.Sprintf("+86139%08d", d.phones), Body: "where is my claim?"})
	if err != nil {
		t.Fatal(err)
	}
	tk, err := d.svc.Assign(ctx, d.chen, res.Ticket.Ref(), tickets.Assignment{AssigneeID: &to})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func (d *notifyDesk) record(t *testing.T, box outbox.Box, ticketID int64) *outbox.SlackRecord {
	t.Helper()
	var id int64
	if err := d.svc.DB().NewSelect().Table(string(box)).Column("id").Where("ticket_id = ?", ticketID).Scan(context.Background(), &id); err != nil {
		t.Fatalf("no %s row for ticket %d: %v", box, ticketID, err)
	}
	r, err := d.box.SlackDelivery(context.Background(), box, id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func buttonsOf(p slackfake.FakePost) (string, map[string]string) {
	var text string
	buttons := map[string]string{}
	for _, b := range p.Blocks.BlockSet {
		switch b := b.(type) {
		case *slack.SectionBlock:
			text = b.Text.Text
		case *slack.ActionBlock:
			for _, e := range b.Elements.ElementSet {
				if btn, ok := e.(*slack.ButtonBlockElement); ok {
					buttons[btn.ActionID] = btn.Value
				}
			}
		}
	}
	return text, buttons
}

func TestNotifierDelivers(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newNotifyDesk(t, db)
		n := jobs.NewNotifier(d.box, d.slack, tickettest.Logger())
		urgent := d.urgent(t, d.liNa, "水管爆裂 burst pipe")
		mine := d.given(t, d.liNaID)
		lost := d.given(t, d.zhangID)
		nowhere := d.urgent(t, d.sale, "sales emergency")

		r, err := n.Deliver(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r.Collected != 4 || r.Sent != 2 || r.Failed != 1 || r.Skipped != 1 {
			t.Errorf("run = %+v", r)
		}
		posts := d.fake.Posts()
		if len(posts) != 2 {
			t.Fatalf("%d posts, want 2: %+v", len(posts), posts)
		}
		tests := []struct {
			post    slackfake.FakePost
			channel string
			ref     string
			text    string
			buttons []string
			box     outbox.Box
		}{
			{posts[0], "DU1", mine.Ref(), "is yours now", []string{notifications.ActionAcknowledge}, outbox.Notices},
			{posts[1], "C0123", urgent.Ref(), "紧急工单 Urgent ticket " + urgent.Ref(), []string{notifications.ActionAcknowledge, notifications.ActionTake}, outbox.Announcements},
		}
		for _, tc := range tests {
			text, buttons := buttonsOf(tc.post)
			if tc.post.Channel != tc.channel || !strings.Contains(text, tc.text) || !strings.Contains(text, "https://desk.example.com/tickets/"+tc.ref) {
				t.Errorf("post to %s: %q", tc.post.Channel, text)
			}
			if len(buttons) != len(tc.buttons) {
				t.Errorf("post to %s: buttons %v, want %v", tc.channel, buttons, tc.buttons)
			}
			rec := d.record(t, tc.box, mustID(t, tc.ref))
			if rec.Status != outbox.SlackSent || rec.TS == nil || *rec.TS != tc.post.TS || *rec.Channel != tc.channel {
				t.Errorf("%s record = %+v", tc.ref, rec)
			}
			box, id, ok := notifications.ParseAckValue(buttons[notifications.ActionAcknowledge])
			if !ok || box != tc.box {
				t.Errorf("acknowledge value %q", buttons[notifications.ActionAcknowledge])
			}
			if _, err := d.box.SlackDelivery(ctx, box, id); err != nil {
				t.Errorf("acknowledge value names no row: %v", err)
			}
			if v, ok := buttons[notifications.ActionTake]; ok && v != tc.ref {
				t.Errorf("take value %q, want %s", v, tc.ref)
			}
		}
		if rec := d.record(t, outbox.Notices, lost.ID); rec.Status != outbox.SlackFailed || !strings.Contains(rec.Error, "users_not_found") {
			t.Errorf("agent not on Slack: %+v", rec)
		}
		if rec := d.record(t, outbox.Announcements, nowhere.ID); rec.Status != outbox.SlackSkipped || !strings.Contains(rec.Error, "Sales") {
			t.Errorf("team without a channel: %+v", rec)
		}
		// A second run posts nothing again.
		if r, err := n.Deliver(ctx); err != nil || r != (jobs.NotifyResult{}) {
			t.Errorf("second run = %+v, %v", r, err)
		}
		if got := len(d.fake.Posts()); got != 2 {
			t.Errorf("%d posts after a second run, want 2", got)
		}
		// The failed notice is still the agent's to read in the API.
		if ns, _ := d.svc.Notices(ctx, d.zhangID, true, 10); len(ns) != 1 {
			t.Errorf("zhang has %d notices", len(ns))
		}
	})
}

func mustID(t *testing.T, ref string) int64 {
	id, ok := tickets.ParseRef(ref)
	if !ok {
		t.Fatalf("bad ref %s", ref)
	}
	return id
}

func TestNotifierWithoutSlackSkips(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newNotifyDesk(t, db)
		for _, s := range []*notifications.Slack{nil, notifications.NewSlack(notifications.SlackConfig{APIURL: d.fake.URL()})} {
			tk := d.given(t, d.liNaID)
			r, err := jobs.NewNotifier(d.box, s, tickettest.Logger()).Deliver(ctx)
			if err != nil || r.Skipped != 1 || r.Sent != 0 {
				t.Errorf("run = %+v, %v", r, err)
			}
			if rec := d.record(t, outbox.Notices, tk.ID); rec.Status != outbox.SlackSkipped || !strings.Contains(rec.Error, "SLACK_BOT_TOKEN") {
				t.Errorf("record = %+v", rec)
			}
		}
		if n := len(d.fake.Posts()) + d.fake.Calls("users.lookupByEmail"); n != 0 {
			t.Errorf("Slack was called %d times without a token", n)
		}
		if ns, _ := d.svc.Notices(ctx, d.liNaID, true, 10); len(ns) != 2 {
			t.Errorf("li.na has %d unread notices in the API, want 2", len(ns))
		}
	})
}

func TestNotifierRetriesPassingFailures(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newNotifyDesk(t, db)
		n := jobs.NewNotifier(d.box, d.slack, tickettest.Logger())
		n.MaxAttempts = 3
		first, second := d.given(t, d.liNaID), d.given(t, d.liNaID)

		tests := []struct {
			fail       string
			wantSent   int
			wantRetry  int
			wantFailed int
			firstIs    string
			secondIs   string
		}{
			{"ratelimited", 0, 1, 0, outbox.SlackPending, outbox.SlackPending}, // the run stops at the first rate limit
			{"internal_error", 0, 1, 0, outbox.SlackPending, outbox.SlackPending},
			{"", 2, 0, 0, outbox.SlackSent, outbox.SlackSent},
		}
		for i, tc := range tests {
			d.fake.Fail("chat.postMessage", tc.fail)
			r, err := n.Deliver(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if r.Sent != tc.wantSent || r.RetryLater != tc.wantRetry || r.Failed != tc.wantFailed {
				t.Errorf("run %d (%s) = %+v", i, tc.fail, r)
			}
			if got := d.record(t, outbox.Notices, first.ID); got.Status != tc.firstIs {
				t.Errorf("run %d: first is %s (%s)", i, got.Status, got.Error)
			}
			if got := d.record(t, outbox.Notices, second.ID); got.Status != tc.secondIs {
				t.Errorf("run %d: second is %s", i, got.Status)
			}
		}
		if rec := d.record(t, outbox.Notices, first.ID); rec.Attempts != 2 || rec.Error != "" {
			t.Errorf("first after retries = %+v", rec)
		}
		if got := len(d.fake.Posts()); got != 2 {
			t.Errorf("%d posts, want 2", got)
		}

		// Passing failures that never pass are given up after MaxAttempts.
		third := d.given(t, d.liNaID)
		d.fake.Fail("chat.postMessage", "internal_error")
		for range 3 {
			if _, err := n.Deliver(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if rec := d.record(t, outbox.Notices, third.ID); rec.Status != outbox.SlackFailed || !strings.Contains(rec.Error, "gave up after 3 attempts") {
			t.Errorf("third = %+v", rec)
		}
	})
}

func TestNotifierPostsOnceWhenRunsOverlap(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newNotifyDesk(t, db)
		for range 3 {
			d.given(t, d.liNaID)
			d.urgent(t, d.liNa, "urgent")
		}
		d.fake.SlowPosts(30 * time.Millisecond)
		var wg sync.WaitGroup
		var mu sync.Mutex
		sent := 0
		for range 4 {
			wg.Go(func() {
				r, err := jobs.NewNotifier(d.box, d.slack, tickettest.Logger()).Deliver(ctx)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				sent += r.Sent
				mu.Unlock()
			})
		}
		wg.Wait()
		posts := d.fake.Posts()
		seen := map[string]bool{}
		for _, p := range posts {
			_, buttons := buttonsOf(p)
			if v := buttons[notifications.ActionAcknowledge]; seen[v] {
				t.Errorf("%s posted twice", v)
			} else {
				seen[v] = true
			}
		}
		if len(posts) != 6 || sent != 6 {
			t.Errorf("%d posts (%d recorded sent), want 6", len(posts), sent)
		}
	})
}

// TestNotifyTaskOnTheWorker runs the periodic task on the embedded broker many times.
func TestNotifyTaskOnTheWorker(t *testing.T) {
	d := newNotifyDesk(t, tickettest.SQLite(t))
	log := tickettest.Logger()
	b, err := jobs.OpenBroker("", log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	mux := asynq.NewServeMux()
	jobs.NewNotifier(d.box, d.slack, log).Register(mux)
	srv := jobs.NewServer(b, 4, log)
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go jobs.RunNotifier(ctx, b, 100*time.Millisecond, log)

	tk := d.urgent(t, d.liNa, "水管爆裂")
	given := d.given(t, d.liNaID)
	deadline := time.Now().Add(10 * time.Second)
	for len(d.fake.Posts()) < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	// Three more runs of the notifier, finished, before saying nothing more was posted.
	insp := asynq.NewInspector(b.Opt)
	defer insp.Close()
	processed := func() int {
		q, err := insp.GetQueueInfo("critical")
		if err != nil {
			return 0
		}
		return q.Processed
	}
	ran := processed()
	waitUntil(t, 10*time.Second, func() bool { return processed() >= ran+3 })
	if got := len(d.fake.Posts()); got != 2 {
		t.Fatalf("%d posts, want 2", got)
	}
	if rec := d.record(t, outbox.Announcements, tk.ID); rec.Status != outbox.SlackSent {
		t.Errorf("announcement %+v", rec)
	}
	if rec := d.record(t, outbox.Notices, given.ID); rec.Status != outbox.SlackSent {
		t.Errorf("notice %+v", rec)
	}
}

// Slack refusing one message with a code not known here holds only that message: the run
// goes on to the others (a rate limit or an outage still holds them all).
func TestNotifierUnknownRefusalHoldsOnlyThatNotice(t *testing.T) {
	db := tickettest.SQLite(t)
	ctx := context.Background()
	d := newNotifyDesk(t, db)
	n := jobs.NewNotifier(d.box, d.slack, tickettest.Logger())
	first, second := d.given(t, d.liNaID), d.given(t, d.liNaID)
	d.fake.Fail("chat.postMessage", "user_not_visible")
	r, err := n.Deliver(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.RetryLater != 2 {
		t.Errorf("run = %+v, want both notices tried and held", r)
	}
	for _, id := range []int64{first.ID, second.ID} {
		if rec := d.record(t, outbox.Notices, id); rec.Status != outbox.SlackPending || rec.Attempts != 1 {
			t.Errorf("notice %d = %+v, want pending after one attempt", id, rec)
		}
	}
}

// Missed deadlines and complaints are told to the ticket's team channel, once per event;
// the supervisors' notices for them stay in the API and are not also sent as DMs.
func TestTeamChannelHearsDeadlinesAndComplaints(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newNotifyDesk(t, db)
		n := jobs.NewNotifier(d.box, d.slack, tickettest.Logger())
		tk := d.given(t, d.liNaID) // a Claims ticket
		if _, err := n.Deliver(ctx); err != nil {
			t.Fatal(err)
		}
		before := len(d.fake.Posts())

		// The first response is overdue: the sweep records the breach.
		if _, err := db.NewUpdate().Table("tickets").Set("first_response_due_at = ?", time.Now().Add(-time.Minute)).Where("id = ?", tk.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if r, err := deadlines.New(d.svc).Sweep(ctx); err != nil || r.Breaches != 1 {
			t.Fatalf("sweep: %+v %v", r, err)
		}
		cps := complaints.New(d.svc)
		c, err := cps.Open(ctx, d.chen, complaints.NewComplaint{TicketRef: tk.Ref(), Summary: "nobody answered"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cps.Decide(ctx, d.chen, c.Ref(), "We apologise; an agent calls today.", "upheld"); err != nil {
			t.Fatal(err)
		}
		for range 2 { // a second run posts nothing new
			if _, err := n.Deliver(ctx); err != nil {
				t.Fatal(err)
			}
		}
		var texts []string
		for _, p := range d.fake.Posts()[before:] {
			if p.Channel == "C0123" {
				texts = append(texts, p.Text)
			}
		}
		joined := strings.Join(texts, "\n")
		for _, want := range []string{"missed its first response deadline", "Complaint " + c.Ref() + " opened on " + tk.Ref(), "decided: upheld"} {
			if !strings.Contains(joined, want) {
				t.Errorf("the Claims channel did not hear %q:\n%s", want, joined)
			}
		}
		if len(texts) != 3 {
			t.Errorf("%d channel posts, want 3:\n%s", len(texts), joined)
		}
		// The supervisor's breach notice is in the API, not in a DM.
		ns, _ := d.svc.Notices(ctx, d.chen.Agent.ID, false, 0)
		var breach *tickets.Notice
		for _, x := range ns {
			if x.Kind == "sla.breached" {
				breach = x
			}
		}
		if breach == nil {
			t.Fatal("the supervisor has no breach notice")
		}
		if rec, err := d.box.SlackDelivery(ctx, outbox.Notices, breach.ID); err != nil || rec.Status != outbox.SlackSkipped {
			t.Errorf("breach notice Slack delivery %+v %v, want skipped (posted in the channel)", rec, err)
		}
	})
}
