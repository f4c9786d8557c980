#!/usr/bin/env bash
# Install Debian's headless Chromium for the docs' browser test (tests/test_docs.py), if it is missing.
# Needs root (apt-get); prints the browser's path. Usage: docs/chromium.sh
set -euo pipefail
for b in chromium chromium-browser; do
  if command -v "$b" >/dev/null 2>&1; then command -v "$b"; exit 0; fi
done
if [ "$(id -u)" != 0 ]; then
  echo "docs/chromium.sh: chromium is not installed and installing it needs root (apt-get install chromium)" >&2
  exit 3
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null 2>&1 || true
apt-get install -y -qq --no-install-recommends chromium >/dev/null
command -v chromium
