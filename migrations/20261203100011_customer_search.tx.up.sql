-- Finding a caller by any form of their number: phone identities keep their digits
-- reversed, so "the number ends in 8000" is a prefix of digits_reversed, answered by an
-- index range instead of a scan of every identity. Written by the service with each
-- identity (tickets.newIdentity); the phones stored before this migration are filled in
-- here, reversing their digits with a recursive query both databases understand.
ALTER TABLE customer_identities ADD COLUMN digits_reversed TEXT;

CREATE TABLE customer_search_backfill AS
WITH RECURSIVE r (id, rest, acc) AS (
    SELECT id, substr(value, 2), CAST('' AS TEXT) FROM customer_identities WHERE kind = 'phone'
    UNION ALL
    SELECT id, substr(rest, 2), substr(rest, 1, 1) || acc FROM r WHERE rest <> ''
)
SELECT id, acc FROM r WHERE rest = '';

CREATE UNIQUE INDEX customer_search_backfill_id ON customer_search_backfill (id);

UPDATE customer_identities
SET digits_reversed = (SELECT b.acc FROM customer_search_backfill AS b WHERE b.id = customer_identities.id)
WHERE kind = 'phone';

DROP TABLE customer_search_backfill;

CREATE INDEX customer_identities_digits_reversed_idx ON customer_identities (digits_reversed);
