package tickets

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// Opt-outs as the core's notices check them; customers' requests for no more messages
// (SMS STOP, 退订) and their end are recorded by the chapter tickets/delivery.

// optedOut reports whether the customer refuses messages on a channel.
func (s *Service) optedOut(ctx context.Context, db bun.IDB, customerID int64, ch Channel) (bool, error) {
	kind, ok := channelIdentity[ch]
	if !ok {
		return false, nil
	}
	n, err := db.NewSelect().Table("customer_identities").
		Where("customer_id = ? AND kind = ? AND opted_out_at IS NOT NULL", customerID, kind).Count(ctx)
	if err != nil {
		return false, fmt.Errorf("check opt-out: %w", err)
	}
	return n > 0, nil
}

// ChannelIdentity is the kind of identity a channel delivers to; false when it delivers
// to none.
func ChannelIdentity(ch Channel) (IdentityKind, bool) {
	kind, ok := channelIdentity[ch]
	return kind, ok
}

// channelIdentity is the identity a channel delivers to.
var channelIdentity = map[Channel]IdentityKind{
	ChannelSMS: IdentityPhone, ChannelPhone: IdentityPhone, ChannelWeChat: IdentityWeChat, ChannelEmail: IdentityEmail,
}
