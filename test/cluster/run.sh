#!/usr/bin/env bash
# `npm run test:cluster`: build (or take from the cache) the pinned binaries, start a dedicated
# cluster with the local cluster tool in cluster/ (name shiftops-ci, its own ports, so a person's
# `shiftops` cluster is not touched), build the CLI, run the cluster tests
# (test/cluster/tests/NN-*.test.ts in order) against it, and tear everything down: also on
# failure, Ctrl-C or TERM. Prints each phase's duration. Exit status: non-zero if any phase or test failed.
#
# Usage: test/cluster/run.sh [test files...]     (default: all of tests/; `npm run test:cluster:long`
#        passes the long/ files)
# Env:   SHIFTOPS_CLUSTER_NAME (shiftops-ci), SHIFTOPS_PROMETHEUS_PORT (19091),
#        SHIFTOPS_ADAPTER_PORT (16444), SHIFTOPS_CACHE, SHIFTOPS_KEEP_CLUSTER=1 (leave it running
#        for a look afterwards; stop it with SHIFTOPS_CLUSTER_NAME=shiftops-ci cluster/down.sh),
#        SHIFTOPS_REAL_NODE=0 (kwok nodes only: no images, no real node, no tests/1N-real-* suites;
#        default 1, or 0 when the files given include no 1N-real-* one),
#        CI=true (nothing may be skipped: a skipped test fails the run),
#        SHIFTOPS_TEST_TIMEOUT_MS (900000: the bound of each test).
set -uo pipefail
export SHIFTOPS_CLUSTER_NAME="${SHIFTOPS_CLUSTER_NAME:-shiftops-ci}"
export SHIFTOPS_PROMETHEUS_PORT="${SHIFTOPS_PROMETHEUS_PORT:-19091}"
export SHIFTOPS_ADAPTER_PORT="${SHIFTOPS_ADAPTER_PORT:-16444}"
# The real node and its suites (tests/1N-real-*) unless asked to leave them out, or unless the
# files asked for are all kwok-only ones (e.g. the long suite).
real_default=1
if (($# > 0)) && ! printf '%s\n' "$@" | grep -q -- '-real-'; then real_default=0; fi
export SHIFTOPS_REAL_NODE="${SHIFTOPS_REAL_NODE:-${real_default}}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "${REPO}/cluster/lib.sh"
TOOL="${CLUSTER_HERE}" # cluster/
cd "${REPO}"

T0=$SECONDS
PHASES=()
phase_start() { PHASE="$1"; PHASE_T=$SECONDS; echo "== ${PHASE}" >&2; }
phase_end() { # phase_end RC
  local d=$((SECONDS - PHASE_T))
  PHASES+=("$(printf '%-7s %4ds  %s' "${PHASE}" "${d}" "$([[ "$1" == 0 ]] && echo ok || echo "FAILED (rc $1)")")")
  echo "== ${PHASE}: $([[ "$1" == 0 ]] && echo ok || echo "FAILED (rc $1)") in ${d}s" >&2
}
summary() {
  echo "== phases (cluster ${CLUSTER_NAME}, Kubernetes ${KUBE_VERSION}):" >&2
  for p in "${PHASES[@]}"; do echo "   ${p}" >&2; done
  echo "   total   $((SECONDS - T0))s" >&2
}

TMP="$(mktemp -d)"
exec 3>&1 4>&2 # for the trap (see README "Gotchas")
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  exec 1>&3 2>&4
  if [[ "${PHASE:-}" != down && "${PHASE:-}" != done ]]; then
    [[ -n "${PHASE:-}" ]] && phase_end "${rc}"
  fi
  if [[ "${SHIFTOPS_KEEP_CLUSTER:-}" == 1 ]]; then
    echo "== cluster ${CLUSTER_NAME} left running: export KUBECONFIG=${CLUSTER_KUBECONFIG}" >&2
  else
    phase_start down
    bash "${TOOL}/down.sh"
    phase_end $?
  fi
  rm -rf "${TMP}"
  summary
  (( rc != 0 )) && echo "== test:cluster FAILED (rc ${rc})" >&2
  exit "${rc}"
}
trap cleanup EXIT
trap 'echo "== interrupted" >&2; exit 130' INT TERM

# --- build: pinned binaries from the versioned cache (built from Go modules when missing) -------
phase_start build
bash "${TOOL}/build.sh" all || exit 1
phase_end 0

# --- images: the real node's images (cluster/images/build.sh; cached by content) --------------------
if [[ "${SHIFTOPS_REAL_NODE}" != 0 ]]; then
  phase_start images
  bash "${REPO}/cluster/images/build.sh" >&2 || exit 1
  phase_end 0
fi

# --- start: the cluster -------------------------------------------------------------------------
phase_start start
SHIFTOPS_SKIP_BUILD=1 bash "${TOOL}/up.sh" >"${TMP}/env" || exit 1
export KUBECONFIG="${CLUSTER_KUBECONFIG}"
export SHIFTOPS_NODE_NAME="${NODE_NAME}" SHIFTOPS_NODE_DIR="${NODE_DIR}"
kubectl get nodes -L topology.kubernetes.io/zone >&2 || exit 1
phase_end 0

# --- tsc: the CLI the tests run (cli/dist/main.js) ----------------------------------------------
phase_start tsc
npx tsc -b || exit 1
phase_end 0

# --- tests --------------------------------------------------------------------------------------
phase_start tests
if (( $# > 0 )); then
  files=("$@")
else
  files=(test/cluster/tests/*.test.ts)
  if [[ "${SHIFTOPS_REAL_NODE}" == 0 ]]; then
    files=($(printf '%s\n' "${files[@]}" | grep -v -- '-real-'))
  fi
fi
# One file at a time, in order, all on this one cluster. spec for people, TAP for the counts.
# TMPDIR: what the tests write to temporary files (e.g. the identities' keys) goes with ${TMP}.
TMPDIR="${TMP}" node --conditions=source --import tsx --test --test-concurrency=1 --test-timeout="${SHIFTOPS_TEST_TIMEOUT_MS:-900000}" \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="${TMP}/tap" \
  "${files[@]}"
rc=$?
count() { sed -n "s/^# $1 \([0-9]*\)$/\1/p" "${TMP}/tap" | tail -1; }
pass="$(count pass)" fail="$(count fail)" skipped="$(count skipped)" cancelled="$(count cancelled)"
echo "== tests: ${pass:-?} passed, ${fail:-?} failed, ${cancelled:-?} cancelled, ${skipped:-?} skipped" >&2
# Where the time went: each file's top-level suite and its duration.
awk '/^(not )?ok [0-9]+ - /{ name = $0; sub(/^(not )?ok [0-9]+ - /, "", name); next }
  name != "" && /^  duration_ms: /{ printf "== time: %6.0f s  %s\n", $2 / 1000, name; name = "" }' "${TMP}/tap" >&2
# The good-release files (long/release-analysis-good-N) each report their counts as a diagnostic
# (lib/analysis.ts goodReport): the run's total.
good="$(sed -n 's/^ *# release-analysis good releases: \([0-9]*\), false rollbacks: \([0-9]*\)$/\1 \2/p' "${TMP}/tap" |
  awk '{ g += $1; f += $2; n++ } END { if (n) print g, f, n }')"
if [[ -n "${good}" ]]; then
  read -r good_runs false_rollbacks good_files <<<"${good}"
  echo "== release analysis: ${good_runs} good releases in ${good_files} files, ${false_rollbacks} false rollbacks" >&2
fi
if [[ -z "${pass}" ]]; then rc=1; fi
if [[ "${CI:-}" == true && "${skipped:-0}" != 0 ]]; then
  echo "== CI=true: ${skipped} test(s) skipped, which counts as a failure" >&2
  rc=1
fi
phase_end "${rc}"
PHASE=done
exit "${rc}"
