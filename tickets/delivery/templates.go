package delivery

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/hotlinedesk/hotline/tickets"
)

// The wordings of the notices Hotline sends customers by itself, as admins change them.
// The core words each notice (tickets.Service.Notice) in the transaction that sends it,
// from the stored wording or its default.

// TemplateView is a notice's wording as it stands, and whether an admin changed it.
type TemplateView struct {
	Key, Locale, Body string
	Custom            bool
}

// Templates lists every notice's wording in both languages.
func (s *Service) Templates(ctx context.Context) ([]TemplateView, error) {
	var stored []*tickets.MessageTemplate
	if err := s.db.NewSelect().Model(&stored).Scan(ctx); err != nil {
		return nil, fmt.Errorf("list templates: %w", err)
	}
	custom := map[[2]string]string{}
	for _, t := range stored {
		custom[[2]string{t.Key, t.Locale}] = t.Body
	}
	var out []TemplateView
	for key, def := range tickets.DefaultWordings() {
		for i, locale := range []string{"zh", "en"} {
			v := TemplateView{Key: key, Locale: locale, Body: def[i]}
			if body, ok := custom[[2]string{key, locale}]; ok {
				v.Body, v.Custom = body, true
			}
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key+out[i].Locale < out[j].Key+out[j].Locale })
	return out, nil
}

// SetTemplate changes a notice's wording; an empty body restores the default. The wording
// is tried on sample data first, so a typo in a variable is refused, not sent. Admins only.
func (s *Service) SetTemplate(ctx context.Context, actor tickets.Actor, key, locale, body string) error {
	if err := tickets.RequireAdmin(actor); err != nil {
		return err
	}
	if _, ok := tickets.DefaultWordings()[key]; !ok {
		return tickets.NotFoundf("no notice %q", key)
	}
	if locale != "zh" && locale != "en" {
		return tickets.Invalidf("locale must be zh or en, not %q", locale)
	}
	body = strings.TrimSpace(body)
	if body != "" {
		t, err := tickets.ParseTemplate(body)
		if err == nil {
			err = t.Execute(&bytes.Buffer{}, tickets.TemplateData{Ref: "HL-000001", Complaint: "CP-000001", Due: "2026-01-01", Decision: "x", Reason: "x"})
		}
		if err != nil {
			return tickets.Invalidf("the wording does not render: %v (variables: {{.Ref}}, {{.Complaint}}, {{.Due}}, {{.Decision}}, {{.Reason}})", err)
		}
	}
	err := s.inTx(ctx, func(tx tickets.Tx) error {
		q := tx.NewDelete().Model((*tickets.MessageTemplate)(nil)).Where("key = ? AND locale = ?", key, locale)
		if _, err := q.Exec(ctx); err != nil {
			return fmt.Errorf("replace template: %w", err)
		}
		if body != "" {
			if _, err := tx.NewInsert().Model(&tickets.MessageTemplate{Key: key, Locale: locale, Body: body, UpdatedAt: s.now()}).Exec(ctx); err != nil {
				return fmt.Errorf("store template: %w", err)
			}
		}
		return s.record(ctx, tx, actor, "template", 0, "template.changed", map[string]any{"key": key, "locale": locale, "restored_default": body == ""})
	})
	s.svc.ForgetRules() // the wordings are read with the rules
	return err
}
