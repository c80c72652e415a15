package stages_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/delivery"
	"github.com/hotlinedesk/hotline/tickets/stages"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// desk is the tests' call centre with the stages chapter plugged in, as app wires it.
type desk struct {
	*tickettest.Desk
	st    *stages.Service
	sched *tickettest.Scheduler
	db    *bun.DB
}

func newDesk(t *testing.T, db *bun.DB) *desk {
	t.Helper()
	clock := tickettest.NewClock(tickettest.T0)
	svc := tickettest.Service(db, clock)
	sched := &tickettest.Scheduler{}
	svc.SetScheduler(sched)
	st := stages.New(svc)
	svc.SetProgress(st)
	return &desk{Desk: tickettest.NewDesk(t, svc, clock), st: st, sched: sched, db: db}
}

// claim opens a claims ticket for a customer writing by in, in locale, and gives it to Li Na.
func (d *desk) claim(t *testing.T, in tickets.Inbound, locale string) *tickets.Ticket {
	t.Helper()
	ctx := context.Background()
	in.Locale = locale
	res, err := d.Svc.Intake(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Svc.SetCategory(ctx, d.Admin, res.Ticket.Ref(), "claims", ""); err != nil {
		t.Fatal(err)
	}
	tk, err := d.Svc.Assign(ctx, d.Admin, res.Ticket.Ref(), tickets.Assignment{AssigneeID: &d.LiNa.Agent.ID})
	if err != nil {
		t.Fatal(err)
	}
	if locale != "" {
		if _, err := d.Svc.UpdateCustomer(ctx, d.Admin, res.Ticket.CustomerID, tickets.CustomerUpdate{Locale: &locale}); err != nil {
			t.Fatal(err)
		}
	}
	return tk
}

func (d *desk) stage(t *testing.T, category string, pos int) *stages.Stage {
	t.Helper()
	sts, err := d.st.Stages(context.Background(), category)
	if err != nil || len(sts) < pos {
		t.Fatalf("stages of %s: %d, %v", category, len(sts), err)
	}
	return sts[pos-1]
}

// queued is the outbound messages of a ticket nobody wrote (notices), oldest first.
func (d *desk) notices(t *testing.T, tk *tickets.Ticket) []*tickets.Message {
	t.Helper()
	var ms []*tickets.Message
	if err := d.db.NewSelect().Model(&ms).Where("ticket_id = ? AND direction = 'outbound' AND author_id IS NULL", tk.ID).OrderExpr("id").Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	return ms
}

func countWhere(t *testing.T, db bun.IDB, table, where string, args ...any) int {
	t.Helper()
	n, err := db.NewSelect().Table(table).Where(where, args...).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The customer is told of each stage on the channel they wrote by, in their language, and
// the move is audited; a stage of another category is refused and changes nothing.
func TestMoveTellsTheCustomer(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		cases := []struct {
			name   string
			in     tickets.Inbound
			locale string
			want   tickets.Channel
			words  string
		}{
			{"sms in Chinese", tickettest.SMS("+8613800000001", "我要报案", "S1"), "zh-CN", tickets.ChannelSMS, "您的工单 HL-%s 进度更新：正在调查。"},
			{"sms in English", tickettest.SMS("+8613800000002", "my claim", "S2"), "en", tickets.ChannelSMS, "has moved on: Under investigation."},
			{"email", tickets.Inbound{Channel: tickets.ChannelEmail, From: tickets.IdentityEmail, Address: "kim@example.com", Subject: "claim", Body: "my claim", ProviderMessageID: "<e1@x>"}, "en", tickets.ChannelEmail, "Under investigation"},
			{"wechat", tickets.Inbound{Channel: tickets.ChannelWeChat, From: tickets.IdentityWeChat, Address: "oWx123456789", Body: "理赔进度", ProviderMessageID: "W1"}, "", tickets.ChannelWeChat, "正在调查"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				tk := d.claim(t, c.in, c.locale)
				before := len(d.notices(t, tk))
				if _, err := d.st.Move(ctx, d.LiNa, tk.Ref(), d.stage(t, "claims", 3).ID); err != nil {
					t.Fatal(err)
				}
				ms := d.notices(t, tk)
				if len(ms) != before+1 {
					t.Fatalf("%d notices after the move, want %d", len(ms), before+1)
				}
				m := ms[len(ms)-1]
				words := strings.Replace(c.words, "HL-%s", tk.Ref(), 1)
				if m.Channel != c.want || m.DeliveryStatus != tickets.DeliveryQueued || !strings.Contains(m.Body, words) {
					t.Errorf("notice on %s (%s): %q, want on %s with %q", m.Channel, m.DeliveryStatus, m.Body, c.want, words)
				}
				if got := d.sched.Delivered(); len(got) == 0 || got[len(got)-1] != m.ID {
					t.Errorf("notice %d not handed to the senders after the commit: %v", m.ID, got)
				}
				p, err := d.st.Of(ctx, tk)
				if err != nil {
					t.Fatal(err)
				}
				if p.Current == nil || p.Current.Position != 3 || p.Steps[0].State != "passed" || !p.Steps[0].Skipped || p.Steps[3].State != "ahead" {
					t.Errorf("progress after the move: %+v", p.Steps)
				}
			})
		}
		if n := tickettest.CountEvents(t, db, "stage.changed"); n != len(cases) {
			t.Errorf("%d stage.changed events, want %d", n, len(cases))
		}

		// Another category's stage: refused, nothing recorded or sent.
		if err := d.st.SaveStages(ctx, d.Admin, "policy", []stages.StageInput{{NameZh: "已受理", NameEn: "Received"}}); err != nil {
			t.Fatal(err)
		}
		tk := d.claim(t, tickettest.SMS("+8613800000003", "报案", "S3"), "")
		before := len(d.notices(t, tk))
		_, err := d.st.Move(ctx, d.LiNa, tk.Ref(), d.stage(t, "policy", 1).ID)
		if !errors.Is(err, tickets.ErrInvalid) {
			t.Errorf("moving a claim to a policy stage: %v, want ErrInvalid", err)
		}
		if _, err := d.st.Move(ctx, d.LiNa, tk.Ref(), 999999); !errors.Is(err, tickets.ErrInvalid) {
			t.Errorf("moving to a stage that does not exist: %v, want ErrInvalid", err)
		}
		if len(d.notices(t, tk)) != before || countWhere(t, db, "ticket_stages", "ticket_id = ?", tk.ID) != 0 {
			t.Error("a refused move changed the ticket or told the customer")
		}
		// Someone else's ticket: the core's rule of who may change it holds.
		if _, err := d.st.Move(ctx, d.Wang, tk.Ref(), d.stage(t, "claims", 2).ID); !errors.Is(err, tickets.ErrForbidden) {
			t.Errorf("a complaints agent moving Li Na's claim: %v, want ErrForbidden", err)
		}
		// Backwards is allowed, and audited; the same stage twice is a conflict.
		for _, pos := range []int{4, 2} {
			if _, err := d.st.Move(ctx, d.LiNa, tk.Ref(), d.stage(t, "claims", pos).ID); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := d.st.Move(ctx, d.LiNa, tk.Ref(), d.stage(t, "claims", 2).ID); !errors.Is(err, tickets.ErrConflict) {
			t.Errorf("the same stage again: %v, want ErrConflict", err)
		}
	})
}

// An opted-out customer is not told (the skip is on the ticket), and an SMS notice moved
// at night waits for the end of quiet hours as the core's other notices do.
func TestMoveOptOutAndQuietHours(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		dl := delivery.New(d.Svc)

		out := d.claim(t, tickettest.SMS("+8613800000011", "报案", "Q1"), "")
		if err := dl.OptOut(ctx, tickets.IdentityPhone, "+8613800000011"); err != nil {
			t.Fatal(err)
		}
		before := len(d.notices(t, out))
		if _, err := d.st.Move(ctx, d.LiNa, out.Ref(), d.stage(t, "claims", 2).ID); err != nil {
			t.Fatal(err)
		}
		if len(d.notices(t, out)) != before || tickettest.CountEvents(t, db, "stage.notice_skipped") != 1 {
			t.Errorf("an opted-out customer was told: %d notices, %d skips", len(d.notices(t, out))-before, tickettest.CountEvents(t, db, "stage.notice_skipped"))
		}

		night := d.claim(t, tickettest.SMS("+8613800000012", "报案", "Q2"), "")
		// 23:30 in Shanghai.
		d.Clock.Advance(time.Date(2026, 11, 25, 15, 30, 0, 0, time.UTC).Sub(d.Clock.Now()))
		if _, err := d.st.Move(ctx, d.LiNa, night.Ref(), d.stage(t, "claims", 2).ID); err != nil {
			t.Fatal(err)
		}
		ms := d.notices(t, night)
		dv, err := dl.Delivery(ctx, ms[len(ms)-1].ID)
		if err != nil || dv == nil {
			t.Fatalf("load the notice: %v", err)
		}
		until, quiet := dl.QuietUntil(dv)
		if !quiet || until.In(tickettest.Shanghai(t)).Hour() != 8 {
			t.Errorf("a stage notice at 23:30: quiet %v until %v, want held to 08:00", quiet, until)
		}
	})
}

// A stage's deadline is warned a working day before and breached once when it passes,
// however many sweeps run at once; it counts working days on the calendar.
func TestStageDeadlinesOnce(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		tk := d.claim(t, tickettest.SMS("+8613800000021", "报案", "D1"), "")
		docs := d.stage(t, "claims", 2) // documents complete: 3 working days
		if _, err := d.st.Move(ctx, d.LiNa, tk.Ref(), docs.ID); err != nil {
			t.Fatal(err)
		}
		var due time.Time
		if err := db.NewSelect().Table("ticket_stages").Column("due_at").Where("ticket_id = ?", tk.ID).Scan(ctx, &due); err != nil {
			t.Fatal(err)
		}
		// Wednesday 17:30 in Shanghai + 3 working days: Monday 17:30 (the weekend is off).
		if got := due.In(tickettest.Shanghai(t)); got.Weekday() != time.Monday || got.Day() != 30 {
			t.Errorf("documents complete on Wednesday is due %v, want Monday the 30th", got)
		}
		var timers int
		for _, tm := range d.sched.Timers() {
			if stages.IsTimer(tm.Kind) && tm.ID == tk.ID {
				timers++
			}
		}
		if timers != 2 {
			t.Errorf("%d stage timers set, want the deadline and its warning", timers)
		}
		race := func() {
			var wg sync.WaitGroup
			errs := make(chan error, 4)
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := d.st.Sweep(ctx)
					errs <- err
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
		}
		race() // nothing due yet
		if n := tickettest.CountEvents(t, db, "stage.warning") + tickettest.CountEvents(t, db, "stage.breached"); n != 0 {
			t.Fatalf("%d stage events before anything was due", n)
		}
		d.Clock.Advance(due.Sub(d.Clock.Now()) - time.Hour) // Monday 16:30: a working day before was Friday
		race()
		race()
		if n := tickettest.CountEvents(t, db, "stage.warning"); n != 1 {
			t.Errorf("%d stage warnings, want 1", n)
		}
		if n := countWhere(t, db, "notices", "kind = 'stage.warning' AND agent_id = ?", d.LiNa.Agent.ID); n != 1 {
			t.Errorf("Li Na had %d warnings, want 1", n)
		}
		d.Clock.Advance(2 * time.Hour)
		race()
		race()
		if n := tickettest.CountEvents(t, db, "stage.breached"); n != 1 {
			t.Errorf("%d stage breaches, want 1", n)
		}
		if n := countWhere(t, db, "notices", "kind = 'stage.breached' AND agent_id IN (?, ?)", d.LiNa.Agent.ID, d.Chen.Agent.ID); n != 2 {
			t.Errorf("%d breach notices to Li Na and her supervisor, want 2", n)
		}
		dues, err := d.st.Due(ctx, []int64{tk.ID})
		if err != nil || !dues[tk.ID].Breached {
			t.Errorf("the queue's stage deadline: %+v, %v", dues, err)
		}
		// A later stage starts a new clock; the old timers find nothing to do.
		if _, err := d.st.Move(ctx, d.LiNa, tk.Ref(), d.stage(t, "claims", 3).ID); err != nil {
			t.Fatal(err)
		}
		if ok, err := d.st.TimerDue(ctx, tickets.Timer{Kind: "stage", ID: tk.ID, Due: due}); err != nil || ok {
			t.Errorf("the old stage's timer still due: %v %v", ok, err)
		}
	})
}

// Asking for documents puts the ticket in the customer's hands and tells them the list;
// their reply with files puts it back in the agent's, who is told, and the items stay
// listed until ticked off.
func TestWaitingForDocuments(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		tk := d.claim(t, tickettest.SMS("+8613800000031", "报案", "W1"), "")
		tk, err := d.st.RequestDocuments(ctx, d.LiNa, tk.Ref(), []string{"医院诊断证明", "发票原件"})
		if err != nil {
			t.Fatal(err)
		}
		if tk.Status != tickets.StatusPending {
			t.Errorf("status %s after asking for documents, want pending", tk.Status)
		}
		ms := d.notices(t, tk)
		if body := ms[len(ms)-1].Body; !strings.Contains(body, "医院诊断证明、发票原件") {
			t.Errorf("the customer was told %q, want the list", body)
		}
		// A reply without files reopens as any reply does, but nobody is told documents came.
		_, err = d.Svc.Intake(ctx, tickettest.SMS("+8613800000031", "好的，我去准备", "W2"))
		if err != nil {
			t.Fatal(err)
		}
		if n := countWhere(t, db, "notices", "kind = 'documents.arrived'"); n != 0 {
			t.Errorf("%d documents.arrived notices for a reply without files", n)
		}
		if _, err := d.Svc.SetStatus(ctx, d.LiNa, tk.Ref(), tickets.StatusPending, "waiting for documents"); err != nil {
			t.Fatal(err)
		}
		in := tickettest.SMS("+8613800000031", "材料在附件", "W3")
		in.Attachments = []tickets.NewAttachment{{Filename: "diagnosis.jpg", ContentType: "image/jpeg", SizeBytes: 1024, URL: "https://api.twilio.com/x.jpg"}}
		res, err := d.Svc.Intake(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if res.Ticket.ID != tk.ID || res.Ticket.Status != tickets.StatusOpen {
			t.Errorf("reply with files: %s %s, want %s open", res.Ticket.Ref(), res.Ticket.Status, tk.Ref())
		}
		if n := countWhere(t, db, "notices", "kind = 'documents.arrived' AND agent_id = ? AND ticket_id = ?", d.LiNa.Agent.ID, tk.ID); n != 1 {
			t.Errorf("Li Na had %d documents.arrived notices, want 1", n)
		}
		p, err := d.st.Of(ctx, tk)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Missing()) != 2 {
			t.Fatalf("%d items missing after the files came, want both kept for the agent", len(p.Missing()))
		}
		if _, err := d.st.TickDocument(ctx, d.LiNa, tk.Ref(), p.Missing()[0].ID, true); err != nil {
			t.Fatal(err)
		}
		if p, _ = d.st.Of(ctx, tk); len(p.Missing()) != 1 || p.Missing()[0].Item != "发票原件" {
			t.Errorf("after ticking one off: %+v", p.Missing())
		}
		// The next stage notice names what is still missing.
		if _, err := d.st.Move(ctx, d.LiNa, tk.Ref(), d.stage(t, "claims", 2).ID); err != nil {
			t.Fatal(err)
		}
		ms = d.notices(t, tk)
		if body := ms[len(ms)-1].Body; !strings.Contains(body, "还需要您提供：发票原件") {
			t.Errorf("stage notice %q does not list what is missing", body)
		}
		for _, bad := range [][]string{nil, {""}, {strings.Repeat("长", 201)}} {
			if _, err := d.st.RequestDocuments(ctx, d.LiNa, tk.Ref(), bad); !errors.Is(err, tickets.ErrInvalid) {
				t.Errorf("asking for %q: %v, want ErrInvalid", bad, err)
			}
		}
	})
}

// Admins keep the stages: the claims defaults are seeded, a list is saved in order, a
// stage tickets stood at cannot be removed, and only admins edit.
func TestSaveStages(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		sts, err := d.st.Stages(ctx, "claims")
		if err != nil || len(sts) != 6 || sts[0].NameZh != "报案已受理" || sts[5].NameEn != "Paid" || sts[1].DueDays != 3 {
			t.Fatalf("seeded claims stages: %d, %v", len(sts), err)
		}
		list, err := stages.ParseStages(stages.Format(sts) + "已归档 | Archived | 0\n")
		if err != nil {
			t.Fatal(err)
		}
		if err := d.st.SaveStages(ctx, d.LiNa, "claims", list); !errors.Is(err, tickets.ErrForbidden) {
			t.Errorf("an agent editing stages: %v, want ErrForbidden", err)
		}
		if err := d.st.SaveStages(ctx, d.Admin, "claims", list); err != nil {
			t.Fatal(err)
		}
		if sts2, _ := d.st.Stages(ctx, "claims"); len(sts2) != 7 || sts2[0].ID != sts[0].ID || sts2[6].NameEn != "Archived" {
			t.Errorf("after adding one: %d stages", len(sts2))
		}
		tk := d.claim(t, tickettest.SMS("+8613800000041", "报案", "A1"), "")
		if _, err := d.st.Move(ctx, d.LiNa, tk.Ref(), d.stage(t, "claims", 7).ID); err != nil {
			t.Fatal(err)
		}
		if err := d.st.SaveStages(ctx, d.Admin, "claims", list[:6]); !errors.Is(err, tickets.ErrConflict) {
			t.Errorf("removing a stage a ticket stands at: %v, want ErrConflict", err)
		}
		for _, bad := range []string{"只有中文", "a | b | x", "a | | 1", "a | b | 99"} {
			in, err := stages.ParseStages(bad)
			if err == nil {
				err = d.st.SaveStages(ctx, d.Admin, "claims", in)
			}
			if !errors.Is(err, tickets.ErrInvalid) {
				t.Errorf("%q: %v, want ErrInvalid", bad, err)
			}
		}
	})
}

// FuzzParseStages: an admin's form never panics the parser, and what it accepts formats
// back to the same stages.
func FuzzParseStages(f *testing.F) {
	f.Add("报案已受理 | Claim received | 1\n材料已收齐 | Documents complete | 3\n")
	f.Add("a|b\n\n|||\n")
	f.Fuzz(func(t *testing.T, text string) {
		in, err := stages.ParseStages(text)
		if err != nil {
			return
		}
		var sts []*stages.Stage
		for _, s := range in {
			if strings.ContainsAny(s.NameZh+s.NameEn, "|\n") {
				return
			}
			sts = append(sts, &stages.Stage{NameZh: s.NameZh, NameEn: s.NameEn, DueDays: s.DueDays})
		}
		again, err := stages.ParseStages(stages.Format(sts))
		if err != nil || len(again) != len(in) {
			t.Fatalf("%q parsed to %d stages, formatted back to %d (%v)", text, len(in), len(again), err)
		}
	})
}

// FuzzParseItems: an agent's list of documents never panics the parser and is bounded.
func FuzzParseItems(f *testing.F) {
	f.Add("医院诊断证明\n发票原件\n")
	f.Add("\n\n  \n")
	f.Fuzz(func(t *testing.T, text string) {
		items, err := stages.ParseItems(text)
		if err != nil {
			return
		}
		if len(items) == 0 || len(items) > 20 {
			t.Fatalf("%d items accepted", len(items))
		}
	})
}
