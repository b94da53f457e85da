-- An Idempotency-Key belongs to its caller (the token's user id, or the fixed anonymous admin with
-- AUTH=disabled): another caller presenting a key in use gets a 422, never the first response.
-- Expand only, so replicas still on the code from before keep working during the rollout: the
-- key stays the primary key (keys are UUIDs, one caller's in practice), their INSERTs take the
-- default caller '' (which matches no user, so newer code refuses to replay such a record), and
-- newer code puts the caller into request_hash too, so older code refuses to replay its records
-- to anyone else (a 422 on both sides, never a leak or a second create).
ALTER TABLE shifts.idempotency_keys ADD COLUMN caller text NOT NULL DEFAULT '';
