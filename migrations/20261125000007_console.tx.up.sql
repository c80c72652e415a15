-- The supervisor dashboard counts tickets created and customers' messages received in a
-- period; these keep those counts to the period's rows on a large desk.
CREATE INDEX tickets_created_idx ON tickets (created_at);

--bun:split

CREATE INDEX messages_inbound_created_idx ON messages (created_at) WHERE direction = 'inbound';
