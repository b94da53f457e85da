#!/usr/bin/env bash
# Installs what the real node needs from Debian, only what is missing: containerd, runc, the CNI
# plugins, nftables, conntrack, iptables. Installs only: no packaged service is started (an
# existing /usr/sbin/policy-rc.d is left exactly as it is; one is put there for the install only
# when there is none). Idempotent: with everything installed it changes nothing.
set -euo pipefail
log() { printf '[node-install %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

PACKAGES=(containerd runc containernetworking-plugins nftables conntrack iptables)
need=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "${p}" 2>/dev/null | grep -q 'install ok installed' || need+=("${p}")
done
if ((${#need[@]} == 0)); then exit 0; fi
[[ "$(id -u)" == 0 ]] || { log "missing ${need[*]}: run as root, or apt-get install ${need[*]}"; exit 1; }

t0=$SECONDS
prc=/usr/sbin/policy-rc.d
ours=0
if [[ ! -e "${prc}" ]]; then
  printf '#!/bin/sh\n# shiftops cluster/node/install.sh: no service starts during this install\nexit 101\n' >"${prc}"
  chmod +x "${prc}"
  ours=1
fi
remove_ours() { if ((ours)) && grep -q 'shiftops cluster/node/install.sh' "${prc}" 2>/dev/null; then rm -f "${prc}"; fi; }
trap remove_ours EXIT
log "installing ${need[*]} (apt)"
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=300 update -qq
apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
log "installed in $((SECONDS - t0))s"
