-- Users of the scheduling product. Email is unique regardless of case.
CREATE TABLE users.users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email text NOT NULL,
  first_name text NOT NULL,
  last_name text NOT NULL,
  role text NOT NULL CONSTRAINT users_role_check CHECK (role IN ('employee', 'manager', 'admin')),
  location_id integer NOT NULL CONSTRAINT users_location_id_check CHECK (location_id > 0),
  active boolean NOT NULL DEFAULT true,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX users_email_key ON users.users (lower(email));
-- Keyset pages are ordered by id; filtered lists walk these indexes in that order.
CREATE INDEX users_location_id_idx ON users.users (location_id, id);
CREATE INDEX users_role_id_idx ON users.users (role, id);
