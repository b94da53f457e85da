#!/usr/bin/env bash
# Smoke test of the local test cluster: proves that the real control plane and the kwok
# simulation do what the shiftops cluster tests rely on. Uses a throwaway namespace.
#   (a) a Deployment becomes Available
#   (b) an image ending in -broken never gets Ready (rollout status fails); -crash crash-loops
#   (c) RBAC (auth can-i --as/--as-group and real calls) and Pod Security (restricted) admission
#   (d) pod CPU from the kwok.x-k8s.io/usage-cpu annotation -> metrics.k8s.io -> HPA up and down
#   (e) latency histogram -> Prometheus -> prometheus-adapter -> custom.metrics.k8s.io -> HPA
# If no cluster is running it starts one with up.sh and stops it at the end (down.sh);
# a cluster that was already running is left running.
# Usage: smoke.sh [a b c d e]   (default: all)
set -uo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
HERE="${CLUSTER_HERE}"
PARTS="${*:-a b c d e}"
NS="smoke-$(date +%s)"
NS_RESTRICTED="${NS}-restricted"
STARTED_CLUSTER=0
PASSED=0 FAILED=0
TIMINGS=()

exec 3>&1 4>&2  # original stdout/stderr, for the exit trap (a trap can fire inside a redirected function call)
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  exec 1>&3 2>&4
  if [[ -f "${CLUSTER_KUBECONFIG}" ]]; then
    kc delete namespace "${NS}" "${NS_RESTRICTED}" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  fi
  if [[ "${STARTED_CLUSTER}" == 1 ]]; then bash "${HERE}/down.sh" || true; fi
  exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ok() { PASSED=$((PASSED + 1)); echo "ok   - $*"; }
nok() { FAILED=$((FAILED + 1)); echo "FAIL - $*"; }
check() { # check "description" command...
  local d="$1"; shift
  if "$@" >/tmp/smoke-check.$$ 2>&1; then ok "$d"; else nok "$d"; sed 's/^/       /' /tmp/smoke-check.$$ | tail -n 20; fi
  rm -f /tmp/smoke-check.$$
}
# wait_until TIMEOUT_S CMD...: poll every second; prints seconds taken; fails on timeout
wait_until() {
  local timeout="$1" start=$SECONDS; shift
  while (( SECONDS - start < timeout )); do
    if "$@" >/dev/null 2>&1; then echo $((SECONDS - start)); return 0; fi
    sleep 1
  done
  echo "${timeout}"; return 1
}
timed() { # timed "what" TIMEOUT CMD...: wait_until + record the time
  local what="$1" s; shift
  if s="$(wait_until "$@")"; then ok "${what} (${s}s)"; TIMINGS+=("${what}: ${s}s"); return 0
  else nok "${what} (not within ${s}s)"; TIMINGS+=("${what}: >${s}s (timeout)"); return 1; fi
}
replicas() { kc -n "${NS}" get deploy "$1" -o jsonpath='{.status.replicas}'; }
replicas_ge() { local r; r="$(replicas "$1")"; [[ -n "$r" && "$r" -ge "$2" ]]; }
replicas_eq() { [[ "$(replicas "$1")" == "$2" ]]; }

deployment() { # deployment NAME IMAGE REPLICAS [extra pod annotations as yaml lines]
  cat <<EOF | kc -n "${NS}" apply -f - >/dev/null
apiVersion: apps/v1
kind: Deployment
metadata:
  name: $1
spec:
  replicas: $3
  selector: {matchLabels: {app: $1}}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  template:
    metadata:
      labels: {app: $1}
      annotations:
        placeholder: "x"
${4:-}
    spec:
      containers:
      - name: app
        image: $2
        resources:
          requests: {cpu: 100m, memory: 64Mi}
EOF
}

# ---------------------------------------------------------------------------------------------
if ! [[ -f "${CLUSTER_KUBECONFIG}" ]] || ! kc get --raw /readyz >/dev/null 2>&1; then
  echo "# no running cluster ${CLUSTER_NAME}: starting one (up.sh)"
  STARTED_CLUSTER=1
  t=$SECONDS
  bash "${HERE}/up.sh" >/dev/null || { nok "up.sh"; exit 1; }
  TIMINGS+=("up.sh: $((SECONDS - t))s")
fi
echo "# kubectl $(kubectl version --client -o json | sed -n 's/.*"gitVersion": "\(.*\)".*/\1/p' | head -1), server $(kc version -o json | sed -n 's/.*"gitVersion": "\(.*\)".*/\1/p' | tail -1), namespace ${NS}"
kc create namespace "${NS}" >/dev/null

# --- (a) ---------------------------------------------------------------------------------------
if [[ " ${PARTS} " == *" a "* || " ${PARTS} " == *" b "* ]]; then
  deployment web example.com/shiftops/web:1.0 3
  t=$SECONDS
  check "(a) Deployment web (3 replicas) becomes Available" \
    kc -n "${NS}" rollout status deploy/web --timeout=90s
  TIMINGS+=("(a) deployment available: $((SECONDS - t))s")
  check "(a) 3 pods Running, spread by the scheduler over nodes of both zones" bash -c "set -o pipefail
    [[ \$(kubectl --kubeconfig '${CLUSTER_KUBECONFIG}' -n '${NS}' get pods -l app=web --field-selector=status.phase=Running -o name | wc -l) -eq 3 ]] &&
    for n in \$(kubectl --kubeconfig '${CLUSTER_KUBECONFIG}' -n '${NS}' get pods -l app=web -o jsonpath='{.items[*].spec.nodeName}'); do
      kubectl --kubeconfig '${CLUSTER_KUBECONFIG}' get node \$n -o jsonpath='{.metadata.labels.topology\.kubernetes\.io/zone}{\"\\n\"}'
    done | sort -u | wc -l | grep -qx 2"
fi

# --- (b) ---------------------------------------------------------------------------------------
if [[ " ${PARTS} " == *" b "* ]]; then
  kc -n "${NS}" set image deploy/web app=example.com/shiftops/web:1.1-broken >/dev/null
  if kc -n "${NS}" rollout status deploy/web --timeout=30s >/dev/null 2>&1; then
    nok "(b) rollout to a -broken image must not complete"
  else
    ok "(b) rollout to a -broken image does not complete (rollout status --timeout=30s fails)"
  fi
  check "(b) -broken pod is Running but not Ready" bash -c "
    kubectl --kubeconfig '${CLUSTER_KUBECONFIG}' -n '${NS}' get pods -l app=web -o json |
    jq -e '[.items[] | select(.spec.containers[0].image | endswith(\"-broken\"))
            | select(.status.phase == \"Running\")
            | select(any(.status.conditions[]; .type == \"Ready\" and .status == \"False\"))] | length >= 1'"
  check "(b) old pods keep serving (maxUnavailable 0: 3 Ready replicas of the old image)" bash -c \
    "[[ \$(kubectl --kubeconfig '${CLUSTER_KUBECONFIG}' -n '${NS}' get deploy web -o jsonpath='{.status.readyReplicas}') == 3 ]]"
  kc -n "${NS}" rollout undo deploy/web >/dev/null
  check "(b) rollout undo restores the Deployment" kc -n "${NS}" rollout status deploy/web --timeout=60s

  deployment crashy example.com/shiftops/web:1.2-crash 1
  timed "(b) -crash pod shows CrashLoopBackOff with restartCount >= 2 and lastState.terminated" 90 bash -c "
    kubectl --kubeconfig '${CLUSTER_KUBECONFIG}' -n '${NS}' get pods -l app=crashy -o json |
    jq -e '[.items[].status.containerStatuses[]? | select(.state.waiting.reason == \"CrashLoopBackOff\"
            and .restartCount >= 2 and .lastState.terminated.exitCode == 1)] | length >= 1'"
  kc -n "${NS}" get pods -l app=crashy --no-headers 2>&1 | sed 's/^/       /'
  kc -n "${NS}" delete deploy crashy --wait=false >/dev/null
fi

# --- (c) ---------------------------------------------------------------------------------------
if [[ " ${PARTS} " == *" c "* ]]; then
  cat <<EOF | kc -n "${NS}" apply -f - >/dev/null
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader}
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: readers-read-pods}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: "shiftops:readers"}
EOF
  check "(c) can-i list pods --as=u --as-group=shiftops:readers -> yes" bash -c \
    "[[ \$(kubectl --kubeconfig '${CLUSTER_KUBECONFIG}' -n '${NS}' auth can-i list pods --as=u --as-group=shiftops:readers) == yes ]]"
  check "(c) can-i delete pods as that group -> no" bash -c \
    "[[ \$(kubectl --kubeconfig '${CLUSTER_KUBECONFIG}' -n '${NS}' auth can-i delete pods --as=u --as-group=shiftops:readers) == no ]]"
  check "(c) can-i list pods --as=u without the group -> no" bash -c \
    "[[ \$(kubectl --kubeconfig '${CLUSTER_KUBECONFIG}' -n '${NS}' auth can-i list pods --as=u) == no ]]"
  check "(c) real call: get pods as the group member succeeds" \
    kc -n "${NS}" get pods --as=u --as-group=shiftops:readers
  check "(c) real call: list secrets as the group member is Forbidden" bash -c \
    "kubectl --kubeconfig '${CLUSTER_KUBECONFIG}' -n '${NS}' get secrets --as=u --as-group=shiftops:readers 2>&1 | grep -q Forbidden"

  kc create namespace "${NS_RESTRICTED}" >/dev/null
  kc label namespace "${NS_RESTRICTED}" pod-security.kubernetes.io/enforce=restricted >/dev/null
  out="$(cat <<EOF | kc -n "${NS_RESTRICTED}" apply -f - 2>&1
apiVersion: v1
kind: Pod
metadata: {name: root-pod}
spec:
  containers:
  - name: app
    image: example.com/shiftops/web:1.0
    securityContext: {runAsUser: 0}
EOF
)"
  if grep -q 'violates PodSecurity "restricted' <<<"${out}"; then ok "(c) root pod rejected in a restricted namespace"
  else nok "(c) root pod rejected in a restricted namespace"; echo "       ${out}"; fi
  check "(c) a restricted-compliant pod is admitted" bash -c "cat <<EOF | kubectl --kubeconfig '${CLUSTER_KUBECONFIG}' -n '${NS_RESTRICTED}' apply -f -
apiVersion: v1
kind: Pod
metadata: {name: good-pod}
spec:
  securityContext: {runAsNonRoot: true, runAsUser: 10001, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: example.com/shiftops/web:1.0
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
EOF"
  check "(c) a Deployment of root pods in the restricted namespace gets no pods (FailedCreate)" bash -c "
    cat <<EOF | kubectl --kubeconfig '${CLUSTER_KUBECONFIG}' -n '${NS_RESTRICTED}' apply -f - >/dev/null
apiVersion: apps/v1
kind: Deployment
metadata: {name: rooty}
spec:
  replicas: 1
  selector: {matchLabels: {app: rooty}}
  template:
    metadata: {labels: {app: rooty}}
    spec: {containers: [{name: app, image: example.com/x:1, securityContext: {runAsUser: 0}}]}
EOF
    for i in \$(seq 1 30); do
      kubectl --kubeconfig '${CLUSTER_KUBECONFIG}' -n '${NS_RESTRICTED}' get rs -l app=rooty -o json |
        jq -e '[.items[].status.conditions[]? | select(.type == \"ReplicaFailure\" and (.message | contains(\"PodSecurity\")))] | length > 0' && exit 0
      sleep 1
    done; exit 1"
fi

# --- (d) ---------------------------------------------------------------------------------------
hpa() { # hpa NAME MIN MAX METRICS_YAML
  cat <<EOF | kc -n "${NS}" apply -f - >/dev/null
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: $1}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: $1}
  minReplicas: $2
  maxReplicas: $3
  metrics:
$4
  behavior:
    scaleUp:
      stabilizationWindowSeconds: 0
      policies: [{type: Percent, value: 100, periodSeconds: 5}]
    scaleDown:
      stabilizationWindowSeconds: 5
      policies: [{type: Percent, value: 100, periodSeconds: 5}]
EOF
}
if [[ " ${PARTS} " == *" d "* ]]; then
  deployment cpu example.com/shiftops/api:1.0 1 '        kwok.x-k8s.io/usage-cpu: "30m"'
  kc -n "${NS}" rollout status deploy/cpu --timeout=60s >/dev/null
  timed "(d) metrics.k8s.io reports the pod's 30m CPU (kubectl top pods)" 120 bash -c \
    "kubectl --kubeconfig '${CLUSTER_KUBECONFIG}' -n '${NS}' top pods -l app=cpu --no-headers | awk '{print \$2}' | grep -qx 30m"
  kc -n "${NS}" top pods -l app=cpu 2>&1 | sed 's/^/       /'
  hpa cpu 1 4 '  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}'
  timed "(d) HPA reads CPU (30% of request)" 90 bash -c \
    "[[ \$(kubectl --kubeconfig '${CLUSTER_KUBECONFIG}' -n '${NS}' get hpa cpu -o jsonpath='{.status.currentMetrics[0].resource.current.averageUtilization}') == 30 ]]"
  check "(d) HPA stays at 1 replica at 30% < 70%" replicas_eq cpu 1
  kc -n "${NS}" annotate pods -l app=cpu kwok.x-k8s.io/usage-cpu=250m --overwrite >/dev/null
  if timed "(d) HPA scales up when pod usage rises to 250m (250% of request)" 180 replicas_ge cpu 2; then
    timed "(d) ... and reaches maxReplicas 4" 180 replicas_eq cpu 4
    kc -n "${NS}" annotate pods -l app=cpu kwok.x-k8s.io/usage-cpu=10m --overwrite >/dev/null
    timed "(d) HPA scales down to 1 when usage drops to 10m" 240 replicas_eq cpu 1
  else nok "(d) scale-down (not tried: no scale-up)"; fi
  kc -n "${NS}" get hpa cpu --no-headers 2>&1 | sed 's/^/       /'
  kc -n "${NS}" delete hpa cpu >/dev/null; kc -n "${NS}" delete deploy cpu --wait=false >/dev/null
fi

# --- (e) ---------------------------------------------------------------------------------------
prom() { curl -sf --max-time 10 "http://127.0.0.1:${PROMETHEUS_PORT}/api/v1/query" --data-urlencode "query=$1"; }
if [[ " ${PARTS} " == *" e "* ]]; then
  deployment lat example.com/shiftops/api:1.0 1 '        shiftops.dev/emulated-latency-seconds: "0.05"'
  kc -n "${NS}" rollout status deploy/lat --timeout=60s >/dev/null
  timed "(e) Prometheus has http_request_duration_seconds_bucket for the pod" 120 bash -c \
    "set -o pipefail; curl -sf 'http://127.0.0.1:${PROMETHEUS_PORT}/api/v1/query' --data-urlencode 'query=http_request_duration_seconds_bucket{namespace=\"${NS}\"}' | jq -e '[.data.result[] | select(.metric.pod | startswith(\"lat-\"))] | length >= 10'"
  q="histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket{namespace=\"${NS}\",pod=~\"lat-.*\"}[1m])) by (le, pod))"
  timed "(e) Prometheus p95 of the pod is within its 0.025-0.05 s bucket" 120 bash -c \
    "set -o pipefail; curl -sf 'http://127.0.0.1:${PROMETHEUS_PORT}/api/v1/query' --data-urlencode 'query=${q}' | jq -e '.data.result[0].value[1] | tonumber | . > 0.025 and . <= 0.05'"
  echo "       p95: $(prom "${q}" | jq -c '[.data.result[] | {pod: .metric.pod, p95: .value[1]}]')"
  raw="/apis/custom.metrics.k8s.io/v1beta2/namespaces/${NS}/pods/*/http_request_duration_seconds_p95"
  timed "(e) custom.metrics.k8s.io returns the pod's p95 through prometheus-adapter" 120 bash -c \
    "set -o pipefail; kubectl --kubeconfig '${CLUSTER_KUBECONFIG}' get --raw '${raw}' | jq -e '[.items[] | select(.describedObject.name | startswith(\"lat-\"))] | length > 0'"
  echo "       $(kc get --raw "${raw}" 2>&1 | jq -c '[.items[]? | {pod: .describedObject.name, value}]' 2>&1)"
  hpa lat 1 3 '  - type: Pods
    pods:
      metric: {name: http_request_duration_seconds_p95}
      target: {type: AverageValue, averageValue: 300m}'
  timed "(e) HPA reads the p95 custom metric" 90 bash -c \
    "set -o pipefail; kubectl --kubeconfig '${CLUSTER_KUBECONFIG}' -n '${NS}' get hpa lat -o json | jq -e '.status.currentMetrics[0].pods.current.averageValue != null'"
  check "(e) HPA stays at 1 replica at p95 50 ms < 300 ms" replicas_eq lat 1
  kc -n "${NS}" annotate pods -l app=lat shiftops.dev/emulated-latency-seconds=0.8 --overwrite >/dev/null
  if timed "(e) HPA scales up when the pod's latency rises to 0.8 s" 180 replicas_ge lat 2; then
    echo "       p95: $(prom "${q}" | jq -c '[.data.result[] | {pod: .metric.pod, p95: .value[1]}]')"
    timed "(e) ... and reaches maxReplicas 3" 180 replicas_eq lat 3
    kc -n "${NS}" annotate pods -l app=lat shiftops.dev/emulated-latency-seconds=0.05 --overwrite >/dev/null
    timed "(e) HPA scales down to 1 when latency drops back to 50 ms" 240 replicas_eq lat 1
  else nok "(e) scale-down (not tried: no scale-up)"; fi
  kc -n "${NS}" get hpa lat --no-headers 2>&1 | sed 's/^/       /'
fi

echo "# timings:"
for t in "${TIMINGS[@]}"; do echo "#   ${t}"; done
echo "${PASSED} passed, ${FAILED} failed"
[[ "${FAILED}" == 0 ]]
