#!/usr/bin/env bash
# Prints the fake Nodes (managed by kwok: kwok-controller manages the nodes annotated
# kwok.x-k8s.io/node=fake) as YAML: nodes.sh [COUNT] [ZONES], default 4 nodes in 2 zones.
# kwok-node-1..COUNT, split into ZONES consecutive blocks zone-a, zone-b, ... (4 in 2: 1,2 in zone-a,
# 3,4 in zone-b). No status.addresses on purpose: kwok's node-initialize stage then sets only
# Hostname=localhost and the kubelet port = kwok's port, which metrics-server
# (--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname --kubelet-use-node-status-port)
# uses to scrape kwok. (kwokctl scale node would add an unreachable InternalIP.) No taint: plain
# Deployments schedule.
set -euo pipefail
count="${1:-4}" zones="${2:-2}"
if ! [[ "${count}" =~ ^[1-9][0-9]*$ && "${zones}" =~ ^[1-9][0-9]*$ ]] || (( zones > 26 || zones > count )); then
  echo "usage: $0 [COUNT] [ZONES]: positive integers, ZONES <= COUNT and <= 26 (got '${count}' '${zones}')" >&2
  exit 64
fi
letters=abcdefghijklmnopqrstuvwxyz
for (( i = 1; i <= count; i++ )); do
  zone="zone-${letters:$(( (i - 1) * zones / count )):1}"
  cat <<YAML
---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-${i}
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: '0'
    metrics.k8s.io/resource-metrics-path: /metrics/nodes/kwok-node-${i}/metrics/resource
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/os: linux
    kubernetes.io/hostname: kwok-node-${i}
    kubernetes.io/role: agent
    node-role.kubernetes.io/agent: ''
    type: kwok
    topology.kubernetes.io/region: local
    topology.kubernetes.io/zone: ${zone}
status:
  allocatable:
    cpu: '16'
    memory: 64Gi
    pods: '110'
  capacity:
    cpu: '16'
    memory: 64Gi
    pods: '110'
  nodeInfo:
    architecture: amd64
    operatingSystem: linux
YAML
done
