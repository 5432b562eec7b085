/* handler_callback.c — hands every entry to user code. */
#include "handler_impl.h"
#include "core_impl.h"

#include <errno.h>

typedef struct callback_handler {
    trail_handler base;
    trail_handler_fn fn;
    void *ud;
} callback_handler;

static int callback_write(trail_handler *h, const trail_entry *e, const char *line, size_t len) {
    callback_handler *c = (callback_handler *)h;
    c->fn(e, line, len, c->ud);
    return 0;
}

static const struct trail_handler_ops callback_ops = {.write = callback_write};

int trail_handler_callback(trail_handler **out, trail_handler_fn fn, void *ud) {
    if (!out || !fn) return trail__error(-EINVAL, "trail_handler_callback: out and fn are required");
    callback_handler *c = (callback_handler *)trail__handler_new(sizeof *c, &callback_ops, trail_formatter_json());
    if (!c) return -ENOMEM;
    c->fn = fn;
    c->ud = ud;
    *out = &c->base;
    return 0;
}
