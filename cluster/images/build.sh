#!/usr/bin/env bash
# Builds the local container images with buildah, without Docker or a registry, and exports them
# as one OCI archive; with --import, imports that archive into a containerd (namespace k8s.io).
#
#   cluster/images/build.sh [--import SOCKET] [--only users|shifts|postgres|pause ...]
#
# Images (names as Kubernetes normalises the manifests' short names):
#   docker.io/library/node:24-bookworm-slim   local base: Debian minbase + Node.js + npm (FROM of ./Dockerfile)
#   docker.io/shiftops/{users,shifts}:TAG     ./Dockerfile, one per line of releases.tsv, plus :dev = 1.0.0
#   docker.io/shiftops/postgres:15            postgres/Containerfile
#   docker.io/shiftops/pause:1.0              pause/pause.c, static
# Every image carries the label io.shiftops.inputs: a hash of everything it is built from (pins,
# these scripts, the Dockerfile and the build context). An image whose inputs are unchanged is
# reused; a changed source or lockfile builds a new one. State lives under
# ${SHIFTOPS_CACHE:-$HOME/.cache/shiftops}/images (buildah storage of its own, downloads,
# the archive); remove that directory to start cold.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "${HERE}/../.." && pwd)"
# shellcheck source=versions.env
source "${HERE}/versions.env"
CACHE="${SHIFTOPS_CACHE:-$HOME/.cache/shiftops}/images"
ARCHIVE="${CACHE}/shiftops-images.oci.tar"
REFS="${CACHE}/shiftops-images.refs"
# shellcheck source=lib.sh
source "${HERE}/lib.sh"

IMPORT_SOCKET=""
ONLY=()
while (($#)); do
  case "$1" in
    --import) IMPORT_SOCKET="${2:?--import needs a containerd socket path}"; shift 2 ;;
    --only) ONLY+=("${2:?--only needs an image: users, shifts, postgres or pause}"); shift 2 ;;
    -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "build.sh: unknown argument '$1'; usage: build.sh [--import SOCKET] [--only NAME]" >&2; exit 64 ;;
  esac
done
wanted() { ((${#ONLY[@]} == 0)) || [[ " ${ONLY[*]} " == *" $1 "* ]]; }

mkdir -p "${CACHE}/downloads" "${CACHE}/work"
# One build at a time per cache: a second caller waits, then finds the images cached.
exec 9>"${CACHE}/.lock"
flock -n 9 || { log "waiting for another build.sh on ${CACHE}"; flock 9; }
ensure_tools
BUILT=()

# --- base: Debian minbase, trimmed -----------------------------------------------------------
BASE=localhost/shiftops/debian:${DEBIAN_SUITE}
base_key="$(inputs_key "${DEBIAN_SUITE} ${DEBIAN_MIRROR}" "${HERE}/rootfs.sh")"
if ! cached "${BASE}" "${base_key}"; then
  t0=$SECONDS
  dir="$(mktemp -d "${CACHE}/work/rootfs.XXXXXX")"
  log "base: debootstrap ${DEBIAN_SUITE} (minbase)"
  bash "${HERE}/rootfs.sh" "${dir}/root"
  log "base: root filesystem $(du -sh "${dir}/root" | cut -f1) in $((SECONDS - t0))s"
  c="$(bah from --pull=never scratch)"
  bah copy "${c}" "${dir}/root/" / >/dev/null
  bah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --cmd '["bash"]' --label "io.shiftops.inputs=${base_key}" "${c}"
  bah commit --rm -q "${c}" "${BASE}" >/dev/null
  rm -rf "${dir}"
  log "base: done in $((SECONDS - t0))s"
fi

# --- node: the base plus Node.js and npm from the npm registry ------------------------------
NODE_IMAGE=docker.io/library/node:24-bookworm-slim
node_key="$(inputs_key "${base_key} node ${NODE_VERSION} npm ${NPM_VERSION}" "${HERE}/node-image.sh")"
if ! cached "${NODE_IMAGE}" "${node_key}"; then
  t0=$SECONDS
  bash "${HERE}/node-image.sh" "${BASE}" "${NODE_IMAGE}" "${node_key}"
  log "node: done in $((SECONDS - t0))s"
fi

# --- the services, one image per release ------------------------------------------------------
REVISION="$(source_revision)"
for service in users shifts; do
  wanted "${service}" || continue
  src_key="$(inputs_key "${node_key} ${service} ${REVISION}" "${REPO}/Dockerfile" \
    "${REPO}/.dockerignore" $(context_files "${service}"))"
  while read -r tag fault; do
    ref="docker.io/shiftops/${service}:${tag}"
    key="$(inputs_key "${src_key} ${tag} ${fault}")"
    BUILT+=("${ref}")
    cached "${ref}" "${key}" && continue
    t0=$SECONDS
    log "${service}:${tag}: building (FAULT=${fault})"
    build_args=(--build-arg "SERVICE=${service}" --build-arg "VERSION=${tag}"
      --build-arg "REVISION=${REVISION}" --build-arg "FAULT=${fault}")
    bah bud --layers --pull=never --network=host --runtime=/usr/sbin/runc \
      "${build_args[@]}" $(build_ca_args) --label "io.shiftops.inputs=${key}" \
      -f "${REPO}/Dockerfile" -t "${ref}" "${REPO}" >"${CACHE}/work/${service}-${tag}.log" 2>&1 ||
      { tail -40 "${CACHE}/work/${service}-${tag}.log" >&2; die "${ref}: build failed (log: ${CACHE}/work/${service}-${tag}.log)"; }
    log "${service}:${tag}: done in $((SECONDS - t0))s"
  done < <(grep -v '^#' "${HERE}/releases.tsv")
  bah tag "docker.io/shiftops/${service}:1.0.0" "docker.io/shiftops/${service}:dev"
  BUILT+=("docker.io/shiftops/${service}:dev")
done

# --- postgres: Debian's PostgreSQL on the base ---------------------------------------------
if wanted postgres; then
  ref="docker.io/shiftops/postgres:${POSTGRES_MAJOR}"
  key="$(inputs_key "${base_key} ${POSTGRES_MAJOR}" "${HERE}/postgres/Containerfile" "${HERE}/postgres/entrypoint.sh")"
  BUILT+=("${ref}")
  if ! cached "${ref}" "${key}"; then
    t0=$SECONDS
    bah bud --layers --pull=never --network=host --runtime=/usr/sbin/runc \
      --build-arg "BASE=${BASE}" --build-arg "POSTGRES_MAJOR=${POSTGRES_MAJOR}" \
      --label "io.shiftops.inputs=${key}" -f "${HERE}/postgres/Containerfile" -t "${ref}" \
      "${HERE}/postgres" >"${CACHE}/work/postgres.log" 2>&1 ||
      { tail -40 "${CACHE}/work/postgres.log" >&2; die "${ref}: build failed"; }
    log "postgres: done in $((SECONDS - t0))s"
  fi
fi

# --- pause: the pod sandbox image -------------------------------------------------------------
if wanted pause; then
  ref="docker.io/shiftops/pause:1.0"
  key="$(inputs_key "$(gcc --version | head -1)" "${HERE}/pause/pause.c")"
  BUILT+=("${ref}")
  if ! cached "${ref}" "${key}"; then
    out="$(mktemp -d "${CACHE}/work/pause.XXXXXX")"
    gcc -static -O2 -Wall -Wextra -Werror -s -o "${out}/pause" "${HERE}/pause/pause.c"
    c="$(bah from --pull=never scratch)"
    bah copy --chmod 0755 "${c}" "${out}/pause" /pause >/dev/null
    bah config --entrypoint '["/pause"]' --cmd '[]' --user 65535:65535 \
      --label "io.shiftops.inputs=${key}" "${c}"
    bah commit --rm -q "${c}" "${ref}" >/dev/null
    rm -rf "${out}"
  fi
fi

print_sizes "${NODE_IMAGE}" "${BUILT[@]}"
export_archive "${BUILT[@]}"
[[ -n "${IMPORT_SOCKET}" ]] && import_archive "${IMPORT_SOCKET}" "${ARCHIVE}" "${REFS}"
exit 0
