-- The provider's id of the keyword ("START", "YES") that last lifted an opt-out. A retry of
-- that same message finds the number already subscribed; without this it would be taken
-- for the customer's answer "YES" and land on a ticket.
ALTER TABLE customer_identities ADD COLUMN opt_in_message_id TEXT;
