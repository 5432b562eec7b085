/* backoff.c — exponential back-off with jitter for output retries. Jitter
 * spreads retries of many agents so a recovering server is not hit in step. */
#include <stdatomic.h>

#include "pipeline.h"

static _Atomic uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t next_rand(void) {
    /* splitmix64 on an atomic counter: thread-safe, no locks. */
    uint64_t z = atomic_fetch_add_explicit(&rng_state, 0x9E3779B97F4A7C15ull, memory_order_relaxed);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int64_t ta_backoff_ns(int attempt, int64_t base_ns, int64_t max_ns) {
    if (attempt < 1) attempt = 1;
    if (base_ns < 1) base_ns = 1;
    if (max_ns < base_ns) max_ns = base_ns;
    int64_t cap = base_ns;
    for (int i = 1; i < attempt && cap < max_ns; i++) cap *= 2;
    if (cap > max_ns) cap = max_ns;
    int64_t lo = base_ns / 2;
    if (cap <= lo) return cap;
    return lo + (int64_t)(next_rand() % (uint64_t)(cap - lo + 1));
}
