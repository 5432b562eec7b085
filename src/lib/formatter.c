/* formatter.c — formatter objects: dispatch, custom formatters, freeing. */
#include "formatter_impl.h"

#include <errno.h>
#include <stdlib.h>

typedef struct custom_formatter {
    trail_formatter base;
    trail_format_fn fn;
    void *ud;
    void (*free_ud)(void *);
} custom_formatter;

static int custom_format(trail_formatter *f, const trail_entry *e, trail_buf *out) {
    custom_formatter *c = (custom_formatter *)f;
    return c->fn(e, out, c->ud);
}

static void custom_destroy(trail_formatter *f) {
    custom_formatter *c = (custom_formatter *)f;
    if (c->free_ud) c->free_ud(c->ud);
}

trail_formatter *trail_formatter_custom(trail_format_fn fn, void *ud, void (*free_ud)(void *)) {
    if (!fn) return NULL;
    custom_formatter *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->base.format = custom_format;
    c->base.destroy = custom_destroy;
    c->fn = fn;
    c->ud = ud;
    c->free_ud = free_ud;
    return &c->base;
}

int trail_formatter_format(trail_formatter *f, const trail_entry *e, trail_buf *out) {
    if (!f || !e || !out) return -EINVAL;
    return f->format(f, e, out);
}

void trail_formatter_free(trail_formatter *f) {
    if (!f) return;
    if (f->destroy) f->destroy(f);
    free(f);
}
