package privacy

import (
	"context"
	"fmt"

	"github.com/hotlinedesk/hotline/tickets"
)

// MaxTrail bounds the trail the customer page shows.
const MaxTrail = 200

// Trail is who read or changed what of customer id's personal information: the audit
// events on the customer (reveals, copies, erasures, retention, holds, edits), newest
// first, at most MaxTrail.
func (s *Service) Trail(ctx context.Context, customerID int64) ([]*tickets.Event, error) {
	out := []*tickets.Event{}
	if err := s.svc.DB().NewSelect().Model(&out).Where("entity = 'customer' AND entity_id = ?", customerID).
		OrderExpr("id DESC").Limit(MaxTrail).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read customer %d's trail: %w", customerID, err)
	}
	return out, nil
}
