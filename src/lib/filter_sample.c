/* filter_sample.c — built-in filter: keep 1 entry in every N below a level.
 * Entries at or above max_level always pass. The first entry of each run of
 * N is kept, so a rare message is never lost to sampling. One atomic counter
 * per filter: safe from several threads. */
#include "filter_impl.h"

#include <stdlib.h>

typedef struct sampler {
    uint64_t seen;
    uint32_t every;
    int max_level;
} sampler;

static int sample_keep(trail_entry *e, void *ud) {
    sampler *s = ud;
    if (e->level >= s->max_level || s->every <= 1) return 1;
    uint64_t n = __atomic_fetch_add(&s->seen, 1, __ATOMIC_RELAXED);
    return n % s->every == 0;
}

trail_filter *trail_filter_sample(uint32_t every, int max_level) {
    sampler *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->every = every;
    s->max_level = max_level;
    trail_filter *f = trail_filter_custom(sample_keep, s, free);
    if (!f) free(s);
    return f;
}
