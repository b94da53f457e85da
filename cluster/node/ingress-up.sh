#!/usr/bin/env bash
# Starts the real node's Ingress controller, Traefik on 127.0.0.1:INGRESS_PORT (and INGRESS_TLS_PORT
# for the Ingresses with a tls section), as a process of this machine with its pid beside the
# node's (node/down.sh stops it). node/up.sh calls it last; test/cluster/run.sh calls it on its own
# once Traefik's binary is built, so the node's other files need not wait for that build.
#
# Its Kubernetes Ingress provider serves the IngressClass nginx (ingress.yaml) of the namespaces
# INGRESS_NAMESPACES (lib.sh: the seed's, plus SHIFTOPS_INGRESS_NAMESPACES); it
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
kc apply -f "${HERE}/ingress.yaml" >/dev/null
VARS+=(SERVED_NAMESPACE)
for SERVED_NAMESPACE in "${INGRESS_NAMESPACES[@]}"; do
  render "${HERE}/ingress-namespace.yaml" "${NODE_DIR}/ingress-${SERVED_NAMESPACE}.yaml"
  kc apply -f "${NODE_DIR}/ingress-${SERVED_NAMESPACE}.yaml" >/dev/null
done
start traefik env KUBECONFIG="${NODE_DIR}/ingress.kubeconfig" "${TRAEFIK_BIN}" \
  --global.checkNewVersion=false --global.sendAnonymousUsage=false --log.level="${SHIFTOPS_INGRESS_LOG_LEVEL:-INFO}" \
  --entryPoints.web.address="127.0.0.1:${INGRESS_PORT}" \
  --entryPoints.websecure.address="127.0.0.1:${INGRESS_TLS_PORT}" --entryPoints.websecure.http.tls=true \
  --entryPoints.traefik.address="127.0.0.1:${INGRESS_PING_PORT}" --ping=true \
  --providers.kubernetesIngress=true \
  --providers.kubernetesIngress.namespaces="$(IFS=,; echo "${INGRESS_NAMESPACES[*]}")" \
  --providers.kubernetesIngress.ingressEndpoint.ip=127.0.0.1
wait_for traefik 20 "Traefik not answering /ping" url_ok "http://127.0.0.1:${INGRESS_PING_PORT}/ping"
nlog "Ingress controller: Traefik ${TRAEFIK_VERSION} on 127.0.0.1:${INGRESS_PORT} (TLS ${INGRESS_TLS_PORT}) for ${INGRESS_NAMESPACES[*]} ($((SECONDS - t))s)"
# The seed's hosts, if it is applied already (it was before the controller started).
bash "${CLUSTER_HERE}/seed/hosts.sh"
