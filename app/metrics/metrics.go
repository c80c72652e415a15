// Package metrics exposes Hotline's health in the Prometheus text format: HTTP requests by
// route and status class, Asynq queue depth, deadlines about to fall due, open breaches and
// breaches recorded. Each process builds one Metrics in its wiring, over a registry of its
// own (no global state); what lives in the database or Redis is read at scrape time, under a
// short timeout, never on the request path.
package metrics

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/deadlines"
)

// DueWithin is the window of hotline_deadlines_due: deadlines falling due within the hour.
const DueWithin = time.Hour

// QueueDepth is how many tasks one Asynq queue holds in each state.
type QueueDepth struct {
	Queue                                                  string
	Pending, Active, Scheduled, Retry, Archived, Completed int
	// Latency is how long the oldest pending task has waited.
	Latency time.Duration
}

// Config says where the scrape-time figures come from; a nil source is not exported.
type Config struct {
	// Deadlines counts deadlines due soon, overdue and breached (tickets.Service.DeadlineStats).
	Deadlines func(ctx context.Context, within time.Duration) (*tickets.DeadlineStats, error)
	// Queues reads the job queues' depth (AsynqQueues).
	Queues func(ctx context.Context) ([]QueueDepth, error)
	// Timeout bounds each scrape's reads of the database and Redis; 0 means 3 seconds.
	Timeout time.Duration
	// Token, when set, is required as "Authorization: Bearer <token>" to read /metrics.
	Token string
	Log   *slog.Logger
}

// Metrics is one process's metrics.
type Metrics struct {
	cfg      Config
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	breaches *prometheus.CounterVec
	warnings *prometheus.CounterVec
}

// New builds the metrics and registers them, with Go runtime and process figures, on a new
// registry.
func New(cfg Config) *Metrics {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{
		cfg: cfg,
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotline_http_requests_total",
			Help: "HTTP requests answered, by method, route pattern and status class.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hotline_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by method, route pattern and status class.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route", "status"}),
		breaches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotline_sla_breaches_total",
			Help: "Missed deadlines this process recorded (each is recorded once, by one process), by what missed it: ticket or complaint.",
		}, []string{"kind"}),
		warnings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotline_sla_warnings_total",
			Help: "Deadline warnings this process gave, by what was warned of: ticket or complaint.",
		}, []string{"kind"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.breaches, m.warnings,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&scraped{cfg: cfg})
	for _, kind := range []string{"ticket", "complaint"} { // present at zero before the first breach
		m.breaches.WithLabelValues(kind)
		m.warnings.WithLabelValues(kind)
	}
	return m
}

// Registry is where the metrics are registered, for tests and extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ObserveRequest counts one answered request; route is the route's pattern.
func (m *Metrics) ObserveRequest(method, route string, status int, took time.Duration) {
	class := statusClass(status)
	m.requests.WithLabelValues(method, route, class).Inc()
	m.latency.WithLabelValues(method, route, class).Observe(took.Seconds())
}

func statusClass(status int) string {
	switch {
	case status < 100 || status > 599:
		return "other"
	case status < 200:
		return "1xx"
	case status < 300:
		return "2xx"
	case status < 400:
		return "3xx"
	case status < 500:
		return "4xx"
	}
	return "5xx"
}

// Swept counts what a deadline sweep recorded: the tickets' deadlines and the complaints'.
func (m *Metrics) Swept(r deadlines.SweepResult, c complaints.SweepResult) {
	m.breaches.WithLabelValues("ticket").Add(float64(r.Breaches))
	m.breaches.WithLabelValues("complaint").Add(float64(c.Breaches))
	m.warnings.WithLabelValues("ticket").Add(float64(r.Warnings))
	m.warnings.WithLabelValues("complaint").Add(float64(c.Warnings))
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: slogLogger{m.cfg.Log}, Timeout: 2 * m.cfg.Timeout})
	if m.cfg.Token == "" {
		return h
	}
	want := []byte("Bearer " + m.cfg.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":"send the metrics token as Authorization: Bearer <token>"}`)) //nolint:errcheck // the client went away
			return
		}
		h.ServeHTTP(w, r)
	})
}

type slogLogger struct{ l *slog.Logger }

func (s slogLogger) Println(v ...any) { s.l.Warn("metrics", "err", v) }

// AsynqQueues reads every queue's depth with an Asynq inspector (one Redis script per
// queue).
func AsynqQueues(insp *asynq.Inspector) func(ctx context.Context) ([]QueueDepth, error) {
	return func(ctx context.Context) ([]QueueDepth, error) {
		type result struct {
			qs  []QueueDepth
			err error
		}
		done := make(chan result, 1)
		go func() { // the inspector takes no context: wait for it only as long as ctx allows
			names, err := insp.Queues()
			if err != nil {
				done <- result{err: err}
				return
			}
			var qs []QueueDepth
			for _, name := range names {
				info, err := insp.GetQueueInfo(name)
				if err != nil {
					done <- result{err: err}
					return
				}
				qs = append(qs, QueueDepth{Queue: name, Pending: info.Pending, Active: info.Active, Scheduled: info.Scheduled,
					Retry: info.Retry, Archived: info.Archived, Completed: info.Completed, Latency: info.Latency})
			}
			done <- result{qs: qs}
		}()
		select {
		case r := <-done:
			return r.qs, r.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

var (
	queueTasksDesc = prometheus.NewDesc("hotline_queue_tasks",
		"Tasks in each Asynq queue, by state (pending, active, scheduled, retry, archived, completed). The same from every process.",
		[]string{"queue", "state"}, nil)
	queueLatencyDesc = prometheus.NewDesc("hotline_queue_latency_seconds",
		"How long the oldest pending task of each queue has waited.", []string{"queue"}, nil)
	dueDesc = prometheus.NewDesc("hotline_deadlines_due",
		"Deadlines falling due within the next hour and not yet met, by kind (first_response, resolution, complaint). The same from every process.",
		[]string{"kind"}, nil)
	overdueDesc = prometheus.NewDesc("hotline_deadlines_overdue",
		"Deadlines already past that no sweep has handled yet, by kind; above zero for long means the workers are behind or down.",
		[]string{"kind"}, nil)
	openBreachesDesc = prometheus.NewDesc("hotline_open_breached_tickets",
		"Open tickets (new, open, pending) with a missed deadline.", nil, nil)
	upDesc = prometheus.NewDesc("hotline_metrics_source_up",
		"Whether the last scrape could read a source (database, broker): 1 yes, 0 no.", []string{"source"}, nil)
)

// scraped reads the database and Redis when Prometheus scrapes, both at once, each under
// the timeout; a source that fails is reported down and its figures left out.
type scraped struct{ cfg Config }

func (s *scraped) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{queueTasksDesc, queueLatencyDesc, dueDesc, overdueDesc, openBreachesDesc, upDesc} {
		ch <- d
	}
}

func (s *scraped) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Timeout)
	defer cancel()
	var wg sync.WaitGroup
	if s.cfg.Deadlines != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := s.cfg.Deadlines(ctx, DueWithin)
			if err != nil {
				s.cfg.Log.Warn("metrics: could not count deadlines", "err", err)
				ch <- gauge(upDesc, 0, "database")
				return
			}
			ch <- gauge(upDesc, 1, "database")
			for _, kind := range tickets.DeadlineKinds {
				ch <- gauge(dueDesc, float64(st.DueSoon[kind]), kind)
				ch <- gauge(overdueDesc, float64(st.Overdue[kind]), kind)
			}
			ch <- gauge(openBreachesDesc, float64(st.OpenBreached))
		}()
	}
	if s.cfg.Queues != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			qs, err := s.cfg.Queues(ctx)
			if err != nil {
				s.cfg.Log.Warn("metrics: could not read the job queues", "err", err)
				ch <- gauge(upDesc, 0, "broker")
				return
			}
			ch <- gauge(upDesc, 1, "broker")
			for _, q := range qs {
				for state, n := range map[string]int{"pending": q.Pending, "active": q.Active, "scheduled": q.Scheduled,
					"retry": q.Retry, "archived": q.Archived, "completed": q.Completed} {
					ch <- gauge(queueTasksDesc, float64(n), q.Queue, state)
				}
				ch <- gauge(queueLatencyDesc, q.Latency.Seconds(), q.Queue)
			}
		}()
	}
	wg.Wait()
}

func gauge(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}
