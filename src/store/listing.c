/* listing.c — streams, label names and label values over a time range
 * (what Loki's /labels, /label/<name>/values and /series answer). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

static bool overlaps(const trail_store_stream *st, int64_t from, int64_t to) {
    if (st->min_ts > st->max_ts) return false; /* no data yet */
    return st->max_ts >= from && (to == 0 || st->min_ts < to);
}

int trail_store_streams(trail_store *s, int64_t from, int64_t to, trail_store_stream_visit fn, void *ctx) {
    if (!s || !fn) return -EINVAL;
    int r = 0;
    pthread_rwlock_rdlock(&s->rw);
    for (uint32_t i = 0; i < s->nparts && !r; i++) {
        st_partition *p = s->parts[i];
        pthread_rwlock_rdlock(&p->rw);
        for (uint32_t j = 0; j < p->streams.n && !r; j++) {
            trail_store_stream copy = p->streams.v[j]->pub; /* min/max may change after unlock */
            if (overlaps(&copy, from, to)) r = fn(ctx, &copy);
        }
        pthread_rwlock_unlock(&p->rw);
    }
    pthread_rwlock_unlock(&s->rw);
    return r;
}

typedef struct strset {
    char **v;
    size_t n, cap;
    const char *name; /* for values: the label wanted */
} strset;

static void strset_add(strset *s, const char *v) {
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], v) == 0) return;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        if (!s->v) abort();
    }
    s->v[s->n] = strdup(v);
    if (!s->v[s->n]) abort();
    s->n++;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int add_names(void *ctx, const trail_store_stream *st) {
    for (uint32_t i = 0; i < st->nlabels; i++) strset_add(ctx, st->labels[i].name);
    return 0;
}

static int add_values(void *ctx, const trail_store_stream *st) {
    strset *s = ctx;
    for (uint32_t i = 0; i < st->nlabels; i++)
        if (strcmp(st->labels[i].name, s->name) == 0) strset_add(s, st->labels[i].value);
    return 0;
}

static int finish(strset *s, int r, char ***out, size_t *n) {
    if (r < 0) {
        trail_store_strings_free(s->v, s->n);
        return r;
    }
    if (s->n) qsort(s->v, s->n, sizeof *s->v, cmp_str);
    *out = s->v;
    *n = s->n;
    return 0;
}

int trail_store_label_names(trail_store *s, int64_t from, int64_t to, char ***out, size_t *n) {
    strset set = {0};
    *out = NULL;
    *n = 0;
    return finish(&set, trail_store_streams(s, from, to, add_names, &set), out, n);
}

int trail_store_label_values(trail_store *s, const char *name, int64_t from, int64_t to, char ***out,
                             size_t *n) {
    strset set = {0};
    *out = NULL;
    *n = 0;
    if (!name) return -EINVAL;
    set.name = name;
    return finish(&set, trail_store_streams(s, from, to, add_values, &set), out, n);
}

void trail_store_strings_free(char **v, size_t n) {
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}
