/* ctx_impl.h — request context as the core captures it. Owned by context.c.
 *
 * A context is kept pre-serialised so the hot path copies one small blob
 * instead of walking a map: a sequence of
 *   [u8 key_len][key bytes]['\0'][u16 value_len, little-endian][value bytes]
 * at most TRAIL_CTX_MAX_BYTES in all. */
#ifndef TRAIL_CTX_IMPL_H
#define TRAIL_CTX_IMPL_H

#include "trail.h"

/* The calling thread's current context blob (the attached trail_ctx or the
 * thread's own). Valid until the next trail_ctx_* call on this thread. */
const unsigned char *trail__ctx_current(size_t *len);

/* Decodes a blob into at most max fields (TRAIL_T_STR; keys point into the
 * blob and are NUL-terminated, values are not). Returns the count. */
size_t trail__ctx_decode(const unsigned char *blob, size_t len, trail_field *out, size_t max);

/* Static fields: bumped whenever a resource value changes (set, fork) so
 * formatters can re-render cached fragments. */
uint32_t trail__resource_generation(void);
/* Called by the core in a forked child (pid refresh). */
void trail__resource_after_fork(void);
/* Detects static fields (idempotent); service may be NULL. */
void trail__resource_init(const char *service);

#endif
