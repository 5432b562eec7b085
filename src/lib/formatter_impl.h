/* formatter_impl.h — the formatter interface and shared rendering helpers.
 * Owned by formatter.c, fmt_*.c and render_*.c. */
#ifndef TRAIL_FORMATTER_IMPL_H
#define TRAIL_FORMATTER_IMPL_H

#include "trail.h"

struct trail_formatter {
    int (*format)(trail_formatter *f, const trail_entry *e, trail_buf *out);
    void (*destroy)(trail_formatter *f); /* frees implementation state; NULL = plain free */
    /* The fd the handler writes to (for colour auto-detection); -1 = not a stream. */
    void (*bind_fd)(trail_formatter *f, int fd);
};

/* Appends s[0..n) as the inside of a JSON string: valid UTF-8 always
 * (invalid bytes become U+FFFD), quotes, backslashes and control characters
 * escaped, U+2028/2029 escaped. */
int trail__json_escape(trail_buf *b, const char *s, size_t n);

#endif
