#!/usr/bin/env bash
# What one `safemem snapshot` costs a target with a given live heap (docs/production.md): the target's pause while its
# dump is written, the dump's size (disk held until it is read, then deleted), the time safemem takes to read it, the
# tool's peak memory and the snapshot file's size. Targets are SafeMem.Cli.TestTarget in its ballast mode (half the
# bytes in ~100-byte objects, half in 64 KB buffers), run on the .NET 10 shared runtime.
# Usage: scripts/safemem-cost.sh [megabytes...]   (default: 100 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("${@:-100 1000}")
[[ $# -eq 0 ]] && sizes=(100 1000)
dotnet build tests/SafeMem.Cli.Tests -c Release -f net10.0 -nologo -v:q -clp:NoSummary >/dev/null
bin=tests/SafeMem.Cli.Tests/bin/Release/net10.0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "load: $(uptime | sed 's/.*load average: //')"
printf '| live heap | objects | target RSS | pause (dump written) | dump on disk | safemem read | safemem peak RSS | snapshot file |\n'
printf '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n'
for mb in "${sizes[@]}"; do
  mkfifo "$work/hold-$mb"
  dotnet "$bin/SafeMem.Cli.TestTarget.dll" ballast "$mb" <"$work/hold-$mb" >"$work/target-$mb.out" &
  pid=$!
  exec 3>"$work/hold-$mb"
  for _ in $(seq 600); do grep -qx ready "$work/target-$mb.out" && break; sleep 0.2; done
  rss=$(awk '/VmRSS/ {printf "%.0f MB", $2 / 1024}' "/proc/$pid/status")
  /usr/bin/time -f '%M' -o "$work/peak" dotnet "$bin/SafeMem.Cli.dll" snapshot --pid "$pid" -o "$work/$mb.safemem" --format json \
    >"$work/summary.json" 2>"$work/progress"
  exec 3>&-
  wait "$pid" || true
  python3 - "$mb" "$rss" "$work" <<'PY'
import json, re, sys, os
mb, rss, work = sys.argv[1], sys.argv[2], sys.argv[3]
summary = json.load(open(f"{work}/summary.json"))
progress = open(f"{work}/progress").read()
read = re.search(r"read in ([0-9.]+) s", progress).group(1)
peak = int(open(f"{work}/peak").read().split()[-1]) / 1024
print(f"| {summary['bytes'] / 2**20:,.0f} MB | {summary['objects']:,} | {rss} | {summary['pauseSeconds']:.1f} s | {summary['dumpBytes'] / 2**20:,.0f} MB | {read} s | {peak:,.0f} MB | {summary['fileBytes'] / 1024:,.0f} KB |")
PY
done
