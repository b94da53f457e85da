# Common settings for up.sh / down.sh / smoke.sh (sourced, not run).
CLUSTER_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "${CLUSTER_HERE}/versions.env"
[[ -n "${GOTOOLCHAIN:-}" ]] && export GOTOOLCHAIN

CLUSTER_NAME="${SHIFTOPS_CLUSTER_NAME:-shiftops}"
# kwokctl's home (clusters, its cache). Outside the repo; `down.sh` removes the cluster dir.
export KWOK_WORKDIR="${SHIFTOPS_KWOK_WORKDIR:-${SHIFTOPS_CACHE}/kwok}"
export KWOK_KUBE_VERSION="${KUBE_VERSION}"
CLUSTER_DIR="${KWOK_WORKDIR}/clusters/${CLUSTER_NAME}"
# Our own run state (generated config, adapter pid/log/certs), next to kwokctl's cluster dir.
RUN_DIR="${KWOK_WORKDIR}/shiftops-run/${CLUSTER_NAME}"
CLUSTER_KUBECONFIG="${CLUSTER_DIR}/kubeconfig.yaml"
PROMETHEUS_PORT="${SHIFTOPS_PROMETHEUS_PORT:-19090}"
ADAPTER_PORT="${SHIFTOPS_ADAPTER_PORT:-16443}"
# The fake nodes (kwok/nodes.sh): how many, in how many zones.
KWOK_NODES="${SHIFTOPS_KWOK_NODES:-4}"
KWOK_ZONES="${SHIFTOPS_KWOK_ZONES:-2}"
# An audit policy for kube-apiserver (kwokctl --kube-audit-policy); the log is ${AUDIT_LOG}.
AUDIT_POLICY="${SHIFTOPS_AUDIT_POLICY:-}"
AUDIT_LOG="${CLUSTER_DIR}/logs/audit.log"
BIN="${CLUSTER_BIN_DIR}"
# kubectl from the cache first on PATH: kwokctl runs `kubectl` from PATH (there is no
# --kubectl-binary flag) and would download one otherwise.
export PATH="${BIN}:${PATH}"

clog() { printf '[%s %s] %s\n' "$(basename "$0" .sh)" "$(date +%H:%M:%S)" "$*" >&2; }
kc() { kubectl --kubeconfig "${CLUSTER_KUBECONFIG}" "$@"; }

# pid_alive PID NEEDLE: true if PID runs and its command line contains NEEDLE
pid_alive() {
  [[ -n "$1" && -r "/proc/$1/cmdline" ]] && tr '\0' ' ' < "/proc/$1/cmdline" | grep -q -- "$2"
}

stop_pid() { # stop_pid PID NEEDLE: TERM, wait up to 10 s, then KILL
  local pid="$1" needle="$2" i
  pid_alive "${pid}" "${needle}" || return 0
  kill "${pid}" 2>/dev/null || true
  for i in $(seq 1 50); do pid_alive "${pid}" "${needle}" || return 0; sleep 0.2; done
  kill -9 "${pid}" 2>/dev/null || true
}

# --- the real node (cluster/node/), started by up.sh unless SHIFTOPS_REAL_NODE=0 ---------------
# One per machine: kube-proxy's nftables table is called kube-proxy whatever the cluster, so the
# names and ranges below are fixed and node/up.sh refuses to start a second one.
REAL_NODE="${SHIFTOPS_REAL_NODE:-1}"
NODE_NAME="${CLUSTER_NAME}-node"
NODE_DIR="${RUN_DIR}/node"
NODE_LOCK=/run/shiftops-real-node # holds the owning cluster's RUN_DIR
NODE_BRIDGE=so-node               # holds the node IP only (the kernel here has no dummy links)
NODE_IP=10.250.0.1
POD_BRIDGE=so-pods                # made by the CNI bridge plugin, removed by node/down.sh
POD_CIDR=10.244.0.0/24
POD_GW=10.244.0.1
SERVICE_CIDR=10.96.0.0/24         # kube-apiserver --service-cluster-ip-range (up.sh)
KWOK_POD_CIDR=10.0.0.0/24         # kwok-controller's default --cidr for its fake pods
NFT_TABLE=shiftops_node
CGROUP_ROOT=shiftops
CONTAINERD_ROOT="${SHIFTOPS_CACHE}/containerd"
CONTAINERD_SOCK="${NODE_DIR}/containerd/containerd.sock"
PROXY_MODE="${SHIFTOPS_PROXY_MODE:-nftables}"
PAUSE_IMAGE=docker.io/shiftops/pause:1.0
DNS_HEALTH_PORT=18053
DNS_READY_PORT=18054
COREDNS_BIN="${BIN}/coredns-${COREDNS_VERSION}"
KUBE_ROUTER_BIN="${BIN}/kube-router-${KUBE_ROUTER_VERSION}"
# The Ingress controller (Traefik) on the host network: the API on 127.0.0.1:INGRESS_PORT, and
# over TLS (Ingresses with a tls section, the certificate from their Secret) on INGRESS_TLS_PORT.
INGRESS_PORT="${SHIFTOPS_INGRESS_PORT:-18080}"
INGRESS_TLS_PORT="${SHIFTOPS_INGRESS_TLS_PORT:-18443}"
INGRESS_PING_PORT=18081
# The namespace it serves (the seed's, cluster/seed): its Role there is all it may read.
INGRESS_NAMESPACE=7shifts
# ... and the other namespaces it serves (e.g. test/cluster/run.sh's: production on the real node).
read -ra INGRESS_NAMESPACES <<<"${INGRESS_NAMESPACE} ${SHIFTOPS_INGRESS_NAMESPACES:-}"
TRAEFIK_BIN="${BIN}/traefik-${TRAEFIK_VERSION}"
nodectr() { ctr --address "${CONTAINERD_SOCK}" -n k8s.io "$@"; }
