package tickets

import (
	"context"
	"database/sql"
	"errors"
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

// autoAssign gives an unassigned ticket of a team to the available agent with the fewest
// open tickets below their capacity, the longest-waiting first among equals. It reports
// whether anyone was free. The team row is touched first so two assignments in one team
// never both take an agent's last free place. pending are the tickets this transaction
// has assigned but not yet written (an intake batch on PostgreSQL writes its rows at the
// end): they count towards their agents' loads as if they were stored, so a batch fills an
// agent exactly as the same messages one by one would.
func (s *Service) autoAssign(ctx context.Context, tx bun.IDB, t *Ticket, pending []*Ticket) (bool, error) {
	if t.TeamID == nil || t.AssigneeID != nil {
		return false, nil
	}
	if _, err := tx.NewUpdate().Table("teams").Set("updated_at = updated_at").Where("id = ?", *t.TeamID).Exec(ctx); err != nil {
		return false, fmt.Errorf("lock team: %w", err)
	}
	// The team's available agents with their stored loads, in the tie-break order; the load
	// and capacity are compared here, with the pending tickets added.
	var agents []*Agent
	err := tx.NewSelect().Model(&agents).
		ColumnExpr("agent.*").
		ColumnExpr("(SELECT COUNT(*) FROM tickets AS t WHERE t.assignee_id = agent.id AND t.status IN ('new', 'open', 'pending')) AS load").
		Where("agent.team_id = ? AND agent.active AND agent.online AND agent.role <> ? AND agent.capacity > 0", *t.TeamID, RoleAdmin).
		OrderExpr("agent.last_assigned_at ASC NULLS FIRST, agent.id ASC").
		Scan(ctx)
	if err != nil {
		return false, fmt.Errorf("find available agent: %w", err)
	}
	extra := map[int64]int{}
	for _, p := range pending {
		if p.AssigneeID != nil && p.Status.Active() {
			extra[*p.AssigneeID]++
		}
	}
	var a *Agent
	for _, c := range agents {
		c.Load += extra[c.ID]
		if c.Load < c.Capacity && (a == nil || c.Load < a.Load) {
			a = c
		}
	}
	if a == nil {
		return false, nil
	}
	now := s.now()
	t.AssigneeID = &a.ID
	if _, err := tx.NewUpdate().Model(a).Set("last_assigned_at = ?", now).WherePK().Exec(ctx); err != nil {
		return false, fmt.Errorf("mark agent assigned: %w", err)
	}
	return true, nil
}

// SetOnline says whether an agent is taking new work. Coming online pulls waiting tickets
// from the team's unassigned queue.
func (s *Service) SetOnline(ctx context.Context, actor Actor, online bool) (*Agent, error) {
	a := actor.Agent
	if a == nil {
		return nil, forbiddenf("only agents go online")
	}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewUpdate().Model(a).Set("online = ?", online).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("set presence: %w", err)
		}
		kind := "agent.offline"
		if online {
			kind = "agent.online"
		}
		return s.record(ctx, tx, actor, "agent", a.ID, kind, nil)
	})
	if err != nil {
		return nil, err
	}
	a.Online = online
	if online && a.TeamID != nil {
		if _, err := s.FillQueue(ctx, *a.TeamID); err != nil {
			return a, err
		}
	}
	return a, nil
}

// FillQueue assigns a team's waiting tickets, nearest deadline first, while agents have room.
func (s *Service) FillQueue(ctx context.Context, teamID int64) (int, error) {
	assigned := 0
	for {
		var t *Ticket
		done := false
		err := s.inTx(ctx, func(tx bun.Tx) error {
			t = new(Ticket)
			err := tx.NewSelect().Model(t).
				Where("team_id = ? AND assignee_id IS NULL AND status IN ('new', 'open', 'pending')", teamID).
				OrderExpr("next_due_at, id").Limit(1).Scan(ctx)
			if errors.Is(err, sql.ErrNoRows) {
				done = true
				return nil
			}
			if err != nil {
				return fmt.Errorf("next unassigned ticket: %w", err)
			}
			ok, err := s.autoAssign(ctx, tx, t, nil)
			if err != nil || !ok {
				done = true
				return err
			}
			res, err := tx.NewUpdate().Table("tickets").Set("assignee_id = ?, updated_at = ?", *t.AssigneeID, s.now()).
				Where("id = ? AND assignee_id IS NULL", t.ID).Exec(ctx)
			if err != nil {
				return fmt.Errorf("assign from queue: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil // someone took it meanwhile; look again
			}
			return s.record(ctx, tx, systemActor, "ticket", t.ID, "ticket.assigned", map[string]any{
				"to_assignee": *t.AssigneeID, "to_team": teamID, "reason": "auto-assigned from the team queue",
			})
		})
		if err != nil || done {
			return assigned, err
		}
		assigned++
	}
}

// FillQueues runs FillQueue for every team with waiting tickets.
func (s *Service) FillQueues(ctx context.Context) (int, error) {
	var teams []int64
	if err := s.db.NewSelect().Table("tickets").ColumnExpr("DISTINCT team_id").
		Where("team_id IS NOT NULL AND assignee_id IS NULL AND status IN ('new', 'open', 'pending')").Scan(ctx, &teams); err != nil {
		return 0, fmt.Errorf("teams with waiting tickets: %w", err)
	}
	total := 0
	for _, id := range teams {
		n, err := s.FillQueue(ctx, id)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
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

// Policies lists the stored SLA policies in order.
func (s *Service) Policies(ctx context.Context) ([]*Policy, error) {
	var ps []*Policy
	if err := s.db.NewSelect().Model(&ps).OrderExpr("position, id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list SLA policies: %w", err)
	}
	return ps, nil
}

// SavePolicy creates (ID 0) or replaces an SLA policy; open tickets are then given the
// deadlines of the policy that now matches them, in a background job. Admins only.
func (s *Service) SavePolicy(ctx context.Context, actor Actor, p *Policy) (*Policy, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	p.Name = strings.TrimSpace(p.Name)
	switch {
	case p.Name == "":
		return nil, invalidf("an SLA policy needs a name")
	case p.Channel != "" && !p.Channel.Valid():
		return nil, invalidf("unknown channel %q", p.Channel)
	case p.Priority != "" && !p.Priority.Valid():
		return nil, invalidf("unknown priority %q (low, normal, high, urgent)", p.Priority)
	case p.FirstResponseSeconds <= 0 || p.ResolutionSeconds <= 0:
		return nil, invalidf("first response and resolution times must be positive")
	case p.FirstResponseBreach == "":
		p.FirstResponseBreach = BreachEscalate
	}
	if p.ResolutionBreach == "" {
		p.ResolutionBreach = BreachComplaint
	}
	if !p.FirstResponseBreach.Valid() || !p.ResolutionBreach.Valid() {
		return nil, invalidf("a breach action is warn, escalate or complaint")
	}
	now := s.now()
	p.UpdatedAt = now
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		kind := "sla_policy.updated"
		if p.ID == 0 {
			kind, p.CreatedAt = "sla_policy.created", now
			if _, err := tx.NewInsert().Model(p).Exec(ctx); err != nil {
				return fmt.Errorf("create SLA policy: %w", err)
			}
		} else {
			res, err := tx.NewUpdate().Model(p).WherePK().ExcludeColumn("id", "created_at").Exec(ctx)
			if err != nil {
				return fmt.Errorf("save SLA policy: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return notFoundf("SLA policy %d not found", p.ID)
			}
		}
		if err := bumpSLAGeneration(ctx, tx); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, "sla_policy", p.ID, kind, map[string]any{"name": p.Name,
			"first_response_seconds": p.FirstResponseSeconds, "resolution_seconds": p.ResolutionSeconds, "working_time": p.WorkingTime})
	})
	if err != nil {
		return nil, err
	}
	s.policiesChanged(ctx)
	return p, nil
}

// DeletePolicy removes an SLA policy. Admins only.
func (s *Service) DeletePolicy(ctx context.Context, actor Actor, id int64) error {
	if err := requireAdmin(actor); err != nil {
		return err
	}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewDelete().Model((*Policy)(nil)).Where("id = ?", id).Exec(ctx)
		if err != nil {
			return fmt.Errorf("delete SLA policy: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFoundf("SLA policy %d not found", id)
		}
		if err := bumpSLAGeneration(ctx, tx); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, "sla_policy", id, "sla_policy.deleted", nil)
	})
	if err == nil {
		s.policiesChanged(ctx)
	}
	return err
}
