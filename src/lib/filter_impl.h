/* filter_impl.h — filter chains. Owned by filter.c and filter_*.c. */
#ifndef TRAIL_FILTER_IMPL_H
#define TRAIL_FILTER_IMPL_H

#include "trail.h"

struct trail_filter {
    trail_filter_fn fn;
    void *ud;
    void (*free_ud)(void *);
    struct trail_filter *next;
};

/* Appends f to *chain (ownership taken). Not thread-safe: callers hold the
 * configuration mutex. */
void trail__filter_append(trail_filter **chain, trail_filter *f);
/* Runs the chain on e; 1 = keep, 0 = drop (counts TRAIL__STAT_FILTERED). */
int trail__filters_run(trail_filter *chain, trail_entry *e);
void trail__filters_free(trail_filter *chain);

#endif
