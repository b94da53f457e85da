#!/usr/bin/env bash
# Stops the local test cluster started by up.sh: the real node (node/down.sh), prometheus-adapter,
# then every kwokctl
# component (kwokctl delete cluster), and removes their state. Safe to run when nothing runs.
set -uo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

t0=$SECONDS
# 0. the real node first, while the API server still runs (its pods are deleted through it)
bash "${CLUSTER_HERE}/node/down.sh"

# 1. prometheus-adapter (our process, not kwokctl's)
if [[ -f "${RUN_DIR}/adapter.pid" ]]; then
  pid="$(cat "${RUN_DIR}/adapter.pid")"
  if pid_alive "${pid}" prometheus-adapter; then clog "stopping prometheus-adapter (pid ${pid})"; fi
  stop_pid "${pid}" prometheus-adapter
fi

# 2. the kwokctl cluster. Remember its pids first, to check that all of them are gone.
pids=()
if [[ -d "${CLUSTER_DIR}/pids" ]]; then
  for f in "${CLUSTER_DIR}"/pids/*.pid; do
    [[ -f "$f" ]] && pids+=("$(basename "$f" .pid):$(cat "$f")")
  done
fi
if [[ -d "${CLUSTER_DIR}" ]]; then
  clog "deleting kwokctl cluster ${CLUSTER_NAME}"
  # up.sh never added a context to ~/.kube/config, so keep kwokctl away from it: point it at a
  # throwaway file (an empty --kubeconfig= fails in `delete cluster` with "empty path").
  mkdir -p "${RUN_DIR}"
  "${BIN}/kwokctl" --name "${CLUSTER_NAME}" delete cluster --kubeconfig="${RUN_DIR}/unused-kubeconfig" \
    >"${RUN_DIR}.delete.log" 2>&1 \
    || { clog "kwokctl delete cluster failed:"; cat "${RUN_DIR}.delete.log" >&2; }
  rm -f "${RUN_DIR}.delete.log"
fi
# Anything kwokctl did not stop (e.g. after a half-finished create): stop it by pid.
for entry in "${pids[@]}"; do
  name="${entry%%:*}" pid="${entry#*:}"
  if pid_alive "${pid}" "${CLUSTER_NAME}"; then
    clog "component ${name} (pid ${pid}) still running: stopping it"
    stop_pid "${pid}" "${CLUSTER_NAME}"
  fi
done
rm -rf "${CLUSTER_DIR}" "${RUN_DIR}"
clog "down in $((SECONDS - t0))s"
