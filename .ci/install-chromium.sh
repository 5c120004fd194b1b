#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests of apps/web, unless /usr/bin/chromium exists.
# Safe to run any number of times.
set -euo pipefail

CHROMIUM_PATH=/usr/bin/chromium

if [ -x "$CHROMIUM_PATH" ]; then
  echo "chromium: found at $CHROMIUM_PATH"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium: $CHROMIUM_PATH is missing and apt-get is not available; install Chromium by hand" >&2
  exit 1
fi

echo "chromium: installing Debian's chromium package"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y chromium

if [ ! -x "$CHROMIUM_PATH" ]; then
  echo "chromium: apt-get finished but $CHROMIUM_PATH is still missing" >&2
  exit 1
fi
echo "chromium: installed $("$CHROMIUM_PATH" --version)"
