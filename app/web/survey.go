package web

import (
	"errors"
	"html/template"
	"log/slog"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
)

// SurveyPage is the public page an emailed satisfaction survey links to: five buttons, a
// comment box, and a thank-you once answered. The link's token is the only credential.
type SurveyPage struct {
	care    *aftercare.Service
	tmpl    *template.Template
	log     *slog.Logger
	company string
}

// Company names the business the page speaks for (HOTLINE_COMPANY_NAME); empty keeps
// DefaultCompany.
func (p *SurveyPage) Company(name string) *SurveyPage {
	p.company = companyName(name)
	return p
}

// NewSurveyPage builds the page for GET and POST /survey/{token}.
func NewSurveyPage(care *aftercare.Service, log *slog.Logger) *SurveyPage {
	if log == nil {
		log = slog.Default()
	}
	tmpl := template.Must(template.New("").ParseFS(files, "templates/survey.html", "templates/style.html"))
	return &SurveyPage{care: care, tmpl: tmpl, log: log, company: DefaultCompany}
}

// Register mounts GET and POST /survey/:token.
func (p *SurveyPage) Register(app *fiber.App) {
	registerStylesheet(app)
	app.Get("/survey/:token", p.show)
	app.Post("/survey/:token", p.answer)
}

type surveyView struct {
	Lang    string // "zh" or "en"
	Company string
	Ref     string // the ticket rated, and its subject: the link's holder is its customer
	Subject string
	Token   string
	Error   string // "", "notfound", "invalid"
	Score   int    // the recorded score, once answered
	Comment string
	Scores  []int
}

// T picks the page's words in its language.
func (v surveyView) T(zh, en string) string {
	if v.Lang == "en" {
		return en
	}
	return zh
}

// Word names a score in the page's language.
func (v surveyView) Word(score int) string {
	w := map[int][2]string{1: {"非常不满意", "Very dissatisfied"}, 2: {"不满意", "Dissatisfied"}, 3: {"一般", "Neutral"},
		4: {"满意", "Satisfied"}, 5: {"非常满意", "Very satisfied"}}[score]
	return v.T(w[0], w[1])
}

func (p *SurveyPage) show(c *fiber.Ctx) error {
	v := surveyView{Lang: lang(c), Company: p.company, Token: c.Params("token"), Scores: []int{5, 4, 3, 2, 1}}
	sv, err := p.care.SurveyByToken(c.UserContext(), v.Token)
	switch {
	case errors.Is(err, tickets.ErrNotFound):
		v.Error = "notfound"
		return p.render(c, fiber.StatusNotFound, v)
	case err != nil:
		return err
	}
	if sv.Score != nil {
		v.Score, v.Comment = *sv.Score, sv.Comment
	}
	return p.render(c, fiber.StatusOK, v)
}

func (p *SurveyPage) answer(c *fiber.Ctx) error {
	v := surveyView{Lang: lang(c), Company: p.company, Token: c.Params("token"), Scores: []int{5, 4, 3, 2, 1}}
	score, err := strconv.Atoi(strings.TrimSpace(c.FormValue("score")))
	if err != nil || score < 1 || score > 5 {
		score = 0
	}
	sv, err := p.care.AnswerSurvey(c.UserContext(), v.Token, score, c.FormValue("comment"))
	switch {
	case errors.Is(err, tickets.ErrNotFound):
		v.Error = "notfound"
		return p.render(c, fiber.StatusNotFound, v)
	case errors.Is(err, tickets.ErrInvalid):
		// Show the form again, unless the survey is gone or answered.
		if cur, lerr := p.care.SurveyByToken(c.UserContext(), v.Token); lerr != nil {
			v.Error = "notfound"
			return p.render(c, fiber.StatusNotFound, v)
		} else if cur.Score != nil {
			v.Score, v.Comment = *cur.Score, cur.Comment
			return p.render(c, fiber.StatusOK, v)
		}
		v.Error = "invalid"
		return p.render(c, fiber.StatusBadRequest, v)
	case errors.Is(err, tickets.ErrConflict) && sv != nil:
		// Answered before: thank them again, with what they said then.
	case err != nil:
		return err
	}
	v.Score, v.Comment = *sv.Score, sv.Comment
	return p.render(c, fiber.StatusOK, v)
}

func (p *SurveyPage) render(c *fiber.Ctx, status int, v surveyView) error {
	if v.Error != "notfound" {
		t, err := p.care.SurveyTicket(c.UserContext(), v.Token)
		if err != nil && !errors.Is(err, tickets.ErrNotFound) {
			return err
		}
		if t != nil {
			v.Ref, v.Subject = t.Ref(), t.Subject
		}
	}
	c.Status(status).Type("html", "utf-8")
	// The token is in the path: never hand it on, nor cache or frame the page.
	setPublicPageHeaders(c)
	return p.tmpl.ExecuteTemplate(c, "survey.html", v)
}
