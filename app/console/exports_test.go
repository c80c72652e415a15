package console_test

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// The queue, the complaints board and the dashboard offer their CSV files, checked as the
// pages are: any agent exports the queue they see and the register, only supervisors and
// admins the KPI.
func TestConsoleExports(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := consoletest.NewDesk(t, db)
		d.FileComplaint("李娜", "+8613800138001", "=理赔拖延", consoletest.T0)
		d.SMS("+8613800138002", "理赔进度？")
		agent, super := d.SignIn(d.Agent), d.SignIn(d.Super)

		for _, tc := range []struct {
			name string
			b    *consoletest.Browser
			path string
			page string // the page that links to the file
			link string
		}{
			{"queue", agent, "/queue/export.csv?view=all", "/queue?view=all", `href="/queue/export.csv?view=all&amp;status=&amp;channel=&amp;priority=&amp;q="`},
			{"register", agent, "/complaints/export.csv", "/complaints", `href="/complaints/export.csv"`},
			{"kpi", super, "/dashboard/export.csv?team=all", "/dashboard?team=all", `href="/dashboard/export.csv?team=all"`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				consoletest.WantContains(t, tc.b.Get(tc.page), tc.link)
				r := tc.b.Get(tc.path)
				consoletest.WantStatus(t, r, 200)
				if !strings.HasPrefix(r.Body, "\uFEFF") || r.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
					t.Fatalf("not a UTF-8 CSV file for Excel: %q %q", r.Header.Get("Content-Type"), consoletest.Clip(r.Body))
				}
				rows, err := csv.NewReader(bytes.NewReader([]byte(strings.TrimPrefix(r.Body, "\uFEFF")))).ReadAll()
				if err != nil || len(rows) < 2 {
					t.Fatalf("rows %v: %v", rows, err)
				}
				switch tc.name {
				case "queue":
					if len(rows) != 3 || rows[1][0] != "HL-000001" || rows[1][2] != "李娜" || rows[2][0] != "HL-000002" {
						t.Errorf("queue %v", rows)
					}
				case "register":
					if len(rows) != 2 || rows[1][2] != "李娜" || rows[1][6] != "'=理赔拖延" {
						t.Errorf("register %v", rows)
					}
				case "kpi":
					if rows[0][0] != "指标" || rows[len(rows)-1][0] != "新建工单" || rows[len(rows)-1][2] != "2" {
						t.Errorf("kpi %v", rows)
					}
				}
			})
		}

		for _, tc := range []struct {
			name   string
			who    *tickets.Agent
			path   string
			status int
		}{
			{"an agent's KPI", d.Agent, "/dashboard/export.csv", 403},
			{"a complaint officer's KPI", d.Office, "/dashboard/export.csv", 403},
			{"a bad month", d.Admin, "/dashboard/export.csv?month=soon", 400},
			{"a bad range", d.Agent, "/queue/export.csv?from=2026-12-01&to=2026-11-01", 400},
			{"a bad status", d.Agent, "/queue/export.csv?status=late", 400},
			{"more than a year of complaints", d.Agent, "/complaints/export.csv?from=2024-01-01", 400},
		} {
			t.Run(tc.name, func(t *testing.T) {
				consoletest.WantStatus(t, d.SignIn(tc.who).Get(tc.path), tc.status)
			})
		}
		if r := d.Browser().Get("/queue/export.csv?view=all"); r.Status == 200 {
			t.Errorf("signed out: %d", r.Status)
		}
	})
}
