#!/usr/bin/env bash
# Applies the seed's environment (cluster/seed: deploy/overlays/local on the real node) to the
# running cluster, with the static local PersistentVolume its PostgreSQL claims, and waits until
# PostgreSQL, users and shifts are rolled out. Used by cluster.sh and by the cluster tests.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"
REPO="$(cd "${CLUSTER_HERE}/.." && pwd)"
NS="${INGRESS_NAMESPACE}" # the seed's namespace, the one the node's Ingress controller serves (lib.sh)
vol="${NODE_DIR}/volumes/postgres-data"
mkdir -p "${vol}"
# uid/gid 70: the postgres user of the image (cluster/images/postgres); fsGroup does the same.
chown 70:70 "${vol}" && chmod 0700 "${vol}"
kc apply --server-side -f - >/dev/null <<YAML
apiVersion: v1
kind: PersistentVolume
metadata:
  name: shiftops-seed-postgres-data
  labels:
    app.kubernetes.io/part-of: shiftops
spec:
  capacity:
    storage: 1Gi
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  volumeMode: Filesystem
  # Only for the StatefulSet's first claim, so nothing else binds it.
  claimRef:
    namespace: ${NS}
    name: data-postgres-0
  local:
    path: ${vol}
  nodeAffinity:
    required:
      nodeSelectorTerms:
        - matchExpressions:
            - key: kubernetes.io/hostname
              operator: In
              values: [${NODE_NAME}]
YAML
built="$(kc kustomize "${REPO}/cluster/seed")"
kc apply --server-side -l shiftops.dev/managed-by=platform -f - <<<"${built}" >/dev/null
# The local overlay's pods read the development issuer's public keys (AUTH_JWKS) from this
# ConfigMap: the key pair under ${DATA_DIR:-.data}/dev-issuer that `npm start`, `npm run token`
# and the cluster tests sign with (made on first use).
jwks="$(cd "${REPO}" && node --conditions=source --import tsx --input-type=module -e \
  "import { devIssuer } from './scripts/dev-issuer.mjs'; process.stdout.write((await devIssuer()).env.AUTH_JWKS_FILE)")"
(cd "${REPO}" && kc -n "${NS}" create configmap shiftops-dev-issuer --from-file=jwks.json="${jwks}" \
  --dry-run=client -o yaml) | kc apply --server-side -f - >/dev/null
kc apply --server-side -f - <<<"${built}" >/dev/null
rolled_out() { # rolled_out KIND/NAME: waits for its rollout; on a timeout, says what the pods are doing
  kc -n "${NS}" rollout status "$1" --timeout=180s >&2 && return 0
  echo "--- ${NS} pods, recent events, the last log lines of each pod that is not ready" >&2
  kc -n "${NS}" get pods -o wide >&2 || true
  kc -n "${NS}" get events --sort-by=.lastTimestamp 2>/dev/null | tail -n 15 >&2 || true
  local p
  for p in $(kc -n "${NS}" get pods -o jsonpath='{range .items[?(@.status.containerStatuses[0].ready!=true)]}{.metadata.name}{" "}{end}' || true); do
    echo "--- logs ${p}" >&2
    kc -n "${NS}" logs "${p}" --all-containers --tail=15 >&2 || true
  done
  return 1
}
rolled_out statefulset/postgres
for d in users shifts; do rolled_out "deployment/${d}"; done
# Its hosts through the node's Ingress controller, when that runs (test/cluster/run.sh starts it
# after the files that do not use it; ingress-up.sh then waits for the hosts itself).
bash "${CLUSTER_HERE}/seed/hosts.sh"
