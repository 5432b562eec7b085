/* stats.c — counters the library keeps about itself. Counters written off
 * the hot path live here (relaxed atomics); per-ring counters (drops,
 * blocked waits, high-water marks) are summed in trail_stats_get. */
#include "core_impl.h"
#include "ring.h"
#include "runtime.h"

#include <string.h>

static uint64_t counters[TRAIL__STAT_COUNT];
static uint64_t per_level[6];
static uint64_t truncated;

void trail__stat_add(enum trail__stat_id id, uint64_t n) {
    __atomic_fetch_add(&counters[id], n, __ATOMIC_RELAXED);
}

uint64_t trail__stat_read(enum trail__stat_id id) {
    return __atomic_load_n(&counters[id], __ATOMIC_RELAXED);
}

/* Only the writer (backend pass or sync caller, configuration mutex held)
 * counts entries: a plain load and store, no locked instruction. */
void trail__stats_count_entry(int level) {
    int b = level >= TRAIL_CRITICAL ? 5 : level >= TRAIL_ERROR ? 4 : level >= TRAIL_WARNING ? 3
          : level >= TRAIL_SUCCESS ? 2 : level >= TRAIL_INFO ? 1 : 0;
    __atomic_store_n(&per_level[b], __atomic_load_n(&per_level[b], __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

void trail__stats_count_truncated(void) { __atomic_fetch_add(&truncated, 1, __ATOMIC_RELAXED); }

void trail__stats_reset(void) {
    for (int i = 0; i < TRAIL__STAT_COUNT; i++) __atomic_store_n(&counters[i], 0, __ATOMIC_RELAXED);
    for (int i = 0; i < 6; i++) __atomic_store_n(&per_level[i], 0, __ATOMIC_RELAXED);
    __atomic_store_n(&truncated, 0, __ATOMIC_RELAXED);
}

void trail_stats_get(trail_stats *out) {
    if (!out) return;
    memset(out, 0, sizeof *out);
    for (int i = 0; i < 6; i++) {
        out->entries[i] = __atomic_load_n(&per_level[i], __ATOMIC_RELAXED);
        out->entries_total += out->entries[i];
    }
    out->bytes_written = trail__stat_read(TRAIL__STAT_BYTES);
    out->write_errors = trail__stat_read(TRAIL__STAT_WRITE_ERRORS);
    out->rotations = trail__stat_read(TRAIL__STAT_ROTATIONS);
    out->filtered = trail__stat_read(TRAIL__STAT_FILTERED);
    out->truncated = __atomic_load_n(&truncated, __ATOMIC_RELAXED);
    trail__ring_totals t;
    trail__rings_totals(&t);
    out->dropped = t.dropped;
    out->blocked = t.blocked;
    out->queue_high_water = t.high_water;
    out->threads = t.threads;
}
