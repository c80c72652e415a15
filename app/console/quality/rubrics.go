package quality

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/console/ui"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/quality"
)

// blankRows are the empty criterion rows a rubric's form offers for new criteria.
const blankRows = 3

// rubricForm is a rubric's form: the rubric's criteria (or those typed, when refused) and
// blank rows.
type rubricForm struct {
	ID       int64 // 0: a new rubric
	Name     string
	Version  int
	Criteria []quality.Criterion
	Error    string
}

type rubricsData struct {
	Forms []rubricForm // the rubrics in use, then the new rubric's form
}

// Total is the weights of a form's criteria added up.
func (f rubricForm) Total() int {
	n := 0
	for _, c := range f.Criteria {
		n += c.Weight
	}
	return n
}

func withBlanks(cs []quality.Criterion) []quality.Criterion {
	out := append([]quality.Criterion{}, cs...)
	for range blankRows {
		out = append(out, quality.Criterion{})
	}
	return out
}

// rubrics serves GET /quality/rubrics: the rubrics in use, each editable (a new version),
// and a new one.
func (h *Handler) rubrics(ctx *fiber.Ctx, a *tickets.Agent) error {
	return h.renderRubrics(ctx, a, fiber.StatusOK, nil)
}

func (h *Handler) renderRubrics(ctx *fiber.Ctx, a *tickets.Agent, status int, failed *rubricForm) error {
	rs, err := h.quality.Rubrics(ctx.UserContext())
	if err != nil {
		return err
	}
	var d rubricsData
	for _, r := range rs {
		f := rubricForm{ID: r.ID, Name: r.Name, Version: r.Version, Criteria: withBlanks(r.Criteria)}
		if failed != nil && failed.ID == r.ID {
			f = *failed
		}
		d.Forms = append(d.Forms, f)
	}
	nw := rubricForm{Criteria: withBlanks(nil)}
	if failed != nil && failed.ID == 0 {
		nw = *failed
	}
	d.Forms = append(d.Forms, nw)
	v := h.kit.View(ctx, a, "quality", d)
	v.Title = v.T("quality.rubrics")
	return h.kit.RenderStatus(ctx, status, "quality_rubrics", v)
}

// saveRubric serves POST /quality/rubrics (a new rubric) and /quality/rubrics/:id (a new
// version of it): name, and per row key, name_zh, name_en, desc_zh, desc_en, weight, max;
// rows left without names are dropped.
func (h *Handler) saveRubric(ctx *fiber.Ctx, a *tickets.Agent) error {
	var id int64
	if p := ctx.Params("id"); p != "" {
		var err error
		if id, err = strconv.ParseInt(p, 10, 64); err != nil || id <= 0 {
			return fiber.NewError(fiber.StatusNotFound, ui.T(ui.Lang(ctx, a), "quality.no_rubric"))
		}
	}
	args := ctx.Request().PostArgs()
	col := func(name string) []string {
		var out []string
		for _, v := range args.PeekMulti(name) {
			out = append(out, string(v))
		}
		return out
	}
	keys, zh, en, dzh, den, ws, ms := col("key"), col("name_zh"), col("name_en"), col("desc_zh"), col("desc_en"), col("weight"), col("max")
	at := func(s []string, i int) string {
		if i < len(s) {
			return strings.TrimSpace(s[i])
		}
		return ""
	}
	in := quality.RubricInput{Name: ctx.FormValue("name")}
	for i := range max(len(zh), len(en)) {
		c := quality.Criterion{Key: at(keys, i), NameZH: at(zh, i), NameEN: at(en, i), DescZH: at(dzh, i), DescEN: at(den, i)}
		if c.NameZH == "" && c.NameEN == "" {
			continue
		}
		var err error
		if c.Weight, err = strconv.Atoi(at(ws, i)); err != nil {
			c.Weight = 0 // the service names the row
		}
		if c.Max, err = strconv.Atoi(at(ms, i)); err != nil {
			c.Max = 0
		}
		in.Criteria = append(in.Criteria, c)
	}
	var err error
	if id == 0 {
		_, err = h.quality.CreateRubric(ctx.UserContext(), tickets.AgentActor(a), in)
	} else {
		_, err = h.quality.UpdateRubric(ctx.UserContext(), tickets.AgentActor(a), id, in)
	}
	if err != nil {
		status, reason := ui.StatusIn(ui.Lang(ctx, a), err)
		if status >= 500 || status == fiber.StatusForbidden || reason == "" {
			return err
		}
		return h.renderRubrics(ctx, a, status, &rubricForm{ID: id, Name: in.Name, Criteria: withBlanks(in.Criteria), Error: reason})
	}
	return ui.Redirect(ctx, "/quality/rubrics", ui.T(ui.Lang(ctx, a), "quality.rubric_saved"))
}

// retireRubric serves POST /quality/rubrics/:id/retire.
func (h *Handler) retireRubric(ctx *fiber.Ctx, a *tickets.Agent) error {
	id, err := strconv.ParseInt(ctx.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return fiber.NewError(fiber.StatusNotFound, ui.T(ui.Lang(ctx, a), "quality.no_rubric"))
	}
	if err := h.quality.RetireRubric(ctx.UserContext(), tickets.AgentActor(a), id); err != nil {
		return err
	}
	return ui.Redirect(ctx, "/quality/rubrics", ui.T(ui.Lang(ctx, a), "quality.rubric_retired"))
}
