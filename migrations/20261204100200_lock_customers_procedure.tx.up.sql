-- Intake's plain path (tickets/intake_plain.go) locks a message's customers in a statement
-- of its own, before the statement that reads their tickets, so that the read's snapshot
-- sees what a transaction that held the locks committed. A procedure does it for the cost
-- of a call: PostgreSQL keeps its compiled body and its query's plan for the session,
-- where an anonymous DO block is compiled, parsed and planned again on every message.
-- The customers are found by identity (each a lookup on the identities' unique key, which
-- a generic plan cannot trade for a scan) and locked in id order, so that two intakes
-- locking the same customers never deadlock. SQLite has no procedures and needs none:
-- its writers take turns.
{{if .PG}}
CREATE PROCEDURE hotline_lock_customers(kinds TEXT[], identity_values TEXT[])
LANGUAGE plpgsql AS $hotline$
BEGIN
    PERFORM FROM customers
    WHERE id = ANY (ARRAY(SELECT i.customer_id FROM unnest(kinds, identity_values) AS k (kind, value)
        CROSS JOIN LATERAL (SELECT customer_id FROM customer_identities
            WHERE kind = k.kind AND value = k.value OFFSET 0) AS i))
    ORDER BY id FOR UPDATE;
END
$hotline$;
{{else}}
SELECT 1;
{{end}}
