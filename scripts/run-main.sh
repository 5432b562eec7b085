#!/usr/bin/env bash
# `make run`: the main job. For now, the libtrail tour and the multi-threaded
# example (the full demo stack with traild arrives with the store/API work).
set -euo pipefail
build=${1:-build/release}
out=$(mktemp -d /tmp/trail-run-XXXXXX)
echo "== libtrail tour (console below; JSONL in $out/tour.jsonl)"
"$build/examples/example_tour" "$out/tour.jsonl"
echo
echo "== first JSONL lines"
head -n 3 "$out/tour.jsonl"
echo
echo "== multi-threaded example"
"$build/examples/example_threads" 4 250000 "$out/threads.jsonl"
echo
echo "logs kept in $out"
