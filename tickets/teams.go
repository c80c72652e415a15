package tickets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/uptrace/bun"
)

func (s *Service) teamByID(ctx context.Context, db bun.IDB, id int64) (*Team, error) {
	t := new(Team)
	if err := db.NewSelect().Model(t).Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFoundf("team %d not found", id)
		}
		return nil, fmt.Errorf("load team %d: %w", id, err)
	}
	return t, nil
}

// Team returns one team.
func (s *Service) Team(ctx context.Context, id int64) (*Team, error) {
	return s.teamByID(ctx, s.db, id)
}

// Teams lists all teams by name.
func (s *Service) Teams(ctx context.Context) ([]*Team, error) {
	var ts []*Team
	if err := s.db.NewSelect().Model(&ts).OrderExpr("name").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list teams: %w", err)
	}
	return ts, nil
}

func cleanTeamName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 100 {
		return "", invalidf("a team needs a name of 1 to 100 characters")
	}
	return name, nil
}

// CreateTeam adds a team. Admins only.
func (s *Service) CreateTeam(ctx context.Context, actor Actor, name string) (*Team, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	name, err := cleanTeamName(name)
	if err != nil {
		return nil, err
	}
	now := s.now()
	t := &Team{Name: name, CreatedAt: now, UpdatedAt: now}
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(t).Exec(ctx); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, "team", t.ID, "team.created", map[string]any{"name": name})
	})
	if isUniqueViolation(err) {
		return nil, conflictf("a team named %q already exists", name)
	}
	if err != nil {
		return nil, fmt.Errorf("create team: %w", err)
	}
	return t, nil
}

// RenameTeam changes a team's name. Admins only.
func (s *Service) RenameTeam(ctx context.Context, actor Actor, id int64, name string) (*Team, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	name, err := cleanTeamName(name)
	if err != nil {
		return nil, err
	}
	var t *Team
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if t, err = s.teamByID(ctx, tx, id); err != nil {
			return err
		}
		from := t.Name
		t.Name, t.UpdatedAt = name, s.now()
		if _, err := tx.NewUpdate().Model(t).Column("name", "updated_at").WherePK().Exec(ctx); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, "team", t.ID, "team.renamed", map[string]any{"from": from, "to": name})
	})
	if isUniqueViolation(err) {
		return nil, conflictf("a team named %q already exists", name)
	}
	if err != nil {
		return nil, fmt.Errorf("rename team: %w", err)
	}
	return t, nil
}

// DeleteTeam removes a team that has no agents and no tickets. Admins only.
func (s *Service) DeleteTeam(ctx context.Context, actor Actor, id int64) error {
	if err := requireAdmin(actor); err != nil {
		return err
	}
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		t, err := s.teamByID(ctx, tx, id)
		if err != nil {
			return err
		}
		for table, where := range map[string]string{"agents": "team_id = ? AND active", "tickets": "team_id = ?", "canned_replies": "team_id = ?"} {
			n, err := tx.NewSelect().Table(table).Where(where, id).Count(ctx)
			if err != nil {
				return fmt.Errorf("count team %s: %w", table, err)
			}
			if n > 0 {
				return conflictf("team %q still has %d %s; move them first", t.Name, n, strings.ReplaceAll(table, "_", " "))
			}
		}
		// Deactivated agents keep their history, not their team.
		if _, err := tx.NewUpdate().Table("agents").Set("team_id = NULL").Where("team_id = ? AND NOT active", id).Exec(ctx); err != nil {
			return fmt.Errorf("release deactivated agents: %w", err)
		}
		if _, err := tx.NewDelete().Model(t).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("delete team: %w", err)
		}
		return s.record(ctx, tx, actor, "team", id, "team.deleted", map[string]any{"name": t.Name})
	})
}
