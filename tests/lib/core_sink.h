/* core_sink.h — a callback handler that keeps every entry it gets as one
 * line of text, for the core's tests:
 *   "<level> <logger>|<msg>|k=v,k=v|ctx:k=v,...|flags" (bytes shown as is,
 * except NUL as \0 and newline as \n, so tests can see them). */
#ifndef CORE_SINK_H
#define CORE_SINK_H

#include "test.h"
#include <trail.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sink {
    pthread_mutex_t mu;
    char **lines;
    size_t n, cap;
    void (*slow)(void); /* called per entry when set (overflow tests) */
} sink;

static __attribute__((unused)) void sink_put(trail_buf *b, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (s[i] == 0) trail_buf_put(b, "\\0", 2);
        else if (s[i] == '\n') trail_buf_put(b, "\\n", 2);
        else trail_buf_put(b, &s[i], 1);
    }
}

static __attribute__((unused)) void sink_field(trail_buf *b, const trail_field *f) {
    char tmp[64];
    trail_buf_put(b, f->key, strlen(f->key));
    trail_buf_put(b, "=", 1);
    switch (f->type) {
    case TRAIL_T_STR:
    case TRAIL_T_JSON:
        sink_put(b, f->v.s, f->len == TRAIL_LEN_CSTR ? strlen(f->v.s) : f->len);
        return;
    case TRAIL_T_BYTES: snprintf(tmp, sizeof tmp, "<%u bytes>", f->len); break;
    case TRAIL_T_U64: snprintf(tmp, sizeof tmp, "%" PRIu64, f->v.u); break;
    case TRAIL_T_F64: snprintf(tmp, sizeof tmp, "%g", f->v.d); break;
    case TRAIL_T_NULL: snprintf(tmp, sizeof tmp, "null"); break;
    default: snprintf(tmp, sizeof tmp, "%" PRId64, f->v.i); break;
    }
    trail_buf_put(b, tmp, strlen(tmp));
}

static __attribute__((unused)) void sink_fn(const trail_entry *e, const char *line, size_t len, void *ud) {
    (void)line;
    (void)len;
    sink *s = ud;
    if (s->slow) s->slow();
    trail_buf b = {0};
    char head[64];
    snprintf(head, sizeof head, "%d ", e->level);
    trail_buf_put(&b, head, strlen(head));
    trail_buf_put(&b, e->logger, strlen(e->logger));
    trail_buf_put(&b, "|", 1);
    sink_put(&b, e->msg, e->msg_len);
    trail_buf_put(&b, "|", 1);
    for (size_t i = 0; i < e->nfields; i++) {
        if (i) trail_buf_put(&b, ",", 1);
        sink_field(&b, &e->fields[i]);
    }
    trail_buf_put(&b, "|ctx:", 5);
    for (size_t i = 0; i < e->nctx; i++) {
        if (i) trail_buf_put(&b, ",", 1);
        sink_field(&b, &e->ctx[i]);
    }
    snprintf(head, sizeof head, "|%u", e->flags);
    trail_buf_put(&b, head, strlen(head) + 1);
    pthread_mutex_lock(&s->mu);
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->lines = realloc(s->lines, s->cap * sizeof *s->lines);
    }
    s->lines[s->n++] = b.data;
    pthread_mutex_unlock(&s->mu);
}

static __attribute__((unused)) sink *sink_new(void) {
    sink *s = calloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    return s;
}

/* Adds a sink handler to lg (NULL = root). */
static __attribute__((unused)) sink *sink_attach(trail_logger *lg) {
    sink *s = sink_new();
    trail_handler *h;
    CHECK_INT(trail_handler_callback(&h, sink_fn, s), ==, 0);
    CHECK_INT(trail_logger_add_handler(lg, h), ==, 0);
    trail_handler_release(h);
    return s;
}

static int sink_plain_format(const trail_entry *e, trail_buf *out, void *ud) {
    (void)ud;
    return trail_buf_put(out, e->msg, e->msg_len) || trail_buf_put(out, "\n", 1);
}

/* A sink whose handler skips JSON rendering (for entries whose rendering
 * cost is not what a test is about). */
static __attribute__((unused)) sink *sink_attach_plain(trail_logger *lg) {
    sink *s = sink_new();
    trail_handler *h;
    CHECK_INT(trail_handler_callback(&h, sink_fn, s), ==, 0);
    trail_handler_set_formatter(h, trail_formatter_custom(sink_plain_format, NULL, NULL));
    CHECK_INT(trail_logger_add_handler(lg, h), ==, 0);
    trail_handler_release(h);
    return s;
}

static __attribute__((unused)) size_t sink_count(sink *s) {
    pthread_mutex_lock(&s->mu);
    size_t n = s->n;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static __attribute__((unused)) const char *sink_line(sink *s, size_t i) {
    pthread_mutex_lock(&s->mu);
    const char *l = i < s->n ? s->lines[i] : NULL;
    pthread_mutex_unlock(&s->mu);
    return l;
}

static __attribute__((unused)) void setup_mode(trail_mode mode) {
    trail_options o = {.service = "test", .mode = mode, .no_default_handlers = 1, .no_signal_handlers = 1};
    CHECK_INT(trail_setup(&o), ==, 0);
}

#endif
