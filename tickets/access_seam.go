package tickets

import (
	"context"
	"fmt"
	"slices"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// What the core keeps for tickets/access, the chapter of the doors (sign-in and sessions,
// attempt limits, webhook nonces, customers' status lookups, an agent's own password): a
// few reads it exports for it, the password rules and the one write of an agent's row it
// makes (Tx.SetPasswordHash), and ending an agent's sessions, which the core does itself.

// revokeTokens ends every session of an agent, in the transaction that deactivates them or
// sets their password: the sessions are access's rows, but the core ends them itself, so
// that no wiring can leave a deactivated agent signed in.
func (s *Service) revokeTokens(ctx context.Context, tx bun.IDB, agentID int64) error {
	_, err := tx.NewUpdate().Table("api_tokens").
		Set("revoked_at = ?", s.now()).
		Where("agent_id = ? AND revoked_at IS NULL", agentID).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("revoke tokens: %w", err)
	}
	return nil
}

// ActiveStatuses are the statuses of tickets that still need work (Status.Active).
func ActiveStatuses() []Status { return slices.Clone(activeStatuses) }

// RefreshNextDue recomputes t.NextDueAt, the earliest deadline still open (the far future
// when none is), from the deadlines on the row.
func (t *Ticket) RefreshNextDue() { t.refreshNextDue() }

// Prepared collects the arguments of a hot read a chapter runs as a prepared statement
// with its values as $n parameters: on PostgreSQL as the queue pages do (see prepared.go),
// on SQLite bound as the literals bun would have written (prepared_sqlite.go).
type Prepared struct{ p *params }

// Prepared starts a hot read's arguments.
func (s *Service) Prepared() Prepared {
	if s.db.Dialect().Name() != dialect.SQLite {
		return Prepared{s.params()}
	}
	gen := s.db.QueryGen()
	return Prepared{&params{stmts: s.stmts, sqlite: &gen}}
}

// Arg returns what to put in the query for v.
func (p Prepared) Arg(v any) any { return p.p.add(v) }

// Conn is the connection to give the query (bun.SelectQuery.Conn); nil keeps the
// service's database.
func (p Prepared) Conn() bun.IConn { return p.p.conn() }

// HashPassword checks pw against the rules every password follows (those of CreateAgent
// and UpdateAgent) and hashes it, for a password an agent sets through the doors.
func (s *Service) HashPassword(pw string) (string, error) { return s.hashPassword(pw) }

// SetPasswordHash stores hash as agent id's password in the transaction, only while the
// stored one is still was, and reports whether it did: of two changes made from the same
// password, one wins. It does not end the agent's sessions; the caller decides which end.
func (tx Tx) SetPasswordHash(ctx context.Context, id int64, was, hash string) (bool, error) {
	res, err := tx.NewUpdate().Model((*Agent)(nil)).
		Set("password_hash = ?, updated_at = ?", hash, tx.s.now()).
		Where("id = ? AND password_hash = ?", id, was).
		Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("save password: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
