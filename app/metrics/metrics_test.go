package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/gofiber/fiber/v2"
	"github.com/hibiken/asynq"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/app/metrics"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/deadlines"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// scrape reads /metrics from app and returns the body.
func scrape(t *testing.T, app *fiber.App, token string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

func hasLines(t *testing.T, body string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(body, "\n"+l+"\n") {
			t.Errorf("metrics lack %q", l)
		}
	}
}

func lacks(t *testing.T, body string, prefixes ...string) {
	t.Helper()
	for _, p := range prefixes {
		if strings.Contains(body, "\n"+p) {
			t.Errorf("metrics have %q, want none", p)
		}
	}
}

// Requests are counted by the pattern of the route that answered, not the URL, so that
// /tickets/HL-000001 and /tickets/HL-000002 are one series; unmatched paths are one series.
func TestRequestsByRoutePattern(t *testing.T) {
	svc := tickettest.Service(tickettest.SQLite(t), tickettest.NewClock(time.Now()))
	m := metrics.New(metrics.Config{})
	app := api.New(api.Config{Service: svc, Observe: m.ObserveRequest, Metrics: m.Handler()})
	for _, path := range []string{"/healthz", "/healthz", "/api/v1/tickets/HL-000001", "/api/v1/tickets/HL-000002", "/no/such/page", "/another/unknown"} {
		res, err := app.Test(httptest.NewRequest(http.MethodGet, path, nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	status, body := scrape(t, app, "")
	if status != http.StatusOK {
		t.Fatalf("GET /metrics: %d", status)
	}
	hasLines(t, body,
		`hotline_http_requests_total{method="GET",route="/healthz",status="2xx"} 2`,
		`hotline_http_request_duration_seconds_count{method="GET",route="/healthz",status="2xx"} 2`,
		// Unauthenticated: answered by the /api/v1 group's authentication.
		`hotline_http_requests_total{method="GET",route="/api/v1",status="4xx"} 2`,
		`hotline_http_requests_total{method="GET",route="unmatched",status="4xx"} 2`,
		`hotline_sla_breaches_total{kind="ticket"} 0`,
	)
	lacks(t, body, `hotline_http_requests_total{method="GET",route="/api/v1/tickets/HL-`, `hotline_http_requests_total{method="GET",route="/no/such`)
	if !strings.Contains(body, "\ngo_goroutines ") || !strings.Contains(body, "\nprocess_resident_memory_bytes ") {
		t.Error("metrics lack the Go runtime and process collectors")
	}
}

// A worker's HTTP server answers health checks and metrics, and refuses the API clearly.
func TestOpsAppServesOnlyHealthAndMetrics(t *testing.T) {
	m := metrics.New(metrics.Config{})
	app := api.NewOps(api.Config{Observe: m.ObserveRequest, Metrics: m.Handler(), Ready: func(context.Context) error { return nil }})
	for _, c := range []struct {
		path string
		want int
	}{{"/healthz", 200}, {"/readyz", 200}, {"/metrics", 200}, {"/api/v1/tickets", 404}, {"/webhooks/twilio/sms", 404}} {
		res, err := app.Test(httptest.NewRequest(http.MethodGet, c.path, nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != c.want {
			t.Errorf("GET %s: %d %s, want %d", c.path, res.StatusCode, body, c.want)
		}
		if c.want == 404 && !strings.Contains(string(body), "worker") {
			t.Errorf("GET %s: %s, want a reason naming the worker", c.path, body)
		}
	}
}

// The database and broker figures are read at scrape time; a source that fails or is too
// slow is reported down and the rest still answers.
func TestScrapeTimeSources(t *testing.T) {
	stats := &tickets.DeadlineStats{
		DueSoon:      map[string]int{tickets.KindFirstResponse: 7, tickets.KindResolution: 2, tickets.KindComplaint: 1},
		Overdue:      map[string]int{tickets.KindFirstResponse: 3},
		OpenBreached: 5,
	}
	queues := []metrics.QueueDepth{{Queue: "critical", Pending: 4, Scheduled: 100, Latency: 1500 * time.Millisecond}}
	okDeadlines := func(context.Context, time.Duration) (*tickets.DeadlineStats, error) { return stats, nil }
	okQueues := func(context.Context) ([]metrics.QueueDepth, error) { return queues, nil }
	for _, c := range []struct {
		name      string
		cfg       metrics.Config
		want      []string
		wantLacks []string
	}{
		{
			name: "both answer",
			cfg:  metrics.Config{Deadlines: okDeadlines, Queues: okQueues},
			want: []string{
				`hotline_deadlines_due{kind="first_response"} 7`, `hotline_deadlines_due{kind="complaint"} 1`,
				`hotline_deadlines_overdue{kind="first_response"} 3`, `hotline_deadlines_overdue{kind="resolution"} 0`,
				`hotline_open_breached_tickets 5`,
				`hotline_queue_tasks{queue="critical",state="pending"} 4`, `hotline_queue_tasks{queue="critical",state="scheduled"} 100`,
				`hotline_queue_latency_seconds{queue="critical"} 1.5`,
				`hotline_metrics_source_up{source="database"} 1`, `hotline_metrics_source_up{source="broker"} 1`,
			},
		},
		{
			name: "database fails",
			cfg: metrics.Config{Queues: okQueues, Deadlines: func(context.Context, time.Duration) (*tickets.DeadlineStats, error) {
				return nil, errors.New("connection refused")
			}},
			want:      []string{`hotline_metrics_source_up{source="database"} 0`, `hotline_queue_tasks{queue="critical",state="pending"} 4`},
			wantLacks: []string{"hotline_deadlines_due{", "hotline_open_breached_tickets "},
		},
		{
			name: "broker too slow",
			cfg: metrics.Config{Deadlines: okDeadlines, Timeout: 50 * time.Millisecond, Queues: func(ctx context.Context) ([]metrics.QueueDepth, error) {
				<-ctx.Done()
				return nil, ctx.Err()
			}},
			want:      []string{`hotline_metrics_source_up{source="broker"} 0`, `hotline_open_breached_tickets 5`},
			wantLacks: []string{"hotline_queue_tasks{"},
		},
		{
			name:      "no sources",
			cfg:       metrics.Config{},
			wantLacks: []string{"hotline_metrics_source_up", "hotline_queue_tasks", "hotline_deadlines_due"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := metrics.New(c.cfg)
			app := api.NewOps(api.Config{Metrics: m.Handler()})
			status, body := scrape(t, app, "")
			if status != 200 {
				t.Fatalf("status %d: %s", status, body)
			}
			hasLines(t, body, c.want...)
			lacks(t, body, c.wantLacks...)
		})
	}
}

func TestBreachesCounted(t *testing.T) {
	m := metrics.New(metrics.Config{})
	m.Swept(deadlines.SweepResult{Breaches: 3, Warnings: 2}, complaints.SweepResult{Breaches: 1})
	m.Swept(deadlines.SweepResult{Breaches: 1}, complaints.SweepResult{})
	_, body := scrape(t, api.NewOps(api.Config{Metrics: m.Handler()}), "")
	hasLines(t, body, `hotline_sla_breaches_total{kind="ticket"} 4`, `hotline_sla_breaches_total{kind="complaint"} 1`,
		`hotline_sla_warnings_total{kind="ticket"} 2`, `hotline_sla_warnings_total{kind="complaint"} 0`)
}

func TestMetricsToken(t *testing.T) {
	m := metrics.New(metrics.Config{Token: "s3cret-token"})
	app := api.NewOps(api.Config{Metrics: m.Handler()})
	for _, c := range []struct {
		token string
		want  int
	}{{"", 401}, {"wrong", 401}, {"s3cret-token", 200}} {
		if status, body := scrape(t, app, c.token); status != c.want {
			t.Errorf("token %q: %d %s, want %d", c.token, status, body, c.want)
		}
	}
}

// AsynqQueues reads real queue depths through an Asynq inspector.
func TestAsynqQueues(t *testing.T) {
	mr := miniredis.RunT(t)
	opt := asynq.RedisClientOpt{Addr: mr.Addr()}
	client := asynq.NewClient(opt)
	defer client.Close()
	for i := range 3 {
		if _, err := client.Enqueue(asynq.NewTask("sla:deadline", []byte{byte(i)}), asynq.Queue("critical"), asynq.ProcessIn(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := client.Enqueue(asynq.NewTask("send", nil), asynq.Queue("critical")); err != nil {
		t.Fatal(err)
	}
	insp := asynq.NewInspector(opt)
	defer insp.Close()
	qs, err := metrics.AsynqQueues(insp)(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != 1 || qs[0].Queue != "critical" || qs[0].Scheduled != 3 || qs[0].Pending != 1 {
		t.Errorf("queues %+v, want critical with 3 scheduled and 1 pending", qs)
	}
}

// A request is counted in its status's class; a status no HTTP answer has is "other".
func TestStatusClasses(t *testing.T) {
	m := metrics.New(metrics.Config{})
	for _, status := range []int{0, 99, 100, 199, 200, 201, 299, 302, 404, 429, 500, 503, 599, 600} {
		m.ObserveRequest("POST", "/x", status, time.Millisecond)
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	hasLines(t, rec.Body.String(),
		`hotline_http_requests_total{method="POST",route="/x",status="other"} 3`,
		`hotline_http_requests_total{method="POST",route="/x",status="1xx"} 2`,
		`hotline_http_requests_total{method="POST",route="/x",status="2xx"} 3`,
		`hotline_http_requests_total{method="POST",route="/x",status="3xx"} 1`,
		`hotline_http_requests_total{method="POST",route="/x",status="4xx"} 2`,
		`hotline_http_requests_total{method="POST",route="/x",status="5xx"} 3`,
	)
}

// BenchmarkObserveRequest is the metrics' share of every request.
func BenchmarkObserveRequest(b *testing.B) {
	m := metrics.New(metrics.Config{})
	b.ReportAllocs()
	for b.Loop() {
		m.ObserveRequest("POST", "/api/v1/tickets", 201, time.Millisecond)
	}
}
