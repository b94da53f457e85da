#!/usr/bin/env bash
# Stops the real node started by cluster/node/up.sh and removes everything it made: its pods
# (deleted through the API while the control plane still runs, so the kubelet tears down their
# network), kube-proxy's rules (kube-proxy --cleanup) and kube-router's (its chains and ipsets),
# the processes (by pid), containers left
# in containerd, mounts under its directories, the bridges, the guard table, the cgroups, and
# ip_forward as it was. Safe to run when nothing runs. Called by cluster/down.sh first.
set -uo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"
nlog() { printf '[node-down %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
[[ -d "${NODE_DIR}" ]] || exit 0
t0=$SECONDS
pidof_() { cat "${NODE_DIR}/pids/$1.pid" 2>/dev/null; }
running() { pid_alive "$(pidof_ "$1")" "$1"; }

# 1. Pods off the node through the API: the kubelet stops them (CNI DEL, netns removed).
if running kubelet && kc get node "${NODE_NAME}" >/dev/null 2>&1; then
  kc cordon "${NODE_NAME}" >/dev/null 2>&1 || true
  kc delete pods -A --field-selector "spec.nodeName=${NODE_NAME}" --grace-period=1 --wait=false >/dev/null 2>&1 || true
  for i in $(seq 1 60); do
    n="$(nodectr tasks ls 2>/dev/null | awk 'NR>1 && $3=="RUNNING"' | wc -l)"
    [[ "${n}" == 0 ]] && break
    sleep 0.5
  done
fi

# 2. Processes, by pid. kube-proxy removes its own rules afterwards with --cleanup; kube-router's
#    are removed below (5.), not with its --cleanup-config, which also flushes every IPVS service of
#    the machine and runs its router's cleanup.
for c in prometheus-sd traefik kube-router kube-proxy kubelet coredns; do
  if running "${c}"; then nlog "stopping ${c} (pid $(pidof_ "${c}"))"; stop_pid "$(pidof_ "${c}")" "${c}"; fi
done
if [[ -f "${NODE_DIR}/kube-proxy.yaml" ]]; then
  "${BIN}/kube-proxy" --config="${NODE_DIR}/kube-proxy.yaml" --cleanup >"${NODE_DIR}/logs/kube-proxy-cleanup.log" 2>&1 ||
    { nlog "kube-proxy --cleanup failed:"; tail -n 5 "${NODE_DIR}/logs/kube-proxy-cleanup.log" >&2; }
fi

# 3. Containers still in containerd (e.g. the kubelet died first): kill, remove, and remove
#    their network namespaces (only those of our sandboxes, read from their specs).
if running containerd; then
  netns=()
  for id in $(nodectr containers ls -q 2>/dev/null); do
    ns="$(nodectr containers info "${id}" 2>/dev/null | grep -o '"path": *"/[^"]*netns/[^"]*"' | head -1 | sed 's/.*"\(\/[^"]*\)"/\1/')"
    [[ -n "${ns}" ]] && netns+=("${ns}")
    nodectr tasks kill -s SIGKILL "${id}" >/dev/null 2>&1 || true
  done
  sleep 0.5
  for id in $(nodectr containers ls -q 2>/dev/null); do
    nodectr tasks delete -f "${id}" >/dev/null 2>&1 || true
    nodectr containers rm "${id}" >/dev/null 2>&1 || true
  done
  for ns in $(printf '%s\n' "${netns[@]}" | sort -u); do
    [[ -e "${ns}" ]] && { ip netns delete "$(basename "${ns}")" 2>/dev/null || umount "${ns}" 2>/dev/null; rm -f "${ns}"; }
  done
  nlog "stopping containerd (pid $(pidof_ containerd))"
  stop_pid "$(pidof_ containerd)" containerd
fi
# Shims outlive containerd: stop those of this containerd (their command line names its socket).
for p in $(pgrep -f "containerd-shim-runc-v2 .*-address ${CONTAINERD_SOCK}" || true); do stop_pid "${p}" "${CONTAINERD_SOCK}"; done

# 4. Mounts under our directories, deepest first.
for m in $(findmnt -rn -o TARGET | grep -E "^(${NODE_DIR}|${CONTAINERD_ROOT})/" | sort -r); do
  umount "${m}" 2>/dev/null || umount -l "${m}" 2>/dev/null || nlog "could not unmount ${m}"
done

# 5. Network: bridges (the pod bridge goes with its last veth anyway), the guard table,
#    kube-proxy's tables if --cleanup left them, ip_forward as it was, libcni's cache.
for l in "${POD_BRIDGE}" "${NODE_BRIDGE}"; do ip link show "${l}" >/dev/null 2>&1 && ip link del "${l}"; done
nft list table inet "${NFT_TABLE}" >/dev/null 2>&1 && nft delete table inet "${NFT_TABLE}"
for fam in ip ip6; do nft list table "${fam}" kube-proxy >/dev/null 2>&1 && nft delete table "${fam}" kube-proxy; done
# kube-proxy in iptables mode: --cleanup leaves KUBE-FIREWALL (filter INPUT/OUTPUT) behind. Remove the KUBE-*
# chains and the jumps to them, then the iptables-nft tables that hold nothing else any more.
grep -q "^mode: *['\"]*iptables" "${NODE_DIR}/kube-proxy.yaml" 2>/dev/null && for ipt in iptables-nft ip6tables-nft; do
  command -v "${ipt}" >/dev/null || continue
  fam=ip; [[ "${ipt}" == ip6* ]] && fam=ip6
  for t in filter nat mangle; do
    nft list table "${fam}" "${t}" >/dev/null 2>&1 || continue
    "${ipt}" -t "${t}" -S 2>/dev/null | grep -E '^-A [A-Z]+ .*-j KUBE-' | sed 's/^-A //' |
      while read -r rule; do eval "${ipt} -t ${t} -D ${rule}" 2>/dev/null; done
    for c in $("${ipt}" -t "${t}" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^KUBE-/ {print $2}'); do
      "${ipt}" -t "${t}" -F "${c}" 2>/dev/null; "${ipt}" -t "${t}" -X "${c}" 2>/dev/null
    done
    [[ -z "$("${ipt}" -t "${t}" -S 2>/dev/null | grep -v -E '^(-P [A-Z]+ ACCEPT|#)')" ]] && nft delete table "${fam}" "${t}"
  done
done
# kube-router's NetworkPolicy rules: the jumps from INPUT/FORWARD/OUTPUT, its chains (what its own
# netpol cleanup removes: KUBE-ROUTER-*, KUBE-POD-FW-*, KUBE-NWPLCY-*), its ipsets (KUBE-SRC-*,
# KUBE-DST-*), then the `ip filter` table if up.sh did not find one there.
if command -v iptables-nft >/dev/null && nft list table ip filter >/dev/null 2>&1; then
  iptables-nft -t filter -S 2>/dev/null | grep -E '^-A (INPUT|FORWARD|OUTPUT) .*-j KUBE-ROUTER-' | sed 's/^-A //' |
    while read -r rule; do eval "iptables-nft -t filter -D ${rule}" 2>/dev/null; done
  kr_chains="$(iptables-nft -t filter -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^KUBE-(ROUTER-|POD-FW-|NWPLCY-)/ {print $2}')"
  for c in ${kr_chains}; do iptables-nft -t filter -F "${c}" 2>/dev/null; done
  for c in ${kr_chains}; do iptables-nft -t filter -X "${c}" 2>/dev/null; done
  [[ ! -e "${NODE_DIR}/ip-filter.preexisting" && -z "$(iptables-nft -t filter -S 2>/dev/null | grep -v -E '^(-P [A-Z]+ ACCEPT|#)')" ]] &&
    nft delete table ip filter
fi
if command -v ipset >/dev/null; then
  for s in $(ipset list -n 2>/dev/null | grep -E '^KUBE-(SRC|DST)-'); do ipset destroy "${s}" || nlog "could not destroy ipset ${s}"; done
fi
[[ -f "${NODE_DIR}/ip_forward.orig" ]] && cat "${NODE_DIR}/ip_forward.orig" >/proc/sys/net/ipv4/ip_forward
# libcni's result cache (containerd gives it no other place): our network's entries, then the
# directories if nothing else is in them.
rm -f /var/lib/cni/results/shiftops-*
rmdir /var/lib/cni/results /var/lib/cni 2>/dev/null

# 6. The kubelet's cgroups (empty once every container is gone), deepest first.
for h in /sys/fs/cgroup/*/"${CGROUP_ROOT}" /sys/fs/cgroup/"${CGROUP_ROOT}"; do
  [[ -d "${h}" ]] && find "${h}" -depth -type d -exec rmdir {} + 2>/dev/null
  [[ -d "${h}" ]] && nlog "cgroup ${h} still has processes"
done

[[ "$(cat "${NODE_LOCK}" 2>/dev/null)" == "${RUN_DIR}" ]] && rm -f "${NODE_LOCK}"
rm -rf "${NODE_DIR}"
nlog "real node down in $((SECONDS - t0))s"
