/* store_test_util.h — helpers for the store tests: open a store in the
 * case's temp dir, append one entry, collect an iteration into an array. */
#ifndef STORE_TEST_UTIL_H
#define STORE_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "test.h"

#define SEC 1000000000LL

static inline trail_store *ts_open(const char *dir, unsigned flags, trail_store_config *extra) {
    trail_store_config c = {0};
    if (extra) c = *extra;
    c.dir = dir;
    c.flags |= flags;
    char err[256] = "";
    trail_store *s = NULL;
    int r = trail_store_open(&c, &s, err, sizeof err);
    if (r) test__fail(__FILE__, __LINE__, "open %s: %d %s", dir, r, err);
    return s;
}

static inline int ts_put(trail_store *s, const char *cat, const char *service, const char *level,
                         int64_t ts, const char *line, const char *rid) {
    trail_store_label l[2] = {{"service", service}, {"level", level}};
    trail_store_entry e = {.category = cat, .labels = l, .nlabels = 2, .ts_ns = ts, .line = line,
                           .line_len = (uint32_t)strlen(line), .request_id = rid};
    trail_store_append_result res;
    int r = trail_store_append(s, &e, 1, &res);
    if (r) return r;
    return (int)res.stored;
}

typedef struct got {
    int64_t ts;
    uint64_t stream;
    char *line;
    char cat[72];
    char rid[80];
    char service[64];
} got;

typedef struct gotlist {
    got *v;
    size_t n, cap;
    uint64_t skipped, read;
} gotlist;

static inline const char *ts_label(const trail_store_entry *e, const char *name) {
    for (uint32_t i = 0; i < e->nlabels; i++)
        if (strcmp(e->labels[i].name, name) == 0) return e->labels[i].value;
    return NULL;
}

static inline gotlist ts_collect(trail_store *s, const trail_store_query *q) {
    gotlist g = {0};
    trail_store_iter *it = NULL;
    if (trail_store_iter_open(s, q, &it)) test__fail(__FILE__, __LINE__, "iter_open");
    const trail_store_entry *e;
    int r;
    while ((r = trail_store_iter_next(it, &e)) == 1) {
        if (g.n == g.cap) {
            g.cap = g.cap ? g.cap * 2 : 64;
            g.v = realloc(g.v, g.cap * sizeof *g.v);
        }
        got *x = &g.v[g.n++];
        memset(x, 0, sizeof *x);
        x->ts = e->ts_ns;
        x->stream = e->stream_id;
        x->line = malloc(e->line_len + 1);
        memcpy(x->line, e->line, e->line_len);
        x->line[e->line_len] = 0;
        snprintf(x->cat, sizeof x->cat, "%s", e->category);
        snprintf(x->rid, sizeof x->rid, "%s", e->request_id ? e->request_id : "");
        const char *sv = ts_label(e, "service");
        snprintf(x->service, sizeof x->service, "%s", sv ? sv : "");
    }
    if (r < 0) test__fail(__FILE__, __LINE__, "iter_next: %d", r);
    trail_store_iter_counts(it, &g.skipped, &g.read);
    trail_store_iter_close(it);
    return g;
}

static inline void ts_free(gotlist *g) {
    for (size_t i = 0; i < g->n; i++) free(g->v[i].line);
    free(g->v);
    memset(g, 0, sizeof *g);
}

#endif
