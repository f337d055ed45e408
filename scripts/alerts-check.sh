#!/usr/bin/env bash
# Runs the alerting rules of docs/operations/safemem-alerts.yml in a real Prometheus that scrapes the leak lab over
# 127.0.0.1 (the lab's --metrics-port: each variant process serves its SafeMem meter through the OpenTelemetry
# Prometheus exporter), then lists which alerts fired on which variant and checks them: SafeMemLeaksReported fires on the
# two variants whose LeakTracker finds leaks (disposal's naive variant, and pooling's SafeMem variant, whose pool finds
# the rentals both variants lose), and no other alert fires on a SafeMem variant. Not part of CI (it takes minutes);
# docs/operations/alerts.md shows its output. Needs prometheus (Debian: apt-get install prometheus) and curl.
#
# The lab compresses an hour of a service into minutes, so the rules run here with every duration divided by 30
# (a 1h window becomes 2m, for: 15m becomes 30s), scraped and evaluated every 2 seconds; their expressions are unchanged.
#
#   scripts/alerts-check.sh [seconds]    (default 240)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-240}
first_port=19464
prometheus_port=19090
scale=30

for tool in prometheus curl perl; do
  command -v "$tool" >/dev/null || { echo "$tool is missing" >&2; exit 1; }
done

work=$(mktemp -d)
lab_pid=
prometheus_pid=
cleanup() {
  # The lab's variants are child processes of the lab: stop them with it.
  [ -n "$lab_pid" ] && { pkill -P "$lab_pid" 2>/dev/null; kill "$lab_pid" 2>/dev/null; } || true
  [ -n "$prometheus_pid" ] && kill "$prometheus_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  [ -n "${KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

dotnet build src/SafeMem.Demo -c Release -v quiet -nologo >/dev/null

# The rules with their durations scaled down (windows, offsets and for: clauses): "15m" becomes "30s".
perl -pe 's/(\[|offset |for: )(\d+)([smh])/$1 . int($2 * {s => 1, m => 60, h => 3600}->{$3} \/ '"$scale"') . "s"/ge' \
  docs/operations/safemem-alerts.yml >"$work/rules.yml"

# Through the dotnet host, not `dotnet run`, so that the lab is this script's child and its variants the lab's.
dotnet src/SafeMem.Demo/bin/Release/net10.0/SafeMem.Demo.dll --duration "$seconds" --metrics-port "$first_port" \
  --output "$work/report.html" >"$work/lab.log" 2>&1 &
lab_pid=$!
for _ in $(seq 100); do grep -q '/metrics' "$work/lab.log" 2>/dev/null && break; sleep 0.2; done
sleep 1

# One scrape target per variant, labelled with its scenario and variant, from the list the lab prints.
{
  echo "global: {scrape_interval: 2s, evaluation_interval: 2s}"
  echo "rule_files: [$work/rules.yml]"
  echo "scrape_configs:"
  echo "  - job_name: leak-lab"
  echo "    static_configs:"
  grep -E '^  [a-z]+ +(naive|safemem) +http://127\.0\.0\.1:[0-9]+/metrics$' "$work/lab.log" | while read -r scenario variant url; do
    target=${url#http://}
    echo "      - {targets: ['${target%/metrics}'], labels: {scenario: $scenario, variant: $variant}}"
  done
} >"$work/prometheus.yml"
targets=$(grep -c "targets:" "$work/prometheus.yml" || true)
[ "$targets" -gt 0 ] || { cat "$work/lab.log"; echo "the lab listed no endpoint" >&2; exit 1; }

prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
  --web.listen-address="127.0.0.1:$prometheus_port" --log.level=warn >"$work/prometheus.log" 2>&1 &
prometheus_pid=$!

query() { curl -sf --get "http://127.0.0.1:$prometheus_port/api/v1/query" --data-urlencode "query=$1"; }
# Read the alerts shortly before the lab ends: the variants then stop serving.
sleep $((seconds - 15))
# Each alert names its process by instance (the rules keep job, instance and safemem_name): the lab's list says which
# scenario and variant serve on that port.
alerts=$(query 'ALERTS' | perl -ne 'while (/"metric":\{([^}]*)\}/g) { my %l = $1 =~ /"(\w+)":"([^"]*)"/g; print "$l{alertname} $l{alertstate} $l{instance} $l{safemem_name}\n" }' \
  | while read -r name state instance block; do
      read -r scenario variant _ < <(grep -F "http://$instance/metrics" "$work/lab.log")
      echo "$name $state $scenario $variant $block"
    done | sort -u | column -t)
# Over the last 30 seconds: on a loaded machine a single scrape of a busy variant can time out.
up=$(query 'count by (scenario, variant) (max_over_time(up[30s]) == 1)' | grep -o '"scenario":"[a-z]*","variant":"[a-z]*"' | wc -l)
series=$(query 'count(last_over_time({__name__=~"safemem_.+"}[30s]))' | grep -oE '"[0-9]+"\]' | tr -d '"]' || echo 0)

echo "Prometheus $(prometheus --version 2>&1 | head -1 | cut -d' ' -f3), $up of $targets lab variants scraped, $series SafeMem series; rules with durations / $scale; alerts after $((seconds - 15)) s:"
echo "${alerts:-  (none)}" | sed 's/^/  /'

status=0
for expected in "SafeMemLeaksReported firing disposal naive" "SafeMemLeaksReported firing pooling safemem"; do
  grep -qE "^${expected// / +} " <<<"$alerts" || { echo "expected, missing: $expected" >&2; status=1; }
done
if grep -E ' safemem ' <<<"$alerts" | grep -vE '^SafeMemLeaksReported +[a-z]+ +pooling +safemem '; then
  echo "an alert fired on a SafeMem variant" >&2
  status=1
fi

# Not waiting for the lab's end: on a loaded machine its naive variants, whose heaps grow, run long past their schedule.
[ "$status" -eq 0 ] && echo "the rules fire where the lab leaks and stay quiet on the SafeMem variants"
exit "$status"
