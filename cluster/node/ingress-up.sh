#!/usr/bin/env bash
# Starts the real node's Ingress controller, Traefik on 127.0.0.1:INGRESS_PORT, as a process of
# this machine with its pid beside the node's (node/down.sh stops it). node/up.sh calls it last;
# test/cluster/run.sh calls it on its own once Traefik's binary is built, so the node's other
# files need not wait for that build.
#
# Its Kubernetes Ingress provider serves the IngressClass nginx (ingress.yaml) of one namespace; it
# sends requests to the pods' addresses from the EndpointSlices, terminating pods only when no
# other is left. No version check, no usage statistics: nothing leaves the machine. No access log:
# it would hold the callers' addresses and paths.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"
HERE="${CLUSTER_HERE}/node"
source "${HERE}/lib.sh"

[[ -x "${TRAEFIK_BIN}" ]] || { nlog "missing ${TRAEFIK_BIN}: run cluster/build.sh ingress"; exit 1; }
[[ -d "${NODE_DIR}/pids" ]] || { nlog "no real node in ${NODE_DIR}: run cluster/node/up.sh"; exit 1; }
t=$SECONDS
kubeconfig_for "${NODE_DIR}/ingress.kubeconfig" shiftops:ingress
render "${HERE}/ingress.yaml" "${NODE_DIR}/ingress.yaml"
kc apply -f "${NODE_DIR}/ingress.yaml" >/dev/null
start traefik env KUBECONFIG="${NODE_DIR}/ingress.kubeconfig" "${TRAEFIK_BIN}" \
  --global.checkNewVersion=false --global.sendAnonymousUsage=false --log.level="${SHIFTOPS_INGRESS_LOG_LEVEL:-INFO}" \
  --entryPoints.web.address="127.0.0.1:${INGRESS_PORT}" \
  --entryPoints.traefik.address="127.0.0.1:${INGRESS_PING_PORT}" --ping=true \
  --providers.kubernetesIngress=true \
  --providers.kubernetesIngress.namespaces="${INGRESS_NAMESPACE}" \
  --providers.kubernetesIngress.ingressEndpoint.ip=127.0.0.1
wait_for traefik 20 "Traefik not answering /ping" url_ok "http://127.0.0.1:${INGRESS_PING_PORT}/ping"
nlog "Ingress controller: Traefik ${TRAEFIK_VERSION} on 127.0.0.1:${INGRESS_PORT} ($((SECONDS - t))s)"
