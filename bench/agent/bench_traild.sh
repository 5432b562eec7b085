#!/usr/bin/env bash
# traild benchmarks (see BENCHMARKS.md, "## traild"), JSONL lines of ~320 B:
#   1. catch-up: N lines already on disk, tail -> json parser -> file output
#   2. catch-up: the same, -> Loki output (JSON+gzip, then protobuf+snappy)
#      -> the local Loki receiver (tests/agent/loki_receiver)
#   3. steady 100k lines/s for 10 s -> file output, then -> Loki output:
#      traild's peak RSS and CPU
#   4. steady 10k lines/s for 20 s -> file output, then -> Loki: traild's CPU
#   5. gzip implementations (zlib, libdeflate, igzip) on a 1 MiB Loki body
#   6. the json parser alone on one core (lines in memory)
# Figures are traild's own CPU time (summed /proc/PID/task/*/schedstat), so "per core"
# means lines per second of CPU, whatever the wall time.
#   bench/agent/bench_traild.sh [release-build-dir] [lines]
set -euo pipefail
build=${1:-build/release}
n=${2:-1000000}
here=$(cd "$(dirname "$0")" && pwd)
traild=$build/src/agent/traild
receiver=$build/tests/agent/loki_receiver
for b in "$traild" "$receiver"; do
  [ -x "$b" ] || { echo "missing $b: cmake --build $build --target traild loki_receiver_bin" >&2; exit 1; }
done
d=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$d"; }
trap cleanup EXIT
cc -O2 -o "$d/rate_writer" "$here/rate_writer.c"
python3 "$here/gen_jsonl.py" "$n" "$d/lines.jsonl"
bytes=$(stat -c %s "$d/lines.jsonl")

# CPU time in ns, summed over traild's threads. /proc/PID/schedstat is exact
# (scheduler clock); utime+stime in /proc/PID/stat is sampled at timer ticks,
# which over- or under-counts a process that wakes on timers by up to ~1/3.
cpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{s += $1} END {printf "%.0f\n", s}'; }
peak_rss_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_receiver -> sets rport; accepted -> entries the receiver stored
start_receiver() {
  rport=$(free_port)
  "$receiver" "$rport" > "$d/receiver.out" 2> "$d/receiver.err" & pids+=($!)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$rport/ready" > /dev/null && return; sleep 0.05; done
  echo "receiver did not start" >&2; exit 1
}
accepted() { curl -sf "http://127.0.0.1:$rport/stats" | awk '{for (i = 1; i < NF; i++) if ($i == "accepted") print $(i+1)}'; }

# Sections to run (all by default): ONLY="file loki steady_100k steady_10k gzip parse"
# (steady_10k_file / steady_10k_loki run one half of steady_10k; STEADY_S sets
# its writer's seconds, 20 by default: CPU is measured from the 5th second on).
only=${ONLY:-file loki steady_100k steady_10k gzip parse}
want() { [[ " $only " == *" $1 "* ]]; }

# config NAME OUTPUT-YAML: one json input on $d/NAME/logs; $PIPELINE_YAML
# (e.g. "{max_inflight_batches: 2}") overrides the pipeline defaults.
config() {
  mkdir -p "$d/$1/logs"
  cat > "$d/$1/t.yaml" <<YAML
state_dir: $d/$1/state
log_level: warning
metrics_listen: "off"
pipeline: ${PIPELINE_YAML:-"{}"}
inputs:
  - {name: app, paths: ["$d/$1/logs/*.jsonl"], parser: json, start_at: beginning}
outputs:
  - $2
YAML
}

report() { # name lines bytes wall_s cpu_ns rss_kb
  python3 - "$@" <<'PY'
import sys
name, n, b, wall, ns, rss = sys.argv[1:]
n, b, wall, cpu = int(n), int(b), float(wall), int(ns) / 1e9
print(f"{name}: {n} lines ({b/n:.0f} B/line) in {wall:.2f} s wall, {cpu:.2f} s CPU: "
      f"{n/wall:,.0f} lines/s wall, {n/cpu:,.0f} lines/s per core, {b/cpu/1e6:.1f} MB/s per core, "
      f"peak RSS {int(rss)/1024:.1f} MiB")
PY
}

# catchup NAME OUTPUT-YAML DONE-CHECK: ships $n lines already on disk
catchup() {
  config "$1" "$2"
  cp "$d/lines.jsonl" "$d/$1/logs/app.jsonl"
  local start end pid
  start=$(date +%s.%N)
  "$traild" --config "$d/$1/t.yaml" 2> "$d/$1/traild.err" & pid=$!; pids+=($pid)
  while [ "$($3)" -lt "$n" ]; do sleep 0.02; done
  end=$(date +%s.%N)
  local ns rss
  ns=$(cpu_ns $pid); rss=$(peak_rss_kb $pid)
  kill $pid; wait $pid || true
  report "$1" "$n" "$bytes" "$(echo "$end - $start" | bc)" "$ns" "$rss"
}

out_lines() { { wc -l < "$d/file/out.jsonl"; } 2>/dev/null || echo 0; }
want file && catchup file "{type: file, path: $d/file/out.jsonl}" out_lines

if want loki; then
  start_receiver
  catchup loki_json_gzip "{type: loki, url: \"http://127.0.0.1:$rport/loki/api/v1/push\"}" accepted
  start_receiver
  catchup loki_protobuf_snappy "{type: loki, encoding: protobuf, url: \"http://127.0.0.1:$rport/loki/api/v1/push\"}" accepted
fi

# steady NAME RATE SECONDS OUTPUT: the writer appends RATE lines/s; CPU is
# measured from 5 s after the writer started until everything is delivered,
# RSS is the peak of the run. OUTPUT: file or loki.
steady() {
  local out check
  if [ "$4" = loki ]; then
    start_receiver
    out="{type: loki, url: \"http://127.0.0.1:$rport/loki/api/v1/push\"}"; check=accepted
  else
    out="{type: file, path: $d/$1/out.jsonl}"; check="steady_lines $1"
  fi
  config "$1" "$out"
  local pid w t0 t1 c0 c1 rss total got
  "$traild" --config "$d/$1/t.yaml" 2> "$d/$1/traild.err" & pid=$!; pids+=($pid)
  sleep 0.5
  "$d/rate_writer" "$d/$1/logs/app.jsonl" "$2" "$3" > "$d/$1/written" & w=$!
  sleep 5
  c0=$(cpu_ns $pid); t0=$(date +%s.%N)
  wait $w
  total=$(cat "$d/$1/written")
  for _ in $(seq 600); do [ "$($check)" -ge "$total" ] && break; sleep 0.05; done
  c1=$(cpu_ns $pid); t1=$(date +%s.%N); rss=$(peak_rss_kb $pid)
  got=$($check)
  kill $pid; wait $pid || true
  python3 - "$1" "$2" "$total" "$got" "$t0" "$t1" "$c0" "$c1" "$rss" <<'PY'
import sys
name, rate, total, got, t0, t1, c0, c1, rss = sys.argv[1:]
wall = float(t1) - float(t0)
cpu = (int(c1) - int(c0)) / 1e9
print(f"{name}: {int(rate):,} lines/s, {int(got):,} of {int(total):,} lines delivered; "
      f"traild CPU {100*cpu/wall:.2f}% of one core (over {wall:.1f} s), peak RSS {int(rss)/1024:.1f} MiB")
PY
}
steady_lines() { { wc -l < "$d/$1/out.jsonl"; } 2>/dev/null || echo 0; }
want steady_100k && steady steady_100k_file 100000 10 file
want steady_100k && steady steady_100k_loki 100000 10 loki
{ want steady_10k || want steady_10k_file; } && steady steady_10k_file 10000 "${STEADY_S:-20}" file
{ want steady_10k || want steady_10k_loki; } && steady steady_10k_loki 10000 "${STEADY_S:-20}" loki

# gzip implementations on a 1 MiB Loki JSON body of these lines (bench/agent/gzip_bench.c)
if want gzip && pkg-config --exists libdeflate libisal; then
  cc -O2 -o "$d/gzip_bench" "$here/gzip_bench.c" $(pkg-config --libs zlib libdeflate libisal)
  "$d/gzip_bench" "$d/lines.jsonl"
fi

want parse || exit 0
# The parser alone, one core (lines in memory, as the pipeline hands them over).
lib=$build/src/agent/libtraild_core.a
if [ -f "$lib" ]; then
  cc -O2 -D_GNU_SOURCE -I"$here/../../src/agent" "$here/parse_bench.c" \
     -Wl,--start-group $(find "$build/src" -name '*.a') -Wl,--end-group \
     $(pkg-config --libs yaml-0.1 libzstd libcurl libmicrohttpd snappy zlib $(pkg-config --exists libdeflate && echo libdeflate) $(pkg-config --exists libisal && echo libisal)) -lcrypto -lpthread -lm -o "$d/parse_bench"
  head -300000 "$d/lines.jsonl" > "$d/p.jsonl"
  "$d/parse_bench" "$d/p.jsonl" json
fi
