package jobs_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/hotlinedesk/hotline/jobs"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/deadlines"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// reapplyDesk is a desk of two API processes and two worker processes (each a Service of
// its own over one database and one Redis), with open tickets timed by the defaults.
type reapplyDesk struct {
	db        *bun.DB
	broker    *jobs.Broker
	clock     *tickettest.Clock
	api, api2 *tickets.Service
	admin     tickets.Actor
	tickets   []*tickets.Ticket
}

func newReapplyDesk(t *testing.T, db *bun.DB, open int) *reapplyDesk {
	t.Helper()
	ctx := context.Background()
	d := &reapplyDesk{db: db, broker: reapplyBroker(t), clock: tickettest.NewClock(time.Now().UTC().Truncate(time.Second))}
	d.api, d.api2 = d.service(t), d.service(t)
	a, err := d.api.CreateAgent(ctx, tickets.Actor{Kind: "system"}, tickets.NewAgent{Email: "admin@example.com", Role: tickets.RoleAdmin, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	d.admin = tickets.AgentActor(a)
	for i := range open {
		r, err := d.api.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: fmt.Sprintf("+86136%08d", i), Body: "hello"})
		if err != nil {
			t.Fatal(err)
		}
		d.tickets = append(d.tickets, r.Ticket)
	}
	return d
}

func reapplyBroker(t *testing.T) *jobs.Broker {
	t.Helper()
	b, err := jobs.OpenBroker(tickettest.RedisURL(t, "jobs"), tickettest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// service is one more process over the desk's database, scheduling on its Redis.
func (d *reapplyDesk) service(t *testing.T) *tickets.Service {
	t.Helper()
	svc := tickets.NewService(d.db, d.clock, tickets.Config{DefaultCountry: "86", PasswordCost: 4}, tickettest.Logger())
	svc.SetComplaints(complaints.New(svc)) // as app wires it
	sched := jobs.NewScheduler(d.broker)
	t.Cleanup(func() { sched.Close() })
	svc.SetScheduler(sched)
	return svc
}

// worker starts a worker process: the deadline handlers on an Asynq server, with the
// reconciler every `reconcile` (0: none), each task passing through mw.
func (d *reapplyDesk) worker(t *testing.T, reconcile time.Duration, mw asynq.MiddlewareFunc) {
	t.Helper()
	log := tickettest.Logger()
	svc := d.service(t)
	mux := asynq.NewServeMux()
	mux.Use(mw)
	jobs.NewHandlers(svc, log, nil, jobs.NewScheduler(d.broker)).Register(mux)
	srv := jobs.NewServer(d.broker, 4, log)
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if reconcile > 0 {
		go jobs.RunReconciler(ctx, d.broker, reconcile, log)
	}
	t.Cleanup(func() { cancel(); srv.Shutdown() })
}

// timedBy reports the open tickets whose deadlines are not first/resolution after their
// creation under policy p.
func (d *reapplyDesk) timedBy(t *testing.T, p *tickets.Policy) []string {
	t.Helper()
	var ts []*tickets.Ticket
	if err := d.db.NewSelect().Model(&ts).Where("status IN ('new', 'open', 'pending')").OrderExpr("id").Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	var wrong []string
	for _, tk := range ts {
		first, res := tk.CreatedAt.Add(time.Duration(p.FirstResponseSeconds)*time.Second), tk.CreatedAt.Add(time.Duration(p.ResolutionSeconds)*time.Second)
		if tk.FirstResponseDueAt == nil || !tk.FirstResponseDueAt.Equal(first) || tk.ResolutionDueAt == nil || !tk.ResolutionDueAt.Equal(res) || tk.PolicyID == nil || *tk.PolicyID != p.ID {
			wrong = append(wrong, fmt.Sprintf("%s due %v / %v (policy %v)", tk.Ref(), tk.FirstResponseDueAt, tk.ResolutionDueAt, tk.PolicyID))
		}
	}
	if len(ts) != len(d.tickets) {
		t.Fatalf("%d open tickets, want %d", len(ts), len(d.tickets))
	}
	return wrong
}

// eventually polls ok (a read of the database) until it holds or limit passes.
func eventually(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	end := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(end) {
			t.Fatalf("after %v: %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitFor waits until ch is closed, failing the test after ten seconds.
func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("gave up waiting for %s", what)
	}
}

// isReapply reports whether task is a re-apply of the SLA policies.
func isReapply(task *asynq.Task) bool {
	var p struct{ Kind string }
	return task.Type() == jobs.TypeDeadline && json.Unmarshal(task.Payload(), &p) == nil && p.Kind == tickets.ReapplyTimer
}

// hold blocks the ticket's row in another transaction until release is called: on
// PostgreSQL a row lock, as a change of the ticket (or a sweep) holds it; SQLite has no row
// locks, and its equivalent is a writer holding the whole database.
func hold(t *testing.T, db *bun.DB, id int64) (release func()) {
	t.Helper()
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, &sql.TxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if db.Dialect().Name() == dialect.PG {
		_, err = tx.ExecContext(ctx, "SELECT id FROM tickets WHERE id = ? FOR UPDATE", id)
	} else {
		_, err = tx.ExecContext(ctx, "UPDATE tickets SET updated_at = updated_at WHERE id = ?", id)
	}
	if err != nil {
		tx.Rollback() //nolint:errcheck // failing anyway
		t.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(func() { tx.Rollback() }) } //nolint:errcheck // nothing was changed
	t.Cleanup(release)
	return release
}

// An SLA policy edit reaches every open ticket, also one that was busy when the re-apply
// ran: locked by another transaction, or changed just after by a process whose rules
// predate the edit. Once it is free, the reconciler of either worker re-times it.
func TestPolicyEditReachesTicketsBusyDuringReapply(t *testing.T) {
	cases := []struct {
		name string
		// prepare runs before the policy is edited.
		prepare func(t *testing.T, d *reapplyDesk, x *tickets.Ticket)
		// disturb runs after the edit, before the workers start; what it returns runs once
		// they have started and keeps x busy around the re-apply job: started is closed
		// when the job starts, done when it has finished.
		disturb func(t *testing.T, d *reapplyDesk, x *tickets.Ticket) func(started, done <-chan struct{})
	}{
		{
			name: "ticket locked while the re-apply runs",
			disturb: func(t *testing.T, d *reapplyDesk, x *tickets.Ticket) func(started, done <-chan struct{}) {
				release := hold(t, d.db, x.ID)
				return func(started, done <-chan struct{}) {
					waitFor(t, started, "the re-apply job to start")
					if d.db.Dialect().Name() == dialect.PG {
						waitFor(t, done, "the re-apply job to finish around the locked ticket")
					}
					release()
				}
			},
		},
		{
			name: "ticket changed by a process whose rules predate the edit",
			prepare: func(t *testing.T, d *reapplyDesk, x *tickets.Ticket) {
				// The second API process reads the rules (no policy yet) and keeps them.
				if _, err := d.api2.SetPriority(context.Background(), d.admin, x.Ref(), tickets.PriorityLow, "first look"); err != nil {
					t.Fatal(err)
				}
			},
			disturb: func(t *testing.T, d *reapplyDesk, x *tickets.Ticket) func(started, done <-chan struct{}) {
				return func(_, done <-chan struct{}) {
					waitFor(t, done, "the re-apply job to finish")
					// Then an agent on the second process raises x's priority: the
					// deadlines it gives x come from the rules it read before the edit.
					if _, err := d.api2.SetPriority(context.Background(), d.admin, x.Ref(), tickets.PriorityHigh, "customer called again"); err != nil {
						t.Error(err)
					}
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
				ctx := context.Background()
				d := newReapplyDesk(t, db, 4)
				x := d.tickets[1]
				if c.prepare != nil {
					c.prepare(t, d, x)
				}
				p, err := deadlines.New(d.api).SavePolicy(ctx, d.admin, &tickets.Policy{Name: "faster", FirstResponseSeconds: 4 * 3600, ResolutionSeconds: 12 * 3600})
				if err != nil {
					t.Fatal(err)
				}
				afterStart := c.disturb(t, d, x)
				started, done := make(chan struct{}), make(chan struct{})
				var startOnce, doneOnce sync.Once
				watch := func(next asynq.Handler) asynq.Handler {
					return asynq.HandlerFunc(func(ctx context.Context, task *asynq.Task) error {
						if !isReapply(task) {
							return next.ProcessTask(ctx, task)
						}
						startOnce.Do(func() { close(started) })
						err := next.ProcessTask(ctx, task)
						doneOnce.Do(func() { close(done) })
						return err
					})
				}
				// Two worker processes, each with a reconciler.
				d.worker(t, 200*time.Millisecond, watch)
				d.worker(t, 200*time.Millisecond, watch)
				afterStart(started, done)

				eventually(t, 10*time.Second, "open tickets still timed by the old rules", func() bool {
					return len(d.timedBy(t, p)) == 0
				})
				if wrong := d.timedBy(t, p); len(wrong) > 0 {
					t.Errorf("not re-timed by the new policy: %v", wrong)
				}
			})
		})
	}
}

// Two policy edits within one second each take effect: the second edit's re-apply is not
// dropped as a duplicate of the first's job, even while that job is still running.
func TestPolicyEditsInOneSecondBothTakeEffect(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newReapplyDesk(t, db, 3)
		firstDone, release := make(chan struct{}), make(chan struct{})
		var releaseOnce sync.Once
		var mu sync.Mutex
		seen := 0
		// The first re-apply job, once it has done its work, stays running until the test
		// lets it go, as a job does while its worker finishes a long run.
		holdFirst := func(next asynq.Handler) asynq.Handler {
			return asynq.HandlerFunc(func(ctx context.Context, task *asynq.Task) error {
				if !isReapply(task) {
					return next.ProcessTask(ctx, task)
				}
				mu.Lock()
				seen++
				first := seen == 1
				mu.Unlock()
				err := next.ProcessTask(ctx, task)
				if first {
					close(firstDone)
					select {
					case <-release:
					case <-ctx.Done():
					}
				}
				return err
			})
		}
		// No reconciler: the edits' own jobs must do it.
		d.worker(t, 0, holdFirst)
		d.worker(t, 0, holdFirst)
		// Registered after the workers, so it runs before they shut down.
		t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) })

		p, err := deadlines.New(d.api).SavePolicy(ctx, d.admin, &tickets.Policy{Name: "faster", FirstResponseSeconds: 4 * 3600, ResolutionSeconds: 12 * 3600})
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, firstDone, "the first edit's re-apply job")
		if wrong := d.timedBy(t, p); len(wrong) > 0 {
			t.Fatalf("the first edit's job left %v", wrong)
		}
		// The same second on the clock: an admin corrects the policy at once.
		p.FirstResponseSeconds, p.ResolutionSeconds = 2*3600, 6*3600
		if p, err = deadlines.New(d.api).SavePolicy(ctx, d.admin, p); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "the second edit never reached the open tickets", func() bool {
			return len(d.timedBy(t, p)) == 0
		})
		releaseOnce.Do(func() { close(release) })
	})
}
