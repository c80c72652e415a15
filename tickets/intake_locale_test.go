package tickets_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/delivery"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// TestIntakeKeepsTheCustomersLanguage: the language a message shows is kept on a customer
// whose language is not known yet, never over one already set, and a tag that cannot be a
// language (an email's junk Content-Language) is ignored without losing the message.
func TestIntakeKeepsTheCustomersLanguage(t *testing.T) {
	cases := []struct {
		name   string
		known  *string // the customer exists before, with this language
		locale string  // what the message shows
		want   string
	}{
		{"new customer", nil, "en", "en"},
		{"known, no language yet", ptr(""), "en", "en"},
		{"known, language set", ptr("zh-CN"), "en", "zh-CN"},
		{"known, message shows none", ptr(""), "", ""},
		{"junk tag on a new customer", nil, strings.Repeat("x", 500), ""},
		{"junk tag on a known one", ptr(""), "en\x00", ""},
	}
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		svc := tickettest.Service(db, tickettest.NewClock(t0))
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				phone := fmt.Sprintf("+8613600%06d", i)
				if c.known != nil {
					// An opt-out is how a customer becomes known without a message or a language.
					if err := delivery.New(svc).OptOut(ctx, tickets.IdentityPhone, phone); err != nil {
						t.Fatal(err)
					}
					if _, err := db.NewUpdate().Table("customers").Set("locale = ?", *c.known).
						Where("id = (SELECT customer_id FROM customer_identities WHERE value = ?)", phone).Exec(ctx); err != nil {
						t.Fatal(err)
					}
				}
				in := sms(phone, "hello there", fmt.Sprintf("SM%032d", i))
				in.Locale = c.locale
				res, err := svc.Intake(ctx, in)
				if err != nil {
					t.Fatalf("the message was refused: %v", err)
				}
				var stored string
				if err := db.NewSelect().Table("customers").Column("locale").Where("id = ?", res.Customer.ID).Scan(ctx, &stored); err != nil {
					t.Fatal(err)
				}
				if stored != c.want || res.Customer.Locale != c.want {
					t.Errorf("customer language stored %q, returned %q; want %q", stored, res.Customer.Locale, c.want)
				}
			})
		}
	})
}

// TestIntakeLanguageSetOnceUnderRace: a known customer without a language sends texts in
// English and in Chinese at the same moment. The first to commit sets the language; every
// other message sees it and none overwrites it, so what each intake reports is what is stored.
func TestIntakeLanguageSetOnceUnderRace(t *testing.T) {
	const n = 8
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		svc := tickettest.Service(db, tickettest.NewClock(t0))
		phone := "+8613500135000"
		if err := delivery.New(svc).OptOut(ctx, tickets.IdentityPhone, phone); err != nil {
			t.Fatal(err)
		}
		got := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				in := sms(phone, "hello", fmt.Sprintf("SM%032d", 900+i))
				in.Locale = []string{"en", "zh-CN"}[i%2]
				res, err := svc.Intake(ctx, in)
				if errs[i] = err; err == nil {
					got[i] = res.Customer.Locale
				}
			}()
		}
		close(start)
		wg.Wait()
		var stored string
		if err := db.NewRaw(`SELECT c.locale FROM customers AS c JOIN customer_identities AS i ON i.customer_id = c.id WHERE i.value = ?`, phone).Scan(ctx, &stored); err != nil {
			t.Fatal(err)
		}
		if stored == "" {
			t.Fatalf("no language kept on the customer")
		}
		for i := range n {
			if errs[i] != nil {
				t.Errorf("message %d: %v", i, errs[i])
			} else if got[i] != stored {
				t.Errorf("message %d saw the customer's language as %q, the database keeps %q", i, got[i], stored)
			}
		}
	})
}
