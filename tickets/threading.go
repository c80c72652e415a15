package tickets

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/schema"
)

// Threading: the ticket a customer's message belongs to (the one it names, their active
// one, or one resolved within the reopen window), chosen by channel.

// threadCandidates reads, for the known customers, the tickets a message may belong to:
// the ones it names, the active ones, and the ones resolved within the reopen window.
func (s *Service) threadCandidates(ctx context.Context, tx bun.Tx, ins []Inbound, res []*IntakeResult, owners map[identityKey]*Customer) (map[*Customer][]*Ticket, error) {
	var customers [][]any
	named := []int64{0}
	for i, in := range ins {
		if res[i] != nil {
			continue
		}
		if c := owners[identityKey{in.From, in.Address}]; c.ID != 0 { // a new customer has no tickets
			customers = append(customers, []any{c.ID})
		}
		if in.TicketID != 0 {
			named = append(named, in.TicketID)
		}
	}
	threads := map[*Customer][]*Ticket{}
	if len(customers) == 0 {
		return threads, nil
	}
	// The customers' tickets are read through the customer_id index alone, one customer
	// after another. The conditions are a CASE, which no other index serves: offered an OR
	// of indexed conditions, PostgreSQL would also scan every active ticket of the desk
	// through the status index. On PostgreSQL the lookups are LATERAL (and kept apart by
	// OFFSET 0), so that a table not yet analyzed is not read whole instead.
	from := bun.SafeQuery("tickets AS t WHERE t.customer_id IN (SELECT id FROM k) AND")
	if s.db.Dialect().Name() == dialect.PG {
		from = bun.SafeQuery("k CROSS JOIN LATERAL (SELECT * FROM tickets WHERE customer_id = k.id OFFSET 0) AS t WHERE")
	}
	var ts []*Ticket
	err := tx.NewRaw(`WITH k (id) AS (VALUES ?) SELECT t.* FROM ? ?`, valuesList(customers), from, s.threadable(named)).Scan(ctx, &ts)
	if err != nil {
		return nil, fmt.Errorf("find customers' tickets: %w", err)
	}
	byID := map[int64]*Customer{}
	for _, c := range owners {
		byID[c.ID] = c
	}
	for _, t := range ts {
		c := byID[t.CustomerID]
		threads[c] = append(threads[c], t)
	}
	return threads, nil
}

// threadable is the condition on a customer's ticket t that it may take a message naming
// one of the tickets named (a list never empty: 0 names none): active, named and not
// closed, or resolved within the reopen window. pickThread chooses among those.
func (s *Service) threadable(named []int64) schema.QueryWithArgs {
	reopenable := bun.SafeQuery("1 = 0")
	if s.cfg.ReopenWindow > 0 {
		reopenable = bun.SafeQuery("t.status = ? AND t.resolved_at >= ?", StatusResolved, s.now().Add(-s.cfg.ReopenWindow))
	}
	return bun.SafeQuery(`CASE WHEN t.status IN (?) THEN 1 WHEN t.id IN (?) AND t.status <> ? THEN 1 WHEN ? THEN 1 ELSE 0 END = 1`,
		bun.In(activeStatuses), bun.In(named), StatusClosed, reopenable)
}

// threadsByConversation is the threading rule by channel. An email is a conversation of its
// own unless it names one (In-Reply-To/References, resolved by the channel, or [HL-…]):
// a customer's second, unrelated email keeps its subject as a ticket of its own. An SMS,
// WeChat message or call has no such headers and joins the customer's open ticket.
func threadsByConversation(ch Channel) bool { return ch == ChannelEmail }

// pickThread is the ticket a customer's message belongs to: the one it names, when that is
// not closed; else, except for email (see threadsByConversation), the newest active one,
// else the one resolved last within the reopen window; else none. A ticket without an id
// is one opened just now, the newest.
func (s *Service) pickThread(ts []*Ticket, ch Channel, named int64) *Ticket {
	since := s.now().Add(-s.cfg.ReopenWindow)
	ownOnly := threadsByConversation(ch)
	rank := func(t *Ticket) int {
		switch {
		case named != 0 && t.ID == named && t.Status != StatusClosed:
			return 0
		case ownOnly:
			return 3
		case t.Status.Active():
			return 1
		case s.cfg.ReopenWindow > 0 && t.Status == StatusResolved && t.ResolvedAt != nil && !t.ResolvedAt.Before(since):
			return 2
		}
		return 3
	}
	newer := func(a, b *Ticket) bool {
		if a.ID == 0 || b.ID == 0 {
			return a.ID == 0 && b.ID != 0
		}
		if rank(a) == 2 && !a.ResolvedAt.Equal(*b.ResolvedAt) {
			return a.ResolvedAt.After(*b.ResolvedAt)
		}
		return a.ID > b.ID
	}
	var best *Ticket
	for _, t := range ts {
		r := rank(t)
		if r == 3 {
			continue
		}
		if best == nil || r < rank(best) || r == rank(best) && newer(t, best) {
			best = t
		}
	}
	return best
}
