#!/usr/bin/env bash
# Watches the leak lab from outside with dotnet-counters (pinned in .config/dotnet-tools.json) and checks that the
# SafeMem meter's instruments appear, with values, for every block the lab runs. Not part of CI; docs/production.md
# shows its output.
#
#   scripts/counters-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# The instruments each lab process must publish (see docs/telemetry.md for all of them): every SafeMem variant, and
# the naive disposal variant, whose LeakTracker reports the sessions it never disposes.
watched=("cache safemem" "events safemem" "attachments safemem" "registries safemem" "disposal safemem" "disposal naive" "pooling safemem")
declare -A expected=(
  ["cache safemem"]="safemem.cache.entry.count safemem.cache.weight safemem.cache.weight.limit safemem.cache.requests safemem.cache.removals"
  ["events safemem"]="safemem.event.subscription.count safemem.event.reclamations safemem.event.raises"
  ["attachments safemem"]="safemem.attachment.entry.count safemem.attachment.additions safemem.attachment.reclamations"
  ["registries safemem"]="safemem.registry.entry.count safemem.registry.additions safemem.registry.reclamations"
  ["disposal safemem"]="safemem.scope.count safemem.scope.disposals safemem.tracker.object.count safemem.tracker.additions safemem.tracker.disposals"
  ["disposal naive"]="safemem.tracker.object.count safemem.tracker.disposals safemem.tracker.leaks"
  ["pooling safemem"]="safemem.pool.rentals safemem.pool.returns safemem.pool.creations safemem.pool.outstanding.count safemem.pool.leaks safemem.tracker.leaks"
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

# Each lab variant runs in a child process of its own.
dotnet run --project src/SafeMem.Demo -c Release --no-build -- --duration 60 --output "$work/report.html" >"$work/lab.log" 2>&1 &
lab_pid=$!

status=0
declare -A pids=()
for process in "${watched[@]}"; do
  for _ in $(seq 150); do
    pids[$process]=$(pgrep -f -- "--child $process" | head -1 || true)
    [ -n "${pids[$process]}" ] && break
    sleep 0.2
  done
  [ -n "${pids[$process]}" ] || { echo "no process for $process" >&2; status=1; }
done
sleep 2 # let the children's runtimes open their diagnostics port

collect() { # "scenario variant": 6 seconds of the SafeMem meter, as CSV
  # Looked up again now: a process seen in its first instants is not always the one that goes on running.
  local pid
  pid=$(pgrep -f -- "--child $1" | head -1 || true)
  [ -n "$pid" ] || return 1
  dotnet tool run dotnet-counters collect --process-id "$pid" --counters SafeMem --refresh-interval 1 \
    --duration 00:00:06 --format csv --output "$work/${1/ /-}.csv" >"$work/${1/ /-}.out" 2>&1
}
# All at once, each with up to three tries: on a busy machine a session sometimes fails to connect (connection reset)
# or records nothing.
collect_with_retries() {
  for _ in 1 2 3; do
    collect "$1" || true
    grep -q ',SafeMem,' "$work/${1/ /-}.csv" 2>/dev/null && return 0
    sleep 1
  done
}
collectors=()
for process in "${watched[@]}"; do
  [ -n "${pids[$process]}" ] || continue
  collect_with_retries "$process" &
  collectors+=($!)
  sleep 1
done
for collector in "${collectors[@]}"; do wait "$collector" || true; done

echo "dotnet-counters $(dotnet tool run dotnet-counters --version | cut -d+ -f1), meter SafeMem, last value of each instrument per lab process:"
for process in "${watched[@]}"; do
  csv="$work/${process/ /-}.csv"
  read -r scenario variant <<<"$process"
  echo "  $scenario ($([ "$variant" = naive ] && echo naive || echo SafeMem) variant):"
  for instrument in ${expected[$process]}; do
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
