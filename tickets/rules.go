package tickets

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/uptrace/bun"
)

// The rules every new ticket needs (SLA policies, routing rules, notice wordings), cached,
// and the SLA policies' generation, which marks open tickets' deadlines stale after an
// edit.

// rules caches policies and routing rules: every new ticket needs them, and they change
// rarely. Edits in this process are seen at once; other processes' within rulesMaxAge.
type rules struct {
	mu         sync.Mutex
	set        *ruleSet
	setGen     uint64    // gen when set was read
	gen        uint64    // bumped by every edit in this process
	loaded     time.Time // when set was read, if no edit came since
	refreshing bool      // a caller is reading set again
}

// ruleSet is one reading of the rules; it is never changed once read.
type ruleSet struct {
	gen      int64 // the policies' generation (sla_state), read before them: theirs is no older
	policies []*Policy
	routing  []*RoutingRule
	wordings map[string]string // admins' notice wordings by key/locale
}

const rulesMaxAge = 30 * time.Second

// loadRules returns the rules, reading them again through db (the caller's transaction,
// when it has one) once they are older than rulesMaxAge or an edit made them wrong. No lock
// is held while the database is read, and no caller waits for another's reading: callers
// in transactions each hold a pooled connection, and if they all waited for one caller
// that needed another connection, none would ever move again. While one caller refreshes
// rules that are merely old, the others use them as they are.
func (s *Service) loadRules(ctx context.Context, db bun.IDB) (*ruleSet, error) {
	r := s.rules
	r.mu.Lock()
	cached, valid := r.set, r.set != nil && r.setGen == r.gen
	if valid && (time.Since(r.loaded) < rulesMaxAge || r.refreshing) {
		r.mu.Unlock()
		return cached, nil
	}
	r.refreshing = true
	gen := r.gen
	r.mu.Unlock()

	next, err := readRules(ctx, db)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refreshing = false
	if err != nil {
		return nil, err
	}
	if r.set == nil || gen >= r.setGen {
		r.set, r.setGen = next, gen
		if gen == r.gen {
			r.loaded = time.Now()
		}
	}
	return next, nil
}

func readRules(ctx context.Context, db bun.IDB) (*ruleSet, error) {
	// The generation first: should an edit commit between the two reads, the policies are
	// newer than the generation that tickets get stamped with, and they are re-timed once
	// more, never the other way round.
	gen, err := slaGeneration(ctx, db)
	if err != nil {
		return nil, err
	}
	var ps []*Policy
	if err := db.NewSelect().Model(&ps).OrderExpr("position, id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("load SLA policies: %w", err)
	}
	var rs []*RoutingRule
	if err := db.NewSelect().Model(&rs).Where("active").OrderExpr("position, id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("load routing rules: %w", err)
	}
	var ts []*MessageTemplate
	if err := db.NewSelect().Model(&ts).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load notice wordings: %w", err)
	}
	wordings := make(map[string]string, len(ts))
	for _, t := range ts {
		wordings[t.Key+"/"+t.Locale] = t.Body
	}
	return &ruleSet{gen: gen, policies: ps, routing: rs, wordings: wordings}, nil
}

// slaGeneration is the generation of the SLA policies: how many edits they have had.
func slaGeneration(ctx context.Context, db bun.IDB) (int64, error) {
	var gen int64
	if err := db.NewSelect().Table("sla_state").Column("generation").Where("id = 1").Scan(ctx, &gen); err != nil {
		return 0, fmt.Errorf("read SLA policy generation: %w", err)
	}
	return gen, nil
}

// bumpSLAGeneration marks every open ticket's deadlines as worked out under older policies
// (or an older calendar). It runs in the transaction that edits them, so an edit that
// commits has always made the tickets stale, and the update's row lock orders concurrent
// edits.
func bumpSLAGeneration(ctx context.Context, tx bun.IDB) error {
	if _, err := tx.NewUpdate().Table("sla_state").Set("generation = generation + 1").Where("id = 1").Exec(ctx); err != nil {
		return fmt.Errorf("bump SLA policy generation: %w", err)
	}
	return nil
}

// ForgetRules makes the rules be read again at their next use: a chapter that changes
// what they hold (tickets/delivery, the notices' wordings) calls it after its commit.
func (s *Service) ForgetRules() { s.forgetRules() }

// forgetRules makes every later loadRules read the rules again.
func (s *Service) forgetRules() {
	s.rules.mu.Lock()
	s.rules.gen++
	s.rules.loaded = time.Time{}
	s.rules.mu.Unlock()
}
