#!/usr/bin/env bash
# Installs schemathesis (PyPI) into its own venv under ~/.cache/shiftops when absent or at another
# version, the way deploy/scripts/install-tools.sh installs kubernetes-validate. Prints its path.
set -euo pipefail
SCHEMATHESIS_VERSION=4.32.5
SHIFTOPS_CACHE="${SHIFTOPS_CACHE:-$HOME/.cache/shiftops}"
VENV="$SHIFTOPS_CACHE/schemathesis-venv"
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "version $SCHEMATHESIS_VERSION\$"; then
  echo "install: schemathesis $SCHEMATHESIS_VERSION -> $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" >&2
fi
echo "$VENV/bin/schemathesis"
