#!/bin/sh
# Builds bench_store with -O2 against the store sources and runs it.
#   bench/store/run.sh [--entries N] [--keep] [--dir D] [--reuse] [--json]
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${BENCH_OUT:-/tmp/trail-bench-store-bin}
cc -std=c11 -O2 -g -D_GNU_SOURCE -Wall -Wextra -Werror -I"$root/src/store" \
   "$here/bench_store.c" "$root"/src/store/*.c -o "$out" -lzstd -lpthread
exec "$out" "$@"
