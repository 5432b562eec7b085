/* tq_buf.c — buffers, arena and JSON string escaping (see tq_buf.h). */
#include "tq_buf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tq_buf_reserve(tq_buf *b, size_t extra) {
    if (b->len + extra + 1 <= b->cap) return;
    size_t nc = b->cap ? b->cap * 2 : 256;
    while (nc < b->len + extra + 1) nc *= 2;
    char *np = realloc(b->p, nc);
    if (!np) abort();
    b->p = np;
    b->cap = nc;
}

void tq_buf_add(tq_buf *b, const void *s, size_t n) {
    tq_buf_reserve(b, n);
    if (n) memcpy(b->p + b->len, s, n);
    b->len += n;
}

void tq_buf_puts(tq_buf *b, const char *s) { tq_buf_add(b, s, strlen(s)); }

void tq_buf_putc(tq_buf *b, char c) {
    tq_buf_reserve(b, 1);
    b->p[b->len++] = c;
}

void tq_buf_printf(tq_buf *b, const char *fmt, ...) {
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n > 0) {
        tq_buf_reserve(b, (size_t)n);
        vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
}

/* Length of a valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && s[1] < 0xA0) return 0;
        if (c == 0xED && s[1] > 0x9F) return 0;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) return 0;
        if (c == 0xF0 && s[1] < 0x90) return 0;
        if (c == 0xF4 && s[1] > 0x8F) return 0;
        return 4;
    }
    return 0;
}

void tq_buf_json_str(tq_buf *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    tq_buf_reserve(b, n + 2);
    tq_buf_putc(b, '"');
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (run < n && u[run] >= 0x20 && u[run] < 0x80 && u[run] != '"' && u[run] != '\\') run++;
        if (run > i) {
            tq_buf_add(b, s + i, run - i);
            i = run;
            continue;
        }
        unsigned c = u[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            tq_buf_add(b, e, 2);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            const char *e = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r" : NULL;
            if (e) {
                tq_buf_add(b, e, 2);
            } else {
                char u6[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                tq_buf_add(b, u6, 6);
            }
            i++;
        } else {
            size_t l = utf8_len(u + i, n - i);
            if (l) {
                tq_buf_add(b, s + i, l);
                i += l;
            } else {
                tq_buf_add(b, "\xEF\xBF\xBD", 3);
                i++;
            }
        }
    }
    tq_buf_putc(b, '"');
}

const char *tq_buf_cstr(tq_buf *b) {
    tq_buf_reserve(b, 0);
    b->p[b->len] = 0;
    return b->p;
}

void tq_buf_free(tq_buf *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

struct tq_arena_chunk {
    tq_arena_chunk *next;
    size_t used, cap;
    _Alignas(16) char data[];
};

void *tq_arena_alloc(tq_arena *a, size_t n) {
    n = (n + 15) & ~(size_t)15;
    tq_arena_chunk *c = a->head;
    if (!c || c->used + n > c->cap) {
        size_t cap = n > 65536 ? n : 65536;
        tq_arena_chunk *nc = malloc(sizeof *nc + cap);
        if (!nc) abort();
        nc->next = c;
        nc->used = 0;
        nc->cap = cap;
        a->head = c = nc;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

char *tq_arena_strndup(tq_arena *a, const char *s, size_t n) {
    char *d = tq_arena_alloc(a, n + 1);
    if (n) memcpy(d, s, n);
    d[n] = 0;
    return d;
}

void tq_arena_reset(tq_arena *a) {
    tq_arena_chunk *c = a->head;
    if (!c) return;
    /* Keep the oldest (last) chunk: most entries fit in one. */
    while (c->next) {
        tq_arena_chunk *n = c->next;
        free(c);
        c = n;
    }
    c->used = 0;
    a->head = c;
}

void tq_arena_free(tq_arena *a) {
    tq_arena_chunk *c = a->head;
    while (c) {
        tq_arena_chunk *n = c->next;
        free(c);
        c = n;
    }
    a->head = NULL;
}

void tq_format_value(char *out, size_t len, double v) {
    if (isnan(v)) snprintf(out, len, "NaN");
    else if (isinf(v)) snprintf(out, len, v > 0 ? "+Inf" : "-Inf");
    else if (v == (double)(long long)v && fabs(v) < 1e15) snprintf(out, len, "%lld", (long long)v);
    else {
        /* Shortest text that reads back as the same double. */
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(out, len, "%.*g", prec, v);
            if (strtod(out, NULL) == v) break;
        }
    }
}
