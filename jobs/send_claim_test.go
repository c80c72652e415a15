package jobs_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/channels"
	"github.com/hotlinedesk/hotline/jobs"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/delivery"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// countingSender is a provider that counts what it is asked to send, per message. When
// holdFirst is set, the first call waits (in flight at the provider) until release is
// closed; when die is set, the calling goroutine ends inside the call, as a worker killed
// mid-send: nothing after it runs.
type countingSender struct {
	mu        sync.Mutex
	sends     map[int64]int
	total     int
	holdFirst bool
	die       bool
	entered   chan struct{}
	release   chan struct{}
}

func newCountingSender() *countingSender {
	return &countingSender{sends: map[int64]int{}, entered: make(chan struct{}), release: make(chan struct{})}
}

func (c *countingSender) Send(ctx context.Context, m channels.Outbound) (string, error) {
	c.mu.Lock()
	c.sends[m.MessageID]++
	c.total++
	n, hold, die := c.total, c.holdFirst, c.die
	c.mu.Unlock()
	if die {
		runtime.Goexit()
	}
	if hold && n == 1 {
		close(c.entered)
		<-c.release
	}
	return fmt.Sprintf("SM%032d", n), nil
}

func (c *countingSender) sent() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

func (c *countingSender) count(id int64) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sends[id]
}

type claimDesk struct {
	svc    *tickets.Service
	clock  *tickettest.Clock
	h      *jobs.Handlers
	insp   *asynq.Inspector
	sender *countingSender
	admin  tickets.Actor
	ref    string
}

// shanghai is a wall-clock time in the calendar's zone, as UTC.
func shanghai(day, hour, minute int) time.Time {
	return time.Date(2026, 12, day, hour, minute, 0, 0, time.FixedZone("CST", 8*3600)).UTC()
}

// newClaimDesk is a desk on db whose send tasks the test runs itself (no Asynq server), as
// many workers would; its broker only shows what was queued.
func newClaimDesk(t *testing.T, db *bun.DB, now time.Time) *claimDesk {
	t.Helper()
	log := tickettest.Logger()
	b, err := jobs.OpenBroker("", log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	clock := tickettest.NewClock(now)
	svc := tickets.NewService(db, clock, tickets.Config{DefaultCountry: "86", PasswordCost: 4, Notices: true}, log)
	svc.SetComplaints(complaints.New(svc)) // as app wires it
	sched := jobs.NewScheduler(b)
	t.Cleanup(func() { sched.Close() })
	svc.SetScheduler(sched)
	sender := newCountingSender()
	ctx := context.Background()
	admin, err := svc.CreateAgent(ctx, tickets.Actor{Kind: "system"}, tickets.NewAgent{Email: "a@example.com", Role: tickets.RoleAdmin, Password: "long enough password"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: "+8613800138000", Body: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	insp := asynq.NewInspector(b.Opt)
	t.Cleanup(func() { insp.Close() })
	return &claimDesk{svc: svc, clock: clock, insp: insp, sender: sender, admin: tickets.AgentActor(admin), ref: res.Ticket.Ref(),
		h: jobs.NewHandlers(svc, log, map[tickets.Channel]channels.Sender{tickets.ChannelSMS: sender}, sched)}
}

// reply is an agent's reply whose send task is then lost (Redis flushed).
func (d *claimDesk) lostReply(t *testing.T) int64 {
	t.Helper()
	m, err := d.svc.Reply(context.Background(), d.admin, d.ref, "您好，已处理。")
	if err != nil {
		t.Fatal(err)
	}
	d.dropQueued(t)
	return m.ID
}

// notice is the resolution notice, an automated SMS that quiet hours hold.
func (d *claimDesk) notice(t *testing.T) int64 {
	t.Helper()
	ctx := context.Background()
	if _, err := d.svc.SetStatus(ctx, d.admin, d.ref, tickets.StatusResolved, ""); err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := d.svc.DB().NewSelect().Table("messages").Column("id").
		Where("direction = 'outbound' AND author_id IS NULL").OrderExpr("id DESC").Limit(1).Scan(ctx, &id); err != nil {
		t.Fatal(err)
	}
	d.dropQueued(t)
	return id
}

// dropQueued forgets the send tasks waiting in the broker, as a Redis flush would.
func (d *claimDesk) dropQueued(t *testing.T) {
	t.Helper()
	if _, err := d.insp.DeleteAllPendingTasks("critical"); err != nil && !strings.Contains(err.Error(), "not found") {
		t.Fatal(err)
	}
}

// requeued lists the messages the reconciler queued to send now.
func (d *claimDesk) requeued(t *testing.T) []int64 {
	t.Helper()
	tasks, err := d.insp.ListPendingTasks("critical", asynq.PageSize(5000))
	if err != nil && !strings.Contains(err.Error(), "not found") {
		t.Fatal(err)
	}
	var ids []int64
	for _, task := range tasks {
		var id int64
		if strings.Count(task.ID, ":") != 1 { // send:<message>:<time> is a held task
			continue
		}
		if _, err := fmt.Sscanf(task.ID, "send:%d", &id); err == nil {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

func (d *claimDesk) message(t *testing.T, id int64) *tickets.Message {
	t.Helper()
	var m tickets.Message
	if err := d.svc.DB().NewSelect().Model(&m).Where("id = ?", id).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &m
}

// At the end of quiet hours the held task fires while the reconciler has queued the same
// notice again: the customer gets the text once, whichever worker wins, and whether the
// second task comes while the first is at the provider or both start together.
func TestHeldAndReconcilerTasksSendOnce(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newClaimDesk(t, db, shanghai(2, 22, 0))
		d.sender.holdFirst = true
		var notices []int64
		for i := range 9 {
			if i > 0 { // reopen, so the next resolution sends another notice
				if _, err := d.svc.SetStatus(ctx, d.admin, d.ref, tickets.StatusOpen, ""); err != nil {
					t.Fatal(err)
				}
			}
			notices = append(notices, d.notice(t))
		}
		for _, id := range notices { // 22:00: each is held for 08:00
			if err := d.h.SendForTest(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		if n := d.sender.sent(); n != 0 {
			t.Fatalf("%d texts sent at 22:00, want every notice held", n)
		}

		d.clock.Advance(10*time.Hour + 5*time.Minute) // 08:05: the held tasks are late
		if err := d.h.RedeliverForTest(ctx); err != nil {
			t.Fatal(err)
		}
		if got := d.requeued(t); !slices.Equal(got, notices) {
			t.Fatalf("the reconciler queued %v again, want the held notices %v", got, notices)
		}

		// The held task is at the provider when the reconciler's task runs on another worker.
		first := notices[0]
		done := make(chan error, 1)
		go func() { done <- d.h.SendForTest(ctx, first) }()
		<-d.sender.entered
		if err := d.h.SendForTest(ctx, first); err != nil {
			t.Errorf("the second task: %v", err)
		}
		close(d.sender.release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}

		// The other notices' two tasks start together.
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make(chan error, 2*len(notices))
		for _, id := range notices[1:] {
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					errs <- d.h.SendForTest(ctx, id)
				}()
			}
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		for _, id := range notices {
			if n := d.sender.count(id); n != 1 {
				t.Errorf("notice %d texted %d times, want once", id, n)
			}
			if m := d.message(t, id); m.DeliveryStatus != tickets.DeliverySent || m.ProviderMessageID == nil {
				t.Errorf("notice %d: %s, want sent with the provider's id", id, m.DeliveryStatus)
			}
		}
	})
}

// A night's held notices, more than the reconciler takes in a run, neither get queued again
// every run before the morning nor keep it from a reply whose task was lost; after the
// morning, a few runs reach every one still waiting.
func TestHeldMessagesDoNotStarveLostOnes(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newClaimDesk(t, db, shanghai(2, 21, 30))
		var td tickets.Ticket
		if err := db.NewSelect().Model(&td).Where("id = (SELECT MAX(id) FROM tickets)").Scan(ctx); err != nil {
			t.Fatal(err)
		}
		// 1,500 automated texts written at 21:30, during quiet hours.
		held := make([]*tickets.Message, 1500)
		for i := range held {
			held[i] = &tickets.Message{TicketID: td.ID, Direction: tickets.DirectionOutbound, Channel: tickets.ChannelSMS,
				Body: fmt.Sprintf("notice %d", i), DeliveryStatus: tickets.DeliveryQueued, CreatedAt: d.clock.Now()}
		}
		for start := 0; start < len(held); start += 500 {
			part := held[start : start+500]
			if _, err := db.NewInsert().Model(&part).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		d.clock.Advance(30 * time.Minute)
		lost := d.lostReply(t) // 22:00, and its task is lost

		// Their tasks run at 22:00 on eight workers and hold them for 08:00.
		ids := make(chan int64)
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for id := range ids {
					if err := d.h.SendForTest(ctx, id); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		for _, m := range held {
			ids <- m.ID
		}
		close(ids)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}

		heldIDs := make([]int64, len(held))
		for i, m := range held {
			heldIDs[i] = m.ID
		}
		// The reconciler runs at 22:10, 22:13 and 22:16, and each time the reply's task is lost again.
		for _, at := range []time.Duration{10 * time.Minute, 3 * time.Minute, 3 * time.Minute} {
			d.clock.Advance(at)
			d.dropQueued(t)
			if err := d.h.RedeliverForTest(ctx); err != nil {
				t.Fatal(err)
			}
			got := d.requeued(t)
			if !slices.Contains(got, lost) {
				t.Fatalf("at %s the reconciler queued %d messages but not the lost reply", d.clock.Now().In(time.FixedZone("CST", 8*3600)).Format("15:04"), len(got))
			}
			if n := len(got) - 1; n != 0 {
				t.Fatalf("at %s the reconciler queued %d held notices again, want none before 08:00", d.clock.Now().In(time.FixedZone("CST", 8*3600)).Format("15:04"), n)
			}
		}
		if n := d.sender.sent(); n != 0 {
			t.Fatalf("%d texts sent at night", n)
		}

		// 08:05: every held task was lost too. The reconciler takes at most 1,000 a run; two
		// runs reach all of them.
		d.clock.Advance(9*time.Hour + 49*time.Minute)
		d.dropQueued(t)
		seen := map[int64]bool{}
		for run := range 2 {
			if err := d.h.RedeliverForTest(ctx); err != nil {
				t.Fatal(err)
			}
			got := d.requeued(t)
			if run == 0 && len(got) > 1000 {
				t.Errorf("one run queued %d messages, want at most 1,000", len(got))
			}
			for _, id := range got {
				seen[id] = true
			}
			d.dropQueued(t)
			d.clock.Advance(30 * time.Second)
		}
		for _, id := range heldIDs {
			if !seen[id] {
				t.Fatalf("held notice %d was not queued again in two runs after 08:00 (%d of %d were)", id, len(seen), len(heldIDs))
			}
		}
	})
}

// A worker dies while the provider has the message: no other worker sends it while the
// claim holds, and once the claim lapses the reconciler queues it again and it is sent.
func TestWorkerDyingMidSendIsResentAfterLease(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newClaimDesk(t, db, shanghai(2, 10, 0))
		id := d.lostReply(t)
		d.clock.Advance(10 * time.Minute) // the reconciler would take it now

		d.sender.die = true
		done := make(chan struct{})
		go func() {
			defer close(done)
			d.h.SendForTest(ctx, id) //nolint:errcheck // the worker dies inside the provider call
		}()
		<-done
		if n := d.sender.count(id); n != 1 {
			t.Fatalf("the dying worker reached the provider %d times", n)
		}
		d.sender.mu.Lock()
		d.sender.die = false
		d.sender.mu.Unlock()

		// A minute later the message is still claimed: a retry and the reconciler leave it.
		d.clock.Advance(time.Minute)
		if err := d.h.SendForTest(ctx, id); err != nil {
			t.Fatal(err)
		}
		if n := d.sender.count(id); n != 1 {
			t.Errorf("sent %d times while the dead worker's claim held, want only its one attempt", n)
		}
		if err := d.h.RedeliverForTest(ctx); err != nil {
			t.Fatal(err)
		}
		if got := d.requeued(t); len(got) != 0 {
			t.Errorf("the reconciler queued %v while the claim held", got)
		}

		// After the lease the reconciler queues it again, and the task sends it, once.
		d.clock.Advance(delivery.SendClaimTTL)
		if err := d.h.RedeliverForTest(ctx); err != nil {
			t.Fatal(err)
		}
		if got := d.requeued(t); !slices.Equal(got, []int64{id}) {
			t.Fatalf("after the lease the reconciler queued %v, want [%d]", got, id)
		}
		if err := d.h.SendForTest(ctx, id); err != nil {
			t.Fatal(err)
		}
		if err := d.h.SendForTest(ctx, id); err != nil {
			t.Fatal(err)
		}
		if n := d.sender.count(id); n != 2 {
			t.Errorf("the provider was asked %d times, want the dead attempt and one more", n)
		}
		if m := d.message(t, id); m.DeliveryStatus != tickets.DeliverySent {
			t.Errorf("after the lease: %s, want sent", m.DeliveryStatus)
		}
	})
}

// A sweep that keeps failing (a ticket whose breach the database refuses) does not keep
// the reconciler from its other work: a reply whose send task was lost is queued again
// all the same, and the round still reports the failure so that it is retried.
func TestReconcilerRedeliversWhileSweepFails(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newClaimDesk(t, db, shanghai(2, 10, 0))
		late, err := d.svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: "+8613900139000", Body: "still waiting"})
		if err != nil {
			t.Fatal(err)
		}
		lost := d.lostReply(t)
		lift := tickettest.FailUpdates(t, db, "tickets", fmt.Sprintf("NEW.id = %d AND NEW.first_response_breached_at IS NOT NULL", late.Ticket.ID))
		defer lift()
		d.clock.Advance(25 * time.Hour) // the second customer's first response is overdue

		if err := d.h.ReconcileForTest(ctx); err == nil || !strings.Contains(err.Error(), "sweep") {
			t.Errorf("reconcile with a failing sweep: %v, want the sweep's failure", err)
		}
		if got := d.requeued(t); !slices.Contains(got, lost) {
			t.Errorf("while the sweep fails, the reconciler queued %v, want the lost reply %d among them", got, lost)
		}
	})
}
