-- Scorecards (tickets/reports/scorecard.go) count a period's resolutions, the complaints
-- received in it, and list the tickets behind each figure. Resolutions and complaints by
-- the time they happened had no index holding them all (the report indexes hold only the
-- in-time ones), so each gets one; a ticket enters tickets_resolved_idx only once it is
-- resolved, so intake pays nothing for it.
CREATE INDEX tickets_resolved_idx ON tickets (resolved_at) WHERE resolved_at IS NOT NULL;
--bun:split
CREATE INDEX complaints_received_idx ON complaints (received_at);
--bun:split
-- A team's scorecard averages the reviews of its agents written in the period: read by
-- when they were written (quality_reviews_agent_idx serves one agent's).
CREATE INDEX quality_reviews_created_idx ON quality_reviews (created_at);
