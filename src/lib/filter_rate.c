/* filter_rate.c — built-in filter: token bucket per call site.
 *
 * The clock is the entry's own timestamp (ts_ns): no system call, and tests
 * drive it by setting ts_ns. Timestamps from several threads may arrive a
 * little out of order; a step back refills nothing.
 *
 * Call sites are keyed by (file, line) pointers/values, which are static for
 * trail_log() statements; entries without a call site (trail_log_msg) share
 * one bucket. Buckets sit in a fixed direct-mapped table: a collision resets
 * the slot for the newcomer (at worst it lets one more burst through), so
 * memory stays bounded whatever the program logs. A mutex guards the table:
 * filters run on the backend thread (or the caller in sync mode), never on
 * the async hot path. Suppressed entries are counted by the filter chain
 * (stats.filtered). */
#include "filter_impl.h"

#include <pthread.h>
#include <stdlib.h>

#define SLOTS 1024

typedef struct bucket {
    const char *file;
    int line;
    int used;
    double tokens;
    int64_t last_ns;
} bucket;

typedef struct limiter {
    pthread_mutex_t mu;
    double per_ns;
    double burst;
    bucket slot[SLOTS];
} limiter;

static size_t site_hash(const char *file, int line) {
    uint64_t h = (uint64_t)(uintptr_t)file * 0x9E3779B97F4A7C15ull ^ (uint64_t)(uint32_t)line * 0xC2B2AE3D27D4EB4Full;
    return (size_t)(h >> 40) % SLOTS;
}

static int rate_keep(trail_entry *e, void *ud) {
    limiter *l = ud;
    const char *file = e->file;
    int line = e->file ? e->line : 0;
    pthread_mutex_lock(&l->mu);
    bucket *b = &l->slot[site_hash(file, line)];
    if (!b->used || b->file != file || b->line != line) {
        b->used = 1;
        b->file = file;
        b->line = line;
        b->tokens = l->burst;
        b->last_ns = e->ts_ns;
    } else if (e->ts_ns > b->last_ns) {
        b->tokens += (double)(e->ts_ns - b->last_ns) * l->per_ns;
        if (b->tokens > l->burst) b->tokens = l->burst;
        b->last_ns = e->ts_ns;
    }
    int keep = b->tokens >= 1.0;
    if (keep) b->tokens -= 1.0;
    pthread_mutex_unlock(&l->mu);
    return keep;
}

static void limiter_free(void *ud) {
    limiter *l = ud;
    pthread_mutex_destroy(&l->mu);
    free(l);
}

trail_filter *trail_filter_rate_limit(double per_second, double burst) {
    if (!(per_second >= 0) || !(burst >= 0)) return NULL; /* also rejects NaN */
    limiter *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    pthread_mutex_init(&l->mu, NULL);
    l->per_ns = per_second / 1e9;
    l->burst = burst < 1.0 ? 1.0 : burst; /* a bucket must hold one entry to let any through */
    trail_filter *f = trail_filter_custom(rate_keep, l, limiter_free);
    if (!f) limiter_free(l);
    return f;
}
