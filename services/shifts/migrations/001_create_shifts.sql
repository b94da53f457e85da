-- Work shifts. user_id refers to a user of the users service, which owns its own database: it is
-- a reference only, with no foreign key, so each service can be deployed and scaled alone.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE shifts.shifts (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL,
  location_id integer NOT NULL CONSTRAINT shifts_location_id_check CHECK (location_id > 0),
  position text NOT NULL,
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL,
  break_minutes integer NOT NULL DEFAULT 0,
  notes text,
  published boolean NOT NULL DEFAULT false,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT shifts_ends_after_start CHECK (ends_at > starts_at),
  -- Bounded length lets a time-window query start its index scan at (from - 24 hours).
  CONSTRAINT shifts_max_length CHECK (ends_at - starts_at <= interval '24 hours'),
  -- Skipped for an inverted shift, so that case reports shifts_ends_after_start instead.
  CONSTRAINT shifts_break_within_shift CHECK (
    break_minutes >= 0
    AND (ends_at <= starts_at OR break_minutes * interval '1 minute' < ends_at - starts_at)
  ),
  -- The database, not the application, guarantees that one user's shifts never overlap, so
  -- concurrent writers on any number of replicas cannot break it.
  CONSTRAINT shifts_no_overlap EXCLUDE USING gist (
    user_id WITH =,
    tstzrange(starts_at, ends_at) WITH &&
  )
);

-- Keyset order is (starts_at, id); each common filter walks an index in that order.
CREATE INDEX shifts_starts_at_idx ON shifts.shifts (starts_at, id);
CREATE INDEX shifts_location_starts_at_idx ON shifts.shifts (location_id, starts_at, id);
CREATE INDEX shifts_user_starts_at_idx ON shifts.shifts (user_id, starts_at, id);
