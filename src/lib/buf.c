/* buf.c — growable byte buffer used by formatters. */
#include "trail.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int trail_buf_reserve(trail_buf *b, size_t extra) {
    if (b->cap - b->len >= extra) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra) {
        if (cap > SIZE_MAX / 2) return -ENOMEM;
        cap *= 2;
    }
    char *d = realloc(b->data, cap);
    if (!d) return -ENOMEM;
    b->data = d;
    b->cap = cap;
    return 0;
}

int trail_buf_put(trail_buf *b, const void *p, size_t n) {
    if (trail_buf_reserve(b, n)) return -ENOMEM;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

void trail_buf_free(trail_buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
