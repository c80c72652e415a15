package stages

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hotlinedesk/hotline/tickets"
)

// Admins keep each category's stages: the list in order, worded in both languages, with
// the working days each may last.

// StageInput is one stage as an admin writes it.
type StageInput struct {
	NameZh, NameEn string
	DueDays        int
}

// ParseStages reads a category's stages as the console's form holds them: one a line,
// "中文名 | English name | working days" (the days may be left out, or 0, for no
// deadline); blank lines are skipped.
func ParseStages(text string) ([]StageInput, error) {
	var out []StageInput
	n := 0
	for line := range strings.Lines(text) {
		n++
		if strings.TrimSpace(line) == "" {
			continue
		}
		if !utf8.ValidString(line) {
			return nil, tickets.Invalidf("line %d is not valid text", n)
		}
		parts := strings.Split(line, "|")
		if len(parts) < 2 || len(parts) > 3 {
			return nil, tickets.Invalidf("line %d: write “中文名 | English name | working days”", n)
		}
		in := StageInput{NameZh: strings.TrimSpace(parts[0]), NameEn: strings.TrimSpace(parts[1])}
		if len(parts) == 3 {
			if d := strings.TrimSpace(parts[2]); d != "" {
				v, err := strconv.Atoi(d)
				if err != nil {
					return nil, tickets.Invalidf("line %d: the working days must be a whole number", n)
				}
				in.DueDays = v
			}
		}
		out = append(out, in)
	}
	return out, nil
}

func (in StageInput) check(i int) error {
	for _, name := range []string{in.NameZh, in.NameEn} {
		if name == "" {
			return tickets.Invalidf("stage %d needs a name in both Chinese and English", i+1)
		}
		if utf8.RuneCountInString(name) > maxName {
			return tickets.Invalidf("stage %d: a name has at most %d characters", i+1, maxName)
		}
	}
	if in.DueDays < 0 || in.DueDays > maxDueDays {
		return tickets.Invalidf("stage %d: the working days must be between 0 (no deadline) and %d", i+1, maxDueDays)
	}
	return nil
}

// SaveStages replaces a category's stages with list, in order, as an admin: the stage at
// each position keeps its id (tickets at it stay there, with their dates), new positions
// are added, and positions beyond the list are removed unless a ticket ever stood there
// (409). An empty list removes the category's stages.
func (s *Service) SaveStages(ctx context.Context, actor tickets.Actor, category string, list []StageInput) error {
	if actor.Agent == nil || actor.Agent.Role != tickets.RoleAdmin {
		return tickets.Forbiddenf("only admins edit the progress stages")
	}
	category = strings.TrimSpace(category)
	if category == "" || utf8.RuneCountInString(category) > maxCategory {
		return tickets.Invalidf("a category needs a name of at most %d characters", maxCategory)
	}
	if len(list) > maxStages {
		return tickets.Invalidf("a category has at most %d stages", maxStages)
	}
	for i, in := range list {
		if err := in.check(i); err != nil {
			return err
		}
	}
	return s.svc.InTx(ctx, func(tx tickets.Tx) error {
		was, err := s.stagesOf(ctx, tx, category)
		if err != nil {
			return err
		}
		now := s.svc.Now()
		for i, in := range list {
			if i < len(was) {
				st := was[i]
				st.NameZh, st.NameEn, st.DueDays, st.UpdatedAt = in.NameZh, in.NameEn, in.DueDays, now
				if _, err := tx.NewUpdate().Model(st).Column("name_zh", "name_en", "due_days", "updated_at").WherePK().Exec(ctx); err != nil {
					return fmt.Errorf("save stage: %w", err)
				}
				continue
			}
			st := &Stage{Category: category, Position: i + 1, NameZh: in.NameZh, NameEn: in.NameEn, DueDays: in.DueDays, CreatedAt: now, UpdatedAt: now}
			if _, err := tx.NewInsert().Model(st).Exec(ctx); err != nil {
				return fmt.Errorf("add stage: %w", err)
			}
		}
		for _, st := range was[min(len(list), len(was)):] {
			used, err := tx.NewSelect().Table("stage_history").Where("stage_id = ?", st.ID).Exists(ctx)
			if err != nil {
				return fmt.Errorf("check stage use: %w", err)
			}
			if used {
				return tickets.Conflictf("stage %q cannot be removed: tickets have been at it (rename it instead)", st.NameEn)
			}
			if _, err := tx.NewDelete().Model(st).WherePK().Exec(ctx); err != nil {
				return fmt.Errorf("remove stage: %w", err)
			}
		}
		return tx.Record(ctx, tx.Event(actor, "stages", 0, "stages.edited", map[string]any{"category": category, "stages": len(list)}))
	})
}

// Format writes stages as ParseStages reads them.
func Format(sts []*Stage) string {
	var b strings.Builder
	for _, st := range sts {
		fmt.Fprintf(&b, "%s | %s | %d\n", st.NameZh, st.NameEn, st.DueDays)
	}
	return b.String()
}
