package outbox_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/hotlinedesk/hotline/migrations"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/outbox"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// desk is the tests' call centre (tickettest.Desk) with its outboxes, as app builds them.
type desk struct {
	*tickettest.Desk
	box *outbox.Service
}

func newDesk(t *testing.T, db *bun.DB) *desk {
	t.Helper()
	clock := tickettest.NewClock(tickettest.T0)
	base := tickettest.NewDesk(t, tickettest.Service(db, clock), clock)
	return &desk{Desk: base, box: outbox.New(base.Svc)}
}

// logged is a phone ticket an agent logs (assigned to them, in their team).
func (d *desk) logged(t *testing.T, by tickets.Actor, subject string, p tickets.Priority) *tickets.Ticket {
	t.Helper()
	tk, err := d.Svc.CreateTicket(context.Background(), by, tickets.NewTicket{Phone: "+8613800138000", Subject: subject, Body: subject, Priority: p})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// unassigned is an SMS ticket in nobody's queue.
func (d *desk) unassigned(t *testing.T, phone string) *tickets.Ticket {
	t.Helper()
	res, err := d.Svc.Intake(context.Background(), tickets.Inbound{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: phone, Body: "where is my claim?"})
	if err != nil {
		t.Fatal(err)
	}
	return res.Ticket
}

func TestCollectAnnouncements(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		old := d.logged(t, d.LiNa, "before Slack", tickets.PriorityUrgent)
		// Announcing starts where the schema was created, not at the first call: a ticket
		// logged before the job first ran is announced by it.
		if n, err := d.box.CollectAnnouncements(ctx); err != nil || n != 1 {
			t.Fatalf("first collect = %d, %v; want 1 (the ticket logged before it)", n, err)
		}
		first, err := d.box.PendingNotices(ctx, 0)
		if err != nil || len(first) != 1 || first[0].TicketRef() != old.Ref() {
			t.Fatalf("after the first collect: %+v, %v; want %s announced", first, err, old.Ref())
		}
		if err := d.box.MarkNoticeSkipped(ctx, first[0].Outbox, first[0].ID, "test: told already"); err != nil {
			t.Fatal(err)
		}
		urgent := d.logged(t, d.LiNa, "水管爆裂 burst pipe", tickets.PriorityUrgent)
		high := d.logged(t, d.ZhangWei, "car accident", tickets.PriorityHigh)
		d.logged(t, d.ZhangWei, "address change", tickets.PriorityNormal)
		given := d.unassigned(t, "+8613900139000")
		if _, err := d.Svc.Assign(ctx, d.Chen, given.Ref(), tickets.Assignment{AssigneeID: &d.ZhangWei.Agent.ID}); err != nil {
			t.Fatal(err)
		}
		taken := d.unassigned(t, "+8613700137000")
		if _, err := d.Svc.Assign(ctx, d.LiNa, taken.Ref(), tickets.Assignment{AssigneeID: &d.LiNa.Agent.ID}); err != nil {
			t.Fatal(err)
		}
		n, err := d.box.CollectAnnouncements(ctx)
		if err != nil || n != 3 {
			t.Fatalf("collect = %d, %v; want 3 (urgent, high, assignment)", n, err)
		}
		if n, err := d.box.CollectAnnouncements(ctx); err != nil || n != 0 {
			t.Fatalf("collect again = %d, %v; want 0", n, err)
		}
		ps, err := d.box.PendingNotices(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		type row struct {
			box                   outbox.Box
			kind, email, team     string
			ref, subject, tktTeam string
			prio                  tickets.Priority
		}
		want := []row{
			{outbox.Notices, outbox.KindTicketAssigned, "zhang.wei@example.com", "Claims", given.Ref(), given.Subject, "Claims", tickets.PriorityNormal},
			{outbox.Announcements, outbox.KindTicketUrgent, "", "Claims", urgent.Ref(), urgent.Subject, "Claims", tickets.PriorityUrgent},
			{outbox.Announcements, outbox.KindTicketUrgent, "", "Claims", high.Ref(), high.Subject, "Claims", tickets.PriorityHigh},
		}
		if len(ps) != len(want) {
			t.Fatalf("%d pending, want %d: %+v", len(ps), len(want), ps)
		}
		for i, w := range want {
			p := ps[i]
			got := row{p.Outbox, p.Kind, p.AgentEmail, p.TeamName, p.TicketRef(), p.TicketSubject, p.TicketTeam, p.TicketPriority}
			if got != w {
				t.Errorf("pending[%d] = %+v, want %+v", i, got, w)
			}
			if p.Body == "" || p.TicketRef() == old.Ref() {
				t.Errorf("pending[%d] body %q ref %s", i, p.Body, p.TicketRef())
			}
		}
		// The assignment is a notice the agent also reads in the API.
		ns, err := d.Svc.Notices(ctx, d.ZhangWei.Agent.ID, true, 10)
		if err != nil || len(ns) != 1 || ns[0].Kind != outbox.KindTicketAssigned {
			t.Errorf("zhang's notices = %v, %v", ns, err)
		}
	})
}

// Where announcing starts is fixed when the schema is created: on a fresh install an urgent
// ticket created before the delivery job first runs (API processes up, no worker yet) is
// announced by that run; an install upgraded with history and no announcement start
// starts from the upgrade, so its history is not announced.
func TestAnnouncingStartsWhenSchemaIsCreated(t *testing.T) {
	tests := []struct {
		name       string
		upgraded   bool // the announcement start is set again by the migration, over history
		wantBefore bool // the urgent ticket logged before the first run is announced
	}{
		{name: "fresh install", wantBefore: true},
		{name: "existing install without the setting", upgraded: true, wantBefore: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
				ctx := context.Background()
				d := newDesk(t, db)
				before := d.logged(t, d.LiNa, "水管爆裂 burst pipe", tickets.PriorityUrgent)
				if tc.upgraded {
					// The database as an install that never ran the job had it before
					// this migration: no start, and the migration not yet applied.
					for _, q := range []string{
						"DELETE FROM settings WHERE key LIKE 'slack.announce.%'",
						"DELETE FROM bun_migrations WHERE name = '20261203000006'",
					} {
						if _, err := db.ExecContext(ctx, q); err != nil {
							t.Fatal(err)
						}
					}
					if err := migrations.Up(ctx, db, tickettest.Logger()); err != nil {
						t.Fatal(err)
					}
				}
				after := d.logged(t, d.ZhangWei, "car accident", tickets.PriorityHigh)
				if _, err := d.box.CollectAnnouncements(ctx); err != nil {
					t.Fatal(err)
				}
				ps, err := d.box.PendingNotices(ctx, 0)
				if err != nil {
					t.Fatal(err)
				}
				announced := map[string]bool{}
				for _, p := range ps {
					if p.Outbox == outbox.Announcements {
						announced[p.TicketRef()] = true
					}
				}
				if announced[before.Ref()] != tc.wantBefore {
					t.Errorf("ticket created before the first run announced = %v, want %v (pending %+v)", announced[before.Ref()], tc.wantBefore, ps)
				}
				if !announced[after.Ref()] {
					t.Errorf("ticket created after the start not announced (pending %+v)", ps)
				}
			})
		})
	}
}

func TestCollectAnnouncementsConcurrently(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		if _, err := d.box.CollectAnnouncements(ctx); err != nil {
			t.Fatal(err)
		}
		for range 5 {
			d.logged(t, d.LiNa, "urgent", tickets.PriorityUrgent)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		total := 0
		for range 4 {
			wg.Go(func() {
				n, err := d.box.CollectAnnouncements(ctx)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				total += n
				mu.Unlock()
			})
		}
		wg.Wait()
		rows, err := db.NewSelect().Table("slack_announcements").Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if total != 5 || rows != 5 {
			t.Errorf("overlapping collects wrote %d (rows %d), want 5", total, rows)
		}
	})
}

func TestNoticeDeliveryRecords(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		if _, err := d.box.CollectAnnouncements(ctx); err != nil {
			t.Fatal(err)
		}
		for range 4 {
			tk := d.unassigned(t, "+8613900139000")
			if _, err := d.Svc.Assign(ctx, d.Chen, tk.Ref(), tickets.Assignment{AssigneeID: &d.LiNa.Agent.ID}); err != nil {
				t.Fatal(err)
			}
			if _, err := d.Svc.SetStatus(ctx, d.LiNa, tk.Ref(), tickets.StatusResolved, ""); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := d.box.CollectAnnouncements(ctx); err != nil || n != 4 {
			t.Fatalf("collect = %d, %v", n, err)
		}
		ps, _ := d.box.PendingNotices(ctx, 0)
		box := outbox.Notices
		sent, failed, skipped, retried := ps[0].ID, ps[1].ID, ps[2].ID, ps[3].ID

		claim := func(id int64) bool {
			t.Helper()
			ok, err := d.box.ClaimNotice(ctx, box, id)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		status := func(id int64) *outbox.SlackRecord {
			t.Helper()
			r, err := d.box.SlackDelivery(ctx, box, id)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		if !claim(sent) || claim(sent) {
			t.Fatal("a pending notice must be claimed exactly once")
		}
		if err := d.box.MarkNoticeSent(ctx, box, sent, "D123", "1700000000.000100"); err != nil {
			t.Fatal(err)
		}
		// Only forward: a sent notice stays sent, and cannot be claimed again.
		if err := d.box.MarkNoticeFailed(ctx, box, sent, "late failure"); err != nil {
			t.Fatal(err)
		}
		if err := d.box.MarkNoticeSkipped(ctx, box, sent, "late skip"); err != nil {
			t.Fatal(err)
		}
		if r := status(sent); r.Status != outbox.SlackSent || *r.TS != "1700000000.000100" || *r.Channel != "D123" || r.DeliveredAt == nil || r.Error != "" {
			t.Errorf("sent record = %+v", r)
		}
		d.Clock.Advance(time.Hour)
		if claim(sent) {
			t.Error("a sent notice was claimed again")
		}

		claim(failed)
		if err := d.box.MarkNoticeFailed(ctx, box, failed, "users_not_found"); err != nil {
			t.Fatal(err)
		}
		if err := d.box.MarkNoticeSent(ctx, box, failed, "D1", "1"); err != nil {
			t.Fatal(err)
		}
		if r := status(failed); r.Status != outbox.SlackFailed || r.Error != "users_not_found" || r.TS != nil {
			t.Errorf("failed record = %+v", r)
		}

		if err := d.box.MarkNoticeSkipped(ctx, box, skipped, "no Slack"); err != nil {
			t.Fatal(err)
		}
		if r := status(skipped); r.Status != outbox.SlackSkipped || r.Error != "no Slack" {
			t.Errorf("skipped record = %+v", r)
		}

		// A passing failure hands the claim back; attempts count up.
		claim(retried)
		for want := 1; want <= 2; want++ {
			n, err := d.box.RetryNoticeLater(ctx, box, retried, "ratelimited")
			if err != nil || n != want {
				t.Fatalf("retry = %d, %v; want %d", n, err, want)
			}
			if !claim(retried) {
				t.Fatal("a notice handed back could not be claimed")
			}
		}
		// A claim whose worker died lapses after SlackClaimTTL.
		if claim(retried) {
			t.Fatal("a live claim was taken")
		}
		if ps, _ := d.box.PendingNotices(ctx, 0); len(ps) != 0 {
			t.Errorf("a live claim is listed as pending: %+v", ps)
		}
		d.Clock.Advance(outbox.SlackClaimTTL + time.Second)
		if ps, _ := d.box.PendingNotices(ctx, 0); len(ps) != 1 || ps[0].ID != retried {
			t.Errorf("a lapsed claim is not listed: %+v", ps)
		}
		if !claim(retried) {
			t.Error("a lapsed claim could not be taken over")
		}
		if r := status(retried); r.Status != outbox.SlackSending || r.Attempts != 2 || r.Error != "ratelimited" {
			t.Errorf("retried record = %+v", r)
		}
		if _, err := d.box.ClaimNotice(ctx, "tickets", 1); !errors.Is(err, tickets.ErrInvalid) {
			t.Errorf("unknown outbox: %v", err)
		}
	})
}

func TestSkipPendingNotices(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		d.box.CollectAnnouncements(ctx) //nolint:errcheck
		d.logged(t, d.LiNa, "urgent", tickets.PriorityUrgent)
		tk := d.unassigned(t, "+8613900139000")
		if _, err := d.Svc.Assign(ctx, d.Chen, tk.Ref(), tickets.Assignment{AssigneeID: &d.ZhangWei.Agent.ID}); err != nil {
			t.Fatal(err)
		}
		d.box.CollectAnnouncements(ctx) //nolint:errcheck
		n, err := d.box.SkipPendingNotices(ctx, "Slack is not configured")
		if err != nil || n != 2 {
			t.Fatalf("skipped %d, %v; want 2", n, err)
		}
		if ps, _ := d.box.PendingNotices(ctx, 0); len(ps) != 0 {
			t.Errorf("still pending: %+v", ps)
		}
		// Skipped notices stay readable in the API.
		if ns, _ := d.Svc.Notices(ctx, d.ZhangWei.Agent.ID, true, 10); len(ns) != 1 {
			t.Errorf("zhang has %d unread notices, want 1", len(ns))
		}
	})
}

func TestAcknowledgeNotice(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		d.box.CollectAnnouncements(ctx) //nolint:errcheck
		tk := d.unassigned(t, "+8613900139000")
		if _, err := d.Svc.Assign(ctx, d.Chen, tk.Ref(), tickets.Assignment{AssigneeID: &d.ZhangWei.Agent.ID}); err != nil {
			t.Fatal(err)
		}
		urgent := d.logged(t, d.LiNa, "urgent", tickets.PriorityUrgent)
		d.box.CollectAnnouncements(ctx) //nolint:errcheck
		ps, _ := d.box.PendingNotices(ctx, 0)
		if len(ps) != 2 {
			t.Fatalf("pending = %+v", ps)
		}
		notice, announcement := ps[0].ID, ps[1].ID

		tests := []struct {
			name    string
			actor   tickets.Actor
			box     outbox.Box
			id      int64
			wantErr error
			already bool
		}{
			{"someone else's notice", d.LiNa, outbox.Notices, notice, tickets.ErrForbidden, false},
			{"the system", tickets.Actor{Kind: "system"}, outbox.Notices, notice, tickets.ErrForbidden, false},
			{"no such notice", d.ZhangWei, outbox.Notices, 9999, tickets.ErrNotFound, false},
			{"the agent told", d.ZhangWei, outbox.Notices, notice, nil, false},
			{"again, by a supervisor", d.Chen, outbox.Notices, notice, nil, true},
			{"an announcement, by another team's agent", d.Wang, outbox.Announcements, announcement, nil, false},
		}
		for _, tc := range tests {
			var ack *outbox.Acknowledgement
			var err error
			if tc.box == outbox.Notices {
				ack, err = d.box.AcknowledgeNotice(ctx, tc.actor, tc.id)
			} else {
				ack, err = d.box.AcknowledgeAnnouncement(ctx, tc.actor, tc.id)
			}
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Errorf("%s: err = %v, want %v", tc.name, err, tc.wantErr)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
				continue
			}
			if ack.Already != tc.already {
				t.Errorf("%s: already = %v", tc.name, ack.Already)
			}
		}
		r, _ := d.box.SlackDelivery(ctx, outbox.Notices, notice)
		if r.AcknowledgedAt == nil || r.AcknowledgedBy == nil || *r.AcknowledgedBy != d.ZhangWei.Agent.ID {
			t.Errorf("notice record = %+v, want acknowledged by zhang", r)
		}
		// One audit event per first acknowledgement, on the ticket.
		for _, ref := range []string{tk.Ref(), urgent.Ref()} {
			td, err := d.Svc.Ticket(ctx, ref)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, e := range td.Events {
				if e.Kind == "notice.acknowledged" {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%s has %d notice.acknowledged events, want 1", ref, n)
			}
		}
	})
}

// A transaction that commits after a later one leaves its event below the cursor; the next
// collection still announces it, once.
func TestCollectAnnouncementsAfterLateCommit(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		if _, err := d.box.CollectAnnouncements(ctx); err != nil {
			t.Fatal(err)
		}
		slow := d.logged(t, d.LiNa, "committed late", tickets.PriorityUrgent)
		var ev tickets.Event
		if err := db.NewSelect().Model(&ev).Where("entity = 'ticket' AND entity_id = ? AND kind = 'ticket.created'", slow.ID).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		// Not yet committed: the event is not there while a later ticket is collected.
		if _, err := db.NewDelete().Model((*tickets.Event)(nil)).Where("id = ?", ev.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		d.logged(t, d.LiNa, "committed first", tickets.PriorityUrgent)
		if n, err := d.box.CollectAnnouncements(ctx); err != nil || n != 1 {
			t.Fatalf("collect = %d, %v; want the later ticket", n, err)
		}
		// Now the slow transaction commits, with its lower id.
		if _, err := db.NewInsert().Model(&ev).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if n, err := d.box.CollectAnnouncements(ctx); err != nil || n != 1 {
			t.Errorf("collect after the late commit = %d, %v; want 1", n, err)
		}
		if n, err := d.box.CollectAnnouncements(ctx); err != nil || n != 0 {
			t.Errorf("collect again = %d, %v; want 0", n, err)
		}
	})
}

// A transaction that took its event ids early commits after a burst of more events than
// any fixed window below the cursor holds: its urgent ticket and its assignment are still
// told, once each, and the ids watched for it are forgotten once no transaction can still
// hold them.
func TestLateCommitAfterBurstIsAnnouncedOnce(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		if _, err := d.box.CollectAnnouncements(ctx); err != nil {
			t.Fatal(err)
		}
		slow := d.logged(t, d.LiNa, "committed late", tickets.PriorityNormal)
		if _, err := d.box.CollectAnnouncements(ctx); err != nil {
			t.Fatal(err)
		}
		admin := d.Admin.Agent.ID
		lateEvents := []*tickets.Event{
			{Entity: "ticket", EntityID: slow.ID, Kind: "ticket.created", ActorKind: "customer", Actor: "customer",
				Data: `{"priority":"urgent","team_id":` + strconv.FormatInt(d.Claims.ID, 10) + `}`, CreatedAt: d.Clock.Now()},
			{Entity: "ticket", EntityID: slow.ID, Kind: "ticket.assigned", ActorKind: "agent", ActorID: &admin, Actor: "admin@example.com",
				Data: `{"to_assignee":` + strconv.FormatInt(d.ZhangWei.Agent.ID, 10) + `}`, CreatedAt: d.Clock.Now()},
		}
		// The slow transaction writes its events (their ids handed out now) and stays open.
		// SQLite has one writer, so there the late commit is played by taking the ids and
		// writing the rows under them after the burst.
		commit := func() {}
		if db.Dialect().Name() == dialect.PG {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback() //nolint:errcheck // committed below
			if _, err := tx.NewInsert().Model(&lateEvents).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			commit = func() {
				if err := tx.Commit(); err != nil {
					t.Fatal(err)
				}
			}
		} else {
			if _, err := db.NewInsert().Model(&lateEvents).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := db.NewDelete().Model((*tickets.Event)(nil)).Where("id IN (?)", bun.In([]int64{lateEvents[0].ID, lateEvents[1].ID})).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			commit = func() {
				if _, err := db.NewInsert().Model(&lateEvents).Exec(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}

		// Meanwhile 6,000 new tickets' events commit, and the announcements step over them.
		for range 6 {
			burst := make([]*tickets.Event, 1000)
			for i := range burst {
				burst[i] = &tickets.Event{Entity: "ticket", EntityID: slow.ID, Kind: "ticket.created", ActorKind: "customer",
					Actor: "customer", Data: `{"priority":"normal"}`, CreatedAt: d.Clock.Now()}
			}
			if _, err := db.NewInsert().Model(&burst).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := d.box.CollectAnnouncements(ctx); err != nil || n != 0 {
			t.Fatalf("collect over the burst = %d, %v; want nothing to tell yet", n, err)
		}

		d.Clock.Advance(15 * time.Second)
		commit()
		// Two workers' runs collect at once; between them, each row is written once.
		var wg sync.WaitGroup
		written := make([]int, 2)
		errs := make([]error, 2)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				written[i], errs[i] = d.box.CollectAnnouncements(ctx)
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil || written[0]+written[1] != 2 {
			t.Errorf("collect after the late commit = %v, %v; want the urgent ticket and the assignment", written, err)
		}
		d.Clock.Advance(15 * time.Second)
		if n, err := d.box.CollectAnnouncements(ctx); err != nil || n != 0 {
			t.Errorf("collect again = %d, %v; want 0", n, err)
		}
		var announced, noticed int
		if err := db.NewSelect().Table("slack_announcements").ColumnExpr("count(*)").Where("event_id = ?", lateEvents[0].ID).Scan(ctx, &announced); err != nil {
			t.Fatal(err)
		}
		if err := db.NewSelect().Table("notices").ColumnExpr("count(*)").
			Where("source_event_id = ? AND agent_id = ?", lateEvents[1].ID, d.ZhangWei.Agent.ID).Scan(ctx, &noticed); err != nil {
			t.Fatal(err)
		}
		if announced != 1 || noticed != 1 {
			t.Errorf("the late urgent ticket announced %d times and its assignee told %d times, want once each", announced, noticed)
		}

		// Ids still missing once no transaction can hold them (rolled back) are forgotten.
		d.Clock.Advance(tickets.MaxTxAge + 2*time.Minute)
		if _, err := d.box.CollectAnnouncements(ctx); err != nil {
			t.Fatal(err)
		}
		var gaps string
		if err := db.NewSelect().Table("settings").Column("value").Where("key = 'slack.announce.after_event.gaps'").Scan(ctx, &gaps); err != nil {
			t.Fatal(err)
		}
		if gaps != "[]" {
			t.Errorf("ids still watched after the longest transaction: %s", gaps)
		}
	})
}
