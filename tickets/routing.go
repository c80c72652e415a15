package tickets

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// RoutingRule sends matching new tickets to a team, optionally setting their priority and
// category. Rules are tried in position order and the first match wins; empty match fields
// match anything.
type RoutingRule struct {
	bun.BaseModel `bun:"table:routing_rules"`

	ID          int64     `bun:",pk,autoincrement"`
	Position    int       `bun:",notnull"`
	Name        string    `bun:",notnull"`
	Channel     Channel   `bun:",notnull"`
	Keywords    string    `bun:",notnull"` // comma-separated; any one, in subject or text
	Category    string    `bun:",notnull"`
	Priority    Priority  `bun:",notnull"`
	CustomerTag string    `bun:",notnull"`
	Language    string    `bun:",notnull"` // the customer's locale prefix: "zh", "en"
	TeamID      int64     `bun:",notnull"`
	SetPriority Priority  `bun:",notnull"`
	SetCategory string    `bun:",notnull"`
	Active      bool      `bun:",notnull"`
	CreatedAt   time.Time `bun:",notnull"`
	UpdatedAt   time.Time `bun:",notnull"`
}

// routeInput is what a rule looks at.
type routeInput struct {
	ticket   *Ticket
	text     string // subject and message, lower-cased
	tags     []string
	language string
}

func (r *RoutingRule) matches(in routeInput) bool {
	t := in.ticket
	if r.Channel != "" && r.Channel != t.Channel ||
		r.Category != "" && !strings.EqualFold(r.Category, t.Category) ||
		r.Priority != "" && r.Priority != t.Priority ||
		r.Language != "" && !strings.HasPrefix(strings.ToLower(in.language), strings.ToLower(r.Language)) {
		return false
	}
	if r.CustomerTag != "" && !hasTag(in.tags, r.CustomerTag) {
		return false
	}
	if kws := r.KeywordList(); len(kws) > 0 {
		for _, kw := range kws {
			// Chinese has no spaces between words: a substring match is what a person means.
			if strings.Contains(in.text, strings.ToLower(kw)) {
				return true
			}
		}
		return false
	}
	return true
}

// KeywordList is the rule's keywords one by one, as routing matches them: Keywords split at
// commas (ASCII or full-width) and line breaks, trimmed, blanks dropped.
func (r *RoutingRule) KeywordList() []string { return splitList(r.Keywords) }

func splitList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '，' || r == '\n' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func hasTag(tags []string, tag string) bool {
	for _, t := range tags {
		if strings.EqualFold(t, tag) {
			return true
		}
	}
	return false
}

// route applies the first matching rule to a new ticket.
func (s *Service) route(ctx context.Context, db bun.IDB, t *Ticket, c *Customer, body string) (*RoutingRule, error) {
	r, err := s.loadRules(ctx, db)
	if err != nil {
		return nil, err
	}
	in := routeInput{ticket: t, text: strings.ToLower(t.Subject + "\n" + body), tags: splitList(c.Tags), language: c.Locale}
	for _, rule := range r.routing {
		if !rule.matches(in) {
			continue
		}
		team := rule.TeamID
		t.TeamID = &team
		if rule.SetPriority != "" {
			t.Priority = rule.SetPriority
		}
		if rule.SetCategory != "" {
			t.Category = rule.SetCategory
		}
		return rule, nil
	}
	return nil, nil
}

// RoutingRules lists all rules in order.
func (s *Service) RoutingRules(ctx context.Context) ([]*RoutingRule, error) {
	var rs []*RoutingRule
	if err := s.db.NewSelect().Model(&rs).OrderExpr("position, id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list routing rules: %w", err)
	}
	return rs, nil
}

func (s *Service) validateRule(ctx context.Context, r *RoutingRule) error {
	r.Name = strings.TrimSpace(r.Name)
	if r.Name == "" {
		return invalidf("a routing rule needs a name")
	}
	if r.Channel != "" && !r.Channel.Valid() {
		return invalidf("unknown channel %q", r.Channel)
	}
	for _, p := range []Priority{r.Priority, r.SetPriority} {
		if p != "" && !p.Valid() {
			return invalidf("unknown priority %q (low, normal, high, urgent)", p)
		}
	}
	if _, err := s.teamByID(ctx, s.db, r.TeamID); err != nil {
		return err
	}
	return nil
}

// SaveRoutingRule creates (ID 0) or replaces a rule; a new rule is active. Admins only.
func (s *Service) SaveRoutingRule(ctx context.Context, actor Actor, r *RoutingRule) (*RoutingRule, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	if err := s.validateRule(ctx, r); err != nil {
		return nil, err
	}
	now := s.now()
	r.UpdatedAt = now
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		kind := "routing_rule.updated"
		if r.ID == 0 {
			kind, r.CreatedAt, r.Active = "routing_rule.created", now, true // a new rule starts working
			if _, err := tx.NewInsert().Model(r).Exec(ctx); err != nil {
				return fmt.Errorf("create routing rule: %w", err)
			}
		} else {
			res, err := tx.NewUpdate().Model(r).WherePK().ExcludeColumn("id", "created_at").Exec(ctx)
			if err != nil {
				return fmt.Errorf("save routing rule: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return notFoundf("routing rule %d not found", r.ID)
			}
		}
		return s.record(ctx, tx, actor, "routing_rule", r.ID, kind, map[string]any{"name": r.Name, "team_id": r.TeamID})
	})
	if err != nil {
		return nil, err
	}
	s.forgetRules()
	return r, nil
}

// DeleteRoutingRule removes a rule. Admins only.
func (s *Service) DeleteRoutingRule(ctx context.Context, actor Actor, id int64) error {
	if err := requireAdmin(actor); err != nil {
		return err
	}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewDelete().Model((*RoutingRule)(nil)).Where("id = ?", id).Exec(ctx)
		if err != nil {
			return fmt.Errorf("delete routing rule: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFoundf("routing rule %d not found", id)
		}
		return s.record(ctx, tx, actor, "routing_rule", id, "routing_rule.deleted", nil)
	})
	s.forgetRules()
	return err
}
