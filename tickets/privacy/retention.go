package privacy

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/hotlinedesk/hotline/tickets"
)

// Policy is how many days each kind of data is kept after its ticket ended (closed, or
// resolved): 0 keeps it. Open work is never touched, nor anything under a legal hold, nor
// a ticket whose complaint is still open.
type Policy struct {
	Messages    int `json:"messages"`    // message bodies (and subjects, survey comments)
	Attachments int `json:"attachments"` // files customers and agents sent
	Recordings  int `json:"recordings"`  // call recordings and voicemails, with their transcripts
	Customers   int `json:"customers"`   // identities and names, once all their tickets ended
}

// MaxDays bounds a retention period (100 years): more is a typo.
const MaxDays = 36500

// policyKey is the setting that holds the admins' policy (JSON).
const policyKey = "privacy.retention"

func (p Policy) check() error {
	for _, d := range []struct {
		what string
		days int
	}{{"messages", p.Messages}, {"attachments", p.Attachments}, {"recordings", p.Recordings}, {"customers", p.Customers}} {
		if d.days < 0 || d.days > MaxDays {
			return tickets.Invalidf("the retention of %s must be 0 (keep) to %d days", d.what, MaxDays)
		}
	}
	return nil
}

// Policy is the retention policy in force: the admins' saved one, else the defaults.
func (s *Service) Policy(ctx context.Context) (Policy, error) {
	return s.policy(ctx, s.svc.DB())
}

func (s *Service) policy(ctx context.Context, db bun.IDB) (Policy, error) {
	var v string
	err := db.NewSelect().Table("settings").Column("value").Where("key = ?", policyKey).Scan(ctx, &v)
	if errors.Is(err, sql.ErrNoRows) {
		return s.cfg.Defaults, nil
	}
	if err != nil {
		return Policy{}, fmt.Errorf("read retention policy: %w", err)
	}
	var p Policy
	if err := json.Unmarshal([]byte(v), &p); err != nil {
		return Policy{}, fmt.Errorf("read retention policy: %w", err)
	}
	return p, nil
}

// SetPolicy saves the retention policy; admins only, audited.
func (s *Service) SetPolicy(ctx context.Context, actor tickets.Actor, p Policy) error {
	if actor.Agent == nil || actor.Agent.Role != tickets.RoleAdmin {
		return tickets.Forbiddenf("only admins set how long data is kept")
	}
	if err := p.check(); err != nil {
		return err
	}
	b, _ := json.Marshal(p)
	return s.svc.InTx(ctx, func(tx tickets.Tx) error {
		was, err := s.policy(ctx, tx)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at",
			policyKey, string(b), s.svc.Now()); err != nil {
			return fmt.Errorf("save retention policy: %w", err)
		}
		return tx.Record(ctx, tx.Event(actor, "settings", 0, "retention.policy_changed", map[string]any{"from": was, "to": p}))
	})
}

// Run is one retention run as recorded (retention_runs): what it erased.
type Run struct {
	bun.BaseModel `bun:"table:retention_runs"`

	ID          int64      `bun:",pk,autoincrement" json:"id"`
	Period      string     `bun:",notnull" json:"period"`
	StartedAt   time.Time  `bun:",notnull" json:"started_at"`
	FinishedAt  *time.Time `json:"finished_at"`
	Messages    int64      `bun:",notnull" json:"messages"`
	Attachments int64      `bun:",notnull" json:"attachments"`
	Recordings  int64      `bun:",notnull" json:"recordings"`
	Customers   int64      `bun:",notnull" json:"customers"`
	Error       string     `bun:",notnull" json:"error"`
}

// Counts is what a retention pass erased, of each kind.
type Counts struct {
	Messages, Attachments, Recordings, Customers int
}

// RunPeriod runs retention once for the period now falls in (Config.Every long): the
// first caller claims the period's row and runs; any other, in this process or another,
// returns (nil, nil). A run that fails part way leaves the rest to the next period (every
// erasure is guarded, so nothing is done twice).
func (s *Service) RunPeriod(ctx context.Context) (*Run, error) {
	now := s.svc.Now()
	r := &Run{Period: now.UTC().Truncate(s.cfg.Every).Format(time.RFC3339), StartedAt: now}
	res, err := s.svc.DB().NewInsert().Model(r).On("CONFLICT (period) DO NOTHING").Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("claim retention run: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, nil
	}
	if r.ID == 0 { // SQLite reports no id for an insert that took the DO NOTHING path; this one did not
		if err := s.svc.DB().NewSelect().Model(r).Where("period = ?", r.Period).Scan(ctx); err != nil {
			return nil, fmt.Errorf("read retention run: %w", err)
		}
	}
	c, runErr := s.Apply(ctx)
	done := s.svc.Now()
	r.FinishedAt, r.Messages, r.Attachments, r.Recordings, r.Customers = &done, int64(c.Messages), int64(c.Attachments), int64(c.Recordings), int64(c.Customers)
	if runErr != nil {
		r.Error = runErr.Error()
	}
	if _, err := s.svc.DB().NewUpdate().Model(r).WherePK().Column("finished_at", "messages", "attachments", "recordings", "customers", "error").Exec(context.WithoutCancel(ctx)); err != nil {
		return r, errors.Join(runErr, fmt.Errorf("record retention run: %w", err))
	}
	if c != (Counts{}) {
		s.log.Info("retention applied", "messages", c.Messages, "attachments", c.Attachments, "recordings", c.Recordings, "customers", c.Customers)
	}
	return r, runErr
}

// Runs lists the latest retention runs, newest first, for admins.
func (s *Service) Runs(ctx context.Context, limit int) ([]*Run, error) {
	out := []*Run{}
	if err := s.svc.DB().NewSelect().Model(&out).OrderExpr("id DESC").Limit(limit).Scan(ctx); err != nil {
		return nil, fmt.Errorf("list retention runs: %w", err)
	}
	return out, nil
}

// Apply erases what the policy says expired, now, kind by kind in bounded batches (each
// its own transaction; on PostgreSQL concurrent passes take different rows), and records
// a "retention.applied" event on each customer a batch touched. Passes running together
// erase each row once. Most callers want RunPeriod.
func (s *Service) Apply(ctx context.Context) (Counts, error) {
	p, err := s.Policy(ctx)
	if err != nil {
		return Counts{}, err
	}
	now := s.svc.Now()
	cut := func(days int) time.Time { return now.AddDate(0, 0, -days) }
	var stages []tickets.SweepStage
	var kinds []string
	if p.Messages > 0 {
		stages, kinds = append(stages, tickets.SweepStage{Name: "retention of messages", Run: func(ctx context.Context) (int, error) {
			return s.expireMessages(ctx, cut(p.Messages))
		}}), append(kinds, "messages")
	}
	if p.Attachments > 0 {
		stages, kinds = append(stages, tickets.SweepStage{Name: "retention of attachments", Run: func(ctx context.Context) (int, error) {
			return s.expireFiles(ctx, cut(p.Attachments), false)
		}}), append(kinds, "attachments")
	}
	if p.Recordings > 0 {
		stages, kinds = append(stages, tickets.SweepStage{Name: "retention of recordings", Run: func(ctx context.Context) (int, error) {
			return s.expireFiles(ctx, cut(p.Recordings), true)
		}}), append(kinds, "recordings")
	}
	if p.Customers > 0 {
		stages, kinds = append(stages, tickets.SweepStage{Name: "retention of customers", Run: func(ctx context.Context) (int, error) {
			return s.expireCustomers(ctx, cut(p.Customers))
		}}), append(kinds, "customers")
	}
	for i := range stages {
		stages[i].Run = s.batches(stages[i].Run)
	}
	n, err := s.svc.RunSweep(ctx, stages...)
	var c Counts
	for i, k := range kinds {
		switch k {
		case "messages":
			c.Messages = n[i]
		case "attachments":
			c.Attachments = n[i]
		case "recordings":
			c.Recordings = n[i]
		case "customers":
			c.Customers = n[i]
		}
	}
	return c, err
}

// batches runs a stage's batches of s.batch rows until one comes back short or they make
// up the sweep's batch (tickets.SweepBatch), as RunSweep expects of a stage.
func (s *Service) batches(run func(context.Context) (int, error)) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		total := 0
		for total < tickets.SweepBatch {
			n, err := run(ctx)
			total += n
			if err != nil || n < s.batch {
				return total, err
			}
		}
		return total, nil
	}
}

// ended is the condition on ticket t (its alias) that retention may take its data: ended
// (resolved or closed) before cut, no complaint of it still open, no legal hold on it,
// its complaints or its customer.
func ended(q *bun.SelectQuery, cut time.Time) *bun.SelectQuery {
	return q.Where("t.status IN (?, ?)", tickets.StatusResolved, tickets.StatusClosed).
		Where("COALESCE(t.closed_at, t.resolved_at) < ?", cut).
		Where("NOT EXISTS (SELECT 1 FROM complaints c WHERE c.ticket_id = t.id AND c.status IN (?, ?))", tickets.ComplaintReceived, tickets.ComplaintInvestigating).
		Where("NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.released_at IS NULL AND (h.ticket_id = t.id OR (h.entity = 'customer' AND h.customer_id = t.customer_id)))")
}

// lockRows is the lock a retention batch takes on the rows of table alias it selects:
// concurrent passes on PostgreSQL take different rows; SQLite has one writer anyway.
func (s *Service) lockRows(q *bun.SelectQuery, alias string) *bun.SelectQuery {
	if s.svc.DB().Dialect().Name() == dialect.PG {
		return q.For("NO KEY UPDATE OF " + alias + " SKIP LOCKED")
	}
	return q
}

// touched counts, per customer, what a batch erased, for their "retention.applied" events.
type touched map[int64]int

func (s *Service) recordApplied(ctx context.Context, tx tickets.Tx, kind string, by touched) error {
	ids := make([]int64, 0, len(by))
	for id := range by {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	evs := make([]*tickets.Event, 0, len(ids))
	for _, id := range ids {
		evs = append(evs, tx.Event(tickets.Actor{Kind: "system"}, "customer", id, KindRetention,
			map[string]any{"kinds": []string{kind}, "counts": map[string]int{kind: by[id]}}))
	}
	if len(evs) == 0 {
		return nil
	}
	return tx.Record(ctx, evs...)
}

type erasedRow struct {
	ID         int64 `bun:"id"`
	TicketID   int64 `bun:"ticket_id"`
	CustomerID int64 `bun:"customer_id"`
}

// expireMessages erases one batch of expired message bodies, with their tickets' subjects
// and survey comments.
func (s *Service) expireMessages(ctx context.Context, cut time.Time) (int, error) {
	var n int
	err := s.svc.InTx(ctx, func(tx tickets.Tx) error {
		var rows []erasedRow
		q := tx.NewSelect().TableExpr("messages AS m").Join("JOIN tickets AS t ON t.id = m.ticket_id").
			ColumnExpr("m.id, m.ticket_id, t.customer_id").Where("m.erased_at IS NULL").OrderExpr("m.id").Limit(s.batch)
		if err := s.lockRows(ended(q, cut), "m").Scan(ctx, &rows); err != nil {
			return fmt.Errorf("find expired messages: %w", err)
		}
		by, err := s.eraseMessages(ctx, tx, rows)
		if err != nil {
			return err
		}
		n = 0
		for _, k := range by {
			n += k
		}
		return s.recordApplied(ctx, tx, "messages", by)
	})
	return n, err
}

// eraseMessages blanks rows' messages still holding their text, their tickets' subjects
// and survey comments, and returns how many it erased per customer.
func (s *Service) eraseMessages(ctx context.Context, tx tickets.Tx, rows []erasedRow) (touched, error) {
	by := touched{}
	if len(rows) == 0 {
		return by, nil
	}
	ids, owner, tks := make([]int64, len(rows)), map[int64]int64{}, map[int64]bool{}
	for i, r := range rows {
		ids[i], owner[r.ID] = r.ID, r.CustomerID
		tks[r.TicketID] = true
	}
	var done []int64
	if err := tx.NewUpdate().Table("messages").Set("body = ?, erased_at = ?", Erased, s.svc.Now()).
		Where("id IN (?) AND erased_at IS NULL", bun.In(ids)).Returning("id").Scan(ctx, &done); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("erase messages: %w", err)
	}
	for _, id := range done {
		by[owner[id]]++
	}
	tids := make([]int64, 0, len(tks))
	for id := range tks {
		tids = append(tids, id)
	}
	if _, err := tx.NewUpdate().Table("tickets").Set("subject = ?", Erased).Where("id IN (?) AND subject <> ?", bun.In(tids), Erased).Exec(ctx); err != nil {
		return nil, fmt.Errorf("erase subjects: %w", err)
	}
	if _, err := tx.NewUpdate().Table("surveys").Set("comment = ''").Where("ticket_id IN (?) AND comment <> ''", bun.In(tids)).Exec(ctx); err != nil {
		return nil, fmt.Errorf("erase survey comments: %w", err)
	}
	return by, nil
}

// recording is the condition on attachment a that it is a call recording or a voicemail.
const recording = "(a.provider <> '' OR a.content_type LIKE 'audio/%')"

type fileRow struct {
	ID         int64   `bun:"id"`
	MessageID  int64   `bun:"message_id"`
	CustomerID int64   `bun:"customer_id"`
	SHA256     *string `bun:"file_sha256"`
}

// expireFiles erases one batch of expired attachments: recordings (with their messages'
// transcripts) when recordings, the other files otherwise.
func (s *Service) expireFiles(ctx context.Context, cut time.Time, recordings bool) (int, error) {
	kind, which := "attachments", "NOT "+recording
	if recordings {
		kind, which = "recordings", recording
	}
	var n int
	var freed []string
	err := s.svc.InTx(ctx, func(tx tickets.Tx) error {
		var rows []fileRow
		q := tx.NewSelect().TableExpr("attachments AS a").Join("JOIN messages AS m ON m.id = a.message_id").Join("JOIN tickets AS t ON t.id = m.ticket_id").
			ColumnExpr("a.id, a.message_id, a.file_sha256, t.customer_id").Where("a.erased_at IS NULL").Where(which).OrderExpr("a.id").Limit(s.batch)
		if err := s.lockRows(ended(q, cut), "a").Scan(ctx, &rows); err != nil {
			return fmt.Errorf("find expired %s: %w", kind, err)
		}
		by, keys, err := s.eraseFiles(ctx, tx, rows, recordings)
		if err != nil {
			return err
		}
		freed = keys
		n = 0
		for _, k := range by {
			n += k
		}
		return s.recordApplied(ctx, tx, kind, by)
	})
	if err == nil {
		s.sweepFreed(ctx, freed)
	}
	return n, err
}

// sweepFreed deletes from the file store, now, the files an erasure's committed
// transaction left unreferenced (tickets.Service.SweepFreedFiles: each row claimed first,
// and sparing a file a writer touched within the grace period). What it cannot delete
// now, the periodic sweep deletes later.
func (s *Service) sweepFreed(ctx context.Context, keys []string) {
	if len(keys) == 0 {
		return
	}
	if _, err := s.svc.SweepFreedFiles(ctx, keys); err != nil {
		s.log.Warn("could not delete erased files from the file store yet; the periodic sweep will", "files", len(keys), "err", err)
	}
}

// eraseFiles erases rows' attachments not erased yet: the link and name blanked, the file
// deleted once no attachment refers to it; with transcripts, their messages' texts too. A
// file the database keeps goes with the transaction; it returns the keys of files that may
// be in the file store, for sweepFreed after the commit.
func (s *Service) eraseFiles(ctx context.Context, tx tickets.Tx, rows []fileRow, transcripts bool) (touched, []string, error) {
	by := touched{}
	if len(rows) == 0 {
		return by, nil, nil
	}
	ids, owner, files := make([]int64, len(rows)), map[int64]int64{}, []string{}
	msgOf := map[int64]int64{}
	for i, r := range rows {
		ids[i], owner[r.ID], msgOf[r.ID] = r.ID, r.CustomerID, r.MessageID
		if r.SHA256 != nil {
			files = append(files, *r.SHA256)
		}
	}
	var done []int64
	if err := tx.NewUpdate().Table("attachments").
		Set("filename = ?, url = '', size_bytes = 0, file_sha256 = NULL, transcript_state = '', erased_at = ?", Erased, s.svc.Now()).
		Where("id IN (?) AND erased_at IS NULL", bun.In(ids)).Returning("id").Scan(ctx, &done); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, nil, fmt.Errorf("erase attachments: %w", err)
	}
	var msgs []int64
	for _, id := range done {
		by[owner[id]]++
		msgs = append(msgs, msgOf[id])
	}
	if len(files) > 0 {
		if _, err := tx.NewDelete().Table("attachment_files").Where("sha256 IN (?) AND location = ?", bun.In(files), tickets.FileInDB).
			Where("NOT EXISTS (SELECT 1 FROM attachments a WHERE a.file_sha256 = attachment_files.sha256)").Exec(ctx); err != nil {
			return nil, nil, fmt.Errorf("delete files: %w", err)
		}
	}
	if transcripts && len(msgs) > 0 {
		if _, err := tx.NewUpdate().Table("messages").Set("body = ?, erased_at = ?", Erased, s.svc.Now()).
			Where("id IN (?) AND erased_at IS NULL", bun.In(msgs)).Exec(ctx); err != nil {
			return nil, nil, fmt.Errorf("erase transcripts: %w", err)
		}
	}
	return by, files, nil
}

// expireCustomers anonymises one batch of customers all of whose tickets ended before
// cut: identities deleted (a number or address that writes again starts a new customer),
// name and tags cleared.
func (s *Service) expireCustomers(ctx context.Context, cut time.Time) (int, error) {
	var n int
	err := s.svc.InTx(ctx, func(tx tickets.Tx) error {
		var ids []int64
		live := tx.NewSelect().TableExpr("tickets AS t").ColumnExpr("1").Where("t.customer_id = cu.id")
		live = live.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("t.status NOT IN (?, ?)", tickets.StatusResolved, tickets.StatusClosed).
				WhereOr("COALESCE(t.closed_at, t.resolved_at) >= ?", cut).
				WhereOr("EXISTS (SELECT 1 FROM complaints c WHERE c.ticket_id = t.id AND c.status IN (?, ?))", tickets.ComplaintReceived, tickets.ComplaintInvestigating).
				WhereOr("EXISTS (SELECT 1 FROM legal_holds h WHERE h.released_at IS NULL AND h.ticket_id = t.id)")
		})
		q := tx.NewSelect().TableExpr("customers AS cu").ColumnExpr("cu.id").Where("cu.erased_at IS NULL").
			Where("EXISTS (SELECT 1 FROM tickets t WHERE t.customer_id = cu.id)").
			Where("NOT EXISTS (?)", live).
			Where("NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.released_at IS NULL AND h.entity = 'customer' AND h.customer_id = cu.id)").
			OrderExpr("cu.id").Limit(s.batch)
		if err := s.lockRows(q, "cu").Scan(ctx, &ids); err != nil {
			return fmt.Errorf("find expired customers: %w", err)
		}
		done, err := s.anonymise(ctx, tx, ids)
		if err != nil {
			return err
		}
		n = len(done)
		by := touched{}
		for _, id := range done {
			by[id] = 1
		}
		return s.recordApplied(ctx, tx, "customers", by)
	})
	return n, err
}

// anonymise clears the customers ids not erased yet, deletes their identities and cancels
// their open follow-up calls; it returns those it cleared.
func (s *Service) anonymise(ctx context.Context, tx tickets.Tx, ids []int64) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var done []int64
	now := s.svc.Now()
	if err := tx.NewUpdate().Table("customers").Set("name = '', tags = '', erased_at = ?, updated_at = ?", now, now).
		Where("id IN (?) AND erased_at IS NULL", bun.In(ids)).Returning("id").Scan(ctx, &done); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("anonymise customers: %w", err)
	}
	if len(done) == 0 {
		return nil, nil
	}
	if _, err := tx.NewDelete().Table("customer_identities").Where("customer_id IN (?)", bun.In(done)).Exec(ctx); err != nil {
		return nil, fmt.Errorf("delete identities: %w", err)
	}
	// Nobody is left to call: their follow-up calls still open are cancelled.
	if _, err := tx.NewUpdate().Table("followups").Set("status = 'cancelled', cancelled_at = ?, updated_at = ?", now, now).
		Where("status = 'open' AND ticket_id IN (SELECT id FROM tickets WHERE customer_id IN (?))", bun.In(done)).Exec(ctx); err != nil {
		return nil, fmt.Errorf("cancel follow-up calls: %w", err)
	}
	return done, nil
}
