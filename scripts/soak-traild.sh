#!/usr/bin/env bash
# Long randomised correctness soak for traild: the CI harness
# (tests/agent/test_harness.c) with more runs and lines. Every run picks a
# rotation mode (rename, copytruncate, dateext, delaycompress, create), kills
# traild with SIGKILL at random moments, and makes its output fail and stall.
#   scripts/soak-traild.sh [runs] [lines-per-writer]     (defaults 100, 10000)
# Env: HARNESS_SEED=<n> replays a seed; HARNESS_MODE=<0..4> forces one mode;
# BUILD=<dir> reuses a build (default build/soak, ASan+UBSan).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-100}
lines=${2:-10000}
build=${BUILD:-build/soak}
if [ ! -x "$build/tests/agent/agent_test_harness" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DTRAIL_SANITIZE=address,undefined >/dev/null
  cmake --build "$build" -j "$(nproc)" --target traild agent_test_harness
fi
start=$(date +%s)
HARNESS_RUNS=$runs HARNESS_LINES=$lines TEST_TIMEOUT=$((runs * 120 + 600)) \
  "$build/tests/agent/agent_test_harness" randomised_kill9_rotation_faults
echo "soak: ${runs} runs in $(( $(date +%s) - start )) s"
