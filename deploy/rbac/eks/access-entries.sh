#!/usr/bin/env bash
# Maps IAM roles to the Kubernetes groups that deploy/rbac binds, with EKS access entries (the
# current way; needs the cluster's authentication mode API or API_AND_CONFIG_MAP).
# No access policy is associated: the Kubernetes groups alone carry the permissions, so what a
# developer may do is exactly the Role in deploy/rbac/developers.yaml, in one namespace.
# Usage: CLUSTER_NAME=... ACCOUNT_ID=... [REGION=...] deploy/rbac/eks/access-entries.sh
set -euo pipefail
: "${CLUSTER_NAME:?set CLUSTER_NAME}" "${ACCOUNT_ID:?set ACCOUNT_ID}"
region=(); [ -z "${REGION:-}" ] || region=(--region "$REGION")

# Developers assume this role (from SSO or an IAM group allowed to sts:AssumeRole on it); its
# only IAM permission is developer-iam-policy.json (eks:DescribeCluster for update-kubeconfig).
aws eks create-access-entry "${region[@]}" --cluster-name "$CLUSTER_NAME" \
  --principal-arn "arn:aws:iam::${ACCOUNT_ID}:role/shiftops-developer" \
  --type STANDARD --username 'shiftops-developer:{{SessionName}}' \
  --kubernetes-groups shiftops:developers

# The pipeline's role (e.g. assumed through GitHub OIDC); same IAM policy.
aws eks create-access-entry "${region[@]}" --cluster-name "$CLUSTER_NAME" \
  --principal-arn "arn:aws:iam::${ACCOUNT_ID}:role/shiftops-ci" \
  --type STANDARD --username 'shiftops-ci:{{SessionName}}' \
  --kubernetes-groups shiftops:ci
