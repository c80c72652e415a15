package privacy_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/privacy"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

const day = 24 * time.Hour

type desk struct {
	*tickettest.Desk
	p  *privacy.Service
	db *bun.DB
}

func newDesk(t *testing.T, db *bun.DB, pol privacy.Policy) *desk {
	t.Helper()
	clock := tickettest.NewClock(tickettest.T0)
	d := tickettest.NewDesk(t, tickettest.Service(db, clock), clock)
	return &desk{Desk: d, p: privacy.New(d.Svc, privacy.Config{Defaults: pol}), db: db}
}

// text is a customer's message; it returns their ticket.
func (d *desk) text(t *testing.T, in tickets.Inbound) *tickets.Ticket {
	t.Helper()
	res, err := d.Svc.Intake(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return res.Ticket
}

func sms(phone, body string, files ...tickets.NewAttachment) tickets.Inbound {
	in := tickettest.SMS(phone, body, "")
	in.Attachments = files
	return in
}

// voicemail is a recording Hotline fetches from Twilio.
var voicemail = tickets.NewAttachment{Filename: "voicemail.wav", ContentType: "audio/x-wav", SizeBytes: 1000,
	URL: "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1", Provider: "twilio"}

// scan is the ID card a customer emails, which Hotline keeps.
var scan = tickets.NewAttachment{Filename: "id-card.jpg", ContentType: "image/jpeg", SizeBytes: 5, Content: []byte("JPEG!")}

func (d *desk) bodies(t *testing.T, customer int64) []string {
	t.Helper()
	var out []string
	if err := d.db.NewSelect().TableExpr("messages AS m").Join("JOIN tickets AS t ON t.id = m.ticket_id").ColumnExpr("m.body").
		Where("t.customer_id = ? AND m.direction = 'inbound'", customer).OrderExpr("m.id").Scan(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func (d *desk) files(t *testing.T, customer int64) []string {
	t.Helper()
	var out []string
	if err := d.db.NewSelect().TableExpr("attachments AS a").Join("JOIN messages AS m ON m.id = a.message_id").Join("JOIN tickets AS t ON t.id = m.ticket_id").
		ColumnExpr("a.filename || ' ' || a.url").Where("t.customer_id = ?", customer).OrderExpr("a.id").Scan(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func (d *desk) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.db.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// applied is the sum of the retention.applied events' counts on customer, by kind.
func (d *desk) applied(t *testing.T, customer int64) map[string]int {
	t.Helper()
	var data []string
	if err := d.db.NewSelect().Table("events").Column("data").Where("entity = 'customer' AND entity_id = ? AND kind = ?", customer, privacy.KindRetention).
		Scan(context.Background(), &data); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, s := range data {
		var v struct{ Counts map[string]int }
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatal(err)
		}
		for k, n := range v.Counts {
			out[k] += n
		}
	}
	return out
}

// decidedComplaint stores a decided complaint on tk, as an officer leaves it.
func (d *desk) decidedComplaint(t *testing.T, tk *tickets.Ticket) int64 {
	t.Helper()
	now := d.Svc.Now()
	var id int64
	if err := d.db.QueryRowContext(context.Background(), `INSERT INTO complaints (ticket_id, source, summary, received_at, due_at, deadline_at,
		status, decision, outcome, decided_at, created_at, updated_at) VALUES (?, 'api', '理赔太慢', ?, ?, ?, 'decided', ?, 'upheld', ?, ?, ?) RETURNING id`,
		tk.ID, now, now, now, "赔付并致歉 paid with apology", now, now, now).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestRetention: each kind of data goes once its period after the ticket ended is over,
// never from open work, nor under a legal hold on the customer or on a complaint; the
// complaint's decision stays; a run repeated does nothing again. On both databases.
func TestRetention(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db, privacy.Policy{Messages: 30, Attachments: 30, Recordings: 30, Customers: 60})

		old := d.text(t, sms("+8613800000001", "我的身份证号 110101199003074478"))
		d.text(t, sms("+8613800000001", "留言: 请回电", voicemail))
		mail := d.text(t, tickets.Inbound{Channel: tickets.ChannelEmail, From: tickets.IdentityEmail, Address: "mei@example.com",
			Subject: "证件", Body: "附件是我的身份证", Attachments: []tickets.NewAttachment{scan}})
		held := d.text(t, sms("+8613800000003", "held customer's words"))
		comp := d.text(t, sms("+8613800000004", "complainant's words"))
		open := d.text(t, sms("+8613800000005", "still waiting"))
		for _, tk := range []*tickets.Ticket{old, mail, held, comp} {
			d.Resolve(t, tk)
		}
		if _, err := d.p.PlaceHold(ctx, d.Chen, privacy.OnCustomer, held.CustomerID, "court order 2026-17"); err != nil {
			t.Fatal(err)
		}
		cp := d.decidedComplaint(t, comp)
		if _, err := d.p.PlaceHold(ctx, d.Admin, privacy.OnComplaint, cp, "regulator review"); err != nil {
			t.Fatal(err)
		}
		d.Clock.Advance(20 * day)
		recent := d.text(t, sms("+8613800000006", "resolved later"))
		d.Resolve(t, recent)

		d.Clock.Advance(11 * day) // 31 days after the first ones ended, 11 after the last
		r, err := d.p.RunPeriod(ctx)
		if err != nil || r == nil {
			t.Fatalf("run: %v %v", r, err)
		}
		if r.Messages == 0 || r.Attachments != 1 || r.Recordings != 1 || r.Customers != 0 {
			t.Errorf("first run erased %+v, want messages, one file, one recording, no customer", r)
		}
		for _, c := range []struct {
			who    string
			tk     *tickets.Ticket
			erased bool
		}{{"expired", old, true}, {"emailed", mail, true}, {"held customer", held, false}, {"held complaint", comp, false}, {"open", open, false}, {"recent", recent, false}} {
			for _, b := range d.bodies(t, c.tk.CustomerID) {
				if (b == privacy.Erased) != c.erased {
					t.Errorf("%s: body %q, erased should be %v", c.who, b, c.erased)
				}
			}
		}
		if got := d.files(t, old.CustomerID); !slices.Equal(got, []string{"[erased] "}) {
			t.Errorf("recording after retention: %q", got)
		}
		if got := d.files(t, mail.CustomerID); !slices.Equal(got, []string{"[erased] "}) {
			t.Errorf("file after retention: %q", got)
		}
		if n := d.count(t, "SELECT COUNT(*) FROM attachment_files"); n != 0 {
			t.Errorf("%d files kept after their only attachment expired", n)
		}
		if n := d.count(t, "SELECT COUNT(*) FROM tickets WHERE subject = ? AND customer_id = ?", privacy.Erased, mail.CustomerID); n != 1 {
			t.Errorf("the emailed ticket's subject is kept")
		}
		if n := d.count(t, "SELECT COUNT(*) FROM complaints WHERE id = ? AND decision = ?", cp, "赔付并致歉 paid with apology"); n != 1 {
			t.Errorf("the complaint's decision is gone")
		}
		if got := d.applied(t, old.CustomerID); got["messages"] == 0 || got["recordings"] != 1 {
			t.Errorf("events on the expired customer: %v", got)
		}
		if got := d.applied(t, held.CustomerID); len(got) != 0 {
			t.Errorf("retention recorded on a held customer: %v", got)
		}

		// The same period again, from any process: nothing; a pass now: nothing left.
		if r, err := d.p.RunPeriod(ctx); r != nil || err != nil {
			t.Errorf("second run in a period: %+v %v", r, err)
		}
		events := tickettest.CountEvents(t, db, privacy.KindRetention)
		if c, err := d.p.Apply(ctx); err != nil || c != (privacy.Counts{}) {
			t.Errorf("pass with nothing expired: %+v %v", c, err)
		}
		if n := tickettest.CountEvents(t, db, privacy.KindRetention); n != events {
			t.Errorf("a pass with nothing to do recorded %d events", n-events)
		}

		// 61 days: the customers whose tickets all ended 60 days ago lose their names and
		// identities; a number that writes again is a new customer.
		d.Clock.Advance(30 * day)
		c, err := d.p.Apply(ctx)
		if err != nil || c.Customers != 2 {
			t.Fatalf("customers: %+v %v", c, err)
		}
		if n := d.count(t, "SELECT COUNT(*) FROM customer_identities WHERE customer_id IN (?, ?)", old.CustomerID, mail.CustomerID); n != 0 {
			t.Errorf("%d identities kept", n)
		}
		if n := d.count(t, "SELECT COUNT(*) FROM customer_identities WHERE customer_id IN (?, ?, ?)", held.CustomerID, comp.CustomerID, recent.CustomerID); n != 3 {
			t.Errorf("held or recent customers' identities: %d of 3 kept", n)
		}
		again := d.text(t, sms("+8613800000001", "hello again"))
		if again.CustomerID == old.CustomerID {
			t.Errorf("a returning number joined the anonymised customer")
		}

		// Released, the held customer's data goes at the next pass.
		hs, _ := d.p.Holds(ctx, held.CustomerID)
		if _, err := d.p.ReleaseHold(ctx, d.Chen, hs[0].ID, "case closed"); err != nil {
			t.Fatal(err)
		}
		if c, err := d.p.Apply(ctx); err != nil || c.Messages == 0 || c.Customers != 1 {
			t.Errorf("after the release: %+v %v", c, err)
		}
		for _, b := range d.bodies(t, held.CustomerID) {
			if b != privacy.Erased {
				t.Errorf("released customer's body %q kept", b)
			}
		}
	})
}

// TestRetentionConcurrent: passes running together erase each message once, and the
// events they record add up to what was erased.
func TestRetentionConcurrent(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db, privacy.Policy{Messages: 1})
		privacy.SetBatch(d.p, 3)
		var ids []int64
		for i := range 12 {
			phone := fmt.Sprintf("+86139000000%02d", i)
			tk := d.text(t, sms(phone, "secret"))
			d.text(t, sms(phone, "more secret"))
			d.Resolve(t, tk)
			ids = append(ids, tk.CustomerID)
		}
		want := d.count(t, "SELECT COUNT(*) FROM messages")
		d.Clock.Advance(2 * day)
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			total int
		)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := d.p.Apply(ctx)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				total += c.Messages
				mu.Unlock()
			}()
		}
		wg.Wait()
		if c, err := d.p.Apply(ctx); err != nil { // what a skipped row left, if any
			t.Fatal(err)
		} else {
			total += c.Messages
		}
		if total != want {
			t.Errorf("passes erased %d messages, want %d", total, want)
		}
		if n := d.count(t, "SELECT COUNT(*) FROM messages WHERE erased_at IS NULL"); n != 0 {
			t.Errorf("%d messages left", n)
		}
		sum := 0
		for _, id := range ids {
			sum += d.applied(t, id)["messages"]
		}
		if sum != want {
			t.Errorf("events count %d erased messages, want %d", sum, want)
		}
	})
}

// TestPolicy: admins set the policy, others may not, nonsense is refused.
func TestPolicy(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db, privacy.Policy{Messages: 365})
		if p, _ := d.p.Policy(ctx); p.Messages != 365 {
			t.Errorf("default policy %+v", p)
		}
		if err := d.p.SetPolicy(ctx, d.Chen, privacy.Policy{}); !errors.Is(err, tickets.ErrForbidden) {
			t.Errorf("supervisor setting the policy: %v", err)
		}
		if err := d.p.SetPolicy(ctx, d.Admin, privacy.Policy{Messages: -1}); !errors.Is(err, tickets.ErrInvalid) {
			t.Errorf("negative days: %v", err)
		}
		want := privacy.Policy{Messages: 90, Attachments: 30, Recordings: 180, Customers: 1095}
		if err := d.p.SetPolicy(ctx, d.Admin, want); err != nil {
			t.Fatal(err)
		}
		if p, _ := d.p.Policy(ctx); p != want {
			t.Errorf("saved %+v, read %+v", want, p)
		}
		if n := tickettest.CountEvents(t, db, "retention.policy_changed"); n != 1 {
			t.Errorf("%d policy events", n)
		}
	})
}
