#!/usr/bin/env bash
# Waits until the node's Ingress controller serves the seed's hosts (container1.7shifts: users,
# container2.7shifts: shifts) on 127.0.0.1:INGRESS_PORT. Exits 0 at once, saying so, when the seed
# is not applied or the controller does not run. Used by apply.sh and node/ingress-up.sh.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"
if ! pid_alive "$(cat "${NODE_DIR}/pids/traefik.pid" 2>/dev/null || true)" traefik; then
  echo "seed: the node's Ingress controller does not run: its hosts not checked" >&2
  exit 0
fi
if ! kc -n "${INGRESS_NAMESPACE}" get ingress users shifts >/dev/null 2>&1; then
  echo "seed: not applied: its hosts not checked" >&2
  exit 0
fi
source "${CLUSTER_HERE}/node/lib.sh"
served() { # served HOST: /openapi.json of HOST answers 200 through the controller
  [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --resolve "$1:${INGRESS_PORT}:127.0.0.1" \
    "http://$1:${INGRESS_PORT}/openapi.json")" == 200 ]]
}
for host in container1.7shifts container2.7shifts; do
  wait_for traefik 20 "seed: ${host} not served on 127.0.0.1:${INGRESS_PORT}" served "${host}"
done
