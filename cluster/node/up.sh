#!/usr/bin/env bash
# Starts the real node of the cluster that cluster/up.sh just started: a bridge holding the node
# IP, a guard nftables table, containerd (+ runc, CNI bridge), the images (cluster/images/build.sh
# --import), CoreDNS, kubelet, kube-proxy and kube-router's NetworkPolicy controller, all as
# processes of this machine with their pids in the cluster's run directory. Waits for the node to
# be Ready, has the cluster's Prometheus scrape the node's pods (prometheus-sd.ts), then starts the
# Ingress controller (ingress-up.sh). cluster/node/down.sh undoes all of it.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"
HERE="${CLUSTER_HERE}/node"
REPO="$(cd "${CLUSTER_HERE}/.." && pwd)"
source "${HERE}/lib.sh"
T0=$SECONDS
# The Ingress controller (ingress-up.sh) last, unless SHIFTOPS_NODE_INGRESS=0: test/cluster/run.sh
# starts it on its own once Traefik is built.
WITH_INGRESS="${SHIFTOPS_NODE_INGRESS:-1}"

[[ "$(id -u)" == 0 ]] || { nlog "the real node needs root (network, mounts, cgroups): run as root or SHIFTOPS_REAL_NODE=0"; exit 1; }
needed=("${BIN}/kubelet" "${BIN}/kube-proxy" "${COREDNS_BIN}" "${KUBE_ROUTER_BIN}")
[[ "${WITH_INGRESS}" == 0 ]] || needed+=("${TRAEFIK_BIN}")
for b in "${needed[@]}"; do
  [[ -x "${b}" ]] || { nlog "missing ${b}: run cluster/build.sh"; exit 1; }
done
# What the node runs on, from Debian when missing (no packaged service is started).
bash "${CLUSTER_HERE}/../scripts/apt-install.sh" containerd runc containernetworking-plugins nftables conntrack iptables ipset

# One real node per machine (see lib.sh): refuse if another cluster's node still runs.
if [[ -e "${NODE_LOCK}" ]]; then
  owner="$(cat "${NODE_LOCK}")"
  if [[ "${owner}" != "${RUN_DIR}" ]] && compgen -G "${owner}/node/pids/*.pid" >/dev/null; then
    for f in "${owner}"/node/pids/*.pid; do
      if pid_alive "$(cat "$f")" "$(basename "$f" .pid)"; then
        nlog "a real node of another cluster runs (${owner}); stop it first (its down.sh) or use SHIFTOPS_REAL_NODE=0"
        exit 1
      fi
    done
  fi
fi
if ip link show "${NODE_BRIDGE}" >/dev/null 2>&1 || nft list table inet "${NFT_TABLE}" >/dev/null 2>&1; then
  nlog "leftovers of an earlier real node (${NODE_BRIDGE} or table ${NFT_TABLE}): run its down.sh first"
  exit 1
fi
mkdir -p "${NODE_DIR}"/{pids,logs,cni,cni-ipam,pki,kubelet,kubelet-pki,kubelet-plugins,pod-logs,containerd} "${CONTAINERD_ROOT}"
echo "${RUN_DIR}" >"${NODE_LOCK}"
: >"${NODE_DIR}/resolv.conf"

# kube-router's NetworkPolicy controller adds its chains to the iptables filter table (iptables-nft:
# the nftables table `ip filter`); down.sh deletes that table again if it was not there before.
nft list table ip filter >/dev/null 2>&1 && touch "${NODE_DIR}/ip-filter.preexisting"

# --- network: node IP on a bridge of its own; Service range local; the guard table -------------
t=$SECONDS
cat /proc/sys/net/ipv4/ip_forward >"${NODE_DIR}/ip_forward.orig"
ip link add "${NODE_BRIDGE}" type bridge
ip addr add "${NODE_IP}/32" dev "${NODE_BRIDGE}"
ip link set "${NODE_BRIDGE}" up
# Until kube-proxy rewrites a Service address, a packet to it goes nowhere (an empty bridge)
# rather than out of the machine's default route.
ip route add "${SERVICE_CIDR}" dev "${NODE_BRIDGE}" src "${NODE_IP}"
render "${HERE}/guard.nft" "${NODE_DIR}/guard.nft"
nft -f "${NODE_DIR}/guard.nft"
# Host -> pod and pod -> Service -> pod are routed by this machine (pods have no other route).
echo 1 >/proc/sys/net/ipv4/ip_forward
render "${HERE}/cni.conflist" "${NODE_DIR}/cni/10-shiftops.conflist"
nlog "network: ${NODE_BRIDGE} ${NODE_IP}, pods ${POD_CIDR} on ${POD_BRIDGE}, Services ${SERVICE_CIDR} ($((SECONDS - t))s)"

# --- containerd ---------------------------------------------------------------------------------
t=$SECONDS
render "${HERE}/containerd.toml" "${NODE_DIR}/containerd.toml"
start containerd containerd --config "${NODE_DIR}/containerd.toml"
for i in $(seq 1 100); do
  nodectr version >/dev/null 2>&1 && break
  alive_or_die containerd
  sleep 0.1
done
nodectr version >/dev/null || { nlog "containerd does not answer on ${CONTAINERD_SOCK}"; exit 1; }
nlog "containerd $(containerd --version | awk '{print $3}') up in $((SECONDS - t))s"

# --- images -------------------------------------------------------------------------------------
t=$SECONDS
images="${SHIFTOPS_IMAGES_SCRIPT:-${REPO}/cluster/images/build.sh}"
if [[ "${SHIFTOPS_SKIP_IMAGES:-}" != 1 && -f "${images}" ]]; then
  bash "${images}" --import "${CONTAINERD_SOCK}" >&2
fi
have="$(nodectr images ls -q)"
grep -qx "${PAUSE_IMAGE}" <<<"${have}" || { nlog "no ${PAUSE_IMAGE} in containerd: cluster/images/build.sh builds it"; exit 1; }
nlog "images: $(grep -c '^docker.io/shiftops/' <<<"${have}") shiftops images in containerd ($((SECONDS - t))s)"

# --- identities: client certificates signed by the cluster CA -----------------------------------
kubeconfig_for "${NODE_DIR}/kubelet.kubeconfig" "system:node:${NODE_NAME}" system:nodes
kubeconfig_for "${NODE_DIR}/kube-proxy.kubeconfig" system:kube-proxy
kubeconfig_for "${NODE_DIR}/coredns.kubeconfig" shiftops:coredns
kc apply -f "${HERE}/coredns-rbac.yaml" >/dev/null
kubeconfig_for "${NODE_DIR}/kube-router.kubeconfig" shiftops:kube-router
kc apply -f "${HERE}/kube-router-rbac.yaml" >/dev/null

# --- cgroups: the kubelet's root in every hierarchy (it must exist; down.sh removes it) ---------
for h in /sys/fs/cgroup/*/; do
  h="${h%/}"
  case "$(stat -fc %T "${h}")" in cgroupfs | cgroup2fs) mkdir -p "${h}/${CGROUP_ROOT}" ;; esac
done
# A new cpuset cgroup starts with no CPUs and no memory nodes: give it the parent's.
if [[ -d /sys/fs/cgroup/cpuset/${CGROUP_ROOT} ]]; then
  for f in cpuset.cpus cpuset.mems; do
    cat "/sys/fs/cgroup/cpuset/${f}" >"/sys/fs/cgroup/cpuset/${CGROUP_ROOT}/${f}"
  done
fi

# --- CoreDNS, kubelet, kube-proxy ---------------------------------------------------------------
t=$SECONDS
render "${HERE}/Corefile" "${NODE_DIR}/Corefile"
start coredns "${COREDNS_BIN}" -conf "${NODE_DIR}/Corefile"
render "${HERE}/kubelet.yaml" "${NODE_DIR}/kubelet.yaml"
start kubelet "${BIN}/kubelet" --config="${NODE_DIR}/kubelet.yaml" \
  --kubeconfig="${NODE_DIR}/kubelet.kubeconfig" --root-dir="${NODE_DIR}/kubelet" \
  --cert-dir="${NODE_DIR}/kubelet-pki" --node-ip="${NODE_IP}" --hostname-override="${NODE_NAME}" \
  --node-labels="shiftops.dev/real-node=true" --v=1
render "${HERE}/kube-proxy.yaml" "${NODE_DIR}/kube-proxy.yaml"
start kube-proxy "${BIN}/kube-proxy" --config="${NODE_DIR}/kube-proxy.yaml" --v=1

for i in $(seq 1 240); do
  [[ "$(kc get node "${NODE_NAME}" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]] && break
  alive_or_die kubelet
  (( i == 240 )) && { nlog "node ${NODE_NAME} not Ready after 120 s"; kc describe node "${NODE_NAME}" >&2 || true; exit 1; }
  sleep 0.5
done
ready_s=$((SECONDS - t))
for c in coredns kube-proxy containerd; do alive_or_die "${c}"; done
wait_for coredns 20 "CoreDNS not ready" url_ok "http://127.0.0.1:${DNS_READY_PORT}/ready"

# --- NetworkPolicy: kube-router's firewall only --------------------------------------------------
# Its network policy controller (iptables + ipset) enforces the policies for this node's pods; its
# BGP router and IPVS service proxy stay off (kube-proxy routes Services). It needs the Node's
# InternalIP, so it starts once the node is registered. --health-port=0: no health listener on
# every address of the machine; it is up once its first full sync of the filter table is done.
t=$SECONDS
start kube-router "${KUBE_ROUTER_BIN}" --run-firewall=true --run-router=false --run-service-proxy=false \
  --run-loadbalancer=false --enable-ipv4=true --enable-ipv6=false --health-port=0 --metrics-port=0 \
  --kubeconfig="${NODE_DIR}/kube-router.kubeconfig" --hostname-override="${NODE_NAME}" \
  --service-cluster-ip-range="${SERVICE_CIDR}" --v=1
wait_for kube-router 30 "kube-router did no policy sync" grep -q 'sync iptables took' "${NODE_DIR}/logs/kube-router.log"
nlog "NetworkPolicy: kube-router ${KUBE_ROUTER_VERSION} (firewall only) synced ($((SECONDS - t))s)"

# --- Prometheus: the real pods' /metrics --------------------------------------------------------
# Debian's Prometheus has no Kubernetes service discovery, so prometheus-sd.ts watches this node's
# pods and writes them as file_sd targets with the labels kubernetes_sd would give; the job is
# deploy/components/prometheus-scrape's, with file_sd in its place. SIGHUP reloads the config.
t=$SECONDS
kubeconfig_for "${NODE_DIR}/prometheus-sd.kubeconfig" shiftops:prometheus-sd
kc apply -f "${HERE}/prometheus-sd-rbac.yaml" >/dev/null
targets="${NODE_DIR}/prometheus-targets.json"
sd=(env -C "${REPO}" node --conditions=source --import tsx "${HERE}/prometheus-sd.ts")
start prometheus-sd "${sd[@]}" watch "${NODE_DIR}/prometheus-sd.kubeconfig" "${NODE_NAME}" \
  "${POD_CIDR%.*}." "${targets}"
wait_for prometheus-sd 20 "prometheus-sd wrote no ${targets}" test -s "${targets}"
"${sd[@]}" config "${CLUSTER_DIR}/prometheus.yaml" "${targets}"
prom_pid="$(cat "${CLUSTER_DIR}/pids/prometheus.pid")"
pid_alive "${prom_pid}" prometheus || { nlog "no Prometheus (pid ${prom_pid}) to reload"; exit 1; }
kill -HUP "${prom_pid}"
for i in $(seq 1 50); do
  loaded="$(curl -sf --max-time 2 "http://127.0.0.1:${PROMETHEUS_PORT}/api/v1/status/config" || true)"
  [[ "${loaded}" == *'job_name: shiftops'* ]] && break
  (( i == 50 )) && { nlog "Prometheus did not load the shiftops job (its log: ${CLUSTER_DIR}/logs/prometheus.log)"; exit 1; }
  sleep 0.2
done
nlog "Prometheus scrapes the node's pods (job shiftops, targets ${targets}) ($((SECONDS - t))s)"

info="$(kc get node "${NODE_NAME}" -o jsonpath='{.status.nodeInfo.kubeletVersion} {.status.nodeInfo.containerRuntimeVersion}')"
nlog "node ${NODE_NAME} Ready ${ready_s}s after kubelet start (${info}, kube-proxy ${PROXY_MODE}); total $((SECONDS - T0))s"
[[ "${WITH_INGRESS}" == 0 ]] || bash "${HERE}/ingress-up.sh"
