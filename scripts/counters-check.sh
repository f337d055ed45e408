#!/usr/bin/env bash
# Watches the leak lab from outside with dotnet-counters (pinned in .config/dotnet-tools.json) and checks that the
# SafeMem meter's instruments appear, with values, for every block the lab runs. Not part of CI; docs/production.md
# shows its output.
#
#   scripts/counters-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# The instruments each SafeMem variant of the lab must publish (see docs/telemetry.md for all of them).
declare -A expected=(
  [cache]="safemem.cache.entry.count safemem.cache.weight safemem.cache.weight.limit safemem.cache.requests safemem.cache.removals"
  [events]="safemem.event.subscription.count safemem.event.reclamations safemem.event.raises"
  [attachments]="safemem.attachment.entry.count safemem.attachment.additions safemem.attachment.reclamations"
  [registries]="safemem.registry.entry.count safemem.registry.additions safemem.registry.reclamations"
)

dotnet tool restore >/dev/null
dotnet build src/SafeMem.Demo -c Release -v quiet -nologo >/dev/null

work=$(mktemp -d)
lab_pid=
cleanup() {
  [ -n "$lab_pid" ] && kill "$lab_pid" 2>/dev/null || true
  [ -n "${KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

# Each lab variant runs in a child process of its own: the SafeMem ones are the processes to watch.
dotnet run --project src/SafeMem.Demo -c Release --no-build -- --duration 60 --output "$work/report.html" >"$work/lab.log" 2>&1 &
lab_pid=$!

status=0
declare -A pids=()
for scenario in "${!expected[@]}"; do
  for _ in $(seq 150); do
    pids[$scenario]=$(pgrep -f -- "--child $scenario safemem" | head -1 || true)
    [ -n "${pids[$scenario]}" ] && break
    sleep 0.2
  done
  [ -n "${pids[$scenario]}" ] || { echo "no SafeMem process for $scenario" >&2; status=1; }
done
sleep 2 # let the children's runtimes open their diagnostics port

collect() { # scenario: 6 seconds of the SafeMem meter, as CSV
  # Looked up again now: a process seen in its first instants is not always the one that goes on running.
  local pid
  pid=$(pgrep -f -- "--child $1 safemem" | head -1 || true)
  [ -n "$pid" ] || return 1
  dotnet tool run dotnet-counters collect --process-id "$pid" --counters SafeMem --refresh-interval 1 \
    --duration 00:00:06 --format csv --output "$work/$1.csv" >"$work/$1.out" 2>&1
}
# All four at once, each with up to three tries: on a busy machine a session sometimes fails to connect (connection
# reset) or records nothing.
collect_with_retries() {
  for _ in 1 2 3; do
    collect "$1" || true
    grep -q ',SafeMem,' "$work/$1.csv" 2>/dev/null && return 0
    sleep 1
  done
}
collectors=()
for scenario in cache events attachments registries; do
  [ -n "${pids[$scenario]}" ] || continue
  collect_with_retries "$scenario" &
  collectors+=($!)
  sleep 1
done
for collector in "${collectors[@]}"; do wait "$collector" || true; done

echo "dotnet-counters $(dotnet tool run dotnet-counters --version | cut -d+ -f1), meter SafeMem, last value of each instrument per lab process:"
for scenario in cache events attachments registries; do
  csv="$work/$scenario.csv"
  echo "  $scenario (SafeMem variant):"
  for instrument in ${expected[$scenario]}; do
    line=$(grep -F ",$instrument (" "$csv" 2>/dev/null | tail -3 | sort -t, -k5 -g | tail -1 || true)
    if [ -z "$line" ]; then
      echo "    MISSING  $instrument"
      status=1
    else
      # CSV: timestamp,provider,counter name (with unit and tags),counter type,value
      name=$(echo "$line" | cut -d, -f3- | rev | cut -d, -f3- | rev)
      value=$(echo "$line" | rev | cut -d, -f1 | rev)
      printf '    %-12s %s\n' "$value" "$name"
    fi
  done
done

wait "$lab_pid" || true
lab_pid=
[ "$status" -eq 0 ] && echo "every expected SafeMem instrument appeared" || echo "some SafeMem instruments are missing" >&2
exit "$status"
