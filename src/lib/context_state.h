/* context_state.h — the trail_ctx object, shared by context.c and
 * traceparent.c. Owned by context.c. */
#ifndef TRAIL_CONTEXT_STATE_H
#define TRAIL_CONTEXT_STATE_H

#include "trail.h"

struct trail_ctx {
    size_t len;          /* bytes used in data */
    uint8_t trace_flags; /* W3C trace flags of the current span (kept out of the blob: not a log field) */
    uint8_t has_flags;
    unsigned char data[TRAIL_CTX_MAX_BYTES]; /* blob, format in ctx_impl.h */
};

/* The calling thread's current context (attached handle or its own). */
struct trail_ctx *trail__ctx_cur(void);
/* Sets key to value[0..vlen) (NULL value removes); -E2BIG past TRAIL_CTX_MAX_BYTES, context unchanged. */
int trail__ctx_put(struct trail_ctx *c, const char *key, const char *value, size_t vlen);
int trail__ctx_del(struct trail_ctx *c, const char *key);
/* Points *val at the (not NUL-terminated) value of key; -ENOENT when absent. */
int trail__ctx_lookup(const struct trail_ctx *c, const char *key, const char **val, size_t *vlen);

#endif
