package console_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// Each page offers its CSV file in a link a supervisor can see and follow, narrow or wide.
func TestBrowserExportLinks(t *testing.T) {
	ctx := newBrowser(t)
	l := serveDesk(t, consoletest.NewDesk(t, tickettest.SQLite(t)))
	l.FileComplaint("李娜", "+8613800138001", "理赔拖延", consoletest.T0)
	signInBrowser(t, ctx, l.url, l.Super)
	for _, p := range []struct{ name, page, link, words string }{
		{"queue", "/queue?view=all", `a[href^="/queue/export.csv?view=all"]`, "导出 CSV"},
		{"complaints", "/complaints", `a[href="/complaints/export.csv"]`, "导出投诉登记表（CSV）"},
		{"dashboard", "/dashboard", `a[href^="/dashboard/export.csv?team="]`, "导出本月考核指标（CSV）"},
	} {
		for _, w := range []int64{1440, 390} {
			run(t, ctx, 10*time.Second, fmt.Sprintf("%s at %d px", p.page, w),
				chromedp.EmulateViewport(w, 900),
				chromedp.Navigate(l.url+p.page),
				chromedp.WaitVisible(css(p.link)),
			)
			if text := read(t, ctx, "the link", chromedp.Text(css(p.link))); text != p.words {
				t.Errorf("%s: the link says %q, want %q", p.page, text, p.words)
			}
			shoot(t, ctx, fmt.Sprintf("export-link-%s-%d", p.name, w))
		}
	}
}
