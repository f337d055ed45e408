#!/usr/bin/env bash
# Checks and unit-tests the Prometheus alerting rules for the SafeMem meter (docs/operations/safemem-alerts.yml) with
# promtool, on the synthetic series of docs/operations/safemem-alerts.test.yml. Installs Debian's prometheus package
# (which has promtool) when promtool is missing; elsewhere install promtool by hand.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v promtool >/dev/null 2>&1; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "promtool is missing and apt-get is not available: install Prometheus's promtool by hand" >&2
    exit 1
  fi
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  # Only promtool is wanted: stop the service the package may start where systemd runs.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
    $sudo systemctl stop prometheus || true
  fi
fi

promtool --version 2>&1 | head -1
promtool check rules docs/operations/safemem-alerts.yml
promtool test rules docs/operations/safemem-alerts.test.yml
