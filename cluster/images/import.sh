#!/usr/bin/env bash
# import.sh SOCKET: imports the archive build.sh exported into the containerd at SOCKET,
# namespace k8s.io (the kubelet's), and checks that every image is there.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "${HERE}/../.." && pwd)"
CACHE="${SHIFTOPS_CACHE:-$HOME/.cache/shiftops}/images"
# shellcheck source=lib.sh
source "${HERE}/lib.sh"
mkdir -p "${CACHE}"
exec 9>"${CACHE}/.lock"
flock -n 9 || { log "waiting for build.sh on ${CACHE}"; flock 9; }
[[ $# == 1 ]] || die "usage: import.sh SOCKET (e.g. /run/containerd/containerd.sock)"
import_archive "$1" "${CACHE}/shiftops-images.oci.tar" "${CACHE}/shiftops-images.refs"
