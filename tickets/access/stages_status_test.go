package access_test

import (
	"context"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets/stages"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// The STATUS answer names the ticket's progress stage and what is still missing, in the
// customer's words; the status page's view has every stage: passed with its date, the
// current one, those ahead.
func TestStatusNamesTheStage(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		st := stages.New(d.core)
		tk := d.ticket(t, "+8613800138000")
		if _, err := d.core.SetCategory(ctx, d.admin, tk.Ref(), "claims", ""); err != nil {
			t.Fatal(err)
		}
		sts, err := st.Stages(ctx, "claims")
		if err != nil {
			t.Fatal(err)
		}
		// Before any stage: the answer is as it was.
		got, err := d.svc.CustomerStatus(ctx, "phone", "13800138000", "")
		if err != nil || len(got) != 1 || got[0].Stage != nil || len(got[0].Stages) != 6 {
			t.Fatalf("before a stage: %+v %v", got, err)
		}
		for _, i := range []int{0, 2} {
			if _, err := st.Move(ctx, d.admin, tk.Ref(), sts[i].ID); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := st.RequestDocuments(ctx, d.admin, tk.Ref(), []string{"医院诊断证明"}); err != nil {
			t.Fatal(err)
		}
		got, err = d.svc.CustomerStatus(ctx, "phone", "13800138000", "")
		if err != nil || len(got) != 1 {
			t.Fatal(err)
		}
		for _, c := range []struct {
			english bool
			want    []string
		}{
			{false, []string{"当前进度：正在调查", "还需提供：医院诊断证明"}},
			{true, []string{"stage: Under investigation", "still needed: 医院诊断证明"}},
		} {
			text := d.svc.StatusText(got, c.english)
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("STATUS answer %q lacks %q", text, w)
				}
			}
		}
		page, err := d.svc.PublicStatus(ctx, tk.Ref(), "8000")
		if err != nil {
			t.Fatal(err)
		}
		var states []string
		for _, s := range page.Stages {
			states = append(states, s.State)
		}
		if strings.Join(states, " ") != "passed passed current ahead ahead ahead" {
			t.Errorf("page stages %v", states)
		}
		if page.Stages[0].At == nil || page.Stages[1].At != nil || page.Stages[2].At == nil {
			t.Errorf("dates: the first and current stages were entered, the second skipped: %+v", page.Stages[:3])
		}
		if len(page.Missing) != 1 {
			t.Errorf("missing documents on the page: %v", page.Missing)
		}
	})
}
