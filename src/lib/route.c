/* route.c — one decoded entry to its handlers.
 *
 * The entry goes up the logger tree from the logger it was logged on: at
 * each logger its filters run (on the entry as earlier loggers left it, so a
 * redaction filter on the root protects every handler below it), then its
 * handlers get it, then its parent while `propagate` is set. Callers (the
 * backend, or a sync-mode caller) hold the configuration mutex. */
#include "core_impl.h"
#include "filter_impl.h"
#include "handler_impl.h"
#include "logger.h"
#include "runtime.h"

#include <stdlib.h>

static void touch(trail__route_scratch *s, trail_handler *h) {
    for (size_t i = 0; i < s->ntouched; i++)
        if (s->touched[i] == h) return;
    if (s->ntouched == s->cap_touched) {
        size_t cap = s->cap_touched ? s->cap_touched * 2 : 16;
        trail_handler **n = realloc(s->touched, cap * sizeof *n);
        if (!n) { /* cannot remember it: flush now instead of at batch end */
            trail__handler_flush(h);
            return;
        }
        s->touched = n;
        s->cap_touched = cap;
    }
    trail__handler_retain(h); /* survives a remove_handler before the flush */
    s->touched[s->ntouched++] = h;
}

void trail__route(trail_logger *lg, const trail_entry *e, trail__route_scratch *s) {
    trail__stats_count_entry(e->level);
    if (e->flags & TRAIL_ENTRY_TRUNCATED) trail__stats_count_truncated();
    /* Copied only once a logger filter may change it. */
    trail_entry copy;
    const trail_entry *cur = e;
    for (trail_logger *l = lg->base; l; l = l->parent) {
        if (l->filters) {
            if (cur != &copy) {
                copy = *e;
                cur = &copy;
            }
            if (!trail__filters_run(l->filters, &copy)) return;
        }
        for (size_t i = 0; i < l->nhandlers; i++) {
            trail_handler *h = l->handlers[i];
            int rc = trail__handler_dispatch(h, cur, &s->buf);
            if (rc != 0) touch(s, h);
        }
        if (!l->propagate) break;
    }
}

void trail__route_flush(trail__route_scratch *s) {
    for (size_t i = 0; i < s->ntouched; i++) {
        trail__handler_flush(s->touched[i]);
        trail_handler_release(s->touched[i]);
    }
    s->ntouched = 0;
}

void trail__route_scratch_free(trail__route_scratch *s) {
    trail__route_flush(s);
    free(s->touched);
    trail_buf_free(&s->buf);
    s->touched = NULL;
    s->cap_touched = 0;
}
