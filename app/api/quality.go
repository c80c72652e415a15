package api

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/privacy"
	"github.com/hotlinedesk/hotline/tickets/quality"
)

type rubricJSON struct {
	ID         int64               `json:"id"`
	Name       string              `json:"name"`
	Version    int                 `json:"version"`
	PreviousID *int64              `json:"previous_id"`
	Criteria   []quality.Criterion `json:"criteria"`
	CreatedAt  time.Time           `json:"created_at"`
	RetiredAt  *time.Time          `json:"retired_at"`
}

func viewRubric(r *quality.Rubric) rubricJSON {
	return rubricJSON{ID: r.ID, Name: r.Name, Version: r.Version, PreviousID: r.PreviousID, Criteria: r.Criteria,
		CreatedAt: r.CreatedAt.UTC(), RetiredAt: utc(r.RetiredAt)}
}

type reviewJSON struct {
	ID         int64         `json:"id"`
	Ticket     string        `json:"ticket"`
	AgentID    int64         `json:"agent_id"`
	ReviewerID int64         `json:"reviewer_id"`
	RubricID   *int64        `json:"rubric_id"`
	Score      float64       `json:"score"`
	Criteria   quality.Sheet `json:"criteria"`
	Comment    string        `json:"comment"`
	Answer     *string       `json:"answer"`
	AnsweredAt *time.Time    `json:"answered_at"`
	CreatedAt  time.Time     `json:"created_at"`
	Subject    string        `json:"subject"`
	Agent      string        `json:"agent"`    // the agent's name
	Reviewer   string        `json:"reviewer"` // the reviewer's name
}

func viewReview(r *quality.Review) reviewJSON {
	return reviewJSON{ID: r.ID, Ticket: tickets.FormatRef(r.TicketID), AgentID: r.AgentID, ReviewerID: r.ReviewerID, RubricID: r.RubricID, Score: r.Score,
		Criteria: r.Criteria, Comment: r.Comment, Answer: r.Answer, AnsweredAt: utc(r.AnsweredAt), CreatedAt: r.CreatedAt.UTC(),
		Subject: privacy.MaskText(r.Subject), Agent: r.Agent, Reviewer: r.Reviewer}
}

// listRubrics serves GET /quality/rubrics: the rubrics in use.
func (s *server) listRubrics(c *fiber.Ctx) error {
	rs, err := s.quality.Rubrics(c.UserContext())
	if err != nil {
		return err
	}
	out := listJSON[rubricJSON]{Items: make([]rubricJSON, 0, len(rs))}
	for _, r := range rs {
		out.Items = append(out.Items, viewRubric(r))
	}
	return c.JSON(out)
}

func rubricInput(c *fiber.Ctx) (quality.RubricInput, error) {
	var in struct {
		Name     string              `json:"name"`
		Criteria []quality.Criterion `json:"criteria"`
	}
	if err := decode(c, &in); err != nil {
		return quality.RubricInput{}, err
	}
	return quality.RubricInput{Name: in.Name, Criteria: in.Criteria}, nil
}

// createRubric serves POST /quality/rubrics (admins).
func (s *server) createRubric(c *fiber.Ctx) error {
	in, err := rubricInput(c)
	if err != nil {
		return err
	}
	r, err := s.quality.CreateRubric(c.UserContext(), actorOf(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(viewRubric(r))
}

// updateRubric serves PUT /quality/rubrics/{id} (admins): the new version, which replaces id.
func (s *server) updateRubric(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	in, err := rubricInput(c)
	if err != nil {
		return err
	}
	r, err := s.quality.UpdateRubric(c.UserContext(), actorOf(c), id, in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(viewRubric(r))
}

// retireRubric serves DELETE /quality/rubrics/{id} (admins): out of use; its reviews keep it.
func (s *server) retireRubric(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := s.quality.RetireRubric(c.UserContext(), actorOf(c), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// intQuery reads an optional whole-number query parameter between lo and hi.
func intQuery(c *fiber.Ctx, name string, def, lo, hi int64) (int64, error) {
	v := c.Query(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, fiber.NewError(fiber.StatusBadRequest, name+" must be a whole number from "+strconv.FormatInt(lo, 10)+" to "+strconv.FormatInt(hi, 10))
	}
	return n, nil
}

// drawSample serves GET /quality/sample?team=&from=&to=&n=&seed=&low_csat=1&complaints=1&long=1&hours=:
// the team's resolved tickets in [from, to) (RFC 3339), narrowed by the filters, n of them
// at random by the seed (a new one when absent, given back).
func (s *server) drawSample(c *fiber.Ctx) error {
	req := quality.SampleRequest{LowCSAT: c.Query("low_csat") == "1", Complain: c.Query("complaints") == "1", Long: c.Query("long") == "1"}
	var err error
	if req.TeamID, err = intQuery(c, "team", 0, 1, 1<<53); err != nil {
		return err
	}
	var n, hours int64
	if n, err = intQuery(c, "n", 10, 1, quality.MaxSample); err != nil {
		return err
	}
	if req.Seed, err = intQuery(c, "seed", 0, 1, quality.MaxSeed); err != nil {
		return err
	}
	if hours, err = intQuery(c, "hours", 0, 0, quality.MaxHours); err != nil {
		return err
	}
	req.N, req.Hours = int(n), int(hours)
	for name, dst := range map[string]*time.Time{"from": &req.From, "to": &req.To} {
		t, err := timeParam(c, name)
		if err != nil {
			return err
		}
		if t == nil {
			return fiber.NewError(fiber.StatusBadRequest, name+" is required: an RFC 3339 time")
		}
		*dst = *t
	}
	sm, err := s.quality.Draw(c.UserContext(), actorOf(c), req)
	if err != nil {
		return err
	}
	items := make([]fiber.Map, 0, len(sm.Items))
	for _, it := range sm.Items {
		items = append(items, fiber.Map{"ticket": it.Ref, "subject": privacy.MaskText(it.Subject), "agent": agentRefJSON{ID: it.AgentID, Name: it.Agent},
			"created_at": it.CreatedAt.UTC(), "resolved_at": it.ResolvedAt.UTC(), "csat": it.CSAT, "complaints": it.Complaints,
			"late": it.Late, "handled_hours": it.Handled.Hours(), "reviews": it.Reviews, "reviewed_by_me": it.Mine})
	}
	return c.JSON(fiber.Map{"seed": sm.Seed, "matched": sm.Matched, "items": items})
}

// submitReview serves POST /quality/reviews {ticket, rubric_id, marks: {key: n}, comment}:
// 201 with a new review, 200 with one's own review edited (until the agent answered: 409).
func (s *server) submitReview(c *fiber.Ctx) error {
	var in struct {
		Ticket   string         `json:"ticket"`
		RubricID int64          `json:"rubric_id"`
		Marks    map[string]int `json:"marks"`
		Comment  string         `json:"comment"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	r, err := s.quality.Submit(c.UserContext(), actorOf(c), quality.ReviewInput{TicketRef: in.Ticket, RubricID: in.RubricID, Marks: in.Marks, Comment: in.Comment})
	if err != nil {
		return err
	}
	status := fiber.StatusCreated
	if r.Edited {
		status = fiber.StatusOK
	}
	return c.Status(status).JSON(viewReview(r))
}

// listReviews serves GET /quality/reviews?agent=me|<id>: an agent's reviews, newest first,
// for the agent, their team's supervisors and admins.
func (s *server) listReviews(c *fiber.Ctx) error {
	agent := agentOf(c).ID
	if c.Query("agent", "me") == "me" && keyOf(c) != nil {
		return fiber.NewError(fiber.StatusBadRequest, "an API key names the agent: agent=<id>")
	}
	if v := c.Query("agent", "me"); v != "me" {
		var err error
		if agent, err = strconv.ParseInt(v, 10, 64); err != nil || agent <= 0 {
			return fiber.NewError(fiber.StatusBadRequest, "agent must be me or an agent's id")
		}
	}
	rs, err := s.quality.OfAgent(c.UserContext(), actorOf(c), agent)
	if err != nil {
		return err
	}
	out := listJSON[reviewJSON]{Items: make([]reviewJSON, 0, len(rs))}
	for _, r := range rs {
		out.Items = append(out.Items, viewReview(r))
	}
	return c.JSON(out)
}

// getReview serves GET /quality/reviews/{id}.
func (s *server) getReview(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	r, err := s.quality.Review(c.UserContext(), actorOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(viewReview(r))
}

// answerReview serves POST /quality/reviews/{id}/answer {answer}: the agent's one answer
// (a second is 409).
func (s *server) answerReview(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in struct {
		Answer string `json:"answer"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	r, err := s.quality.Answer(c.UserContext(), actorOf(c), id, in.Answer)
	if err != nil {
		return err
	}
	return c.JSON(viewReview(r))
}

// calibrate serves GET /quality/calibration/{ref}: the ticket's reviews side by side.
func (s *server) calibrate(c *fiber.Ctx) error {
	cal, err := s.quality.Calibrate(c.UserContext(), actorOf(c), c.Params("ref"))
	if err != nil {
		return err
	}
	reviews := make([]reviewJSON, 0, len(cal.Reviews))
	for _, r := range cal.Reviews {
		reviews = append(reviews, viewReview(r))
	}
	lines := make([]fiber.Map, 0, len(cal.Lines))
	for _, l := range cal.Lines {
		lines = append(lines, fiber.Map{"key": l.Key, "name_zh": l.NameZH, "name_en": l.NameEN, "max": l.Max, "marks": l.Marks, "spread": l.Spread, "wide": l.Wide})
	}
	return c.JSON(fiber.Map{"ticket": cal.Ref, "reviews": reviews, "lines": lines, "score_spread": cal.Spread})
}
