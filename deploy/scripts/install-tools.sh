#!/usr/bin/env bash
# Installs the offline validation tools that deploy/scripts/validate.sh needs, if absent:
#   - kubernetes-validate (PyPI) in a venv under ~/.cache/shiftops: it bundles the Kubernetes
#     JSON schemas, so schema checks need no network at validate time.
#   - promtool, from Debian's `prometheus` package, for `promtool check rules` / `test rules`.
# Idempotent; safe to run on every CI run. Prints where each tool is.
set -euo pipefail

KUBERNETES_VALIDATE_VERSION=1.37.0
SHIFTOPS_CACHE="${SHIFTOPS_CACHE:-$HOME/.cache/shiftops}"
VENV="$SHIFTOPS_CACHE/venv"

if ! "$VENV/bin/kubernetes-validate" --version 2>/dev/null | grep -q "$KUBERNETES_VALIDATE_VERSION"; then
  echo "install-tools: kubernetes-validate $KUBERNETES_VALIDATE_VERSION -> $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
fi
echo "install-tools: kubernetes-validate $("$VENV/bin/kubernetes-validate" --version 2>&1 | tail -1) at $VENV/bin"

if ! command -v promtool >/dev/null 2>&1; then
  echo "install-tools: promtool via apt (Debian package prometheus)"
  # Only promtool is wanted: the package's Prometheus server must not start.
  bash "$(dirname "$0")/../../scripts/apt-install.sh" prometheus
  # Belt and braces: if a service manager started it anyway, stop and disable it.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
    if [ "$(id -u)" -eq 0 ]; then systemctl disable --now prometheus || true; else sudo systemctl disable --now prometheus || true; fi
  fi
fi
echo "install-tools: $(promtool --version 2>&1 | head -1) at $(command -v promtool)"
