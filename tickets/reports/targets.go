package reports

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hotlinedesk/hotline/tickets"
)

// Targets are the levels the desk holds its people to, set by admins and shown against
// each scorecard figure. Shares are percentages (0..100) of the figure's met of its total;
// Reviews is the quality reviews' average score (0..100). A nil target is not assessed.
// They are the one thing this chapter writes: a setting, with its audit event.
type Targets struct {
	FirstResponse *float64 `json:"first_response"` // first responses within their deadline, %
	Resolution    *float64 `json:"resolution"`     // resolutions within their deadline, %
	Complaints    *float64 `json:"complaints"`     // complaints decided within 10 working days, %
	FollowUps     *float64 `json:"followups"`      // follow-up calls completed on time, %
	Satisfied     *float64 `json:"satisfied"`      // CSAT answers of 4 or 5, %
	Reviews       *float64 `json:"reviews"`        // quality reviews' average score
}

// targetsKey is the setting holding the targets, as JSON.
const targetsKey = "reports.scorecard_targets"

func pct(v float64) *float64 { return &v }

// DefaultTargets are the insurers' published levels: satisfaction at least 95%, every
// follow-up visit made, every complaint decided in time; responses and resolutions in time
// 90%; reviews 80 points.
func DefaultTargets() Targets {
	return Targets{FirstResponse: pct(90), Resolution: pct(90), Complaints: pct(100), FollowUps: pct(100), Satisfied: pct(95), Reviews: pct(80)}
}

// Targets reads the admins' targets, the defaults until an admin saves some.
func (rd *Reader) Targets(ctx context.Context) (Targets, error) {
	var v string
	err := rd.db.NewSelect().Table("settings").Column("value").Where("key = ?", targetsKey).Scan(ctx, &v)
	if errors.Is(err, sql.ErrNoRows) {
		return DefaultTargets(), nil
	}
	if err != nil {
		return Targets{}, fmt.Errorf("read the scorecard targets: %w", err)
	}
	var t Targets
	if err := json.Unmarshal([]byte(v), &t); err != nil {
		return Targets{}, fmt.Errorf("read the scorecard targets: %w", err)
	}
	return t, nil
}

// SetTargets stores the targets, for admins only, with an audit event.
func (rd *Reader) SetTargets(ctx context.Context, actor tickets.Actor, t Targets) error {
	if actor.Agent == nil || actor.Agent.Role != tickets.RoleAdmin {
		return tickets.Forbiddenf("only an admin may set the scorecard targets")
	}
	for _, v := range []*float64{t.FirstResponse, t.Resolution, t.Complaints, t.FollowUps, t.Satisfied, t.Reviews} {
		if v != nil && !(*v >= 0 && *v <= 100) { // also refuses NaN
			return tickets.Invalidf("a target is a number from 0 to 100")
		}
	}
	raw, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encode the scorecard targets: %w", err)
	}
	return rd.svc.InTx(ctx, func(tx tickets.Tx) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) "+
			"ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at", targetsKey, string(raw), rd.now()); err != nil {
			return fmt.Errorf("store the scorecard targets: %w", err)
		}
		var data map[string]any
		_ = json.Unmarshal(raw, &data)
		return tx.Record(ctx, tx.Event(actor, "settings", 0, "scorecard.targets_changed", data))
	})
}

// Verdict is a figure held against its target.
type Verdict int

const (
	NoTarget Verdict = iota // no target set
	NoData                  // nothing to assess in the period
	Met
	NotMet
)

// Judge holds value (a share 0..1, or with points a score 0..100) against target (0..100).
func Judge(target *float64, value float64, ok, points bool) Verdict {
	switch {
	case target == nil:
		return NoTarget
	case !ok:
		return NoData
	}
	if !points {
		value *= 100
	}
	if value+1e-9 >= *target {
		return Met
	}
	return NotMet
}

// String is the verdict as the API names it.
func (v Verdict) String() string {
	switch v {
	case NoData:
		return "no_data"
	case Met:
		return "met"
	case NotMet:
		return "not_met"
	}
	return "no_target"
}

// Verdicts are a scorecard's figures held against the targets.
type Verdicts struct {
	FirstResponse, Resolution, Complaints, FollowUps, Satisfied, Reviews Verdict
}

// Judge holds each figure of c against its target.
func (t Targets) Judge(c Scorecard) Verdicts {
	share := func(target *float64, s Share) Verdict {
		r, ok := s.Rate()
		return Judge(target, r, ok, false)
	}
	return Verdicts{
		FirstResponse: share(t.FirstResponse, c.FirstResponse),
		Resolution:    share(t.Resolution, c.Resolution),
		Complaints:    share(t.Complaints, c.Complaints.Decided()),
		FollowUps:     share(t.FollowUps, c.FollowUps),
		Satisfied:     Judge(t.Satisfied, c.CSAT.SatisfiedShare, c.CSAT.Responses > 0, false),
		Reviews:       Judge(t.Reviews, c.Reviews.Average, c.Reviews.N > 0, true),
	}
}
