// Package quality is the console's quality reviews section (/quality, 质检): supervisors
// draw a sample of their team's resolved tickets, review a ticket beside its timeline on a
// rubric, and compare two reviewers of one ticket (calibration); agents read their reviews
// and answer each once ("My reviews"); admins keep the rubrics. The service
// (tickets/quality) checks who may do what again and works out every score.
package quality

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/console/ui"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/quality"
)

// Handler serves the section's pages and forms.
type Handler struct {
	kit     *ui.Kit
	svc     *tickets.Service
	quality *quality.Service
}

// New is the section over the service's tickets and teams and the quality reviews.
func New(kit *ui.Kit, svc *tickets.Service, q *quality.Service) *Handler {
	return &Handler{kit: kit, svc: svc, quality: q}
}

// Register mounts the section's routes.
func (h *Handler) Register(r ui.Router) {
	r.Get("/quality", h.home)
	r.Get("/quality/mine", h.mine)
	r.Get("/quality/agents/:id", h.ofAgent)
	r.Post("/quality/reviews/:id/answer", h.answer)
	r.Get("/quality/tickets/:ref", reviewers(h.reviewPage))
	r.Post("/quality/tickets/:ref", reviewers(h.submit))
	r.Get("/quality/tickets/:ref/calibration", reviewers(h.calibration))
	r.Get("/quality/rubrics", admins(h.rubrics))
	r.Post("/quality/rubrics", admins(h.saveRubric))
	r.Post("/quality/rubrics/:id", admins(h.saveRubric))
	r.Post("/quality/rubrics/:id/retire", admins(h.retireRubric))
}

func isReviewer(a *tickets.Agent) bool {
	return a.Role == tickets.RoleSupervisor || a.Role == tickets.RoleAdmin
}

// reviewers refuses everyone but supervisors and admins, before anything is read.
func reviewers(next ui.Handler) ui.Handler {
	return func(ctx *fiber.Ctx, a *tickets.Agent) error {
		if !isReviewer(a) {
			return fiber.NewError(fiber.StatusForbidden, ui.T(ui.Lang(ctx, a), "error.forbidden"))
		}
		return next(ctx, a)
	}
}

func admins(next ui.Handler) ui.Handler {
	return func(ctx *fiber.Ctx, a *tickets.Agent) error {
		if a.Role != tickets.RoleAdmin {
			return fiber.NewError(fiber.StatusForbidden, ui.T(ui.Lang(ctx, a), "error.forbidden"))
		}
		return next(ctx, a)
	}
}

func bad(ctx *fiber.Ctx, a *tickets.Agent, key string) error {
	return fiber.NewError(fiber.StatusBadRequest, ui.T(ui.Lang(ctx, a), key))
}

// homeData is the supervisors' page: the sample form and the sample drawn, the tickets
// reviewed twice, the team's agents whose reviews can be read.
type homeData struct {
	Teams   []*tickets.Team // the teams the agent may sample
	Team    int64
	From    string // the period's first and last day, 2006-01-02
	To      string
	N       int
	Seed    string // "" draws a new one
	Filters quality.SampleRequest
	Sample  *quality.Sample
	Calib   []quality.Calibratable
	Agents  []*tickets.Agent // the team's, for their reviews
	Rubrics int              // how many rubrics are in use
}

const dateForm = "2006-01-02"

// home serves GET /quality: agents go to their reviews; supervisors and admins draw a
// sample (team=&from=&to=&n=&seed=&low_csat=1&complaints=1&long=1&hours=).
func (h *Handler) home(ctx *fiber.Ctx, a *tickets.Agent) error {
	if !isReviewer(a) {
		return ctx.Redirect("/quality/mine", fiber.StatusSeeOther)
	}
	cx := ctx.UserContext()
	loc := h.svc.Calendar().Location()
	now := h.kit.Now().In(loc)
	d := homeData{N: 10, From: time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc).Format(dateForm), To: now.Format(dateForm)}
	teams, err := h.svc.Teams(cx)
	if err != nil {
		return err
	}
	for _, t := range teams {
		if a.Role == tickets.RoleAdmin || a.InTeam(&t.ID) {
			d.Teams = append(d.Teams, t)
		}
	}
	if a.TeamID != nil {
		d.Team = *a.TeamID
	} else if len(d.Teams) > 0 {
		d.Team = d.Teams[0].ID
	}
	q := func(k string) string { return strings.TrimSpace(ctx.Query(k)) }
	draw := q("from") != "" || q("to") != "" || q("team") != ""
	if v := q("team"); v != "" {
		if d.Team, err = strconv.ParseInt(v, 10, 64); err != nil || d.Team <= 0 {
			return bad(ctx, a, "quality.bad_team")
		}
	}
	if v := q("from"); v != "" {
		d.From = v
	}
	if v := q("to"); v != "" {
		d.To = v
	}
	if v := q("n"); v != "" {
		if d.N, err = strconv.Atoi(v); err != nil {
			return bad(ctx, a, "quality.bad_number")
		}
	}
	d.Seed = q("seed")
	d.Filters = quality.SampleRequest{LowCSAT: q("low_csat") == "1", Complain: q("complaints") == "1", Long: q("long") == "1"}
	if v := q("hours"); v != "" {
		if d.Filters.Hours, err = strconv.Atoi(v); err != nil {
			return bad(ctx, a, "quality.bad_number")
		}
	}
	if draw && d.Team > 0 {
		req := d.Filters
		req.TeamID, req.N = d.Team, d.N
		from, err1 := time.ParseInLocation(dateForm, d.From, loc)
		to, err2 := time.ParseInLocation(dateForm, d.To, loc)
		if err1 != nil || err2 != nil {
			return bad(ctx, a, "quality.bad_period")
		}
		req.From, req.To = from, to.AddDate(0, 0, 1) // the last day is included
		if d.Seed != "" {
			if req.Seed, err = strconv.ParseInt(d.Seed, 10, 64); err != nil {
				return bad(ctx, a, "quality.bad_seed")
			}
		}
		if d.Sample, err = h.quality.Draw(cx, tickets.AgentActor(a), req); err != nil {
			return err
		}
		d.Seed = strconv.FormatInt(d.Sample.Seed, 10)
	}
	if d.Team > 0 {
		if d.Calib, err = h.quality.Calibrations(cx, tickets.AgentActor(a), d.Team); err != nil {
			return err
		}
		if d.Agents, err = h.svc.Agents(cx, &d.Team); err != nil {
			return err
		}
	}
	rs, err := h.quality.Rubrics(cx)
	if err != nil {
		return err
	}
	d.Rubrics = len(rs)
	v := h.kit.View(ctx, a, "quality", d)
	v.Title = v.T("quality.title")
	return h.kit.Render(ctx, "quality", v)
}

// reviewsData is a list of one agent's reviews.
type reviewsData struct {
	Own     bool // the signed-in agent's own: they may answer
	Agent   *tickets.Agent
	Reviews []*quality.Review
}

// mine serves GET /quality/mine: the signed-in agent's reviews, each answerable once.
func (h *Handler) mine(ctx *fiber.Ctx, a *tickets.Agent) error {
	return h.reviews(ctx, a, a.ID)
}

// ofAgent serves GET /quality/agents/:id: an agent's reviews, for their team's
// supervisors and admins.
func (h *Handler) ofAgent(ctx *fiber.Ctx, a *tickets.Agent) error {
	id, err := strconv.ParseInt(ctx.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return fiber.NewError(fiber.StatusNotFound, ui.T(ui.Lang(ctx, a), "quality.no_agent"))
	}
	return h.reviews(ctx, a, id)
}

func (h *Handler) reviews(ctx *fiber.Ctx, a *tickets.Agent, id int64) error {
	cx := ctx.UserContext()
	rs, err := h.quality.OfAgent(cx, tickets.AgentActor(a), id)
	if err != nil {
		return err
	}
	d := reviewsData{Own: id == a.ID, Reviews: rs, Agent: a}
	if !d.Own {
		if d.Agent, err = h.svc.Agent(cx, id); err != nil {
			return err
		}
	}
	v := h.kit.View(ctx, a, "quality", d)
	v.Title = v.T("quality.mine")
	if !d.Own {
		v.Title = v.T("quality.of_agent", d.Agent.Name)
	}
	return h.kit.Render(ctx, "quality_reviews", v)
}

// answer serves POST /quality/reviews/:id/answer (answer): the agent's one answer.
func (h *Handler) answer(ctx *fiber.Ctx, a *tickets.Agent) error {
	id, err := strconv.ParseInt(ctx.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return fiber.NewError(fiber.StatusNotFound, ui.T(ui.Lang(ctx, a), "quality.no_review"))
	}
	if _, err := h.quality.Answer(ctx.UserContext(), tickets.AgentActor(a), id, ctx.FormValue("answer")); err != nil {
		return err
	}
	return ui.Redirect(ctx, "/quality/mine#review-"+strconv.FormatInt(id, 10), ui.T(ui.Lang(ctx, a), "quality.answered"))
}

// timelineItem is a message or an event of the reviewed ticket, as the desk's timeline
// template reads it (read-only here: no composer, no actions).
type timelineItem struct {
	At      time.Time
	Message *tickets.Message
	Event   *tickets.Event
	Line    ui.Line
	Group   []timelineItem
}

// messageEvents are audit events the timeline shows as messages.
var messageEvents = map[string]bool{"message.received": true, "reply.queued": true, "message.sent": true, "note.added": true}

// reviewData is the review page: the ticket's timeline beside the rubric.
type reviewData struct {
	T        *tickets.TicketDetail
	Timeline []timelineItem
	Agents   []*tickets.Agent
	Rubrics  []*quality.Rubric
	Rubric   *quality.Rubric // the rubric the form scores on
	Mine     *quality.Review // the signed-in reviewer's review, when they wrote one
	Sheet    []quality.Mark  // the form's lines: the review's criteria or the rubric's, with marks
	Comment  string
	Error    string
	Refused  string // why the signed-in agent cannot review this ticket, "" when they can
	Others   int    // reviews of the ticket by others: calibration
	// Reveal is what the shared timeline offers to show in full: nothing here, for a
	// review reads the handling, not the customer's values (they stay masked).
	Reveal map[string]bool
}

// Marks are the choices of a criterion's marks, 0 to its most.
func (reviewData) Marks(m quality.Mark) []int {
	out := make([]int, m.Max+1)
	for i := range out {
		out[i] = i
	}
	return out
}

func (h *Handler) reviewData(ctx *fiber.Ctx, a *tickets.Agent) (*reviewData, error) {
	cx := ctx.UserContext()
	t, err := h.svc.Ticket(cx, strings.ToUpper(strings.TrimSpace(ctx.Params("ref"))))
	if err != nil {
		return nil, err
	}
	t.Customer = masked(t.Customer)
	d := &reviewData{T: t}
	if d.Agents, err = h.svc.Agents(cx, nil); err != nil {
		return nil, err
	}
	teams, err := h.svc.Teams(cx)
	if err != nil {
		return nil, err
	}
	names := ui.Names{Agents: map[int64]string{}, Teams: map[int64]string{}, Customer: ui.CustomerLabel(t.Customer)}
	for _, ag := range d.Agents {
		names.Agents[ag.ID] = ag.Name
	}
	for _, tm := range teams {
		names.Teams[tm.ID] = tm.Name
	}
	lang := ui.Lang(ctx, a)
	for _, m := range t.Messages {
		d.Timeline = append(d.Timeline, timelineItem{At: m.CreatedAt, Message: m})
	}
	for _, e := range t.Events {
		if !messageEvents[e.Kind] {
			d.Timeline = append(d.Timeline, timelineItem{At: e.CreatedAt, Event: e, Line: h.kit.EventLine(lang, e, names)})
		}
	}
	sort.SliceStable(d.Timeline, func(i, j int) bool { return d.Timeline[i].At.Before(d.Timeline[j].At) })
	if d.Rubrics, err = h.quality.Rubrics(cx); err != nil {
		return nil, err
	}
	if d.Mine, err = h.quality.Mine(cx, tickets.AgentActor(a), t.ID); err != nil {
		return nil, err
	}
	if d.Mine != nil {
		d.Sheet, d.Comment = d.Mine.Criteria.Items, d.Mine.Comment
	} else if len(d.Rubrics) > 0 {
		d.Rubric = d.Rubrics[0]
		if v := ctx.Query("rubric"); v != "" {
			for _, r := range d.Rubrics {
				if strconv.FormatInt(r.ID, 10) == v {
					d.Rubric = r
				}
			}
		}
		for _, c := range d.Rubric.Criteria {
			d.Sheet = append(d.Sheet, quality.Mark{Criterion: c, Mark: -1})
		}
	}
	if err := h.quality.MayReview(cx, tickets.AgentActor(a), t.Ref()); err != nil {
		status, reason := ui.StatusIn(lang, err)
		if status >= 500 {
			return nil, err
		}
		d.Refused = reason
	}
	if cal, err := h.quality.Calibrate(cx, tickets.AgentActor(a), t.Ref()); err == nil {
		d.Others = len(cal.Reviews)
		if d.Mine != nil {
			d.Others--
		}
	}
	return d, nil
}

// masked is a copy of c whose phone numbers and email addresses show only what tells
// them apart (138****8000, z***@example.com): a review judges the handling, and needs no
// more of the customer (minimum necessary access).
func masked(c *tickets.Customer) *tickets.Customer {
	if c == nil {
		return nil
	}
	m := *c
	m.Identities = make([]*tickets.Identity, 0, len(c.Identities))
	for _, id := range c.Identities {
		cp := *id
		switch id.Kind {
		case tickets.IdentityPhone:
			cp.Value = maskPhone(id.Value)
		case tickets.IdentityEmail:
			if local, domain, ok := strings.Cut(id.Value, "@"); ok && local != "" {
				cp.Value = local[:1] + "***@" + domain
			}
		}
		m.Identities = append(m.Identities, &cp)
	}
	return &m
}

// maskPhone hides the four digits before the last four: +86138****8000.
func maskPhone(p string) string {
	if len(p) < 8 {
		return "****"
	}
	return p[:len(p)-8] + "****" + p[len(p)-4:]
}

// reviewPage serves GET /quality/tickets/:ref?rubric=: the ticket's timeline beside the
// rubric's form, or the reviewer's own review to change until the agent answered.
func (h *Handler) reviewPage(ctx *fiber.Ctx, a *tickets.Agent) error {
	d, err := h.reviewData(ctx, a)
	if err != nil {
		return err
	}
	return h.renderReview(ctx, a, fiber.StatusOK, d)
}

func (h *Handler) renderReview(ctx *fiber.Ctx, a *tickets.Agent, status int, d *reviewData) error {
	v := h.kit.View(ctx, a, "quality", d)
	v.Title = v.T("quality.review_of", d.T.Ref())
	return h.kit.RenderStatus(ctx, status, "quality_review", v)
}

// submit serves POST /quality/tickets/:ref (rubric, mark_<key>, comment).
func (h *Handler) submit(ctx *fiber.Ctx, a *tickets.Agent) error {
	in := quality.ReviewInput{TicketRef: ctx.Params("ref"), Marks: map[string]int{}, Comment: ctx.FormValue("comment")}
	if v := ctx.FormValue("rubric"); v != "" {
		var err error
		if in.RubricID, err = strconv.ParseInt(v, 10, 64); err != nil || in.RubricID <= 0 {
			return bad(ctx, a, "quality.bad_rubric")
		}
	}
	typed := map[string]string{}
	for _, k := range ctx.Request().PostArgs().PeekMulti("keys") {
		key := string(k)
		v := ctx.FormValue("mark_" + key)
		typed[key] = v
		if v == "" {
			continue // unmarked: the service names it
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return bad(ctx, a, "quality.bad_number")
		}
		in.Marks[key] = n
	}
	r, err := h.quality.Submit(ctx.UserContext(), tickets.AgentActor(a), in)
	if err != nil {
		status, reason := ui.StatusIn(ui.Lang(ctx, a), err)
		if status >= 500 || status == fiber.StatusForbidden || status == fiber.StatusNotFound || reason == "" {
			return err
		}
		// Shown again as marked, with the reason.
		d, derr := h.reviewData(ctx, a)
		if derr != nil {
			return derr
		}
		for i := range d.Sheet {
			d.Sheet[i].Mark = -1
			if n, err := strconv.Atoi(typed[d.Sheet[i].Key]); err == nil {
				d.Sheet[i].Mark = n
			}
		}
		d.Comment, d.Error = in.Comment, reason
		return h.renderReview(ctx, a, status, d)
	}
	key := "quality.saved"
	if r.Edited {
		key = "quality.changed"
	}
	return ui.Redirect(ctx, "/quality/tickets/"+tickets.FormatRef(r.TicketID), ui.T(ui.Lang(ctx, a), key, quality.FormatScore(r.Score)))
}

// calibration serves GET /quality/tickets/:ref/calibration: the ticket's reviews side by side.
func (h *Handler) calibration(ctx *fiber.Ctx, a *tickets.Agent) error {
	c, err := h.quality.Calibrate(ctx.UserContext(), tickets.AgentActor(a), ctx.Params("ref"))
	if err != nil {
		return err
	}
	v := h.kit.View(ctx, a, "quality", c)
	v.Title = v.T("quality.calibration_of", c.Ref)
	return h.kit.Render(ctx, "quality_calibration", v)
}
