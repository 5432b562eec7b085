/* stats.c — counters the library keeps about itself. Counters written off
 * the hot path live here; per-ring counters are summed in trail_stats_get. */
#include "core_impl.h"

static uint64_t counters[TRAIL__STAT_COUNT];

void trail__stat_add(enum trail__stat_id id, uint64_t n) {
    __atomic_fetch_add(&counters[id], n, __ATOMIC_RELAXED);
}

uint64_t trail__stat_read(enum trail__stat_id id) {
    return __atomic_load_n(&counters[id], __ATOMIC_RELAXED);
}
