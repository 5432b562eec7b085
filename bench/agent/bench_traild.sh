#!/usr/bin/env bash
# traild throughput: tail -> parse (json) -> file output, N lines of ~300 B
# trail JSONL already on disk (catch-up speed, the "lines/s per core" figure)
# and CPU at a steady 10k lines/s.
#   bench/agent/bench_traild.sh [build-dir] [lines]
set -euo pipefail
build=${1:-build/release}
n=${2:-1000000}
traild=$build/src/agent/traild
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
mkdir -p "$d/logs"
python3 "$(dirname "$0")/gen_jsonl.py" "$n" "$d/logs/app.jsonl"
bytes=$(stat -c %s "$d/logs/app.jsonl")
cat > "$d/t.yaml" <<YAML
state_dir: $d/state
log_level: warning
inputs:
  - {name: app, paths: ["$d/logs/*.jsonl"], parser: json}
outputs:
  - {type: file, path: $d/out.jsonl}
YAML
start=$(date +%s.%N)
"$traild" --config "$d/t.yaml" & pid=$!
while [ "$(wc -l < "$d/out.jsonl" 2>/dev/null || echo 0)" -lt "$n" ]; do sleep 0.05; done
end=$(date +%s.%N)
read -r utime stime < <(awk '{print $14, $15}' /proc/$pid/stat)
rss=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
kill $pid; wait $pid || true
hz=$(getconf CLK_TCK)
python3 - "$n" "$bytes" "$start" "$end" "$utime" "$stime" "$hz" "$rss" <<'PY'
import sys
n, b, s, e, u, st, hz, rss = sys.argv[1:]
n, b, wall, cpu = int(n), int(b), float(e) - float(s), (int(u) + int(st)) / int(hz)
print(f"tail->json->file: {n} lines ({b/n:.0f} B/line) in {wall:.2f} s wall, {cpu:.2f} s CPU")
print(f"  {n/wall:,.0f} lines/s wall, {n/cpu:,.0f} lines/s per core, {b/cpu/1e6:.1f} MB/s per core, peak RSS {int(rss)/1024:.1f} MiB")
PY
