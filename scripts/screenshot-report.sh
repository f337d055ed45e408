#!/usr/bin/env bash
# Renders a leak-lab HTML report in headless Chromium (Debian's package) and saves a PNG screenshot, to look at the
# report as a reader's browser shows it. Not part of CI.
#
#   scripts/screenshot-report.sh [report.html] [out.png]
#
# Without a report, runs the lab (default duration) first and writes leak-lab-report.html in the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."

report=${1:-leak-lab-report.html}
out=${2:-docs/leak-lab-report.png}

if ! command -v chromium >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

if [ -z "${1:-}" ]; then
  dotnet run --project src/SafeMem.Demo -c Release -- --output "$report" >/dev/null || true
fi

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
# The flags that work on a machine with no network but the package registries: no background connections, no GPU.
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --hide-scrollbars --user-data-dir="$profile" \
  --window-size="${WIDTH:-1180},${HEIGHT:-2600}" --screenshot="$(realpath -m "$out")" "file://$(realpath "$report")" 2>/dev/null
echo "screenshot: $out"
