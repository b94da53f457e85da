-- Idempotency-Key of a create (POST), with the response to replay. In the service's own database
-- so that a retry reaching another replica finds it. status is NULL while the first request runs.
CREATE TABLE shifts.idempotency_keys (
  key text PRIMARY KEY,
  request_hash text NOT NULL,
  status integer,
  response jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Expired keys are deleted in created_at order.
CREATE INDEX idempotency_keys_created_at_idx ON shifts.idempotency_keys (created_at);
