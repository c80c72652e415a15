-- The console's menu shows each agent's unread notices on every page: counted from this
-- index, however many notices an agent has read over the years.
CREATE INDEX notices_unread_idx ON notices (agent_id, id) WHERE read_at IS NULL;
