package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// getCSV GETs an export as who and reads it as a spreadsheet would: the byte-order mark
// first, then the rows.
func (e *env) getCSV(t *testing.T, path, who string) (int, string, [][]string) {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	if who != "" {
		req.Header.Set("Authorization", "Bearer "+e.tok[who])
	}
	res, err := e.app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		return res.StatusCode, res.Header.Get("Content-Type"), nil
	}
	if !bytes.HasPrefix(b, []byte("\xEF\xBB\xBF")) {
		t.Fatalf("%s: no UTF-8 byte-order mark: %q", path, b[:min(len(b), 20)])
	}
	rows, err := csv.NewReader(bytes.NewReader(b[3:])).ReadAll()
	if err != nil {
		t.Fatalf("%s: not CSV: %v", path, err)
	}
	return res.StatusCode, res.Header.Get("Content-Type"), rows
}

// column finds a header's cells.
func column(t *testing.T, rows [][]string, name string) []string {
	t.Helper()
	for i, h := range rows[0] {
		if h == name {
			var out []string
			for _, r := range rows[1:] {
				out = append(out, r[i])
			}
			return out
		}
	}
	t.Fatalf("no column %q in %v", name, rows[0])
	return nil
}

func TestExportTickets(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		for _, in := range []tickets.Inbound{
			{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: "+8613800000001", Name: "张伟", Body: "理赔进度？"},
			{Channel: tickets.ChannelEmail, From: tickets.IdentityEmail, Address: "x@example.com", Name: `=HYPERLINK("http://evil")`, Subject: "+SUM(A1)", Body: "hi"},
			{Channel: tickets.ChannelEmail, From: tickets.IdentityEmail, Address: "y@example.com", Name: "@cmd", Subject: "-2+3", Body: "hi"},
		} {
			if _, err := e.svc.Intake(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		ref := e.intake(t, sms("+8613800000002", "another")).Ref()
		e.mustAct(t, "admin", ref, "assign", map[string]any{"assignee_id": e.id("agent1")})

		for _, tc := range []struct {
			name, path, who string
			status          int
			refs            []string // the references listed, in the queue's order (nearest deadline first)
		}{
			{"every ticket, in Chinese", "/api/v1/tickets.csv", "agent1", 200, []string{"HL-000001", "HL-000004", "HL-000002", "HL-000003"}},
			{"the console's filter", "/api/v1/tickets.csv?assignee=me", "agent1", 200, []string{"HL-000004"}},
			{"channel filter", "/api/v1/tickets.csv?channel=email&lang=en", "agent2", 200, []string{"HL-000002", "HL-000003"}},
			{"a range before the tickets", "/api/v1/tickets.csv?from=2026-10-01&to=2026-10-31", "agent1", 200, nil},
			{"the day they came", "/api/v1/tickets.csv?from=2026-11-25&to=2026-11-25", "agent1", 200, []string{"HL-000001", "HL-000004", "HL-000002", "HL-000003"}},
			{"no token", "/api/v1/tickets.csv", "", 401, nil},
			{"a bad status", "/api/v1/tickets.csv?status=late", "agent1", 400, nil},
			{"a bad date", "/api/v1/tickets.csv?from=yesterday", "agent1", 400, nil},
			{"more than a year", "/api/v1/tickets.csv?from=2025-01-01&to=2026-11-25", "agent1", 400, nil},
			{"from after to", "/api/v1/tickets.csv?from=2026-11-26&to=2026-11-20", "agent1", 400, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, ct, rows := e.getCSV(t, tc.path, tc.who)
				if status != tc.status {
					t.Fatalf("status %d, want %d", status, tc.status)
				}
				if status != 200 {
					return
				}
				if ct != "text/csv; charset=utf-8" {
					t.Errorf("Content-Type %q", ct)
				}
				refHeader := "工单号"
				if strings.Contains(tc.path, "lang=en") {
					refHeader = "Reference"
				}
				got := column(t, rows, refHeader)
				if strings.Join(got, ",") != strings.Join(tc.refs, ",") {
					t.Errorf("references %v, want %v", got, tc.refs)
				}
			})
		}

		_, _, rows := e.getCSV(t, "/api/v1/tickets.csv", "admin")
		want := map[string][2]string{ // reference: customer, subject as Excel must show them
			"HL-000001": {"张伟", ""},
			"HL-000002": {`'=HYPERLINK("http://evil")`, "'+SUM(A1)"},
			"HL-000003": {"'@cmd", "'-2+3"},
		}
		refs, customers, subjects, statuses := column(t, rows, "工单号"), column(t, rows, "客户"), column(t, rows, "主题"), column(t, rows, "状态")
		for i, ref := range refs {
			w, ok := want[ref]
			if !ok {
				continue
			}
			if customers[i] != w[0] || (w[1] != "" && subjects[i] != w[1]) {
				t.Errorf("%s: customer %q subject %q, want %q %q", ref, customers[i], subjects[i], w[0], w[1])
			}
			if statuses[i] != tickets.StatusNew.Words(false) {
				t.Errorf("%s: status %q, want it in words", ref, statuses[i])
			}
		}
	})
}

func TestExportComplaints(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		for _, c := range []map[string]any{
			{"source": "api", "summary": "理赔拖延，客户不满", "customer": map[string]string{"name": "李娜", "phone": "+8613800000011"}},
			{"source": "regulator", "summary": "=1+1", "customer": map[string]string{"name": "-Bob", "phone": "+8613800000012"}},
		} {
			status, js := e.do(t, "POST", "/api/v1/complaints", "admin", c)
			wantStatus(t, status, js, 201)
		}
		for _, tc := range []struct {
			name, path, who string
			status          int
			rows            int
		}{
			{"an agent reads the register", "/api/v1/complaints.csv", "agent1", 200, 2},
			{"in English", "/api/v1/complaints.csv?lang=en&from=2026-11-01&to=2026-11-30", "sup1", 200, 2},
			{"an earlier month", "/api/v1/complaints.csv?from=2026-10-01&to=2026-10-31", "admin", 200, 0},
			{"no token", "/api/v1/complaints.csv", "", 401, 0},
			{"a bad range", "/api/v1/complaints.csv?to=soon", "admin", 400, 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, _, rows := e.getCSV(t, tc.path, tc.who)
				if status != tc.status {
					t.Fatalf("status %d, want %d", status, tc.status)
				}
				if status == 200 && len(rows)-1 != tc.rows {
					t.Errorf("%d complaints, want %d: %v", len(rows)-1, tc.rows, rows)
				}
			})
		}
		_, _, rows := e.getCSV(t, "/api/v1/complaints.csv", "admin")
		if got := column(t, rows, "客户"); got[0] != "李娜" || got[1] != "'-Bob" {
			t.Errorf("customers %q", got)
		}
		if got := column(t, rows, "摘要"); got[0] != "理赔拖延，客户不满" || got[1] != "'=1+1" {
			t.Errorf("summaries %q", got)
		}
		if got := column(t, rows, "处理期限"); got[0] == "" {
			t.Error("no deadline")
		}
	})
}

func TestExportKPI(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		// Two Claims tickets: one answered in time, one resolved (its three follow-up visits
		// scheduled: today, in a week, in a month).
		ref := e.intake(t, sms("+8613800000021", "理赔？")).Ref()
		e.mustAct(t, "admin", ref, "assign", map[string]any{"assignee_id": e.id("agent1")})
		e.mustAct(t, "agent1", ref, "replies", map[string]any{"body": "已收到"})
		e.resolvedFor(t, "+8613800000022", "agent1")

		for _, tc := range []struct {
			name, path, who string
			status          int
			want            map[string][3]string // measure: met, total, rate
		}{
			{"an agent may not", "/api/v1/reports/kpi.csv?month=2026-11", "agent1", 403, nil},
			{"no token", "/api/v1/reports/kpi.csv", "", 401, nil},
			{"a bad month", "/api/v1/reports/kpi.csv?month=11-2026", "admin", 400, nil},
			{"a bad team", "/api/v1/reports/kpi.csv?team=x", "admin", 400, nil},
			{"the admin sees November", "/api/v1/reports/kpi.csv?month=2026-11", "admin", 200, map[string][3]string{
				"24 小时内首次响应": {"1", "1", "100.0%"}, "新建工单": {"", "2", ""}, "回访完成": {"0", "1", "0.0%"}}},
			{"December in English", "/api/v1/reports/kpi.csv?month=2026-12&lang=en", "admin", 200, map[string][3]string{
				"Follow-up visits completed": {"0", "2", "0.0%"}, "Tickets created": {"", "0", ""}}},
			{"a Claims supervisor sees Claims", "/api/v1/reports/kpi.csv?month=2026-11", "sup1", 200, map[string][3]string{"新建工单": {"", "2", ""}}},
			{"a Billing supervisor sees Billing", "/api/v1/reports/kpi.csv?month=2026-11", "sup2", 200, map[string][3]string{"新建工单": {"", "0", ""}, "回访完成": {"0", "0", ""}}},
			{"or all teams", "/api/v1/reports/kpi.csv?month=2026-11&team=all", "sup2", 200, map[string][3]string{"新建工单": {"", "2", ""}}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, _, rows := e.getCSV(t, tc.path, tc.who)
				if status != tc.status {
					t.Fatalf("status %d, want %d", status, tc.status)
				}
				got := map[string][3]string{}
				for _, r := range rows[min(1, len(rows)):] {
					got[r[0]] = [3]string{r[1], r[2], r[3]}
				}
				for k, w := range tc.want {
					if got[k] != w {
						t.Errorf("%s: %v, want %v (all: %v)", k, got[k], w, rows)
					}
				}
			})
		}
	})
}

// Ten thousand tickets export whole, in order, paged through rather than loaded at once.
func TestExportTicketsLarge(t *testing.T) {
	db := tickettest.SQLite(t)
	e := newEnv(t, db)
	ctx := context.Background()
	const n = 10000
	now := e.clock.Now()
	cust := &tickets.Customer{Name: "王芳", CreatedAt: now, UpdatedAt: now}
	if _, err := db.NewInsert().Model(cust).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	batch := make([]*tickets.Ticket, 0, 500)
	for i := range n {
		due := now.Add(time.Duration(i) * time.Minute)
		batch = append(batch, &tickets.Ticket{CustomerID: cust.ID, Channel: tickets.ChannelSMS, Subject: fmt.Sprintf("件 %d", i), Priority: tickets.PriorityNormal,
			Status: tickets.StatusOpen, NextDueAt: due, CreatedAt: now, UpdatedAt: now})
		if len(batch) == cap(batch) {
			if _, err := db.NewInsert().Model(&batch).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	started := time.Now()
	_, _, got := e.getCSV(t, "/api/v1/tickets.csv", "admin")
	if len(got)-1 != n {
		t.Fatalf("%d rows, want %d", len(got)-1, n)
	}
	for i, r := range got[1:] {
		if r[1] != fmt.Sprintf("件 %d", i) || r[2] != "王芳" {
			t.Fatalf("row %d: %v", i, r)
		}
	}
	t.Logf("%d tickets exported in %v", n, time.Since(started))
}
