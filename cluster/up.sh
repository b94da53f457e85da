#!/usr/bin/env bash
# Starts the local test cluster: a real control plane (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler) with kwok-simulated nodes and pods, metrics-server, Prometheus and
# prometheus-adapter, all on 127.0.0.1, all binaries from build.sh's cache (no downloads); then,
# unless SHIFTOPS_REAL_NODE=0, the real node (node/up.sh: containerd, kubelet, kube-proxy, CoreDNS).
# Prints `export KUBECONFIG=...`. Stop it with down.sh. On failure or Ctrl-C it tears itself down.
#
# Env: SHIFTOPS_CACHE, SHIFTOPS_CLUSTER_NAME (shiftops), SHIFTOPS_PROMETHEUS_PORT (19090),
#      SHIFTOPS_ADAPTER_PORT (16443), SHIFTOPS_SKIP_BUILD=1 (do not run build.sh first),
#      SHIFTOPS_KWOK_NODES (4) and SHIFTOPS_KWOK_ZONES (2): the fake nodes (kwok/nodes.sh),
#      SHIFTOPS_AUDIT_POLICY (a kube-apiserver audit policy file; log in the cluster's logs/audit.log),
#      SHIFTOPS_REAL_NODE=0 (no real node: kwok nodes only), SHIFTOPS_SKIP_IMAGES=1 (do not run
#      cluster/images/build.sh; SHIFTOPS_IMAGES_SCRIPT names another one), SHIFTOPS_PROXY_MODE
#      (nftables).
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
HERE="${CLUSTER_HERE}"
T0=$SECONDS

if [[ "${SHIFTOPS_SKIP_BUILD:-}" != 1 ]]; then
  bash "${HERE}/build.sh" all >&2
fi
for b in kwokctl kwok etcd kube-apiserver kube-controller-manager kube-scheduler kubectl metrics-server prometheus-adapter; do
  [[ -x "${BIN}/${b}" ]] || { clog "missing ${BIN}/${b}: run cluster/build.sh"; exit 1; }
done
PROMETHEUS_BIN="$(command -v prometheus || true)"
[[ -x "${PROMETHEUS_BIN}" ]] || { clog "prometheus not installed: run cluster/build.sh (apt-get install prometheus)"; exit 1; }

if [[ -d "${CLUSTER_DIR}" || -f "${RUN_DIR}/adapter.pid" || -d "${NODE_DIR}" ]]; then
  clog "cluster ${CLUSTER_NAME} exists already: tearing it down first"
  bash "${HERE}/down.sh"
fi

exec 3>&1 4>&2  # original stdout/stderr, for the exit trap (a trap can fire inside a redirected function call)
teardown() {
  local rc=$?
  trap - EXIT INT TERM
  exec 1>&3 2>&4
  clog "up.sh failed or interrupted (rc=${rc}): tearing down"
  if [[ -d "${CLUSTER_DIR}/logs" ]]; then
    for f in "${CLUSTER_DIR}"/logs/*.log "${RUN_DIR}"/adapter.log; do
      [[ -f "$f" ]] && { echo "--- tail ${f}" >&2; tail -n 15 "$f" >&2; }
    done
  fi
  bash "${HERE}/down.sh" || true
  exit "$(( rc == 0 ? 1 : rc ))"
}
trap teardown EXIT
trap 'exit 130' INT TERM

mkdir -p "${RUN_DIR}"
# kwokctl configuration: kwok/kwokctl.yaml plus the local metrics-server manifest directory as an
# absolute path (KWOK_METRICS_SERVER_MANIFESTS does not work: kwok parses list env vars with
# fmt.Sscan, which cannot fill a []string, and silently keeps the default URL).
sed "s#^options:#options:\n  metricsServerManifests:\n  - ${HERE}/kwok/metrics-server#" \
  "${HERE}/kwok/kwokctl.yaml" > "${RUN_DIR}/kwokctl.yaml"
# kube-apiserver: a Service range the real node routes (lib.sh), and a client certificate for
# calls to kubelets (logs, exec, port-forward): the real kubelet authenticates every caller.
cat >> "${RUN_DIR}/kwokctl.yaml" <<EOF
  - name: kube-apiserver
    extraArgs:
      - key: service-cluster-ip-range
        value: ${SERVICE_CIDR}
      - key: kubelet-client-certificate
        value: ${CLUSTER_DIR}/pki/admin.crt
      - key: kubelet-client-key
        value: ${CLUSTER_DIR}/pki/admin.key
      # The real node by its address (its name is in no resolver); kwok's nodes by Hostname.
      - key: kubelet-preferred-address-types
        value: InternalIP,Hostname
  # Debian's prometheus stores under /var/lib/prometheus/metrics2 by default (upstream: ./data):
  # each cluster would write into the package's directory and replay every earlier run's WAL at
  # start. In the cluster's directory instead, which kwokctl delete cluster removes.
  - name: prometheus
    extraArgs:
      - key: storage.tsdb.path
        value: ${CLUSTER_DIR}/prometheus-data
EOF

create_args=(
  --name "${CLUSTER_NAME}" create cluster
  -c "${RUN_DIR}/kwokctl.yaml"
  -c "${HERE}/kwok/stages-default.yaml"
  -c "${HERE}/kwok/stages-shiftops.yaml"
  -c "${HERE}/kwok/metrics.yaml"
  --runtime binary
  --kube-apiserver-binary "${BIN}/kube-apiserver"
  --kube-controller-manager-binary "${BIN}/kube-controller-manager"
  --kube-scheduler-binary "${BIN}/kube-scheduler"
  --kwok-controller-binary "${BIN}/kwok"
  --etcd-binary "${BIN}/etcd"
  --metrics-server-binary "${BIN}/metrics-server"
  --prometheus-binary "${PROMETHEUS_BIN}"
  --prometheus-port "${PROMETHEUS_PORT}"
  --enable metrics-server
  --kube-admission=true --kube-authorization=true
  # Do not add a context to ~/.kube/config (the default): use the cluster's own kubeconfig.
  --kubeconfig=
)
if [[ -n "${AUDIT_POLICY}" ]]; then
  [[ -f "${AUDIT_POLICY}" ]] || { clog "SHIFTOPS_AUDIT_POLICY=${AUDIT_POLICY}: no such file"; exit 1; }
  create_args+=(--kube-audit-policy "$(realpath "${AUDIT_POLICY}")")
fi

# Guard: nothing may be fetched from the network. kwokctl's dry run prints "# Download <src>" for
# every binary/manifest, local paths included (those are symlinked/copied): only http(s) is a fetch.
if "${BIN}/kwokctl" "${create_args[@]}" --dry-run 2>&1 | grep -E '^# (Download|Build) https?://'; then
  clog "kwokctl would download something (lines above): refusing"; exit 1
fi

clog "creating kwokctl cluster ${CLUSTER_NAME} (Kubernetes ${KUBE_VERSION}) in ${CLUSTER_DIR}"
t=$SECONDS
"${BIN}/kwokctl" "${create_args[@]}" --wait 5m >"${RUN_DIR}/kwokctl-create.log" 2>&1 3>&- 4>&- \
  || { cat "${RUN_DIR}/kwokctl-create.log" >&2; exit 1; }
clog "control plane up in $((SECONDS - t))s"

t=$SECONDS
bash "${HERE}/kwok/nodes.sh" "${KWOK_NODES}" "${KWOK_ZONES}" | kc apply -f - >/dev/null
kc wait --for=condition=Ready node --all --timeout=120s >/dev/null
clog "$(kc get nodes --no-headers | wc -l) nodes Ready in $((SECONDS - t))s"

# The latency-autoscaling component as it ships: Prometheus evaluates its PrometheusRule (the per-pod
# p95 recording rule: with no Prometheus Operator here, prometheus/load-rules.ts writes it as a rule
# file that the config names; reloaded below, once Prometheus is ready), and the adapter serves the
# recorded series with the component's own config.
REPO="$(cd "${HERE}/.." && pwd)"
LATENCY_COMPONENT="${REPO}/deploy/components/latency-autoscaling"
(cd "${REPO}" && node --import tsx "${HERE}/prometheus/load-rules.ts" \
  "${CLUSTER_DIR}/prometheus.yaml" "${LATENCY_COMPONENT}/prometheusrule.yaml")

# prometheus-adapter as a host process, like kwokctl runs metrics-server. It has no --kubeconfig
# flag: --lister-kubeconfig plus the authn/authz kubeconfigs (custom-metrics-apiserver builder).
t=$SECONDS
mkdir -p "${RUN_DIR}/adapter-certs"
setsid "${BIN}/prometheus-adapter" \
  --lister-kubeconfig="${CLUSTER_KUBECONFIG}" \
  --authentication-kubeconfig="${CLUSTER_KUBECONFIG}" \
  --authorization-kubeconfig="${CLUSTER_KUBECONFIG}" \
  --bind-address=127.0.0.1 --secure-port="${ADAPTER_PORT}" \
  --cert-dir="${RUN_DIR}/adapter-certs" \
  --prometheus-url="http://127.0.0.1:${PROMETHEUS_PORT}/" \
  --config="${LATENCY_COMPONENT}/prometheus-adapter/config.yaml" \
  --metrics-relist-interval=15s \
  --v=2 \
  </dev/null >"${RUN_DIR}/adapter.log" 2>&1 3>&- 4>&- &
echo $! > "${RUN_DIR}/adapter.pid"
sed "s/@ADAPTER_PORT@/${ADAPTER_PORT}/g" "${HERE}/adapter/apiservice.yaml.tmpl" | kc apply -f - >/dev/null

for api in v1beta1.metrics.k8s.io v1beta2.custom.metrics.k8s.io v1beta1.custom.metrics.k8s.io; do
  if ! kc wait --for=condition=Available "apiservice/${api}" --timeout=120s >/dev/null; then
    kc get apiservice "${api}" -o yaml >&2; exit 1
  fi
done
pid_alive "$(cat "${RUN_DIR}/adapter.pid")" prometheus-adapter || { clog "prometheus-adapter died"; exit 1; }
# kwokctl does not notice a Prometheus that failed to start (e.g. port taken): check it.
for i in $(seq 1 60); do
  curl -sf --max-time 2 "http://127.0.0.1:${PROMETHEUS_PORT}/-/ready" >/dev/null && break
  (( i == 60 )) && { clog "Prometheus not ready on 127.0.0.1:${PROMETHEUS_PORT}"; exit 1; }
  sleep 1
done
kill -HUP "$(cat "${CLUSTER_DIR}/pids/prometheus.pid")"
for i in $(seq 1 50); do
  rules="$(curl -sf --max-time 2 "http://127.0.0.1:${PROMETHEUS_PORT}/api/v1/rules" || true)"
  [[ "${rules}" == *'"name":"shiftops-latency-autoscaling"'* ]] && break
  (( i == 50 )) && { clog "Prometheus did not load the latency rule (log: ${CLUSTER_DIR}/logs/prometheus.log)"; exit 1; }
  sleep 0.2
done
clog "metrics APIs available in $((SECONDS - t))s"

if [[ "${REAL_NODE}" != 0 && -z "${SHIFTOPS_REAL_NODE:-}" && ! -f "${HERE}/images/build.sh" && -z "${SHIFTOPS_IMAGES_SCRIPT:-}" ]]; then
  clog "no real node: cluster/images/build.sh (its images) is not in this checkout; set SHIFTOPS_REAL_NODE=1 to insist"
  REAL_NODE=0
fi
if [[ "${REAL_NODE}" != 0 ]]; then
  bash "${HERE}/node/up.sh" 3>&- 4>&-
fi

trap - EXIT INT TERM
clog "cluster ${CLUSTER_NAME} ready in $((SECONDS - T0))s total"
cat <<EOF
# Kubernetes ${KUBE_VERSION} (kwok ${KWOK_VERSION}); Prometheus http://127.0.0.1:${PROMETHEUS_PORT}
# logs: ${CLUSTER_DIR}/logs/ and ${RUN_DIR}/adapter.log ; stop with: $(realpath --relative-to="$PWD" "${HERE}/down.sh" 2>/dev/null || echo "${HERE}/down.sh")
export KUBECONFIG=${CLUSTER_KUBECONFIG}
export PATH=${BIN}:\$PATH
export KWOK_WORKDIR=${KWOK_WORKDIR}  # for kwokctl --name ${CLUSTER_NAME} get components|logs ...
EOF
