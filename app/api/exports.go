package api

import (
	"context"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/exports"
	"github.com/hotlinedesk/hotline/tickets"
)

// The CSV exports (package exports writes them): ?lang=en for English headers and words.

// exportTickets serves GET /tickets.csv: the queue with the filters of GET /tickets,
// created in the date range (from, to).
func (s *server) exportTickets(c *fiber.Ctx) error {
	f, err := queueFilter(c)
	if err != nil {
		return err
	}
	from, to, err := exports.Range(c.Query, s.svc.Now(), s.svc.Calendar().Location())
	if err != nil {
		return err
	}
	// Check the filter before the answer starts: a bad one is a 400, not a broken file.
	probe := f
	probe.Limit, probe.Cursor = 1, ""
	if _, err := s.svc.ListTickets(c.UserContext(), probe); err != nil {
		return err
	}
	en := c.Query("lang") == "en"
	return exports.Stream(c, s.log, "tickets.csv", func(ctx context.Context, w *exports.Writer) error {
		return exports.Tickets(ctx, w, s.svc, f, from, to, en)
	})
}

// exportComplaints serves GET /complaints.csv: the complaints register, received in the
// date range, oldest first.
func (s *server) exportComplaints(c *fiber.Ctx) error {
	loc := s.svc.Calendar().Location()
	from, to, err := exports.Range(c.Query, s.svc.Now(), loc)
	if err != nil {
		return err
	}
	en := c.Query("lang") == "en"
	return exports.Stream(c, s.log, "complaints.csv", func(ctx context.Context, w *exports.Writer) error {
		return exports.Complaints(ctx, w, s.reports, loc, from, to, en)
	})
}

// exportKPI serves GET /reports/kpi.csv?month=2026-11[&team=ID|all] to supervisors and
// admins, as the dashboard: a supervisor of a team sees that team unless they name another.
func (s *server) exportKPI(c *fiber.Ctx) error {
	a := agentOf(c)
	if a.Role != tickets.RoleSupervisor && a.Role != tickets.RoleAdmin {
		return fiber.NewError(fiber.StatusForbidden, "the KPI report is for supervisors and admins")
	}
	month := s.svc.Now()
	if v := c.Query("month"); v != "" {
		m, err := time.ParseInLocation("2006-01", v, s.svc.Calendar().Location())
		if err != nil {
			return fiber.NewError(fiber.StatusBadRequest, "month must be a month such as 2026-11")
		}
		month = m
	}
	var teamID *int64
	switch v := c.Query("team"); v {
	case "all":
	case "":
		if a.Role == tickets.RoleSupervisor {
			teamID = a.TeamID
		}
	default:
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fiber.NewError(fiber.StatusBadRequest, `team must be a team id or "all"`)
		}
		teamID = &id
	}
	k, err := s.reports.MonthKPI(c.UserContext(), month, teamID)
	if err != nil {
		return err
	}
	en := c.Query("lang") == "en"
	return exports.Stream(c, s.log, exports.KPIName(k), func(_ context.Context, w *exports.Writer) error {
		return exports.KPI(w, k, en)
	})
}
