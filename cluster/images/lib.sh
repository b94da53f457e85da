# Helpers of build.sh and import.sh (sourced; expects HERE, REPO, CACHE).
# buildah keeps its images in a storage of its own under the cache, so the machine's
# /var/lib/containers is left as it was.

log() { printf '[images %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[images] error: %s\n' "$*" >&2; exit 1; }

bah() {
  buildah --root "${CACHE}/storage" --runroot "${CACHE}/run" --storage-driver overlay "$@"
}

# Installs what is missing from Debian's packages; installs nothing when all is there. The
# machine's /usr/sbin/policy-rc.d and other files are left alone.
ensure_tools() {
  bash "${REPO}/scripts/apt-install.sh" buildah debootstrap runc gcc libc6-dev
}

# inputs_key TEXT [FILE...]: a hash of TEXT and of each file's path (relative to the repo, so a
# clone elsewhere has the same keys) and contents.
inputs_key() {
  local text="$1"; shift
  {
    printf '%s\n' "${text}"
    if (($#)); then (cd "${REPO}" && sha256sum -- "${@#"${REPO}/"}"); fi
  } | sha256sum | cut -c1-32
}

# cached REF KEY: the image exists and was built from exactly these inputs.
cached() {
  local have
  have="$(bah inspect --type image --format '{{index .OCIv1.Config.Labels "io.shiftops.inputs"}}' "$1" 2>/dev/null)" || return 1
  [[ "${have}" == "$2" ]] || return 1
  log "$1: cached (inputs ${2:0:12})"
}

# Every file a service's image is built from (more than the Dockerfile copies is harmless: it
# only costs a rebuild, never a stale image).
context_files() {
  (
    cd "${REPO}"
    printf '%s\n' package.json package-lock.json tsconfig.base.json cli/package.json services/*/package.json
    # What .dockerignore leaves out of the context cannot change the image.
    find packages/service-kit "services/$1" \( -name node_modules -o -name dist -o -name .data -o -name test \) -prune \
      -o -type f ! -name '*.tsbuildinfo' ! -name '*.test.ts' -print
  ) | LC_ALL=C sort -u | sed "s|^|${REPO}/|"
}

# The last commit that changed the image's sources, "-dirty" when they differ from it.
source_revision() {
  local paths=(Dockerfile .dockerignore package.json package-lock.json tsconfig.base.json packages services cli/package.json)
  git -C "${REPO}" rev-parse --git-dir >/dev/null 2>&1 || { echo unknown; return; }
  local rev
  rev="$(git -C "${REPO}" log -1 --format=%h -- "${paths[@]}")"
  [[ -n "$(git -C "${REPO}" status --porcelain -- "${paths[@]}")" ]] && rev="${rev}-dirty"
  echo "${rev:-unknown}"
}

# The CA bundle this host trusts, lent to the build stages' `npm ci` (mounted for RUN steps and
# named by a build argument); the runtime stage never sees it.
build_ca_args() {
  local ca="${NODE_EXTRA_CA_CERTS:-}"
  [[ -z "${ca}" ]] && ca="$(npm config get cafile 2>/dev/null || true)"
  [[ -n "${ca}" && "${ca}" != null && -f "${ca}" ]] || return 0
  printf '%s\n' --volume "${ca}:/run/build-ca.crt:ro" --build-arg NODE_EXTRA_CA_CERTS=/run/build-ca.crt
}

print_sizes() {
  local ref
  printf '%-48s %10s  %s\n' IMAGE SIZE ID
  local size unit id
  for ref in "$@"; do
    # One line per name of the image: the first is enough (no pipe into head: pipefail).
    read -r size unit id < <(bah images --noheading --format '{{.Size}} {{.ID}}' "${ref}")
    printf '%-48s %10s  %s\n' "${ref}" "${size} ${unit}" "${id}"
  done
}

# One OCI image layout holding every image (shared layers once), tarred: what `ctr images
# import` reads. Rewritten only when an image in it changed.
export_archive() {
  local ref ids key layout="${CACHE}/work/oci-layout" t0=$SECONDS
  ids="$(for ref in "$@"; do printf '%s %s\n' "${ref}" "$(bah inspect --type image --format '{{.FromImageID}}' "${ref}")"; done)"
  key="$(printf '%s\n' "${ids}" | sha256sum | cut -c1-32)"
  if [[ -f "${ARCHIVE}" && "$(cat "${ARCHIVE}.key" 2>/dev/null)" == "${key}" ]]; then
    log "archive: cached ${ARCHIVE} ($(du -h "${ARCHIVE}" | cut -f1))"
    return 0
  fi
  rm -rf "${layout}" "${ARCHIVE}" "${ARCHIVE}.key"
  # Each push compresses the image's layers again (buildah 1.28 keeps gzip for oci: even with
  # --disable-compression); the layout stores a shared layer once.
  for ref in "$@"; do bah push -q "${ref}" "oci:${layout}:${ref}" >/dev/null; done
  tar -C "${layout}" -cf "${ARCHIVE}.tmp" .
  mv "${ARCHIVE}.tmp" "${ARCHIVE}"
  rm -rf "${layout}"
  printf '%s\n' "$@" >"${REFS}"
  printf '%s\n' "${key}" >"${ARCHIVE}.key"
  log "archive: ${ARCHIVE} ($(du -h "${ARCHIVE}" | cut -f1), $# images) in $((SECONDS - t0))s"
}

# import_archive SOCKET ARCHIVE REFS: into containerd's k8s.io namespace (where the kubelet's
# CRI looks), then checks that every image is there.
import_archive() {
  local socket="$1" archive="$2" refs="$3" t0=$SECONDS have ref
  command -v ctr >/dev/null || die "ctr not found; it comes with containerd (apt-get install containerd)"
  [[ -S "${socket}" ]] || die "${socket} is not a socket; pass the containerd socket, e.g. --import /run/containerd/containerd.sock"
  [[ -f "${archive}" && -f "${refs}" ]] || die "no image archive at ${archive}; run cluster/images/build.sh first"
  ctr --address "${socket}" --namespace k8s.io images import "${archive}" >/dev/null
  have="$(ctr --address "${socket}" --namespace k8s.io images ls -q)"
  while read -r ref; do
    grep -qxF "${ref}" <<<"${have}" || die "${ref} missing in containerd after the import"
  done <"${refs}"
  log "imported $(wc -l <"${refs}") images into ${socket} (namespace k8s.io) in $((SECONDS - t0))s"
}
