package admin_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets/stages"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// The admin sees each category's stages (claims seeded), edits them as lines in both
// languages, adds a category's, and a bad line is refused with the reason and kept.
func TestAdminStages(t *testing.T) {
	d := consoletest.NewDesk(t, tickettest.SQLite(t))
	b := d.SignIn(d.Admin)
	r := b.Get("/admin/stages")
	consoletest.WantStatus(t, r, 200)
	consoletest.WantContains(t, r, `id="stages-claims"`, "报案已受理 | Claim received | 1", "3 个工作日", `action="/admin/stages"`)

	r = b.Post("/admin/stages", url.Values{"category": {"policy"}, "stages": {"已受理 | Received | 1\n已办结 | Done\n"}})
	consoletest.WantStatus(t, r, 303)
	consoletest.WantContains(t, b.Get(r.Location), "已保存类别“policy”的阶段。", `id="stages-policy"`, "已办结 | Done | 0")
	sts, err := stages.New(d.Service).Stages(context.Background(), "policy")
	if err != nil || len(sts) != 2 || sts[1].NameEn != "Done" {
		t.Fatalf("policy stages: %d %v", len(sts), err)
	}

	r = b.Post("/admin/stages", url.Values{"category": {"claims"}, "stages": {"只有中文\n"}})
	consoletest.WantStatus(t, r, 400)
	consoletest.WantContains(t, r, "第 1 行格式不对", ">只有中文\n</textarea>")

	if r := d.SignIn(d.Agent).Post("/admin/stages", url.Values{"category": {"claims"}, "stages": {""}}); r.Status != 403 {
		t.Errorf("an agent editing stages: %d, want 403", r.Status)
	}
}
