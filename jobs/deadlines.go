package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/hotlinedesk/hotline/channels"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/deadlines"
	"github.com/hotlinedesk/hotline/tickets/delivery"
	"github.com/hotlinedesk/hotline/tickets/stages"
)

// Task types.
const (
	TypeDeadline  = "sla:deadline"  // a ticket's or complaint's deadline or warning is due
	TypeReconcile = "sla:reconcile" // find what the timers missed
	TypePollMail  = "email:poll"    // fetch new mail from the IMAP mailbox
)

// ReconcileEvery is how often the reconciler sweeps for deadlines no timer handled.
const ReconcileEvery = 30 * time.Second

type deadlinePayload struct {
	Kind string `json:"kind"`
	ID   int64  `json:"id"`
	Due  int64  `json:"due"` // unix seconds
}

// Scheduler sets deadline timers as Asynq tasks with deterministic ids.
type Scheduler struct {
	client *asynq.Client

	mu    sync.Mutex
	wakes map[int64]bool // future wake-ups this process set, by unix second
}

// NewScheduler enqueues on the broker.
func NewScheduler(b *Broker) *Scheduler {
	return &Scheduler{client: asynq.NewClient(b.Opt), wakes: map[int64]bool{}}
}

// Close releases the connection.
func (s *Scheduler) Close() error { return s.client.Close() }

// wakeKind is the payload kind of a wake-up: it carries no ticket, only its second.
const wakeKind = "wake"

// Schedule sets the alarms for timers. Every deadline and warning falling in one second
// shares one task, sla:wake:<unix second>, whose handler sweeps all that is due: the sweep
// re-reads the rows and acts only on deadlines that still apply, each once. So tickets
// opened together cost Redis a few tasks, not four each. A wake-up this process set
// already is not sent again while it lies ahead; should Redis lose it, the reconciler
// finds its deadlines.
func (s *Scheduler) Schedule(ctx context.Context, timers []tickets.Timer) error {
	var tasks []*asynq.Task
	var opts [][]asynq.Option
	var ids []string
	listed := map[string]bool{}
	now := time.Now().Unix()
	s.mu.Lock()
	if len(s.wakes) > 10_000 {
		for sec := range s.wakes {
			if sec <= now {
				delete(s.wakes, sec)
			}
		}
	}
	for _, tm := range timers {
		// Asynq keeps whole seconds; round up so the task never wakes before its time.
		at := tm.At.Truncate(time.Second)
		if at.Before(tm.At) {
			at = at.Add(time.Second)
		}
		var p deadlinePayload
		var id string
		if tm.Kind == tickets.ReapplyTimer {
			p, id = deadlinePayload{Kind: tm.Kind, ID: tm.ID, Due: tm.Due.Unix()}, tm.TaskID()
		} else { // a wake-up: its own id, made only when it is set
			sec := at.Unix()
			if s.wakes[sec] {
				continue
			}
			if sec > now {
				s.wakes[sec] = true
			}
			p, id = deadlinePayload{Kind: wakeKind, Due: sec}, "sla:wake:"+strconv.FormatInt(sec, 10)
		}
		if listed[id] {
			continue
		}
		listed[id] = true
		ids = append(ids, id)
		payload, err := json.Marshal(p)
		if err != nil {
			s.mu.Unlock()
			return fmt.Errorf("encode timer: %w", err)
		}
		tasks = append(tasks, asynq.NewTask(TypeDeadline, payload))
		opts = append(opts, []asynq.Option{asynq.TaskID(id), asynq.ProcessAt(at), asynq.Queue("critical"), asynq.MaxRetry(10)})
	}
	s.mu.Unlock()
	if len(tasks) == 0 { // every wake-up set already, as for tickets opened in the same second
		return nil
	}

	const parallel = 8
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, parallel)
	)
	for i, task := range tasks {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			_, err := s.client.EnqueueContext(ctx, task, opts[i]...)
			if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
				mu.Lock()
				errs = append(errs, fmt.Errorf("schedule %s: %w", ids[i], err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 { // forget them all: the next timers in those seconds try again
		s.mu.Lock()
		clear(s.wakes)
		s.mu.Unlock()
	}
	return errors.Join(errs...)
}

// Deliver enqueues one send task per outbound message; the id send:<message> keeps a
// message from being queued twice at once.
func (s *Scheduler) Deliver(ctx context.Context, ids []int64) error {
	var errs []error
	for _, id := range ids {
		payload, _ := json.Marshal(sendPayload{MessageID: id})
		_, err := s.client.EnqueueContext(ctx, asynq.NewTask(TypeSend, payload),
			asynq.TaskID(fmt.Sprintf("send:%d", id)), asynq.Queue("critical"), asynq.MaxRetry(8), asynq.Timeout(30*time.Second))
		if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			errs = append(errs, fmt.Errorf("queue message %d: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

// DeliverAt queues a message's delivery for a later time (the end of quiet hours).
func (s *Scheduler) DeliverAt(ctx context.Context, id int64, at time.Time) error {
	payload, _ := json.Marshal(sendPayload{MessageID: id})
	_, err := s.client.EnqueueContext(ctx, asynq.NewTask(TypeSend, payload),
		asynq.TaskID(fmt.Sprintf("send:%d:%d", id, at.Unix())), asynq.ProcessAt(at), asynq.Queue("critical"), asynq.MaxRetry(8), asynq.Timeout(30*time.Second))
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("queue message %d for %s: %w", id, at.Format(time.RFC3339), err)
	}
	return nil
}

// Handlers are the task handlers over the domain service.
type Handlers struct {
	svc        *tickets.Service
	deadlines  *deadlines.Service
	complaints *complaints.Service
	stages     *stages.Service
	delivery   *delivery.Service
	log        *slog.Logger
	senders    map[tickets.Channel]channels.Sender
	sched      *Scheduler
	// PollMail fetches new mail into tickets; nil when no mailbox is configured.
	PollMail func(ctx context.Context) (int, error)
	// Swept is told what each sweep handled, the tickets' deadlines and the complaints'
	// (for metrics); nil: nobody listens.
	Swept func(deadlines.SweepResult, complaints.SweepResult)
	// PublicBaseURL is Hotline's public address (PUBLIC_BASE_URL), where a provider that
	// fetches a reply's file (Twilio's MMS) finds its signed link; "" when there is none.
	PublicBaseURL string
}

// NewHandlers builds the handlers: senders deliver each channel's messages, and sched
// queues again what the reconciler finds stuck. The deadline sweeps cover the tickets of
// svc (deadlines.New(svc)), their complaints (complaints.New(svc)) and their progress
// stages (stages.New(svc)); sends are claimed
// and recorded through delivery.New(svc).
func NewHandlers(svc *tickets.Service, log *slog.Logger, senders map[tickets.Channel]channels.Sender, sched *Scheduler) *Handlers {
	return &Handlers{svc: svc, deadlines: deadlines.New(svc), complaints: complaints.New(svc), stages: stages.New(svc), delivery: delivery.New(svc), log: log, senders: senders, sched: sched}
}

// Register adds the handlers to mux.
func (h *Handlers) Register(mux *asynq.ServeMux) {
	mux.HandleFunc(TypeDeadline, h.deadline)
	mux.HandleFunc(TypeReconcile, h.reconcile)
	mux.HandleFunc(TypeSend, h.send)
	mux.HandleFunc(TypePollMail, h.pollMail)
}

// pollMail runs one IMAP poll; the next interval's task tries again after a failure.
func (h *Handlers) pollMail(ctx context.Context, _ *asynq.Task) error {
	if h.PollMail == nil {
		return nil
	}
	n, err := h.PollMail(ctx)
	if n > 0 {
		h.log.Info("mail fetched", "messages", n)
	}
	if err != nil {
		return fmt.Errorf("poll mailbox: %w", err)
	}
	return nil
}

// deadline sweeps at a wake-up: the sweep handles every deadline and warning due by then,
// in batches, so a burst of tickets sharing a deadline costs a few set-based transactions
// rather than one per ticket. (A single deadline's timer, from before wake-ups were
// shared, first checks that its row still waits on it.)
func (h *Handlers) deadline(ctx context.Context, t *asynq.Task) error {
	var p deadlinePayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("decode deadline task: %v: %w", err, asynq.SkipRetry)
	}
	switch p.Kind {
	case tickets.ReapplyTimer:
		r, err := h.deadlines.ReapplyDeadlines(ctx)
		h.log.Info("open tickets re-timed after a policy change", "generation", p.ID, "tickets", r.Retimed, "busy", r.Busy)
		if err != nil {
			return fmt.Errorf("re-apply SLA policies (generation %d): %w", p.ID, err)
		}
		return nil
	case wakeKind:
	default: // a timer of a single deadline, as set before wake-ups were shared
		timerDue := h.svc.TimerDue
		switch {
		case complaints.IsTimer(p.Kind):
			timerDue = h.complaints.TimerDue
		case stages.IsTimer(p.Kind):
			timerDue = h.stages.TimerDue
		}
		due, err := timerDue(ctx, tickets.Timer{Kind: p.Kind, ID: p.ID, Due: time.Unix(p.Due, 0)})
		if err != nil || !due {
			return err
		}
	}
	r, _, err := h.sweep(ctx)
	if err != nil {
		return fmt.Errorf("sweep for %s %d: %w", p.Kind, p.ID, err)
	}
	h.log.Debug("deadline swept", "kind", p.Kind, "id", p.ID, "breaches", r.Breaches, "warnings", r.Warnings)
	return nil
}

// reconcile handles deadlines that passed with no timer (Redis flushed, a worker down) by
// the same sweep, fills team queues, queues again lost sends and voicemail transcriptions,
// and picks up calendar edits from other processes. It
// then re-times open tickets still timed under older SLA policies: those a re-apply found
// busy, those written meanwhile by a process with older rules, those whose job was lost.
func (h *Handlers) reconcile(ctx context.Context, _ *asynq.Task) error {
	if err := h.svc.LoadCalendar(ctx); err != nil {
		return err
	}
	// Each step runs whatever the others did, as the sweep's stages do: a sweep that keeps
	// failing must not keep lost sends from being queued again, nor the reverse.
	var errs []error
	r, cr, err := h.sweep(ctx)
	if err != nil {
		errs = append(errs, fmt.Errorf("reconcile sweep: %w", err))
	}
	n, err := h.svc.FillQueues(ctx)
	if err != nil {
		errs = append(errs, fmt.Errorf("reconcile queues: %w", err))
	}
	if err := h.redeliver(ctx); err != nil {
		errs = append(errs, fmt.Errorf("reconcile deliveries: %w", err))
	}
	if err := h.retranscribe(ctx); err != nil {
		errs = append(errs, fmt.Errorf("reconcile voicemail transcriptions: %w", err))
	}
	if r != (deadlines.SweepResult{}) || cr != (complaints.SweepResult{}) || n > 0 {
		h.log.Info("reconciler caught up", "breaches", r.Breaches, "warnings", r.Warnings,
			"complaint_warnings", cr.Warnings, "complaint_breaches", cr.Breaches, "assigned", n)
	}
	// Last: after a policy edit on a large desk this takes a while, and the deadlines and
	// lost sends above must not wait for it. A failure here is retried by the next round.
	if re, err := h.deadlines.ReapplyDeadlines(ctx); err != nil {
		h.log.Warn("reconciler could not re-time stale open tickets; the next round tries again", "err", err)
	} else if re != (deadlines.Reapplied{}) {
		h.log.Info("reconciler re-timed open tickets under the current SLA policies", "tickets", re.Retimed, "busy", re.Busy)
	}
	return errors.Join(errs...)
}

// sweep handles every deadline that has come due: the tickets' (deadlines.Service.Sweep),
// then the complaints' (complaints.Service.Sweep) and the progress stages'
// (stages.Service.Sweep), whatever the tickets' sweep did, so that a stuck ticket never
// keeps complaints from being escalated. The errors are returned
// together; what each handled is reported, including the part done before a failure.
func (h *Handlers) sweep(ctx context.Context) (deadlines.SweepResult, complaints.SweepResult, error) {
	r, err := h.deadlines.Sweep(ctx)
	var cr complaints.SweepResult
	if ctx.Err() == nil { // shutting down: the tickets' sweep said so already
		var cerr error
		cr, cerr = h.complaints.Sweep(ctx)
		err = errors.Join(err, cerr)
	}
	if ctx.Err() == nil {
		sr, serr := h.stages.Sweep(ctx)
		err = errors.Join(err, serr)
		if sr != (stages.SweepResult{}) {
			h.log.Info("stage deadlines swept", "warnings", sr.Warnings, "breaches", sr.Breaches)
		}
	}
	if h.Swept != nil && (r != (deadlines.SweepResult{}) || cr != (complaints.SweepResult{})) {
		h.Swept(r, cr)
	}
	return r, cr, err
}

// RunReconciler enqueues the reconcile task every interval until ctx ends.
func RunReconciler(ctx context.Context, b *Broker, every time.Duration, log *slog.Logger) {
	RunPeriodic(ctx, b, TypeReconcile, every, log)
}

// RunPeriodic enqueues a task of the given type every interval until ctx ends. Every worker
// process runs one; the task id names the interval, so the processes together enqueue it
// once per interval and one of them runs it.
func RunPeriodic(ctx context.Context, b *Broker, taskType string, every time.Duration, log *slog.Logger) {
	client := asynq.NewClient(b.Opt)
	defer client.Close()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		slot := time.Now().UnixMilli() / every.Milliseconds()
		_, err := client.EnqueueContext(ctx, asynq.NewTask(taskType, nil),
			asynq.TaskID(fmt.Sprintf("%s:%d", taskType, slot)), asynq.Queue("critical"), asynq.MaxRetry(0),
			asynq.Retention(every))
		if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) && ctx.Err() == nil {
			log.Warn("could not enqueue a periodic task", "type", taskType, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
