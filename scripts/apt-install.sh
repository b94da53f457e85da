#!/usr/bin/env bash
# apt-install.sh <package>...: installs those of the Debian packages that are missing (nothing
# when all are there), for their binaries only, without letting their maintainer scripts start a
# service (PostgreSQL, Prometheus, containerd). It puts a policy-rc.d (exit 101 = "action
# forbidden") in place for the install when none exists, and removes only the one it wrote: a
# policy-rc.d that was already there is the machine's and is never touched. The one installer of
# the repo: .ci/run, deploy/scripts/install-tools.sh and the local cluster tool (cluster/) use it.
set -euo pipefail
policy="${SHIFTOPS_POLICY_RC_D:-/usr/sbin/policy-rc.d}" # overridable for the test only
need=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
((${#need[@]})) || exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

created=""
cleanup() { [ -z "$created" ] || $sudo rm -f "$policy"; }
trap cleanup EXIT
if [ ! -e "$policy" ] && [ ! -L "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
  $sudo chmod 755 "$policy"
  created=1
fi
t0=$SECONDS
echo "apt-install: installing ${need[*]}" >&2
$sudo apt-get -o DPkg::Lock::Timeout=300 update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
  --no-install-recommends "${need[@]}" >/dev/null
echo "apt-install: installed ${need[*]} in $((SECONDS - t0))s" >&2
