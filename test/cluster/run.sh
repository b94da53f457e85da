#!/usr/bin/env bash
# `npm run test:cluster`: build (or take from the cache) the pinned binaries, start a dedicated
# cluster with the local cluster tool in cluster/ (name shiftops-ci, its own ports, so a person's
# `shiftops` cluster is not touched), build the CLI, run the cluster tests
# (test/cluster/tests/NN-*.test.ts in order) against it, and tear everything down: also on
# failure, Ctrl-C or TERM. Prints each phase's duration. Exit status: non-zero if any phase or test failed.
#
# Phases: build (cluster/build.sh control), start (control plane, kwok nodes), tsc, kwok-tests
# (the files without -real- in their name), scale-small (if asked); with the real node: node-wait,
# node-up, real-tests, and for the -real- files that go through the Ingress (they use lib's
# ingressUrl): ingress-wait, ingress-up, ingress-tests. The real node's binaries (build.sh node) and
# images (cluster/images/build.sh), and apart from them its Ingress controller (build.sh ingress:
# Traefik, the longest build), build in the background at low priority from the build phase on,
# while the kwok files run; node-wait waits for the first, node-up starts the real node without its
# Ingress controller (cluster/node/up.sh), real-tests runs the other -real- files while Traefik may
# still be building, ingress-wait waits for it and ingress-up starts it (cluster/node/ingress-up.sh).
#
# Usage: test/cluster/run.sh [test files...]     (default: all of tests/; `npm run test:cluster:long`
#        passes the long/ files)
# Env:   SHIFTOPS_CLUSTER_NAME (shiftops-ci), SHIFTOPS_PROMETHEUS_PORT (19091),
#        SHIFTOPS_ADAPTER_PORT (16444), SHIFTOPS_CACHE, SHIFTOPS_KEEP_CLUSTER=1 (leave it running
#        for a look afterwards; stop it with SHIFTOPS_CLUSTER_NAME=shiftops-ci cluster/down.sh),
#        SHIFTOPS_REAL_NODE=0 (kwok nodes only: no node binaries, no images, no real node, no tests/1N-real-* suites;
#        default 1, or 0 when the files given include no 1N-real-* one),
#        CI=true (nothing may be skipped: a skipped test fails the run),
#        SHIFTOPS_TEST_TIMEOUT_MS (900000: the bound of each test),
#        SHIFTOPS_SCALE_SMALL=1 (after the kwok files, also run `npm run test:scale:small`: phase scale-small).
set -uo pipefail
export SHIFTOPS_CLUSTER_NAME="${SHIFTOPS_CLUSTER_NAME:-shiftops-ci}"
export SHIFTOPS_PROMETHEUS_PORT="${SHIFTOPS_PROMETHEUS_PORT:-19091}"
export SHIFTOPS_ADAPTER_PORT="${SHIFTOPS_ADAPTER_PORT:-16444}"
# The node's Ingress controller serves the seed's namespace and production's on the real node (22).
export SHIFTOPS_INGRESS_NAMESPACES="${SHIFTOPS_INGRESS_NAMESPACES:-shiftops-production-real}"
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
  PHASES+=("$(printf '%-10s %4ds  %s' "${PHASE}" "${d}" "$([[ "$1" == 0 ]] && echo ok || echo "FAILED (rc $1)")")")
  echo "== ${PHASE}: $([[ "$1" == 0 ]] && echo ok || echo "FAILED (rc $1)") in ${d}s" >&2
}
summary() {
  echo "== phases (cluster ${CLUSTER_NAME}, Kubernetes ${KUBE_VERSION}):" >&2
  for p in "${PHASES[@]}"; do echo "   ${p}" >&2; done
  printf '   %-10s %4ds\n' total $((SECONDS - T0)) >&2
}

# The files: kwok-only ones, -real- ones, and of those the ones that go through the Ingress.
if (( $# > 0 )); then
  files=("$@")
else
  files=(test/cluster/tests/*.test.ts)
  if [[ "${SHIFTOPS_REAL_NODE}" == 0 ]]; then
    files=($(printf '%s\n' "${files[@]}" | grep -v -- '-real-'))
  fi
fi
kwok_files=() real_files=() ingress_files=()
for f in "${files[@]}"; do
  if [[ "${f}" != *-real-* ]]; then kwok_files+=("${f}")
  elif grep -q 'ingressUrl' "${f}"; then ingress_files+=("${f}")
  else real_files+=("${f}"); fi
done

TMP="$(mktemp -d)"
# The real node's binaries and images, and its Ingress controller, built beside the kwok files
# (background jobs, own logs).
NODE_BUILD_PID="" INGRESS_BUILD_PID=""
NODE_BUILD_LOG="${TMP}/node-build.log" INGRESS_BUILD_LOG="${TMP}/ingress-build.log"
stop_builds() { # each its own process group: the Go builds and buildah go with it
  local p
  for p in "${NODE_BUILD_PID}" "${INGRESS_BUILD_PID}"; do
    [[ -n "${p}" ]] || continue
    kill -- -"${p}" 2>/dev/null || true
    wait "${p}" 2>/dev/null || true
  done
  NODE_BUILD_PID="" INGRESS_BUILD_PID=""
}
exec 3>&1 4>&2 # for the trap (see README "Gotchas")
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  exec 1>&3 2>&4
  if [[ "${PHASE:-}" != down && "${PHASE:-}" != done ]]; then
    [[ -n "${PHASE:-}" ]] && phase_end "${rc}"
  fi
  stop_builds
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

# --- build: the control plane's pinned binaries (from the cache, built from Go modules when missing)
phase_start build
bash "${TOOL}/build.sh" control || exit 1
if [[ "${SHIFTOPS_REAL_NODE}" != 0 ]]; then
  # A build.sh already building these (.ci/run's) holds their locks: this one then just waits.
  # shellcheck disable=SC2016 # $1 and $2 are the inner shell's
  setsid nice -n 10 bash -c 'bash "$1/build.sh" node && bash "$2/cluster/images/build.sh"' \
    node-build "${TOOL}" "${REPO}" </dev/null >"${NODE_BUILD_LOG}" 2>&1 3>&- 4>&- &
  NODE_BUILD_PID=$!
  echo "== real node's binaries and images: building in the background (pid ${NODE_BUILD_PID})" >&2
  if ((${#ingress_files[@]})); then
    # After the node's binaries (it waits on their locks), so that it does not slow them down.
    # shellcheck disable=SC2016
    setsid nice -n 10 bash -c 'bash "$1/build.sh" node >/dev/null 2>&1; bash "$1/build.sh" ingress' \
      ingress-build "${TOOL}" </dev/null >"${INGRESS_BUILD_LOG}" 2>&1 3>&- 4>&- &
    INGRESS_BUILD_PID=$!
    echo "== the Ingress controller: building in the background (pid ${INGRESS_BUILD_PID})" >&2
  fi
fi
phase_end 0

# --- start: the control plane and the kwok nodes (the real node joins after the kwok files) -----
phase_start start
SHIFTOPS_REAL_NODE=0 SHIFTOPS_SKIP_BUILD=1 bash "${TOOL}/up.sh" >"${TMP}/env" || exit 1
export KUBECONFIG="${CLUSTER_KUBECONFIG}"
export SHIFTOPS_NODE_NAME="${NODE_NAME}" SHIFTOPS_NODE_DIR="${NODE_DIR}"
kubectl get nodes -L topology.kubernetes.io/zone >&2 || exit 1
phase_end 0

# --- tsc: the CLI the tests run (cli/dist/main.js) ----------------------------------------------
phase_start tsc
npx tsc -b || exit 1
phase_end 0

# --- tests --------------------------------------------------------------------------------------
rc=0
TAPS=()
run_files() { # run_files NAME FILES...: one node --test over them, TAP to ${TMP}/NAME.tap
  local tap="${TMP}/$1.tap" r
  shift
  TAPS+=("${tap}")
  # One file at a time, in order, all on this one cluster. spec for people, TAP for the counts.
  # TMPDIR: what the tests write to temporary files (e.g. the identities' keys) goes with ${TMP}.
  TMPDIR="${TMP}" node --conditions=source --import tsx --test --test-concurrency=1 --test-timeout="${SHIFTOPS_TEST_TIMEOUT_MS:-900000}" \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="${tap}" \
    "$@"
  r=$?
  [[ -n "$(tap_count pass "${tap}")" ]] || r=1 # no summary: the run itself broke
  if [[ "${CI:-}" == true && "$(tap_count skipped "${tap}")" != 0 ]]; then
    echo "== CI=true: $(tap_count skipped "${tap}") test(s) skipped, which counts as a failure" >&2
    r=1
  fi
  return "${r}"
}
tap_count() { sed -n "s/^# $1 \([0-9]*\)$/\1/p" "$2" 2>/dev/null | tail -1; } # tap_count KEY FILE

in_phase() { # in_phase NAME CMD...: CMD as the phase NAME; its failure fails the run
  phase_start "$1"
  shift
  "$@"
  local r=$?
  ((r == 0)) || rc=1
  phase_end "${r}"
  return "${r}"
}
await_build() { # await_build PID LOG WHAT CONSEQUENCE: wait for a background build job
  wait "$1"
  local r=$?
  if ((r == 0)); then
    grep -E '(done in|cached|total:)' "$2" >&2
  else
    tail -n 40 "$2" >&2
    echo "== $3 failed to build (its log above): $4" >&2
  fi
  return "${r}"
}
start_node() { # the real node, without its Ingress controller (ingress-up.sh, later)
  SHIFTOPS_NODE_INGRESS=0 bash "${TOOL}/node/up.sh" >&2 3>&- 4>&- &&
    kubectl get nodes -L topology.kubernetes.io/zone >&2
}

if ((${#kwok_files[@]})); then in_phase kwok-tests run_files kwok "${kwok_files[@]}"; fi

# --- scale-small (SHIFTOPS_SCALE_SMALL=1, as .ci/run sets it): `npm run test:scale:small` on a kwok
# cluster of its own beside this one (name shiftops-scale, Prometheus 19093, adapter 16446, its own
# kwokctl ports and files), torn down by its own run.sh. Here, because on a cold run the real
# node's binaries are still building at this point: the scale suite uses that wait.
if [[ "${SHIFTOPS_SCALE_SMALL:-0}" == 1 ]]; then
  in_phase scale-small env -u KUBECONFIG -u SHIFTOPS_NODE_NAME -u SHIFTOPS_NODE_DIR -u SHIFTOPS_AUDIT_POLICY \
    SHIFTOPS_CLUSTER_NAME=shiftops-scale SHIFTOPS_PROMETHEUS_PORT=19093 SHIFTOPS_ADAPTER_PORT=16446 \
    SHIFTOPS_SCALE_SMALL=0 SHIFTOPS_KEEP_CLUSTER=0 TMPDIR="${TMP}" \
    npm run --silent test:scale:small 3>&- 4>&-
fi

node_up=0
if [[ "${SHIFTOPS_REAL_NODE}" != 0 ]]; then
  in_phase node-wait await_build "${NODE_BUILD_PID}" "${NODE_BUILD_LOG}" \
    "the real node's binaries or images" "no real node"
  r=$?
  NODE_BUILD_PID=""
  if ((r == 0)) && in_phase node-up start_node; then node_up=1; fi
fi

if ((${#real_files[@]} + ${#ingress_files[@]})) && [[ "${SHIFTOPS_REAL_NODE}" != 0 && "${node_up}" == 0 ]]; then
  echo "== the real node did not start: $((${#real_files[@]} + ${#ingress_files[@]})) -real- file(s) not run" >&2
  rc=1
elif ((${#real_files[@]})); then
  in_phase real-tests run_files real "${real_files[@]}"
fi

if ((${#ingress_files[@]})) && [[ "${node_up}" == 1 ]]; then
  in_phase ingress-wait await_build "${INGRESS_BUILD_PID}" "${INGRESS_BUILD_LOG}" \
    "the Ingress controller" "${#ingress_files[@]} file(s) not run"
  r=$?
  INGRESS_BUILD_PID=""
  if ((r == 0)) && in_phase ingress-up bash "${TOOL}/node/ingress-up.sh" >&2 3>&- 4>&-; then
    in_phase ingress-tests run_files ingress "${ingress_files[@]}"
  fi
fi
PHASE=done

# --- report: the counts and the time of both runs together ----------------------------------------
sum() { # sum KEY: the last "# KEY N" of each TAP file, added up
  local t n total=0
  for t in "${TAPS[@]}"; do
    n="$(tap_count "$1" "${t}")"
    total=$((total + ${n:-0}))
  done
  echo "${total}"
}
echo "== tests: $(sum pass) passed, $(sum fail) failed, $(sum cancelled) cancelled, $(sum skipped) skipped (${#files[@]} files, ${#TAPS[@]} node --test runs)" >&2
# Where the time went: each file's top-level suite and its duration.
for t in "${TAPS[@]}"; do
  awk '/^(not )?ok [0-9]+ - /{ name = $0; sub(/^(not )?ok [0-9]+ - /, "", name); next }
    name != "" && /^  duration_ms: /{ printf "== time: %6.0f s  %s\n", $2 / 1000, name; name = "" }' "${t}" >&2
done
# Each failed test with its error, here at the end: the spec output has them too, far up the log.
for t in "${TAPS[@]}"; do
  awk 'function flush() { if (blk != "" && blk !~ /subtestsFailed/) print blk; blk = "" }
    /^ *not ok [0-9]+ - / { flush(); ind = index($0, "not ok") - 1; end = substr($0, 1, ind) "  ..."
      blk = "== FAILED: " substr($0, ind + 1); inblk = 1; stack = -1; next }
    inblk && $0 == end { inblk = 0; flush(); next }
    inblk && /^ *(duration_ms|code): / { next }
    inblk { if ($0 ~ /^ *stack: /) stack = 0; else if (stack >= 0 && ++stack > 4) next; blk = blk "\n" $0 }
    END { flush() }' "${t}" >&2
done
# The good-release files (long/release-analysis-good-N) each report their counts as a diagnostic
# (lib/analysis.ts goodReport): the run's total.
good="$(cat "${TAPS[@]}" /dev/null | sed -n 's/^ *# release-analysis good releases: \([0-9]*\), false rollbacks: \([0-9]*\)$/\1 \2/p' |
  awk '{ g += $1; f += $2; n++ } END { if (n) print g, f, n }')"
if [[ -n "${good}" ]]; then
  read -r good_runs false_rollbacks good_files <<<"${good}"
  echo "== release analysis: ${good_runs} good releases in ${good_files} files, ${false_rollbacks} false rollbacks" >&2
fi
if ((${#TAPS[@]} == 0)); then
  echo "== no test files were run" >&2
  rc=1
fi
exit "${rc}"
