/* random_impl.h — fast unpredictable bytes for ids (request ids, trace and
 * span ids). Owned by uuid.c. */
#ifndef TRAIL_RANDOM_IMPL_H
#define TRAIL_RANDOM_IMPL_H

#include <stddef.h>

/* Fills out with n bytes from the kernel CSPRNG (getrandom), served from a
 * per-thread buffer that a fork invalidates, so parent and child never hand
 * out the same bytes. Thread-safe, async-signal-unsafe. */
void trail__random_bytes(void *out, size_t n);

/* Lowercase hex of n bytes into out (2n chars, not NUL-terminated). */
void trail__hex(const unsigned char *in, size_t n, char *out);

#endif
