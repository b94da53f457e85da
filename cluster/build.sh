#!/usr/bin/env bash
# Builds every binary the local test cluster needs into a versioned cache outside the repo:
#   ${SHIFTOPS_CACHE:-$HOME/.cache/shiftops}/<version set>/bin/
# Idempotent: a binary that is already there is skipped. Needs Go and the Go module proxy only.
# Prometheus itself comes from Debian (apt-get install prometheus), see ensure_prometheus.
#
#   cluster/build.sh [all|control|node|ingress|STEP]
#     control: what the control plane and the kwok nodes need (kwok, etcd, kube, metrics-server,
#              prometheus-adapter, prometheus; kube includes the real node's kubelet and kube-proxy)
#     node:    what only the real node needs (coredns, kube-router)
#     ingress: its Ingress controller (traefik), the longest build, apart so that the real node's
#              other tests need not wait for it; all = control, node, ingress
# Several build.sh may run at once (.ci/run's background build, run.sh's): each step holds a
# lock of its own in the cache while it checks and builds, so a second one waits, then finds
# the binaries there instead of building them again.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "${HERE}/versions.env"
[[ -n "${GOTOOLCHAIN:-}" ]] && export GOTOOLCHAIN

BIN="${CLUSTER_BIN_DIR}"
LOCKS="${BIN%/bin}/locks"
mkdir -p "${BIN}" "${LOCKS}"
export GOFLAGS="${GOFLAGS:-} -mod=mod"
export CGO_ENABLED=0
# -p 2: this machine has 2 cores; more parallel compile jobs only cost memory.
GOBUILD=(go build -p 2 -trimpath)
BUILD_DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
WORK="$(mktemp -d /tmp/shiftops-build.XXXXXX)"
trap 'rm -rf "${WORK}"' EXIT

KUBE_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy)

log() { printf '[build %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
have() { local f; for f in "$@"; do [[ -x "${BIN}/${f}" ]] || return 1; done; }
locked() { # locked NAME CMD...: CMD under the step's lock (waits while another build.sh holds it)
  local name="$1" fd; shift
  exec {fd}>"${LOCKS}/${name}.lock"
  if ! flock -n "${fd}"; then
    log "${name}: another build.sh is on it: waiting"
    flock "${fd}"
  fi
  "$@" # on failure set -e ends the script, which releases the lock
  exec {fd}>&-
}
step() { locked "$1" build_step "$@"; }
build_step() { # build_step NAME FUNC BINARIES... (under the lock: a binary is there once complete)
  local name="$1" fn="$2"; shift 2
  if have "$@"; then log "${name}: cached ($*)"; return 0; fi
  local t0=$SECONDS
  log "${name}: building $*"
  "${fn}"
  have "$@" || { log "${name}: FAILED, missing binaries"; return 1; }
  log "${name}: done in $((SECONDS - t0))s"
}

tools_module() { # tools_module NAME GO_DIRECTIVE MODULE@VERSION [PACKAGE...]
  # cd into ${WORK}/NAME: an empty main module (go.mod with GO_DIRECTIVE) that requires MODULE,
  # with a tools.go importing each PACKAGE, to build other modules' main packages with their
  # required dependency versions. The caller edits go.mod further, then runs `go mod tidy`.
  local d="${WORK}/$1" p
  mkdir -p "$d"
  cd "$d"
  printf 'module shiftops.local/clusterbuild\n\ngo %s\n' "$2" >go.mod
  go mod edit -require="$3"
  shift 3
  (($#)) || return 0
  {
    printf '//go:build tools\npackage tools\nimport (\n'
    for p in "$@"; do printf ' _ "%s"\n' "${p}"; done
    printf ')\n'
  } >tools.go
}

build_kwok() {
  local cmds=(sigs.k8s.io/kwok/cmd/kwok sigs.k8s.io/kwok/cmd/kwokctl)
  tools_module kwok 1.26.0 "sigs.k8s.io/kwok@${KWOK_VERSION}" "${cmds[@]}"
  go mod tidy
  "${GOBUILD[@]}" -o "${BIN}/" \
    -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION} -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${KUBE_VERSION}" \
    "${cmds[@]}"
}

build_etcd() {
  # go install fails (server/go.mod has replace => ../api etc.); the wrapper module uses the
  # required go.etcd.io/etcd/*/v3 versions instead. The module root is package main.
  tools_module etcd 1.26.0 "go.etcd.io/etcd/server/v3@${ETCD_VERSION}" go.etcd.io/etcd/server/v3
  go mod tidy
  "${GOBUILD[@]}" -o "${BIN}/etcd" \
    -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=${ETCD_VERSION}" \
    go.etcd.io/etcd/server/v3
}

build_kube() {
  # k8s.io/kubernetes cannot be `go install`ed: its go.mod replaces k8s.io/* => ./staging/...
  # (required at v0.0.0). Generate the replace list from those v0.0.0 requires.
  local kmod m cmds=()
  for m in "${KUBE_BINARIES[@]}"; do cmds+=("k8s.io/kubernetes/cmd/${m}"); done
  kmod="$(go mod download -json "k8s.io/kubernetes@${KUBE_VERSION}" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  tools_module kube "$(awk '$1=="go"{print $2; exit}' "${kmod}")" "k8s.io/kubernetes@${KUBE_VERSION}" "${cmds[@]}"
  # Keep k/k's default GODEBUG settings (godebug lines in its go.mod).
  grep -E '^godebug ' "${kmod}" >>go.mod || true
  for m in $(awk '/^require \(/{r=1;next} r&&/^\)/{r=0} r&&$2=="v0.0.0"{print $1} $1=="require"&&$3=="v0.0.0"{print $2}' "${kmod}"); do
    go mod edit -replace="${m}=${m}@${KUBE_STAGING_VERSION}"
  done
  log "kube: $(grep -c '=>' go.mod) staging replaces generated from k/k go.mod"
  go mod tidy
  local major minor ldf p
  major="${KUBE_VERSION#v}"; major="${major%%.*}"
  minor="${KUBE_VERSION#v*.}"; minor="${minor%%.*}"
  ldf="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldf+=" -X ${p}.gitVersion=${KUBE_VERSION} -X ${p}.gitMajor=${major} -X ${p}.gitMinor=${minor}"
    ldf+=" -X ${p}.gitTreeState=clean -X ${p}.buildDate=${BUILD_DATE}"
  done
  # One go build for all six: shared packages compile once. Tags as in hack/lib/golang.sh.
  "${GOBUILD[@]}" -tags "selinux,notest,grpcnotrace" -ldflags "${ldf}" -o "${BIN}/" "${cmds[@]}"
}

build_metrics_server() {
  tools_module ms 1.24.4 "sigs.k8s.io/metrics-server@${METRICS_SERVER_VERSION}" sigs.k8s.io/metrics-server/cmd/metrics-server
  go mod tidy
  "${GOBUILD[@]}" -o "${BIN}/metrics-server" \
    -ldflags "-s -w -X k8s.io/client-go/pkg/version.gitVersion=${METRICS_SERVER_VERSION} -X k8s.io/component-base/version.gitVersion=${METRICS_SERVER_VERSION}" \
    sigs.k8s.io/metrics-server/cmd/metrics-server
}

build_prometheus_adapter() {
  tools_module pa 1.22.1 "sigs.k8s.io/prometheus-adapter@${PROMETHEUS_ADAPTER_VERSION}" sigs.k8s.io/prometheus-adapter/cmd/adapter
  go mod tidy
  "${GOBUILD[@]}" -o "${BIN}/prometheus-adapter" -ldflags "-s -w" \
    sigs.k8s.io/prometheus-adapter/cmd/adapter
}

build_coredns() {
  # The binary's name carries its pin (the version-set directory predates it).
  # Only the plugins the cluster DNS uses, in CoreDNS's own order (plugin.cfg): no forward, so
  # it cannot send a query anywhere; names outside cluster.local get REFUSED.
  tools_module coredns 1.25.0 "github.com/coredns/coredns@${COREDNS_VERSION}"
  cat > main.go <<'GO'
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
)

func init() {
	dnsserver.Directives = []string{"bind", "ready", "health", "errors", "log", "loadbalance", "cache", "kubernetes"}
}

func main() { coremain.Run() }
GO
  go mod tidy
  "${GOBUILD[@]}" -o "${BIN}/coredns-${COREDNS_VERSION}" \
    -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=${COREDNS_VERSION}" .
}

build_kube_router() {
  # Only its NetworkPolicy controller runs (cluster/node/up.sh: --run-firewall, no router, no
  # service proxy); the binary's name carries its pin, like CoreDNS's.
  tools_module kube-router 1.21 "github.com/cloudnativelabs/kube-router/v2@${KUBE_ROUTER_VERSION}" \
    github.com/cloudnativelabs/kube-router/v2/cmd/kube-router
  go mod tidy
  "${GOBUILD[@]}" -o "${BIN}/kube-router-${KUBE_ROUTER_VERSION}" \
    -ldflags "-s -w -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=${KUBE_ROUTER_VERSION} -X github.com/cloudnativelabs/kube-router/v2/pkg/version.BuildDate=${BUILD_DATE}" \
    github.com/cloudnativelabs/kube-router/v2/cmd/kube-router
}

build_traefik() {
  # As a dependency, Traefik's go.mod replace directives (its forks of three modules) do not
  # apply: copy them (module => module version lines only) into the wrapper.
  # No `go mod tidy`: it resolves the imports of every platform and build tag (about 1 GB of
  # modules for Traefik's cloud providers). The go.mod requires Traefik; go build -mod=mod
  # (GOFLAGS above) then downloads only the modules of the packages cmd/traefik imports here.
  local tmod rep
  tmod="$(go mod download -json "github.com/traefik/traefik/v3@${TRAEFIK_VERSION}" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  tools_module traefik 1.26.0 "github.com/traefik/traefik/v3@${TRAEFIK_VERSION}"
  for rep in $(awk '/^replace \(/{r=1;next} r&&/^\)/{r=0} r&&$2=="=>"&&NF==4{print $1"="$3"@"$4}' "${tmod}"); do
    go mod edit -replace="${rep}"
  done
  "${GOBUILD[@]}" -o "${BIN}/traefik-${TRAEFIK_VERSION}" \
    -ldflags "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=${TRAEFIK_VERSION}" \
    github.com/traefik/traefik/v3/cmd/traefik
}

ensure_prometheus() {
  if [[ -x /usr/bin/prometheus ]]; then log "prometheus: $(/usr/bin/prometheus --version 2>&1 | head -1)"; return 0; fi
  if [[ "${SHIFTOPS_NO_APT:-}" == 1 ]]; then log "prometheus: missing and SHIFTOPS_NO_APT=1"; return 1; fi
  local t0=$SECONDS
  # The package's own service must not start: kwokctl runs its own Prometheus.
  bash "${HERE}/../scripts/apt-install.sh" prometheus
  # In case something started it anyway (no systemd here, but be sure): stop the packaged daemon.
  if command -v service >/dev/null; then service prometheus stop >/dev/null 2>&1 || true; fi
  local pid
  for pid in $(pgrep -x prometheus || true); do
    if [[ "$(readlink "/proc/${pid}/exe" 2>/dev/null)" == /usr/bin/prometheus ]] && \
       grep -q -- '/etc/prometheus' "/proc/${pid}/cmdline" 2>/dev/null; then kill "${pid}" || true; fi
  done
  log "prometheus: installed in $((SECONDS - t0))s: $(/usr/bin/prometheus --version 2>&1 | head -1)"
}

# The steps and their binaries; step NAME's build function is build_NAME (- as _).
binaries() {
  case "$1" in
    kwok) echo kwok kwokctl ;;
    etcd) echo etcd ;;
    kube) echo "${KUBE_BINARIES[*]}" ;;
    metrics-server) echo metrics-server ;;
    prometheus-adapter) echo prometheus-adapter ;;
    coredns) echo "coredns-${COREDNS_VERSION}" ;;
    kube-router) echo "kube-router-${KUBE_ROUTER_VERSION}" ;;
    traefik) echo "traefik-${TRAEFIK_VERSION}" ;;
    *) return 1 ;;
  esac
}
CONTROL=(kwok etcd kube metrics-server prometheus-adapter prometheus)
NODE=(coredns kube-router)
INGRESS=(traefik)
run_step() { # run_step NAME
  if [[ "$1" == prometheus ]]; then locked prometheus ensure_prometheus; return; fi
  local bins
  read -ra bins <<<"$(binaries "$1")"
  step "$1" "build_${1//-/_}" "${bins[@]}"
}
ready() { # ready NAME: built, and no build of it under way (its lock is free)
  if [[ "$1" == prometheus ]]; then [[ -x /usr/bin/prometheus ]]; return; fi
  local bins fd r=0
  read -ra bins <<<"$(binaries "$1")"
  exec {fd}>"${LOCKS}/$1.lock"
  { flock -n "${fd}" && have "${bins[@]}"; } || r=1
  exec {fd}>&-
  return "${r}"
}

usage="usage: $0 [--check] [all|control|node|ingress|$(IFS='|'; echo "${CONTROL[*]}|${NODE[*]}|${INGRESS[*]}")]"
check=0
if [[ "${1:-}" == --check ]]; then check=1; shift; fi
what="${1:-all}"
case "${what}" in
  all) steps=("${CONTROL[@]}" "${NODE[@]}" "${INGRESS[@]}") ;;
  control) steps=("${CONTROL[@]}") ;;
  node) steps=("${NODE[@]}") ;;
  ingress) steps=("${INGRESS[@]}") ;;
  prometheus) steps=(prometheus) ;;
  *) binaries "${what}" >/dev/null || { echo "${usage}" >&2; exit 2; }; steps=("${what}") ;;
esac

# --check: exit 0 when every binary of the steps is in the cache (and none is being built),
# else 1, naming the steps that are not; builds nothing.
if ((check)); then
  missing=()
  for s in "${steps[@]}"; do ready "${s}" || missing+=("${s}"); done
  ((${#missing[@]} == 0)) || { echo "build.sh --check ${what}: not ready: ${missing[*]}" >&2; exit 1; }
  exit 0
fi

T0=$SECONDS
log "cache: ${BIN}"
log "go: $(go version)"
for s in "${steps[@]}"; do run_step "${s}"; done
log "total: $((SECONDS - T0))s"
