package migrations

// IndexUse is an index and the query the product runs that needs it.
type IndexUse struct {
	Index string // its name, as the migrations create it
	// Func is the function that runs the query, as "path/file.go name": the test finds
	// "func name(" or "func (…) name(" in that file.
	Func string
	// Query is the query's shape as Func writes it, the values filled in: on PostgreSQL,
	// with sequential scans priced out, its plan must read Index.
	Query string
}

// TicketIndexes is every index on tickets but the primary key, each with a query that
// reads through it. Every index is written with each new ticket (a partial one only when
// the ticket matches its WHERE) and each change of a column it holds, so an index earns
// its place with a query the product runs; TestTicketIndexesServeNamedQueries fails on an
// index missing here, and docs/benchmarks.md ("What the tickets table's indexes cost")
// tells what each costs and what was dropped.
var TicketIndexes = []IndexUse{
	{"tickets_queue_idx", "tickets/queries.go ListTickets",
		`SELECT ticket.id FROM tickets AS ticket ORDER BY ticket.next_due_at ASC, ticket.id ASC LIMIT 51`},
	{"tickets_assignee_queue_idx", "tickets/queries.go ListTickets",
		`SELECT ticket.id FROM tickets AS ticket WHERE ticket.assignee_id = 1 ORDER BY ticket.next_due_at ASC, ticket.id ASC LIMIT 51`},
	{"tickets_team_queue_idx", "tickets/queries.go ListTickets",
		`SELECT ticket.id FROM tickets AS ticket WHERE ticket.team_id = 1 ORDER BY ticket.next_due_at ASC, ticket.id ASC LIMIT 51`},
	{"tickets_status_queue_idx", "tickets/queries.go ListTickets",
		`SELECT ticket.id FROM tickets AS ticket WHERE ticket.status IN ('new') ORDER BY ticket.next_due_at ASC, ticket.id ASC LIMIT 51`},
	{"tickets_unassigned_queue_idx", "tickets/queries.go ListTickets",
		`SELECT ticket.id FROM tickets AS ticket WHERE ticket.team_id = 1 AND ticket.assignee_id IS NULL ORDER BY ticket.next_due_at ASC, ticket.id ASC LIMIT 51`},
	{"tickets_customer_idx", "tickets/threading.go threadCandidates",
		`WITH k (id) AS (VALUES (1)) SELECT t.id FROM k CROSS JOIN LATERAL (SELECT * FROM tickets WHERE customer_id = k.id OFFSET 0) AS t`},
	{"tickets_first_response_due_idx", "tickets/deadlines_seam.go DueBreaches",
		`SELECT id FROM tickets WHERE first_responded_at IS NULL AND first_response_breached_at IS NULL AND status IN ('new', 'open', 'pending')
			AND first_response_due_at <= now() ORDER BY first_response_due_at ASC LIMIT 100`},
	{"tickets_resolution_due_idx", "tickets/deadlines_seam.go DueBreaches",
		`SELECT id FROM tickets WHERE resolved_at IS NULL AND resolution_breached_at IS NULL AND paused_at IS NULL
			AND resolution_due_at <= now() ORDER BY resolution_due_at ASC LIMIT 100`},
	{"tickets_first_response_warn_idx", "tickets/deadlines_seam.go DueWarnings",
		`SELECT id FROM tickets WHERE first_response_warn_at IS NOT NULL AND first_response_warn_at <= now() ORDER BY first_response_warn_at ASC LIMIT 100`},
	{"tickets_resolution_warn_idx", "tickets/deadlines_seam.go DueWarnings",
		`SELECT id FROM tickets WHERE resolution_warn_at IS NOT NULL AND resolution_warn_at <= now() ORDER BY resolution_warn_at ASC LIMIT 100`},
	{"tickets_sla_stale_idx", "tickets/deadlines_seam.go RetimeStale",
		`SELECT id FROM tickets WHERE sla_generation < 2 AND status IN ('new', 'open', 'pending') ORDER BY id LIMIT 100`},
	{"tickets_open_breached_idx", "tickets/metrics.go DeadlineStats",
		`SELECT COUNT(*) FROM tickets WHERE status IN ('new', 'open', 'pending') AND (first_response_breached_at IS NOT NULL OR resolution_breached_at IS NOT NULL)`},
	{"tickets_assignee_load_idx", "tickets/ticket_assign.go autoAssign",
		`SELECT agent.id, (SELECT COUNT(*) FROM tickets AS t WHERE t.assignee_id = agent.id AND t.status IN ('new', 'open', 'pending')) AS load FROM agents AS agent`},
	{"tickets_created_idx", "tickets/reports/reports.go ticketCounts",
		`SELECT t.channel AS key, COUNT(*) AS n FROM tickets AS t WHERE t.created_at >= now() - interval '7 days' AND t.created_at < now() GROUP BY t.channel`},
	{"tickets_waiting_idx", "tickets/reports/floor.go floorWaiting",
		`SELECT t.team_id, t.channel, COUNT(*) AS n, MIN(t.created_at) AS oldest FROM tickets AS t
			WHERE t.first_responded_at IS NULL AND t.status IN ('new', 'open') GROUP BY t.team_id, t.channel`},
	{"tickets_first_response_met_idx", "tickets/reports/reports.go deadlineShares",
		`SELECT COUNT(*) FROM tickets AS t WHERE t.first_responded_at >= now() - interval '7 days' AND t.first_responded_at < now()
			AND t.first_responded_at <= t.first_response_due_at`},
	{"tickets_first_response_missed_idx", "tickets/reports/reports.go deadlineShares",
		`SELECT COUNT(*) FROM tickets AS t WHERE t.first_response_due_at >= now() - interval '7 days' AND t.first_response_due_at < now()
			AND (t.first_responded_at > t.first_response_due_at OR (t.first_responded_at IS NULL AND t.first_response_breached_at IS NOT NULL))`},
	{"tickets_resolution_missed_idx", "tickets/reports/reports.go deadlineShares",
		`SELECT COUNT(*) FROM tickets AS t WHERE t.resolution_due_at >= now() - interval '7 days' AND t.resolution_due_at < now()
			AND (t.resolved_at > t.resolution_due_at OR (t.resolved_at IS NULL AND t.resolution_breached_at IS NOT NULL))`},
	{"tickets_resolved_idx", "tickets/reports/reports.go deadlineShares",
		`SELECT COUNT(*) FROM tickets AS t WHERE t.resolved_at >= now() - interval '7 days' AND t.resolved_at < now()
			AND t.resolved_at <= t.resolution_due_at`},
}
