package deadlines

import (
	"context"
	"fmt"
	"time"

	"github.com/6tail/lunar-go/HolidayUtil"

	"github.com/hotlinedesk/hotline/tickets"
)

// The calendar's administration: the statutory holiday schedule seeded at start, and the
// days admins correct. The core reads the stored days into its Calendar
// (tickets.Service.LoadCalendar) and counts working time on it.

// SeedHolidays stores the State Council holiday schedule that lunar-go carries (2001 to
// 2027 in v1.4.7). Days an admin has set are left as they are.
func (s *Service) SeedHolidays(ctx context.Context) error {
	now := s.svc.Now()
	var rows []*tickets.CalendarDay
	for y := 2001; y <= now.Year()+2; y++ {
		l := HolidayUtil.GetHolidaysByYear(y)
		for e := l.Front(); e != nil; e = e.Next() {
			h := e.Value.(*HolidayUtil.Holiday)
			kind := tickets.DayHoliday
			if h.IsWork() {
				kind = tickets.DayWorkday
			}
			rows = append(rows, &tickets.CalendarDay{Day: h.GetDay(), Kind: kind, Name: h.GetName(), Source: "seed", UpdatedAt: now})
		}
	}
	for start := 0; start < len(rows); start += 500 {
		batch := rows[start:min(start+500, len(rows))]
		if _, err := s.svc.DB().NewInsert().Model(&batch).On("CONFLICT (day) DO NOTHING").Exec(ctx); err != nil {
			return fmt.Errorf("seed holidays: %w", err)
		}
	}
	return s.svc.LoadCalendar(ctx)
}

// CalendarDays lists the stored exceptions of a year.
func (s *Service) CalendarDays(ctx context.Context, year int) ([]*tickets.CalendarDay, error) {
	var days []*tickets.CalendarDay
	err := s.svc.DB().NewSelect().Model(&days).
		Where("day >= ? AND day <= ?", fmt.Sprintf("%04d-01-01", year), fmt.Sprintf("%04d-12-31", year)).
		OrderExpr("day").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list calendar days: %w", err)
	}
	return days, nil
}

// SetCalendarDay adds or corrects one day. Admins only. Open tickets under working-time
// policies are re-timed on the corrected calendar, as after a policy edit; a complaint's
// decision date stays the one the customer was told.
func (s *Service) SetCalendarDay(ctx context.Context, actor tickets.Actor, day string, kind tickets.DayKind, name string) (*tickets.CalendarDay, error) {
	if err := tickets.RequireAdmin(actor); err != nil {
		return nil, err
	}
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return nil, tickets.Invalidf("day %q is not a date like 2026-10-01", day)
	}
	if d.Year() < 2000 || d.Year() > 2100 {
		return nil, tickets.Invalidf("day %q is outside the years the calendar keeps (2000 to 2100)", day)
	}
	if kind != tickets.DayHoliday && kind != tickets.DayWorkday && kind != tickets.DayNormal {
		return nil, tickets.Invalidf("kind must be holiday, workday or normal, not %q", kind)
	}
	row := &tickets.CalendarDay{Day: day, Kind: kind, Name: name, Source: "admin", UpdatedAt: s.svc.Now()}
	err = s.svc.InTx(ctx, func(tx tickets.Tx) error {
		if _, err := tx.NewInsert().Model(row).
			On("CONFLICT (day) DO UPDATE").Set("kind = EXCLUDED.kind, name = EXCLUDED.name, source = EXCLUDED.source, updated_at = EXCLUDED.updated_at").
			Exec(ctx); err != nil {
			return fmt.Errorf("save calendar day: %w", err)
		}
		if err := tx.PoliciesEdited(ctx); err != nil {
			return err
		}
		return tx.Record(ctx, tx.Event(actor, "calendar", 0, "calendar.day_set", map[string]any{"day": day, "kind": kind, "name": name}))
	})
	if err != nil {
		return nil, err
	}
	if err := s.svc.LoadCalendar(ctx); err != nil {
		return nil, err
	}
	s.policiesChanged(ctx)
	return row, nil
}
