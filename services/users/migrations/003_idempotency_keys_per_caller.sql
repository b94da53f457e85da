-- An Idempotency-Key belongs to its caller (the token's user id, or the fixed anonymous admin with
-- AUTH=disabled): two callers using one key get a create each and never the other's response.
-- Keys claimed before this migration belong to no caller ('' is never a user id) and expire
-- within 24 hours. A replica still running the code from before answers a POST with a key 500
-- (its ON CONFLICT (key) matches no constraint any more) until it is replaced: it creates nothing.
ALTER TABLE users.idempotency_keys ADD COLUMN caller text NOT NULL DEFAULT '';
ALTER TABLE users.idempotency_keys ALTER COLUMN caller DROP DEFAULT;
ALTER TABLE users.idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
ALTER TABLE users.idempotency_keys ADD PRIMARY KEY (caller, key);
