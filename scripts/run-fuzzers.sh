#!/usr/bin/env bash
# Runs every built libFuzzer target for a bounded time on its seed corpus.
set -euo pipefail
dir=$1; secs=${2:-15}
shopt -s nullglob
found=0
for f in "$dir"/fuzz/fuzz_*; do
  [ -x "$f" ] || continue
  found=1
  name=$(basename "$f")
  corpus=$(mktemp -d)
  seeds="$(dirname "$0")/../fuzz/corpus/${name#fuzz_}"
  [ -d "$seeds" ] && cp -r "$seeds"/. "$corpus"/
  echo "fuzz: $name for ${secs}s"
  "$f" -max_total_time="$secs" -max_len=65536 -print_final_stats=0 "$corpus" >"$corpus.log" 2>&1 || { tail -50 "$corpus.log"; exit 1; }
  rm -rf "$corpus" "$corpus.log"
done
[ $found = 1 ] || echo "fuzz: no targets built"
