package tickets_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// Agents logging calls from one new caller at the same moment make one customer, with
// one phone identity and one email identity, and every call its own ticket on that
// customer: the identities' unique key refuses the second customer, and the create is run
// again to find the first (on PostgreSQL the whole create is one statement, which fails
// as a whole).
func TestCreateTicketRaceMakesOneCustomer(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		const n = 8
		var wg sync.WaitGroup
		details := make([]*tickets.TicketDetail, n)
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				details[i], errs[i] = d.svc.CreateTicketDetail(ctx, d.liNa, tickets.NewTicket{Name: "刘洋", Phone: "137 0013 7003",
					Email: "liu@example.com", Subject: fmt.Sprintf("来电 %d", i), Body: "客户询问退保材料"})
			}()
		}
		wg.Wait()
		refs := map[string]bool{}
		for i, err := range errs {
			if err != nil {
				t.Fatalf("call %d: %v", i, err)
			}
			refs[details[i].Ref()] = true
			c := details[i].Customer
			if c == nil || c.ID != details[0].Customer.ID || c.Identity(tickets.IdentityPhone) != "+8613700137003" || c.Identity(tickets.IdentityEmail) != "liu@example.com" {
				t.Errorf("call %d answered customer %+v, want the one customer with both identities", i, c)
			}
			if len(details[i].Messages) != 1 || len(details[i].Events) != 1 || details[i].Events[0].ID == 0 || details[i].Messages[0].ID == 0 {
				t.Errorf("call %d answered %d messages and %d events", i, len(details[i].Messages), len(details[i].Events))
			}
		}
		if len(refs) != n {
			t.Errorf("%d tickets for %d calls", len(refs), n)
		}
		var customers, phones, emails int
		if err := db.NewRaw("SELECT COUNT(*) FROM customers").Scan(ctx, &customers); err != nil {
			t.Fatal(err)
		}
		if err := db.NewRaw("SELECT COUNT(*) FROM customer_identities WHERE kind = 'phone' AND value = '+8613700137003'").Scan(ctx, &phones); err != nil {
			t.Fatal(err)
		}
		if err := db.NewRaw("SELECT COUNT(*) FROM customer_identities WHERE kind = 'email' AND value = 'liu@example.com'").Scan(ctx, &emails); err != nil {
			t.Fatal(err)
		}
		if customers != 1 || phones != 1 || emails != 1 {
			t.Errorf("%d customers, %d phone and %d email identities; want one of each", customers, phones, emails)
		}
		for ref := range refs {
			got := mustDetail(t, d.svc, ref)
			if got.CustomerID != details[0].Customer.ID || len(got.Messages) != 1 {
				t.Errorf("%s: customer %d with %d messages", ref, got.CustomerID, len(got.Messages))
			}
		}
	})
}

// On SQLite a logged contact's rows are written without RETURNING (SQLite runs it as a
// trigger, which keeps a statement journal of every page the INSERT changes) and their
// ids come from the connection's last one: the answer's ids are the stored rows', the two
// events one INSERT writes (a key's contact, auto-assigned) included.
func TestCreateTicketSQLiteWritesWithoutReturning(t *testing.T) {
	db := tickettest.SQLite(t)
	ctx := context.Background()
	d := newDesk(t, db)
	key := tickets.KeyActor("crm", tickets.RoleAgent)
	key.Agent.TeamID = &d.claims.ID
	if _, err := db.NewUpdate().Table("agents").Set("online = ?, capacity = 10", true).Where("id = ?", d.zhangWei.Agent.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	rec := tickettest.RecordQueries(db)
	for _, actor := range []tickets.Actor{d.liNa, key} {
		got, err := d.svc.CreateTicketDetail(ctx, actor, tickets.NewTicket{Name: "刘洋", Phone: "137 0013 7003",
			Email: "liu@example.com", Subject: "退保咨询", Body: "客户询问退保材料"})
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range rec.Take() {
			if strings.HasPrefix(q, "INSERT") && strings.Contains(q, "RETURNING") {
				t.Errorf("an INSERT with RETURNING: %.100s", q)
			}
		}
		stored, err := d.svc.Ticket(ctx, got.Ref())
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != stored.ID || got.Customer.ID != stored.Customer.ID || len(got.Customer.Identities) != 2 ||
			len(got.Messages) != 1 || got.Messages[0].ID != stored.Messages[0].ID {
			t.Errorf("answered ticket %d, customer %d, message %+v; stored %d, %d, %+v",
				got.ID, got.Customer.ID, got.Messages, stored.ID, stored.Customer.ID, stored.Messages)
		}
		for i, id := range got.Customer.Identities {
			if id.ID != stored.Customer.Identities[i].ID {
				t.Errorf("identity %s answered id %d, stored %d", id.Value, id.ID, stored.Customer.Identities[i].ID)
			}
		}
		if len(got.Events) != len(stored.Events) {
			t.Fatalf("answered %d events, stored %d", len(got.Events), len(stored.Events))
		}
		for i, e := range got.Events {
			if e.ID != stored.Events[i].ID || e.Kind != stored.Events[i].Kind {
				t.Errorf("event %s answered id %d, stored %s %d", e.Kind, e.ID, stored.Events[i].Kind, stored.Events[i].ID)
			}
		}
		if actor.Kind == "apikey" && len(got.Events) != 2 {
			t.Errorf("the key's contact has %d events, want created and auto-assigned", len(got.Events))
		}
	}
}

// Only SQLite batches logged contacts: PostgreSQL's service has no batcher to build.
func TestContactBatcherOnlyOnSQLite(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		d := newDesk(t, db)
		want := db.Dialect().Name() != dialect.PG
		if got := tickets.HasContactBatcher(d.svc); got != want {
			t.Errorf("contact batcher built: %v, want %v on %s", got, want, db.Dialect().Name())
		}
	})
}

// On SQLite, contacts logged while a create is running wait for it and are then written
// together, in one transaction (one commit, one sync of the file); each is answered once
// it is stored. One refused among them (a team that does not exist) rolls the shared
// transaction back, and each is logged again alone: it alone is refused.
func TestCreateTicketSQLiteSharesCommits(t *testing.T) {
	db := tickettest.SQLite(t)
	ctx := context.Background()
	d := newDesk(t, db)
	const waiting = 8
	release := make(chan struct{})
	var mu sync.Mutex
	var batches []int
	tickets.SetContactHooks(d.svc, func(n int) {
		if n == waiting {
			close(release) // every later call is queued behind the first batch
		}
	}, func(n int) {
		mu.Lock()
		first := len(batches) == 0
		batches = append(batches, n)
		mu.Unlock()
		if first {
			<-release
		}
	})
	lost := *d.liNa.Agent
	nowhere := int64(1 << 40)
	lost.TeamID = &nowhere
	create := func(actor tickets.Actor, i int) (*tickets.TicketDetail, error) {
		return d.svc.CreateTicketDetail(ctx, actor, tickets.NewTicket{Name: "刘洋", Phone: fmt.Sprintf("1370013%04d", i), Subject: "退保咨询", Body: "客户询问退保材料"})
	}
	var wg sync.WaitGroup
	details := make([]*tickets.TicketDetail, waiting+1)
	errs := make([]error, waiting+1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		details[0], errs[0] = create(d.liNa, 0)
	}()
	for { // the first create holds the writer before the others queue
		mu.Lock()
		n := len(batches)
		mu.Unlock()
		if n == 1 {
			break
		}
		runtime.Gosched()
	}
	for i := 1; i <= waiting; i++ {
		actor := d.liNa
		if i == 3 {
			actor = tickets.AgentActor(&lost)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			details[i], errs[i] = create(actor, i)
		}()
	}
	wg.Wait()
	if want := []int{1, waiting}; !slices.Equal(batches, want) {
		t.Errorf("batches of %v contacts, want %v (the queued ones together)", batches, want)
	}
	for i, err := range errs {
		if (err != nil) != (i == 3) {
			t.Fatalf("create %d: %v", i, err)
		}
		if err != nil {
			continue
		}
		stored, err := d.svc.Ticket(ctx, details[i].Ref())
		if err != nil || stored.ID != details[i].ID || stored.Customer.ID != details[i].Customer.ID {
			t.Errorf("create %d answered ticket %d, stored %+v (%v)", i, details[i].ID, stored, err)
		}
	}
	var n int
	if err := db.NewRaw("SELECT COUNT(*) FROM tickets").Scan(ctx, &n); err != nil {
		t.Fatal(err)
	}
	if n != waiting {
		t.Errorf("%d tickets stored, want %d", n, waiting)
	}
}
