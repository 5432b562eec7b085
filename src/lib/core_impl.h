/* core_impl.h — services of the libtrail core used by the other parts of the
 * library (handlers, formatters, filters). Owned by the core (logger.c,
 * capture.c, backend.c, ring.c, stats.c, error.c, levels.c, clock.c). */
#ifndef TRAIL_CORE_IMPL_H
#define TRAIL_CORE_IMPL_H

#include "trail.h"

/* Records the detailed message for trail_last_error() on this thread and
 * returns err (a negative errno) so callers can `return trail__error(...)`. */
int trail__error(int err, const char *fmt, ...) TRAIL_PRINTF(2, 3);

/* Reports an internal problem once per `key` (a static string) on stderr,
 * e.g. a handler's first write error; later reports with the same key are
 * counted but silent until trail__report_clear(key) (called on recovery). */
void trail__report_once(const char *key, const char *fmt, ...) TRAIL_PRINTF(2, 3);
void trail__report_clear(const char *key);

enum trail__stat_id {
    TRAIL__STAT_BYTES,
    TRAIL__STAT_WRITE_ERRORS,
    TRAIL__STAT_ROTATIONS,
    TRAIL__STAT_FILTERED,
    TRAIL__STAT_COUNT
};
/* Relaxed atomic add to a library counter (read by trail_stats_get). */
void trail__stat_add(enum trail__stat_id id, uint64_t n);
uint64_t trail__stat_read(enum trail__stat_id id);

/* Wall clock, unix nanoseconds (CLOCK_REALTIME). */
int64_t trail__now_ns(void);
/* Tests only: an offset added to trail__now_ns (simulated clock steps). */
extern int64_t trail__clock_test_offset_ns;

/* ANSI colour of a level for the console formatter ("" when none). */
const char *trail__level_color(int level);

/* Bucket 0..5 (DEBUG..CRITICAL) of a level for per-level counters. */
int trail__level_bucket(int level);

#endif
