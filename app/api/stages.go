package api

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/tickets/stages"
)

// The progress stages: each category's list (admins replace it), a ticket's progress,
// moving it to a stage, and the documents it waits for.

type stageJSON struct {
	ID       int64  `json:"id"`
	Category string `json:"category"`
	Position int    `json:"position"`
	NameZh   string `json:"name_zh"`
	NameEn   string `json:"name_en"`
	DueDays  int    `json:"due_days"`
}

func stageOut(st *stages.Stage) stageJSON {
	return stageJSON{ID: st.ID, Category: st.Category, Position: st.Position, NameZh: st.NameZh, NameEn: st.NameEn, DueDays: st.DueDays}
}

// listStages serves GET /stages?category=: one category's stages, or every category's.
func (s *server) listStages(c *fiber.Ctx) error { return s.stagesOf(c, c.Query("category")) }

// stagesOf answers a category's stages, or every category's for "".
func (s *server) stagesOf(c *fiber.Ctx, category string) error {
	cats := []string{category}
	if cats[0] == "" {
		var err error
		if cats, err = s.stages.Categories(c.UserContext()); err != nil {
			return err
		}
	}
	out := []stageJSON{}
	for _, cat := range cats {
		sts, err := s.stages.Stages(c.UserContext(), cat)
		if err != nil {
			return err
		}
		for _, st := range sts {
			out = append(out, stageOut(st))
		}
	}
	return c.JSON(fiber.Map{"items": out})
}

// saveStages serves PUT /stages/:category: the category's stages, in order (admins).
func (s *server) saveStages(c *fiber.Ctx) error {
	var in struct {
		Stages []struct {
			NameZh  string `json:"name_zh"`
			NameEn  string `json:"name_en"`
			DueDays int    `json:"due_days"`
		} `json:"stages"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	list := make([]stages.StageInput, len(in.Stages))
	for i, st := range in.Stages {
		list[i] = stages.StageInput{NameZh: st.NameZh, NameEn: st.NameEn, DueDays: st.DueDays}
	}
	if err := s.stages.SaveStages(c.UserContext(), actorOf(c), c.Params("category"), list); err != nil {
		return err
	}
	return s.stagesOf(c, c.Params("category"))
}

// progress answers a ticket's progress: its stages and its documents.
func (s *server) progress(c *fiber.Ctx, ref string, status int) error {
	t, err := s.svc.Ticket(c.UserContext(), ref)
	if err != nil {
		return err
	}
	p, err := s.stages.Of(c.UserContext(), t.Ticket)
	if err != nil {
		return err
	}
	type step struct {
		stageJSON
		State  string     `json:"state"`
		At     *time.Time `json:"entered_at"`
		DueAt  *time.Time `json:"due_at"`
		Breach bool       `json:"breached"`
	}
	type doc struct {
		ID          int64      `json:"id"`
		Item        string     `json:"item"`
		RequestedAt time.Time  `json:"requested_at"`
		ReceivedAt  *time.Time `json:"received_at"`
	}
	steps, docs := []step{}, []doc{}
	for _, st := range p.Steps {
		steps = append(steps, step{stageJSON: stageOut(st.Stage), State: st.State, At: st.At, DueAt: st.DueAt, Breach: st.Breach})
	}
	for _, d := range p.Documents {
		docs = append(docs, doc{ID: d.ID, Item: d.Item, RequestedAt: d.RequestedAt, ReceivedAt: d.ReceivedAt})
	}
	var cur *stageJSON
	if p.Current != nil {
		j := stageOut(p.Current)
		cur = &j
	}
	return c.Status(status).JSON(fiber.Map{"ref": t.Ref(), "category": t.Category, "status": t.Status, "stage": cur, "stages": steps, "documents": docs})
}

// getProgress serves GET /tickets/:ref/progress.
func (s *server) getProgress(c *fiber.Ctx) error {
	return s.progress(c, c.Params("ref"), fiber.StatusOK)
}

// moveStage serves POST /tickets/:ref/stage {"stage_id"}: any stage of the ticket's
// category, forward or back; another category's is a 400.
func (s *server) moveStage(c *fiber.Ctx) error {
	var in struct {
		StageID int64 `json:"stage_id"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	t, err := s.stages.Move(c.UserContext(), actorOf(c), c.Params("ref"), in.StageID)
	if err != nil {
		return err
	}
	return s.progress(c, t.Ref(), fiber.StatusOK)
}

// requestDocuments serves POST /tickets/:ref/documents {"items": [...]}: the ticket waits
// for them (pending) and the customer is told the list.
func (s *server) requestDocuments(c *fiber.Ctx) error {
	var in struct {
		Items []string `json:"items"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	t, err := s.stages.RequestDocuments(c.UserContext(), actorOf(c), c.Params("ref"), in.Items)
	if err != nil {
		return err
	}
	return s.progress(c, t.Ref(), fiber.StatusOK)
}

// tickDocument serves POST /tickets/:ref/documents/:id {"received": true|false}.
func (s *server) tickDocument(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in struct {
		Received bool `json:"received"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	t, err := s.stages.TickDocument(c.UserContext(), actorOf(c), c.Params("ref"), id, in.Received)
	if err != nil {
		return err
	}
	return s.progress(c, t.Ref(), fiber.StatusOK)
}
