/* filter.c — filter objects and chains. */
#include "filter_impl.h"
#include "core_impl.h"

#include <stdlib.h>

trail_filter *trail_filter_custom(trail_filter_fn fn, void *ud, void (*free_ud)(void *)) {
    if (!fn) return NULL;
    trail_filter *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->fn = fn;
    f->ud = ud;
    f->free_ud = free_ud;
    return f;
}

void trail_filter_free(trail_filter *f) {
    if (!f) return;
    if (f->free_ud) f->free_ud(f->ud);
    free(f);
}

void trail__filter_append(trail_filter **chain, trail_filter *f) {
    if (!f) return;
    f->next = NULL;
    while (*chain) chain = &(*chain)->next;
    *chain = f;
}

int trail__filters_run(trail_filter *chain, trail_entry *e) {
    for (trail_filter *f = chain; f; f = f->next) {
        if (!f->fn(e, f->ud)) {
            trail__stat_add(TRAIL__STAT_FILTERED, 1);
            return 0;
        }
    }
    return 1;
}

void trail__filters_free(trail_filter *chain) {
    while (chain) {
        trail_filter *next = chain->next;
        trail_filter_free(chain);
        chain = next;
    }
}
