#!/bin/sh
# Initialises PGDATA on first start (superuser POSTGRES_USER with POSTGRES_PASSWORD, database
# POSTGRES_DB, password authentication for TCP), then runs postgres as this process, so it gets
# the container's signals. Arguments go to postgres (e.g. -c max_connections=100).
set -eu
: "${PGDATA:?PGDATA must name the data directory}"
: "${POSTGRES_USER:?POSTGRES_USER must be set}"
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set (no database without a password)}"
db="${POSTGRES_DB:-${POSTGRES_USER}}"

if [ ! -s "${PGDATA}/PG_VERSION" ]; then
  mkdir -p "${PGDATA}"
  chmod 0700 "${PGDATA}"
  pwfile="$(mktemp)"
  trap 'rm -f "${pwfile}"' EXIT
  printf '%s\n' "${POSTGRES_PASSWORD}" >"${pwfile}"
  initdb --pgdata="${PGDATA}" --username="${POSTGRES_USER}" --pwfile="${pwfile}" \
    --encoding=UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "${pwfile}"
  trap - EXIT
  # Any address may connect, always with the password; the NetworkPolicy decides who can reach it.
  printf 'host all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n' \
    >>"${PGDATA}/pg_hba.conf"
  printf "listen_addresses = '*'\n" >>"${PGDATA}/postgresql.auto.conf"
  if [ "${db}" != postgres ]; then
    quoted="$(printf '%s' "${db}" | sed 's/"/""/g')"
    printf 'CREATE DATABASE "%s";\n' "${quoted}" |
      postgres --single -D "${PGDATA}" -j postgres >/dev/null
  fi
  echo "postgres-entrypoint: initialised ${PGDATA} (database ${db}, user ${POSTGRES_USER})"
fi
exec postgres -D "${PGDATA}" "$@"
