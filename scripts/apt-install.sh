#!/usr/bin/env bash
# apt-install.sh <package>...: installs Debian packages for their binaries only, without letting
# their maintainer scripts start a service (PostgreSQL, Prometheus). It puts a policy-rc.d
# (exit 101 = "action forbidden") in place for the install when none exists, and removes only the
# one it wrote: a policy-rc.d that was already there is the machine's and is never touched.
set -euo pipefail
policy="${SHIFTOPS_POLICY_RC_D:-/usr/sbin/policy-rc.d}" # overridable for the test only
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
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
