#!/usr/bin/env bash
# Installs Debian's redis-server when it is missing, for the integration tests of HybridCache over Redis
# (tests/SafeMem.Extensions.Hybrid.Tests). The tests start and stop their own servers; this script only installs.
# Debian/Ubuntu only; elsewhere install redis-server by hand, or exclude the tests: --filter "Category!=Redis".
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
  redis-server --version
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "redis-server is missing and apt-get is not available: install redis-server by hand" >&2
  exit 1
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# Only the server binary is needed: the package's service is neither wanted nor started by the tests.
$sudo apt-get install -y -qq --no-install-recommends redis-server >/dev/null
# The package may start its own service on 6379 where systemd runs; the tests never use that port, so it is
# harmless, but stop it where possible so it does not hold memory on a CI machine.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet redis-server 2>/dev/null; then
  $sudo systemctl stop redis-server || true
fi
redis-server --version
