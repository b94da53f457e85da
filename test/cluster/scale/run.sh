#!/usr/bin/env bash
# `npm run test:scale [-- --replicas 10,100,300] [--nodes 51] [--zones 3] [--hpa 100] [--kubectl yes]
# [--out DIR]`: the scale suite (scale.test.ts) on a kwok-only cluster of its own (name shiftops-scale, Prometheus 19093,
# adapter 16446, never the real node), with the API server's audit log on for the measured
# clients (audit-policy.yaml). Runs through test/cluster/run.sh: build (cache), start, tsc, the
# suite, teardown (also on failure). Results (results.json, table.md, cost.svg, hpa.svg) go to --out
# (default: a new directory under ${TMPDIR:-/tmp}).
# --hpa N: the HPA step, from the production HPA's min to N replicas and back (0: none).
# --kubectl no: shiftops only, without the kubectl comparison runs.
# `npm run test:scale:small` is `--replicas 10,50 --nodes 21 --hpa 20 --kubectl no`.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
replicas=10,100,300 nodes=51 zones=3 hpa=100 kubectl=yes out=""
usage() { echo "usage: $0 [--replicas N,N,...] [--nodes N] [--zones N] [--hpa N] [--kubectl yes|no] [--out DIR]" >&2; exit 64; }
while (( $# > 0 )); do
  case "$1" in
    --replicas) replicas="${2:-}"; shift 2 || usage ;;
    --nodes) nodes="${2:-}"; shift 2 || usage ;;
    --zones) zones="${2:-}"; shift 2 || usage ;;
    --hpa) hpa="${2:-}"; shift 2 || usage ;;
    --kubectl) kubectl="${2:-}"; shift 2 || usage ;;
    --out) out="${2:-}"; shift 2 || usage ;;
    *) usage ;;
  esac
done
[[ "${replicas}" =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] \
  || { echo "--replicas: a comma-separated list of positive integers (got '${replicas}')" >&2; exit 64; }
[[ "${hpa}" =~ ^(0|[1-9][0-9]*)$ ]] || { echo "--hpa: a replica count, 0 for no HPA step (got '${hpa}')" >&2; exit 64; }
[[ "${kubectl}" == yes || "${kubectl}" == no ]] || { echo "--kubectl: yes or no (got '${kubectl}')" >&2; exit 64; }
[[ "${zones}" =~ ^[1-9][0-9]*$ ]] || { echo "--zones: a positive integer (got '${zones}')" >&2; exit 64; }
[[ "${nodes}" =~ ^[1-9][0-9]*$ ]] || { echo "--nodes: a positive integer (got '${nodes}')" >&2; exit 64; }
# The HPA step checks the zone spread within the manifests' maxSkew (1). With zones of unequal
# node counts the node spread wins (2 pods a node on 17/17/16 nodes is 34/34/32): equal zones.
if (( hpa > 0 && nodes % zones != 0 )); then
  echo "--nodes ${nodes}: the HPA step needs zones of equal size, a multiple of --zones ${zones} (e.g. $(( (nodes / zones + 1) * zones )))" >&2
  exit 64
fi
# 110 pods per fake node: room for every replica plus a 25% surge.
max="$(tr ',' '\n' <<<"${replicas},${hpa}" | sort -n | tail -1)"
need=$(( (max * 5 / 4 + 1 + 109) / 110 ))
[[ "${nodes}" =~ ^[1-9][0-9]*$ ]] && (( nodes >= need )) \
  || { echo "--nodes '${nodes}': ${max} replicas plus a 25% surge need at least ${need} (110 pods per node)" >&2; exit 64; }

export SHIFTOPS_CLUSTER_NAME="${SHIFTOPS_CLUSTER_NAME:-shiftops-scale}"
export SHIFTOPS_PROMETHEUS_PORT="${SHIFTOPS_PROMETHEUS_PORT:-19093}"
export SHIFTOPS_ADAPTER_PORT="${SHIFTOPS_ADAPTER_PORT:-16446}"
export SHIFTOPS_REAL_NODE=0
export SHIFTOPS_KWOK_NODES="${nodes}" SHIFTOPS_KWOK_ZONES="${zones}"
export SHIFTOPS_AUDIT_POLICY="${REPO}/test/cluster/scale/audit-policy.yaml"
source "${REPO}/cluster/lib.sh" # AUDIT_LOG for this cluster name
export SHIFTOPS_AUDIT_LOG="${AUDIT_LOG}"
export SHIFTOPS_SCALE_REPLICAS="${replicas}"
export SHIFTOPS_SCALE_HPA_MAX="${hpa}"
export SHIFTOPS_SCALE_KUBECTL="$([[ "${kubectl}" == yes ]] && echo 1 || echo 0)"
export SHIFTOPS_SCALE_OUT="${out:-$(mktemp -d "${TMPDIR:-/tmp}/shiftops-scale.XXXXXX")}"
# One file, one hour at most (run.sh's default per-test bound is for the cluster suite).
export SHIFTOPS_TEST_TIMEOUT_MS="${SHIFTOPS_TEST_TIMEOUT_MS:-3600000}"
echo "== scale: replicas ${replicas}, HPA to ${hpa}, kubectl ${kubectl}, ${nodes} nodes in ${zones} zones, results in ${SHIFTOPS_SCALE_OUT}" >&2
exec bash "${REPO}/test/cluster/run.sh" "${REPO}/test/cluster/scale/scale.test.ts"
