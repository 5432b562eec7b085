#!/usr/bin/env bash
# The demo stack of `make run` as an integration test, bounded in time:
# a short load, then `trail story <failed id>` must show the frontend's,
# the backend's and the worker's entries of that request, in time order.
set -euo pipefail
build=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
DEMO_LINGER=0 DEMO_REQUESTS=${DEMO_REQUESTS:-12} timeout 240 "$src/scripts/run-main.sh" "$build" >"$out" 2>&1 || {
    echo "run-main.sh failed:"; cat "$out"; exit 1; }
story=$(sed -n '/^== trail story/,$p' "$out")
fail=0
for who in frontend backend worker; do
    if ! grep -q "$who" <<<"$story"; then echo "story lacks $who entries"; fail=1; fi
done
grep -q 'job failed' <<<"$story" || { echo "story lacks the worker's failure"; fail=1; }
grep -q 'checkout failed' <<<"$story" || { echo "story lacks the frontend's failure"; fail=1; }
if [ $fail -ne 0 ]; then cat "$out"; exit 1; fi
echo "demo story OK:"; echo "$story"
