package jobs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/hotlinedesk/hotline/channels"
	"github.com/hotlinedesk/hotline/channels/sms"
	"github.com/hotlinedesk/hotline/channels/twilio"
	"github.com/hotlinedesk/hotline/jobs"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/delivery"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// fakeTwilio answers Twilio's Messages API the way Twilio does, and records what it got.
type fakeTwilio struct {
	mu    sync.Mutex
	mode  string // "", "invalid" (400, code 21211), "down" (503)
	posts []url.Values
	auth  []string
	// hold, when set, keeps the next request waiting at Twilio (after closing held) until
	// hold is closed: a send in flight.
	hold, held chan struct{}
}

func (f *fakeTwilio) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/2010-04-01/Accounts/AC123/Messages.json") {
		http.NotFound(w, r)
		return
	}
	r.ParseForm() //nolint:errcheck
	user, pass, _ := r.BasicAuth()
	f.mu.Lock()
	f.posts = append(f.posts, r.PostForm)
	f.auth = append(f.auth, user+":"+pass)
	n, mode, hold, held := len(f.posts), f.mode, f.hold, f.held
	f.hold, f.held = nil, nil
	f.mu.Unlock()
	if hold != nil {
		close(held)
		<-hold
	}
	w.Header().Set("Content-Type", "application/json")
	switch mode {
	case "invalid":
		w.WriteHeader(400)
		json.NewEncoder(w).Encode(map[string]any{"code": 21211, "message": "The 'To' number is not a valid phone number.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}) //nolint:errcheck
	case "down":
		w.WriteHeader(503)
		json.NewEncoder(w).Encode(map[string]any{"code": 20500, "message": "Service unavailable", "status": 503}) //nolint:errcheck
	default:
		w.WriteHeader(201)
		json.NewEncoder(w).Encode(map[string]any{"sid": fmt.Sprintf("SM%032d", n), "status": "queued", "to": r.PostForm.Get("To"), "body": r.PostForm.Get("Body")}) //nolint:errcheck
	}
}

func (f *fakeTwilio) sent() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.posts...)
}

type sendDesk struct {
	svc      *tickets.Service
	fake     *fakeTwilio
	admin    tickets.Actor
	handlers *jobs.Handlers // another worker's, beside the running server's
	broker   *jobs.Broker
	start    func()
}

func newSendDesk(t *testing.T) *sendDesk {
	t.Helper()
	db := tickettest.SQLite(t)
	log := tickettest.Logger()
	b, err := jobs.OpenBroker("", log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	svc := tickettest.Service(db, tickets.SystemClock{})
	svc.SetComplaints(complaints.New(svc)) // as app wires it
	sched := jobs.NewScheduler(b)
	t.Cleanup(func() { sched.Close() })
	svc.SetScheduler(sched)
	fake := &fakeTwilio{}
	server := httptest.NewServer(fake)
	t.Cleanup(server.Close)
	sender := sms.NewSender(twilio.Config{AccountSID: "AC123", AuthToken: "0123456789abcdef0123456789abcdef", APIURL: server.URL}, "+8610095500", "",
		"https://desk.example.com/webhooks/twilio/sms/status")
	admin, err := svc.CreateAgent(context.Background(), tickets.Actor{Kind: "system"}, tickets.NewAgent{Email: "a@example.com", Role: tickets.RoleAdmin, Password: "long enough password"})
	if err != nil {
		t.Fatal(err)
	}
	senders := map[tickets.Channel]channels.Sender{tickets.ChannelSMS: sender}
	d := &sendDesk{svc: svc, fake: fake, admin: tickets.AgentActor(admin), handlers: jobs.NewHandlers(svc, log, senders, sched), broker: b}
	d.start = func() {
		mux := asynq.NewServeMux()
		jobs.NewHandlers(svc, log, senders, sched).Register(mux)
		srv := jobs.NewServer(b, 4, log)
		if err := srv.Start(mux); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Shutdown)
	}
	return d
}

func (d *sendDesk) message(t *testing.T, id int64) *tickets.Message {
	t.Helper()
	var m tickets.Message
	if err := d.svc.DB().NewSelect().Model(&m).Where("id = ?", id).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &m
}

func (d *sendDesk) ticketFrom(t *testing.T, phone string) string {
	t.Helper()
	res, err := d.svc.Intake(context.Background(), tickets.Inbound{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: phone, Body: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	return res.Ticket.Ref()
}

func TestRepliesAreSentThroughTwilio(t *testing.T) {
	d := newSendDesk(t)
	d.start()
	ref := d.ticketFrom(t, "+8613800138000")
	m, err := d.svc.Reply(context.Background(), d.admin, ref, "您好，理赔款已于今日支付。")
	if err != nil {
		t.Fatal(err)
	}
	if m.DeliveryStatus != "queued" {
		t.Errorf("stored as %s, want queued before sending", m.DeliveryStatus)
	}
	waitUntil(t, 10*time.Second, func() bool { return d.message(t, m.ID).ProviderMessageID != nil })
	got := d.message(t, m.ID)
	if got.DeliveryStatus != "sent" || !strings.HasPrefix(*got.ProviderMessageID, "SM") {
		t.Errorf("after sending: %s %v", got.DeliveryStatus, *got.ProviderMessageID)
	}
	posts := d.fake.sent()
	if len(posts) != 1 {
		t.Fatalf("Twilio got %d requests, want 1", len(posts))
	}
	p := posts[0]
	if p.Get("To") != "+8613800138000" || p.Get("From") != "+8610095500" || p.Get("Body") != "您好，理赔款已于今日支付。" ||
		p.Get("StatusCallback") != "https://desk.example.com/webhooks/twilio/sms/status" || d.fake.auth[0] != "AC123:0123456789abcdef0123456789abcdef" {
		t.Errorf("request to Twilio: %v auth %s", p, d.fake.auth[0])
	}

	// Never twice: while the server's task has the next reply at Twilio, another worker
	// runs a task for the same message (the reconciler's, or a retry); Twilio gets it once.
	hold, held := make(chan struct{}), make(chan struct{})
	d.fake.mu.Lock()
	d.fake.hold, d.fake.held = hold, held
	d.fake.mu.Unlock()
	m2, err := d.svc.Reply(context.Background(), d.admin, ref, "请提供保单号。")
	if err != nil {
		t.Fatal(err)
	}
	<-held
	if err := d.handlers.SendForTest(context.Background(), m2.ID); err != nil {
		t.Errorf("the other worker's task: %v", err)
	}
	close(hold)
	waitUntil(t, 10*time.Second, func() bool { return d.message(t, m2.ID).ProviderMessageID != nil })
	if n := len(d.fake.sent()); n != 2 {
		t.Errorf("Twilio got %d requests for two replies, want 2: the second reply was sent twice", n)
	}
}

func TestOptedOutNumbersAreNeverSentTo(t *testing.T) {
	d := newSendDesk(t)
	ctx := context.Background()
	ref := d.ticketFrom(t, "+8613800138000")
	m, err := d.svc.Reply(ctx, d.admin, ref, "hello")
	if err != nil {
		t.Fatal(err)
	}
	// The customer texts STOP before the queued reply goes out.
	if err := delivery.New(d.svc).OptOut(ctx, tickets.IdentityPhone, "+8613800138000"); err != nil {
		t.Fatal(err)
	}
	d.start()
	waitUntil(t, 10*time.Second, func() bool { return d.message(t, m.ID).DeliveryStatus == "failed" })
	if got := d.message(t, m.ID); !strings.Contains(got.DeliveryError, "opted out") {
		t.Errorf("delivery error %q, want the reason", got.DeliveryError)
	}
	if n := len(d.fake.sent()); n != 0 {
		t.Errorf("Twilio got %d requests for an opted-out number", n)
	}
}

func TestTwilioRefusalsAndOutages(t *testing.T) {
	d := newSendDesk(t)
	ctx := context.Background()
	d.fake.mode = "invalid"
	d.start()
	ref := d.ticketFrom(t, "+8613800138000")
	m, _ := d.svc.Reply(ctx, d.admin, ref, "hello")
	waitUntil(t, 10*time.Second, func() bool { return d.message(t, m.ID).DeliveryStatus == "failed" })
	if got := d.message(t, m.ID); !strings.Contains(got.DeliveryError, "21211") {
		t.Errorf("delivery error %q, want Twilio's code", got.DeliveryError)
	}
	td, _ := d.svc.Ticket(ctx, ref)
	if last := td.Events[len(td.Events)-1]; last.Kind != "delivery.failed" {
		t.Errorf("last event %s, want delivery.failed on the ticket", last.Kind)
	}

	// An outage is retried, not recorded as a failure.
	d.fake.mu.Lock()
	d.fake.mode = "down"
	d.fake.mu.Unlock()
	m2, _ := d.svc.Reply(ctx, d.admin, ref, "second")
	waitUntil(t, 10*time.Second, func() bool { return len(d.fake.sent()) >= 2 })
	// Only once its task has failed and waits for its retry does the message's state say
	// what the outage did to it.
	insp := asynq.NewInspector(d.broker.Opt)
	defer insp.Close()
	waitUntil(t, 10*time.Second, func() bool {
		retry, _ := insp.ListRetryTasks("critical")
		return len(retry) > 0
	})
	if got := d.message(t, m2.ID); got.DeliveryStatus != "queued" {
		t.Errorf("during an outage: %s, want still queued for a retry", got.DeliveryStatus)
	}
}

// At 23:00 in Shanghai the resolution notice waits for 08:00; the agent's reply goes now.
func TestQuietHoursHoldAutomatedSMS(t *testing.T) {
	db := tickettest.SQLite(t)
	log := tickettest.Logger()
	b, err := jobs.OpenBroker("", log)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	// 23:00 in Shanghai, the next one to come: the held send is a real Asynq task, so its
	// 08:00 must still be ahead of the wall clock when the test looks for it.
	night := time.Now().UTC().Truncate(24 * time.Hour).Add(15 * time.Hour)
	if night.Before(time.Now().Add(time.Hour)) {
		night = night.Add(24 * time.Hour)
	}
	clock := tickettest.NewClock(night)
	svc := tickets.NewService(db, clock, tickets.Config{DefaultCountry: "86", PasswordCost: 4, Notices: true}, log)
	svc.SetComplaints(complaints.New(svc)) // as app wires it
	sched := jobs.NewScheduler(b)
	defer sched.Close()
	svc.SetScheduler(sched)
	fake := &fakeTwilio{}
	server := httptest.NewServer(fake)
	defer server.Close()
	sender := sms.NewSender(twilio.Config{AccountSID: "AC123", AuthToken: "0123456789abcdef0123456789abcdef", APIURL: server.URL}, "+8610095500", "", "")
	mux := asynq.NewServeMux()
	jobs.NewHandlers(svc, log, map[tickets.Channel]channels.Sender{tickets.ChannelSMS: sender}, sched).Register(mux)
	srv := jobs.NewServer(b, 2, log)
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()

	ctx := context.Background()
	admin, _ := svc.CreateAgent(ctx, tickets.Actor{Kind: "system"}, tickets.NewAgent{Email: "a@example.com", Role: tickets.RoleAdmin, Password: "long enough password"})
	res, _ := svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: "+8613800138000", Body: "hello"})
	if _, err := svc.Reply(ctx, tickets.AgentActor(admin), res.Ticket.Ref(), "Done, sorry for the wait."); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SetStatus(ctx, tickets.AgentActor(admin), res.Ticket.Ref(), tickets.StatusResolved, ""); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, func() bool { return len(fake.sent()) == 1 })
	insp := asynq.NewInspector(b.Opt)
	defer insp.Close()
	held := func() int {
		scheduled, _ := insp.ListScheduledTasks("critical")
		n := 0
		for _, task := range scheduled {
			if task.Type == jobs.TypeSend && task.NextProcessAt.Equal(night.Add(9*time.Hour)) { // 08:00 Shanghai
				n++
			}
		}
		return n
	}
	// The notice's send is held for 08:00 once its task has run at 23:00; by then it has
	// decided not to send, so what was sent is final.
	waitUntil(t, 10*time.Second, func() bool { return held() == 1 })
	if posts := fake.sent(); len(posts) != 1 || posts[0].Get("Body") != "Done, sorry for the wait." {
		t.Fatalf("sent at 23:00: %v, want only the agent's reply", posts)
	}
	if n := held(); n != 1 {
		t.Errorf("%d sends held for 08:00, want the resolution notice", n)
	}
}
