/* mem_source.c — the in-memory tq_source (see mem_source.h). */
#include "mem_source.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct mstream {
    tq_label *labels; /* sorted, owned */
    size_t nlabels;
    int64_t *ts;
    char **lines;
    size_t *lens;
    tq_label **meta;  /* per entry, owned (NULL when none) */
    size_t *nmeta;
    size_t n, cap;
} mstream;

struct tq_mem {
    pthread_mutex_t mu;
    mstream *s;
    size_t n, cap;
    size_t total;
};

tq_mem *tq_mem_new(void) {
    tq_mem *m = calloc(1, sizeof *m);
    if (m) pthread_mutex_init(&m->mu, NULL);
    return m;
}

void tq_mem_free(tq_mem *m) {
    if (!m) return;
    for (size_t i = 0; i < m->n; i++) {
        mstream *s = &m->s[i];
        for (size_t j = 0; j < s->nlabels; j++) {
            free((char *)s->labels[j].name);
            free((char *)s->labels[j].value);
        }
        for (size_t j = 0; j < s->n; j++) {
            free(s->lines[j]);
            for (size_t k = 0; k < s->nmeta[j]; k++) {
                free((char *)s->meta[j][k].name);
                free((char *)s->meta[j][k].value);
            }
            free(s->meta[j]);
        }
        free(s->meta);
        free(s->nmeta);
        free(s->labels);
        free(s->ts);
        free(s->lines);
        free(s->lens);
    }
    free(m->s);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

static int lcmp(const void *a, const void *b) {
    return strcmp(((const tq_label *)a)->name, ((const tq_label *)b)->name);
}

static int same_labels(const mstream *s, const tq_label *l, size_t n) {
    if (s->nlabels != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(s->labels[i].name, l[i].name) || strcmp(s->labels[i].value, l[i].value)) return 0;
    return 1;
}

static int mem_add(tq_mem *m, const tq_label *labels, size_t nlabels, int64_t ts, const char *line, size_t len,
                   const tq_label *meta, size_t nmeta);

int tq_mem_add(tq_mem *m, const tq_label *labels, size_t nlabels, int64_t ts, const char *line, size_t len) {
    return mem_add(m, labels, nlabels, ts, line, len, NULL, 0);
}

static int mem_add(tq_mem *m, const tq_label *labels, size_t nlabels, int64_t ts, const char *line, size_t len,
                   const tq_label *meta, size_t nmeta) {
    tq_label sorted[64];
    if (nlabels > 64) return -E2BIG;
    memcpy(sorted, labels, nlabels * sizeof *labels);
    if (nlabels) qsort(sorted, nlabels, sizeof *sorted, lcmp);
    pthread_mutex_lock(&m->mu);
    mstream *s = NULL;
    for (size_t i = 0; i < m->n; i++)
        if (same_labels(&m->s[i], sorted, nlabels)) { s = &m->s[i]; break; }
    if (!s) {
        if (m->n == m->cap) {
            m->cap = m->cap ? m->cap * 2 : 8;
            mstream *ns = realloc(m->s, m->cap * sizeof *ns);
            if (!ns) { pthread_mutex_unlock(&m->mu); return -ENOMEM; }
            m->s = ns;
        }
        s = &m->s[m->n++];
        memset(s, 0, sizeof *s);
        s->labels = calloc(nlabels ? nlabels : 1, sizeof *s->labels);
        for (size_t i = 0; i < nlabels; i++) {
            s->labels[i].name = strdup(sorted[i].name);
            s->labels[i].value = strdup(sorted[i].value);
        }
        s->nlabels = nlabels;
    }
    for (size_t i = 0; i < s->n; i++)
        if (s->ts[i] == ts && s->lens[i] == len && memcmp(s->lines[i], line, len) == 0) {
            pthread_mutex_unlock(&m->mu);
            return 0;
        }
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->ts = realloc(s->ts, s->cap * sizeof *s->ts);
        s->lines = realloc(s->lines, s->cap * sizeof *s->lines);
        s->lens = realloc(s->lens, s->cap * sizeof *s->lens);
        s->meta = realloc(s->meta, s->cap * sizeof *s->meta);
        s->nmeta = realloc(s->nmeta, s->cap * sizeof *s->nmeta);
        if (!s->ts || !s->lines || !s->lens || !s->meta || !s->nmeta) abort();
    }
    char *copy = malloc(len + 1);
    if (!copy) abort();
    memcpy(copy, line, len);
    copy[len] = 0;
    s->ts[s->n] = ts;
    s->lines[s->n] = copy;
    s->lens[s->n] = len;
    s->meta[s->n] = NULL;
    s->nmeta[s->n] = nmeta;
    if (nmeta) {
        s->meta[s->n] = calloc(nmeta, sizeof **s->meta);
        if (!s->meta[s->n]) abort();
        for (size_t k = 0; k < nmeta; k++) {
            s->meta[s->n][k].name = strdup(meta[k].name);
            s->meta[s->n][k].value = strdup(meta[k].value);
        }
    }
    s->n++;
    m->total++;
    pthread_mutex_unlock(&m->mu);
    return 1;
}

size_t tq_mem_count(const tq_mem *m) { return m->total; }

static int mem_scan(void *ctx, const tq_scan *q, tq_entry_cb cb, void *arg) {
    tq_mem *m = ctx;
    pthread_mutex_lock(&m->mu);
    int stop = 0;
    for (size_t i = 0; i < m->n && !stop; i++) {
        mstream *s = &m->s[i];
        if (!tq_selector_matches(q->sel, s->labels, s->nlabels)) continue;
        for (size_t j = 0; j < s->n && !stop; j++) {
            if (s->ts[j] < q->start || s->ts[j] > q->end) continue;
            tq_entry e = {.ts = s->ts[j], .line = s->lines[j], .len = s->lens[j], .labels = s->labels,
                          .nlabels = s->nlabels, .stream_id = i + 1, .meta = s->meta[j], .nmeta = s->nmeta[j]};
            stop = cb(arg, &e);
        }
    }
    pthread_mutex_unlock(&m->mu);
    return 0;
}

static int has_data(const mstream *s, int64_t start, int64_t end) {
    for (size_t j = 0; j < s->n; j++)
        if (s->ts[j] >= start && s->ts[j] <= end) return 1;
    return 0;
}

static int mem_labels(void *ctx, const char *name, int64_t start, int64_t end, tq_name_cb cb, void *arg) {
    tq_mem *m = ctx;
    pthread_mutex_lock(&m->mu);
    for (size_t i = 0; i < m->n; i++) {
        mstream *s = &m->s[i];
        if (!has_data(s, start, end)) continue;
        for (size_t j = 0; j < s->nlabels; j++) {
            if (!name) cb(arg, s->labels[j].name);
            else if (strcmp(name, s->labels[j].name) == 0) cb(arg, s->labels[j].value);
        }
    }
    pthread_mutex_unlock(&m->mu);
    return 0;
}

static int mem_series(void *ctx, const tq_selector *sel, int64_t start, int64_t end, tq_series_cb cb, void *arg) {
    tq_mem *m = ctx;
    pthread_mutex_lock(&m->mu);
    for (size_t i = 0; i < m->n; i++) {
        mstream *s = &m->s[i];
        if (has_data(s, start, end) && tq_selector_matches(sel, s->labels, s->nlabels)) cb(arg, s->labels, s->nlabels);
    }
    pthread_mutex_unlock(&m->mu);
    return 0;
}

static int mem_push(void *ctx, const tq_label *labels, size_t nlabels, const tq_entry *entries, size_t n) {
    int ok = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = mem_add(ctx, labels, nlabels, entries[i].ts, entries[i].line, entries[i].len, entries[i].meta,
                         entries[i].nmeta);
        if (rc < 0) return rc;
        ok++;
    }
    return ok;
}

tq_source tq_mem_source(tq_mem *m) {
    return (tq_source){.ctx = m, .scan = mem_scan, .labels = mem_labels, .series = mem_series, .push = mem_push};
}
