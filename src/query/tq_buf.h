/* tq_buf.h — a growable byte buffer, a chunked arena, and JSON string output
 * used by the query engine and the HTTP API. Allocation failure aborts: the
 * query engine bounds its inputs, so OOM means a bug or a dying machine. */
#ifndef TRAIL_TQ_BUF_H
#define TRAIL_TQ_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tq_buf {
    char *p;
    size_t len, cap;
} tq_buf;

void tq_buf_reserve(tq_buf *b, size_t extra);
void tq_buf_add(tq_buf *b, const void *s, size_t n);
void tq_buf_puts(tq_buf *b, const char *s);
void tq_buf_putc(tq_buf *b, char c);
void tq_buf_printf(tq_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a quoted JSON string; invalid UTF-8 becomes U+FFFD so the
 * output is always valid JSON whatever bytes the line holds. */
void tq_buf_json_str(tq_buf *b, const char *s, size_t n);
/* NUL-terminates and returns b->p (never NULL). */
const char *tq_buf_cstr(tq_buf *b);
void tq_buf_free(tq_buf *b);

/* Chunked bump allocator: pointers stay valid until reset/free. */
typedef struct tq_arena_chunk tq_arena_chunk;
typedef struct tq_arena {
    tq_arena_chunk *head;
} tq_arena;

void *tq_arena_alloc(tq_arena *a, size_t n);
char *tq_arena_strndup(tq_arena *a, const char *s, size_t n);
void tq_arena_reset(tq_arena *a); /* keeps the first chunk for reuse */
void tq_arena_free(tq_arena *a);

/* Formats a sample value the way Prometheus/Loki do ("1", "0.5", "NaN", "+Inf"). */
void tq_format_value(char *out, size_t len, double v);

#endif
