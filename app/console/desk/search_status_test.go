package desk_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/app/console/internal/consoletest"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// TestQueueSearchNamesItsStatuses: a queue lists open work, and its status filter says so;
// a search lists the caller's tickets whatever their status, resolved ones too, and the
// filter says that instead of "open work".
func TestQueueSearchNamesItsStatuses(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := consoletest.NewDesk(t, db)
		old := d.SMS("+8613800138000", "上次的理赔")
		if _, err := d.Service.SetStatus(context.Background(), tickets.AgentActor(d.Admin), old.Ref(), tickets.StatusResolved, ""); err != nil {
			t.Fatal(err)
		}
		b := d.SignIn(d.Agent)
		for _, c := range []struct {
			lang, query, label string
			listsOld           bool
		}{
			{"zh", "", "未结工单", false},
			{"zh", "8000", "所有状态", true},
			{"en", "", "Open work", false},
			{"en", "+86 138 0013 8000", "Every status", true},
		} {
			if c.lang == "en" {
				b.Post("/settings/language", url.Values{"lang": {"en"}})
			}
			r := b.Get("/queue?view=all&q=" + url.QueryEscape(c.query))
			consoletest.WantStatus(t, r, 200)
			consoletest.WantContains(t, r, `<option value="">`+c.label+`</option>`)
			if c.listsOld {
				consoletest.WantContains(t, r, `data-ref="`+old.Ref()+`"`)
			} else {
				consoletest.WantLacks(t, r, `data-ref="`+old.Ref()+`"`)
			}
		}
	})
}
