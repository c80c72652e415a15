package tickets_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// batchedService is a desk whose intakes run one transaction at a time, so that a test can
// hold the first and have the next gather every message it sends (see together).
func batchedService(db *bun.DB) *tickets.Service {
	return tickets.NewService(db, tickettest.NewClock(t0),
		tickets.Config{DefaultCountry: "86", PasswordCost: 4, IntakeBatches: 1}, tickettest.Logger())
}

// batchCall is a message sent to Intake, with the caller's context (nil: one never done).
type batchCall struct {
	in  tickets.Inbound
	ctx context.Context
}

// together stores calls in one batch, as concurrent webhooks would be: a first message
// (from a customer of its own, whose text matches no rule) is sent alone and its batch
// held while every call joins the queue, in order; then all are let go. hooks' Started
// runs for the calls' batch only; Committed and Lookup for every batch. It fails the test
// unless the calls really were stored together.
func together(t *testing.T, svc *tickets.Service, hooks tickets.IntakeHooks, calls []batchCall) ([]*tickets.IntakeResult, []error) {
	t.Helper()
	queued := make(chan int, len(calls)+1)
	held, release := make(chan struct{}), make(chan struct{})
	var (
		mu    sync.Mutex
		sizes []int
	)
	tickets.SetIntakeHooks(svc, tickets.IntakeHooks{
		Queued: func(n int) { queued <- n },
		Started: func(ins []tickets.Inbound) {
			mu.Lock()
			sizes = append(sizes, len(ins))
			first := len(sizes) == 1
			mu.Unlock()
			if first {
				close(held)
				<-release
				return
			}
			if hooks.Started != nil {
				hooks.Started(ins)
			}
		},
		Committed: hooks.Committed,
		Lookup:    hooks.Lookup,
	})
	defer tickets.SetIntakeHooks(svc, tickets.IntakeHooks{})

	lead := make(chan error, 1)
	go func() {
		_, err := svc.Intake(context.Background(), sms("+8613900000000", "hello", "LEAD"))
		lead <- err
	}()
	<-queued
	<-held
	res, errs := make([]*tickets.IntakeResult, len(calls)), make([]error, len(calls))
	var wg sync.WaitGroup
	for i, c := range calls {
		ctx := c.ctx
		if ctx == nil {
			ctx = context.Background()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i], errs[i] = svc.Intake(ctx, c.in)
		}()
		if n := <-queued; n != i+1 {
			close(release)
			t.Fatalf("%d calls waiting after the %dth joined", n, i+1)
		}
	}
	close(release)
	wg.Wait()
	if err := <-lead; err != nil {
		t.Fatalf("first message: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(sizes, []int{1, len(calls)}) {
		t.Fatalf("batch sizes %v, want [1 %d]: the messages were not stored together", sizes, len(calls))
	}
	return res, errs
}

func countRows(t *testing.T, db *bun.DB, table, where string, args ...any) int {
	t.Helper()
	n, err := db.NewSelect().Table(table).Where(where, args...).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Messages from many new customers stored in one batch are given to agents as the same
// messages one by one would be: an agent never holds more open tickets than their
// capacity, counting those the batch itself gave them, and the rest wait in the team queue.
func TestBatchAssignsWithinCapacity(t *testing.T) {
	cases := []struct {
		name       string
		capacities []int
		holding    []int // open tickets each agent holds before the batch
		messages   int
		want       []int // open tickets each agent holds after it
	}{
		{name: "one agent of capacity 2", capacities: []int{2}, holding: []int{0}, messages: 8, want: []int{2}},
		{name: "two agents, by load", capacities: []int{2, 3}, holding: []int{0, 0}, messages: 8, want: []int{2, 3}},
		{name: "an agent already holding one", capacities: []int{2}, holding: []int{1}, messages: 5, want: []int{2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
				ctx := context.Background()
				svc := batchedService(db)
				admin := adminActor(t, svc)
				claims, err := svc.CreateTeam(ctx, admin, "Claims")
				if err != nil {
					t.Fatal(err)
				}
				if _, err := svc.SaveRoutingRule(ctx, admin, &tickets.RoutingRule{Name: "claims", Keywords: "claim", TeamID: claims.ID}); err != nil {
					t.Fatal(err)
				}
				agents := make([]*tickets.Agent, len(c.capacities))
				for i, capacity := range c.capacities {
					a, err := svc.CreateAgent(ctx, admin, tickets.NewAgent{Email: fmt.Sprintf("agent%d@example.com", i), Role: tickets.RoleAgent,
						TeamID: &claims.ID, Capacity: capacity, Password: "long enough password"})
					if err != nil {
						t.Fatal(err)
					}
					if _, err := svc.SetOnline(ctx, tickets.AgentActor(a), true); err != nil {
						t.Fatal(err)
					}
					agents[i] = a
				}
				phone := 0
				next := func(body string) tickets.Inbound {
					phone++
					return sms(fmt.Sprintf("+86138000%05d", phone), body, fmt.Sprintf("SM%d", phone))
				}
				for i, n := range c.holding {
					for range n {
						res, err := svc.Intake(ctx, next("my claim"))
						if err != nil {
							t.Fatal(err)
						}
						if res.Ticket.AssigneeID == nil || *res.Ticket.AssigneeID != agents[i].ID {
							t.Fatalf("ticket before the batch not given to agent %d", i)
						}
					}
				}
				var calls []batchCall
				for range c.messages {
					calls = append(calls, batchCall{in: next("about my claim")})
				}
				res, errs := together(t, svc, tickets.IntakeHooks{}, calls)
				for i := range calls {
					if errs[i] != nil || !res[i].Created {
						t.Fatalf("message %d: %v, want a new ticket", i, errs[i])
					}
				}
				held := 0
				for i, a := range agents {
					got := countRows(t, db, "tickets", "assignee_id = ? AND status IN ('new', 'open', 'pending')", a.ID)
					if got != c.want[i] {
						t.Errorf("agent %d (capacity %d) holds %d open tickets, want %d", i, c.capacities[i], got, c.want[i])
					}
					held += got
				}
				total := c.messages
				for _, n := range c.holding {
					total += n
				}
				if waiting := countRows(t, db, "tickets", "team_id = ? AND assignee_id IS NULL", claims.ID); waiting != total-held {
					t.Errorf("%d tickets wait in the team queue, want %d", waiting, total-held)
				}
			})
		})
	}
}

// A voicemail's recording and its transcription arrive as two callbacks under one provider
// id; stored in one batch they make one message with the text and the recording, as when
// they are stored one after the other.
func TestBatchMergesVoicemailParts(t *testing.T) {
	const sid = "CA0123456789abcdef0123456789abcdef"
	part := func(body, url string) tickets.Inbound {
		in := tickets.Inbound{Channel: tickets.ChannelPhone, From: tickets.IdentityPhone, Address: "+8613700000001",
			ProviderMessageID: "voicemail:" + sid, Merge: true, Subject: "电话留言 Voicemail", Body: body}
		if url != "" {
			in.Attachments = []tickets.NewAttachment{{Filename: "recording.mp3", ContentType: "audio/mpeg", URL: url}}
		}
		return in
	}
	recording := part("", "https://api.twilio.com/recordings/RE1.mp3")
	transcription := part("我的理赔款还没有到账", "")
	cases := []struct {
		name  string
		parts []tickets.Inbound
	}{
		{"recording then transcription", []tickets.Inbound{recording, transcription}},
		{"transcription then recording", []tickets.Inbound{transcription, recording}},
		{"recording retried, then transcription", []tickets.Inbound{recording, recording, transcription}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
				ctx := context.Background()
				svc := batchedService(db)
				var calls []batchCall
				for _, in := range c.parts {
					calls = append(calls, batchCall{in: in})
				}
				res, errs := together(t, svc, tickets.IntakeHooks{}, calls)
				for i := range calls {
					if errs[i] != nil {
						t.Fatalf("part %d: %v", i, errs[i])
					}
					if res[i].Message == nil || res[i].Message.ID != res[0].Message.ID {
						t.Errorf("part %d answered with another message than the first part's", i)
					}
				}
				var ms []tickets.Message
				if err := db.NewSelect().Model(&ms).Where("provider_message_id = ?", "voicemail:"+sid).Scan(ctx); err != nil {
					t.Fatal(err)
				}
				if len(ms) != 1 {
					t.Fatalf("%d messages stored for one voicemail, want 1", len(ms))
				}
				if ms[0].Body != transcription.Body {
					t.Errorf("voicemail text %q, want the transcription %q", ms[0].Body, transcription.Body)
				}
				var urls []string
				if err := db.NewSelect().Table("attachments").Column("url").Where("message_id = ?", ms[0].ID).Scan(ctx, &urls); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(urls, []string{recording.Attachments[0].URL}) {
					t.Errorf("voicemail attachments %v, want the recording once", urls)
				}
				if n := countRows(t, db, "tickets", "channel = ?", tickets.ChannelPhone); n != 1 {
					t.Errorf("%d phone tickets, want 1", n)
				}
			})
		})
	}
}

// batchScheduler keeps the timers the service asked for.
type batchScheduler struct {
	mu     sync.Mutex
	timers map[int64]bool // tickets with a first-response timer
}

func (r *batchScheduler) Schedule(_ context.Context, ts []tickets.Timer) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, tm := range ts {
		if tm.Kind == "first" {
			r.timers[tm.ID] = true
		}
	}
	return nil
}

func (r *batchScheduler) Deliver(context.Context, []int64) error { return nil }

// Once a batch has committed, every message in it is stored, and every caller hears so:
// a failure after the commit (reading back a retried message's ticket, the batch's
// deadline passing), or a caller giving up once the batch had started, fails nobody; the
// new tickets' timers are set; and a retry of a stored message is a duplicate, not a
// second message.
func TestBatchAnswersEveryCommittedMessage(t *testing.T) {
	cases := []struct {
		name string
		err  error // what reading back a stored message fails with
	}{
		{"read-back fails", errors.New("connection reset by peer")},
		{"batch deadline passed", context.DeadlineExceeded},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
				ctx := context.Background()
				svc := batchedService(db)
				sched := &batchScheduler{timers: map[int64]bool{}}
				svc.SetScheduler(sched)
				old, err := svc.Intake(ctx, sms("+8613800000001", "earlier", "OLD"))
				if err != nil {
					t.Fatal(err)
				}
				startedCtx, giveUpAtStart := context.WithCancel(ctx)
				defer giveUpAtStart()
				committedCtx, giveUpAtCommit := context.WithCancel(ctx)
				defer giveUpAtCommit()
				calls := []batchCall{
					{in: sms("+8613800000002", "first question", "SM2")},
					{in: sms("+8613800000003", "second question", "SM3"), ctx: startedCtx},
					{in: sms("+8613800000001", "earlier", "OLD")}, // a retry of a stored message
					{in: sms("+8613800000004", "third question", "SM4"), ctx: committedCtx},
				}
				res, errs := together(t, svc, tickets.IntakeHooks{
					Started: func([]tickets.Inbound) { giveUpAtStart() },
					Committed: func(ins []tickets.Inbound) {
						if slices.ContainsFunc(ins, func(in tickets.Inbound) bool { return in.ProviderMessageID == "SM4" }) {
							giveUpAtCommit()
						}
					},
					Lookup: func(context.Context, tickets.Inbound) error { return c.err },
				}, calls)
				for i, call := range calls {
					if errs[i] != nil {
						t.Errorf("%s: caller told %v, though its message was stored", call.in.ProviderMessageID, errs[i])
						continue
					}
					if call.in.ProviderMessageID == "OLD" {
						if !res[i].Duplicate || res[i].Ticket == nil || res[i].Ticket.Ref() != old.Ticket.Ref() {
							t.Errorf("retry of a stored message: %+v, want a duplicate on %s", res[i], old.Ticket.Ref())
						}
						continue
					}
					if !res[i].Created || res[i].Ticket == nil {
						t.Errorf("%s: %+v, want a new ticket", call.in.ProviderMessageID, res[i])
						continue
					}
					sched.mu.Lock()
					timed := sched.timers[res[i].Ticket.ID]
					sched.mu.Unlock()
					if !timed {
						t.Errorf("%s: no first-response timer set for %s", call.in.ProviderMessageID, res[i].Ticket.Ref())
					}
				}
				// A webhook retried after all is a duplicate of what was stored.
				for _, call := range calls {
					again, err := svc.Intake(ctx, call.in)
					if err != nil || !again.Duplicate {
						t.Errorf("retry of %s: %+v, %v; want a duplicate", call.in.ProviderMessageID, again, err)
					}
					if n := countRows(t, db, "messages", "provider_message_id = ?", call.in.ProviderMessageID); n != 1 {
						t.Errorf("%s stored %d times, want once", call.in.ProviderMessageID, n)
					}
				}
			})
		})
	}
}
