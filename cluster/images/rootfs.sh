#!/usr/bin/env bash
# Makes a small Debian root filesystem: rootfs.sh DIR
# debootstrap --variant=minbase, the suite's security and point-release updates applied, then
# documentation, manuals, translations, apt lists and downloaded packages removed. dpkg and apt
# stay usable and keep leaving those out (images built FROM it install packages the same way).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "${HERE}/versions.env"
DIR="$1"

debootstrap --variant=minbase "${DEBIAN_SUITE}" "${DIR}" "${DEBIAN_MIRROR}" >/dev/null

cat >"${DIR}/etc/apt/sources.list" <<EOF
deb ${DEBIAN_MIRROR} ${DEBIAN_SUITE} main
deb ${DEBIAN_MIRROR} ${DEBIAN_SUITE}-updates main
deb ${DEBIAN_MIRROR%/debian}/debian-security ${DEBIAN_SUITE}-security main
EOF
# What the slim images leave out, for every later install too (copyright files stay).
cat >"${DIR}/etc/dpkg/dpkg.cfg.d/shiftops-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
EOF
cat >"${DIR}/etc/apt/apt.conf.d/shiftops-slim" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
APT::Keep-Downloaded-Packages "false";
Acquire::Languages "none";
EOF

# Updates in a mount namespace of its own: /proc is mounted for apt and gone when it exits.
unshare --mount --fork sh -c "mount -t proc proc '${DIR}/proc' && \
  chroot '${DIR}' sh -c 'export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && \
  apt-get -qq -o Dpkg::Use-Pty=0 upgrade -y >/dev/null && apt-get clean'"

find "${DIR}/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete
find "${DIR}/usr/share/doc" -mindepth 1 -type d -empty -delete
find "${DIR}/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
rm -rf "${DIR}"/usr/share/{man,info,lintian}/* \
  "${DIR}"/var/lib/apt/lists/* "${DIR}"/var/cache/apt/* "${DIR}"/var/cache/debconf/*-old \
  "${DIR}"/var/lib/dpkg/*-old "${DIR}"/var/log/* "${DIR}"/tmp/* "${DIR}"/root/.??* 2>/dev/null || true
# The runtime provides these per container.
: >"${DIR}/etc/resolv.conf"
: >"${DIR}/etc/hostname"
rm -f "${DIR}/etc/machine-id"
