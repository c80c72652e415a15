package admin

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/console/ui"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/access"
)

// keyRow is an API key as the keys page lists it.
type keyRow struct {
	ID                int64
	Name, Scopes      string
	Created, LastUsed string // "" when never used
	Revoked           bool
}

type keysData struct {
	adminPage
	Keys    []keyRow
	Scopes  []access.Scope
	NewKey  string // the key just made, shown this once
	NewName string
	Checked map[access.Scope]bool
}

// adminKeys serves GET /admin/keys: other systems' API keys, and a form for a new one.
func (h *Handler) adminKeys(ctx *fiber.Ctx, a *tickets.Agent) error {
	return h.showKeys(ctx, a, nil, "", "", nil)
}

func (h *Handler) showKeys(ctx *fiber.Ctx, a *tickets.Agent, r *refused, newKey, name string, checked map[access.Scope]bool) error {
	d := keysData{adminPage: newAdminPage("keys"), Scopes: access.Scopes, NewKey: newKey, NewName: name, Checked: checked}
	status := r.set(&d.adminPage)
	if newKey != "" {
		status = fiber.StatusCreated
	}
	ks, err := h.doors.Keys(ctx.UserContext(), tickets.AgentActor(a))
	if err != nil {
		return err
	}
	loc := h.svc.Calendar().Location()
	for _, k := range ks {
		row := keyRow{ID: k.ID, Name: k.Name, Scopes: k.Scopes, Created: k.CreatedAt.In(loc).Format(time.DateOnly), Revoked: k.RevokedAt != nil}
		if k.LastUsedAt != nil {
			row.LastUsed = k.LastUsedAt.In(loc).Format("2006-01-02 15:04")
		}
		d.Keys = append(d.Keys, row)
	}
	return h.kit.RenderStatus(ctx, status, "admin_keys", h.adminView(ctx, a, "admin.keys", d))
}

// createKey serves POST /admin/keys (name, scope...): the page answers with the key, shown
// this once.
func (h *Handler) createKey(ctx *fiber.Ctx, a *tickets.Agent) error {
	name := ctx.FormValue("name")
	var scopes []string
	checked := map[access.Scope]bool{}
	args := ctx.Request().PostArgs()
	for _, v := range args.PeekMulti("scope") {
		scopes = append(scopes, string(v))
		checked[access.Scope(v)] = true
	}
	key, _, err := h.doors.CreateKey(ctx.UserContext(), tickets.AgentActor(a), name, scopes)
	if err != nil {
		if r, ok := refusal("new", err); ok {
			return h.showKeys(ctx, a, r, "", name, checked)
		}
		return err
	}
	return h.showKeys(ctx, a, nil, key, "", nil)
}

// revokeKey serves POST /admin/keys/:id/revoke.
func (h *Handler) revokeKey(ctx *fiber.Ctx, a *tickets.Agent) error {
	id, err := pathID(ctx, a, "id")
	if err != nil {
		return err
	}
	if err := h.doors.RevokeKey(ctx.UserContext(), tickets.AgentActor(a), id); err != nil {
		return err
	}
	return ui.Redirect(ctx, "/admin/keys", ui.T(ui.Lang(ctx, a), "admin.key.revoked"))
}
