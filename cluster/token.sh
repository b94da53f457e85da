#!/usr/bin/env bash
# Prints `export SHIFTOPS_TOKEN=...`: a 12-hour access token for an administrator of the demo data
# (demo user 50) from the development issuer the local and staging overlays trust; seed/apply.sh
# gives the pods its public keys (ConfigMap shiftops-dev-issuer). Minted by scripts/token.mjs,
# the code behind `npm run token`, from the same key pair: ${DATA_DIR:-.data}/dev-issuer (relative
# to the repo, as for npm start; made on first use). On stderr, as comments: who the token is,
# and how to mint others. Used by cluster.sh (`eval "$(npm run -s cluster:up)"`).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ADMIN=50
cd "${REPO}"
who="$(mktemp)"
trap 'rm -f "${who}"' EXIT
token="$(node --conditions=source --import tsx scripts/token.mjs "${ADMIN}" 2>"${who}")" \
  || { cat "${who}" >&2; exit 1; }
echo "export SHIFTOPS_TOKEN=${token}"
cat >&2 <<TEXT
# SHIFTOPS_TOKEN (12 h) is $(cat "${who}")
# another caller: export SHIFTOPS_TOKEN=\$(npm run -s token -- <n>)   demo user n, 1-300: 50, 100, ... admins; 10, 20, ... managers; the rest employees
TEXT
