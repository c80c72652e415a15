package delivery

import (
	"context"
	"fmt"

	"github.com/hotlinedesk/hotline/tickets"
)

// Opt-outs: a customer asking for no more messages on an address (SMS STOP, 退订), and
// the opt-out's end. The check a message to them makes is the core's
// (tickets.Tx.OptedOut), and Delivery reports it.

// OptOut records that a customer asked for no more messages on an identity (SMS STOP,
// 退订). It is idempotent.
func (s *Service) OptOut(ctx context.Context, kind tickets.IdentityKind, address string) error {
	_, err := s.setOptOut(ctx, kind, address, true, "")
	return err
}

// OptIn lifts an opt-out (a WeChat follow).
func (s *Service) OptIn(ctx context.Context, kind tickets.IdentityKind, address string) error {
	_, err := s.setOptOut(ctx, kind, address, false, "")
	return err
}

// Resubscribe lifts an opt-out if the address has one, and says whether it had: an SMS
// "YES" is an opt-in only from an opted-out number and an answer from anyone else. The
// conditional update decides, so two concurrent "YES" resubscribe once. messageID is the
// provider's id of the keyword's message: it is kept with the opt-in, so the provider's
// retry of that same message is answered as the resubscription again, not taken for a
// customer's "YES" on a ticket.
func (s *Service) Resubscribe(ctx context.Context, kind tickets.IdentityKind, address, messageID string) (bool, error) {
	return s.setOptOut(ctx, kind, address, false, messageID)
}

// AddressOptedOut reports whether an address has opted out (a customer never seen has not).
func (s *Service) AddressOptedOut(ctx context.Context, kind tickets.IdentityKind, address string) (bool, error) {
	value, err := s.svc.NormalizeIdentity(kind, address)
	if err != nil {
		return false, err
	}
	n, err := s.db.NewSelect().Table("customer_identities").
		Where("kind = ? AND value = ? AND opted_out_at IS NOT NULL", kind, value).Count(ctx)
	if err != nil {
		return false, fmt.Errorf("check opt-out: %w", err)
	}
	return n > 0, nil
}

// setOptOut records an opt-out or its end and says whether it changed anything; an opt-in
// whose messageID already lifted the opt-out (a retry) counts as a change, recorded once.
func (s *Service) setOptOut(ctx context.Context, kind tickets.IdentityKind, address string, out bool, messageID string) (bool, error) {
	value, err := s.svc.NormalizeIdentity(kind, address)
	if err != nil {
		return false, err
	}
	changed := false
	err = s.inTx(ctx, func(tx tickets.Tx) error {
		changed = false // the transaction may be retried
		c, err := tx.Customer(ctx, kind, value)
		if err != nil {
			return err
		}
		q := tx.NewUpdate().Model((*tickets.Identity)(nil)).Where("kind = ? AND value = ?", kind, value)
		kindName := "customer.opted_in"
		if out {
			q = q.Set("opted_out_at = ?", s.now()).Where("opted_out_at IS NULL")
			kindName = "customer.opted_out"
		} else {
			q = q.Set("opted_out_at = NULL").Set("opt_in_message_id = NULLIF(?, '')", messageID).Where("opted_out_at IS NOT NULL")
		}
		res, err := q.Exec(ctx)
		if err != nil {
			return fmt.Errorf("record opt-out: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if !out && messageID != "" {
				// Read after the update, so a first delivery still in flight has committed.
				retried, err := tx.NewSelect().Model((*tickets.Identity)(nil)).
					Where("kind = ? AND value = ? AND opt_in_message_id = ?", kind, value, messageID).Exists(ctx)
				if err != nil {
					return fmt.Errorf("check opt-in retry: %w", err)
				}
				changed = retried
			}
			return nil // already so
		}
		changed = true
		return s.record(ctx, tx, customerActor, "customer", c.ID, kindName, map[string]any{"kind": kind})
	})
	if err != nil {
		return false, err
	}
	return changed, nil
}
