#!/usr/bin/env bash
# A test cluster for a person: `npm run cluster:up` / `npm run cluster:down`.
#   up:   starts the cluster (up.sh, name "shiftops", with the real node unless
#         SHIFTOPS_REAL_NODE=0), applies the CRDs, the staging test overlay (namespace
#         shiftops-staging, kwok) and the production overlay (shiftops-production, kwok, with
#         throwaway database Secrets), the seed's environment on the real node (seed/apply.sh:
#         namespace 7shifts, and SHIFTOPS_INGRESS: its hosts through the node's Ingress controller),
#         writes a developer kubeconfig (CN=dev-alice,
#         O=shiftops:developers), and prints the exports to use kubectl and shiftops with it,
#         and SHIFTOPS_TOKEN, an admin token for the APIs (token.sh; how to mint others on stderr).
#   down: stops it and removes its state.
# Usage: eval "$(npm run -s cluster:up)"   (or run it and copy the export lines)
# Env: those of up.sh (SHIFTOPS_CLUSTER_NAME, ports, ...); SHIFTOPS_APPLY=0 starts an empty cluster.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
HERE="${CLUSTER_HERE}"
REPO="$(cd "${HERE}/.." && pwd)"

case "${1:-}" in
  down) exec bash "${HERE}/down.sh" ;;
  up) ;;
  *) echo "usage: $0 up|down" >&2; exit 64 ;;
esac

cd "${REPO}"
mkdir -p "$(dirname "${RUN_DIR}")"
bash "${HERE}/up.sh" >"${RUN_DIR}.exports" || exit 1
exports="$(cat "${RUN_DIR}.exports")"; rm -f "${RUN_DIR}.exports"

if [[ "${SHIFTOPS_APPLY:-1}" == 1 ]]; then
  {
    kc apply --server-side -k deploy/crds >/dev/null
    kc wait --for=condition=Established crd --all --timeout=60s >/dev/null
    kc apply --server-side -k test/cluster/overlays/staging >/dev/null
    built="$(kc kustomize deploy/overlays/production)"
    kc apply --server-side -l shiftops.dev/managed-by=platform -f - <<<"${built}" >/dev/null
    for svc in users shifts; do
      kc -n shiftops-production create secret generic "${svc}-database" \
        --from-literal=DATABASE_URL="postgres://${svc}:local-only@db.invalid:5432/${svc}" \
        --dry-run=client -o yaml | kc apply --server-side -f - >/dev/null
    done
    kc apply --server-side -f - <<<"${built}" >/dev/null
    clog "applied: CRDs, test/cluster/overlays/staging (shiftops-staging), deploy/overlays/production (shiftops-production)"
  } || { clog "applying the overlays failed; the cluster is still running (npm run cluster:down)"; exit 1; }
fi

# The seed's environment on the real node: namespace 7shifts, users and shifts 1.0.0, PostgreSQL.
if [[ "${SHIFTOPS_APPLY:-1}" == 1 && -f "${NODE_DIR}/pids/kubelet.pid" ]]; then
  t=$SECONDS
  bash "${HERE}/seed/apply.sh" || { clog "applying the seed failed; the cluster is still running (npm run cluster:down)"; exit 1; }
  clog "applied: cluster/seed (namespace 7shifts on node ${NODE_NAME}), all rolled out in $((SECONDS - t))s"
  # The seed's namespace is the admin context's default, so `npx shiftops deploy users 1.1.0`
  # and `kubectl get pods` act on it.
  kc config set-context --current --namespace=7shifts >/dev/null
  # The seed's hosts through the node's Ingress controller (Traefik, node/up.sh).
  exports+=$'\n'"export SHIFTOPS_INGRESS=http://127.0.0.1:${INGRESS_PORT}"
fi

# An admin token for the APIs, from the development issuer the overlays trust (token.sh).
token_export=""
if [[ "${SHIFTOPS_APPLY:-1}" == 1 ]]; then
  token_export="$(bash "${HERE}/token.sh")" \
    || { clog "minting SHIFTOPS_TOKEN failed; the cluster is still running (npm run cluster:down)"; exit 1; }
fi

# A developer's own identity: client certificate signed by the cluster CA, group from O=.
dev="${CLUSTER_DIR}/dev-alice"
mkdir -p "${dev}"
openssl req -new -newkey rsa:2048 -nodes -keyout "${dev}/key.pem" -out "${dev}/csr.pem" \
  -subj "/CN=dev-alice/O=shiftops:developers" 2>/dev/null
openssl x509 -req -in "${dev}/csr.pem" -CA "${CLUSTER_DIR}/pki/ca.crt" -CAkey "${CLUSTER_DIR}/pki/ca.key" \
  -CAcreateserial -out "${dev}/crt.pem" -days 7 2>/dev/null
server="$(kc config view --minify -o jsonpath='{.clusters[0].cluster.server}')"
KUBECONFIG="${dev}/kubeconfig.yaml" kubectl config set-cluster local --server="${server}" \
  --certificate-authority="${CLUSTER_DIR}/pki/ca.crt" --embed-certs >/dev/null
KUBECONFIG="${dev}/kubeconfig.yaml" kubectl config set-credentials dev-alice \
  --client-certificate="${dev}/crt.pem" --client-key="${dev}/key.pem" --embed-certs >/dev/null
KUBECONFIG="${dev}/kubeconfig.yaml" kubectl config set-context dev-alice --cluster=local \
  --user=dev-alice --namespace=shiftops-staging >/dev/null
KUBECONFIG="${dev}/kubeconfig.yaml" kubectl config use-context dev-alice >/dev/null

cat <<EOF
${exports}
${token_export}
# try: kubectl get pods -n 7shifts -o wide            # real pods on ${NODE_NAME} (unless SHIFTOPS_REAL_NODE=0)
#      curl -H "Authorization: Bearer \$SHIFTOPS_TOKEN" --resolve container1.7shifts:${INGRESS_PORT}:127.0.0.1 "http://container1.7shifts:${INGRESS_PORT}/v1/users?limit=3"   # users, through the Ingress
#      curl -H "Authorization: Bearer \$SHIFTOPS_TOKEN" --resolve container2.7shifts:${INGRESS_PORT}:127.0.0.1 "http://container2.7shifts:${INGRESS_PORT}/v1/shifts?limit=3"  # shifts
#      curl -H "Authorization: Bearer \$SHIFTOPS_TOKEN" "http://\$(kubectl -n 7shifts get svc users -o jsonpath='{.spec.clusterIP}')/v1/users?limit=3"   # the Service
#      npx shiftops deploy users 1.1.0                  # then 1.2.0 (never ready) or 1.2.0-crash: rolled back
#      kubectl get deploy,hpa -n shiftops-staging
#      npx tsc -b && node cli/dist/main.js -n shiftops-staging status
#      node cli/dist/main.js -n shiftops-staging deploy users 1.2.0-crash    # a broken release (kwok)
#      node cli/dist/main.js --kubeconfig ${dev}/kubeconfig.yaml -n shiftops-staging deploy users 0.2.0   # as dev-alice
#      kubectl annotate pods -n shiftops-staging -l app.kubernetes.io/name=users kwok.x-k8s.io/usage-cpu=250m --overwrite
# stop: npm run cluster:down
EOF
