/* logql_eval_log.c — log queries: scan [start, end], run the pipeline,
 * keep the `limit` newest (backward) or oldest (forward) entries, group
 * them into streams by their final label set (stream labels + extracted
 * labels, as Loki does). An ordered source lets the scan stop at `limit`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval_impl.h"

typedef struct cand {
    int64_t ts;
    uint64_t seq;
    size_t stream;
    char *line;
    size_t len;
} cand;

typedef struct log_state {
    const tq_log_expr *le;
    tq_pipe pipe;
    tq_buf key;
    smap streams;
    tq_label **slabels; /* per stream, in the result arena */
    size_t *snlabels;
    size_t nstreams, cap;
    cand *c;
    size_t nc, ccap;
    size_t limit;
    int backward;
    int ordered;
    uint64_t seq;
    tq_result *r;
    int err;
    int cacheable;
    idcache ids;
    double deadline;   /* monotonic seconds; 0 = none */
} log_state;

static int cand_cmp_fwd(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->ts != y->ts) return x->ts < y->ts ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cand_cmp_bwd(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->ts != y->ts) return x->ts > y->ts ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void trim_cands(log_state *s) {
    if (s->nc) qsort(s->c, s->nc, sizeof *s->c, s->backward ? cand_cmp_bwd : cand_cmp_fwd);
    for (size_t i = s->limit; i < s->nc; i++) free(s->c[i].line);
    if (s->nc > s->limit) s->nc = s->limit;
}

static int log_cb(void *arg, const tq_entry *e) {
    log_state *s = arg;
    /* An ordered source gives the best entries first: stop at the limit. */
    if (s->ordered && s->nc >= s->limit) return 1;
    if (s->deadline && (s->r->stats.entries_scanned & 4095) == 0 && tq_now_mono() > s->deadline) {
        s->err = -ETIMEDOUT;
        return 1;
    }
    s->r->stats.entries_scanned++;
    s->r->stats.bytes_scanned += e->len;
    if (!tq_pipe_run(&s->pipe, s->le, e)) return 0;
    /* Cheap reject before building the key: the buffer is full and this
     * entry would sort after every kept one. */
    if (s->nc >= s->limit && s->nc == s->ccap) trim_cands(s);
    int added = 0;
    size_t idx;
    if (!(s->cacheable && e->stream_id && idcache_get(&s->ids, e->stream_id, &idx))) {
        tq_pipe_labels_key(&s->pipe, &s->key);
        idx = smap_get_or_add(&s->streams, s->key.p, s->key.len, s->nstreams, &added);
        if (s->cacheable && e->stream_id) idcache_put(&s->ids, e->stream_id, idx);
    }
    if (added) {
        if (s->nstreams == s->cap) {
            s->cap = s->cap ? s->cap * 2 : 16;
            s->slabels = realloc(s->slabels, s->cap * sizeof *s->slabels);
            s->snlabels = realloc(s->snlabels, s->cap * sizeof *s->snlabels);
            if (!s->slabels || !s->snlabels) abort();
        }
        if (s->nstreams >= TQ_MAX_SERIES) { s->err = -E2BIG; return 1; }
        s->slabels[s->nstreams] = copy_plabels(&s->r->arena, &s->pipe);
        s->snlabels[s->nstreams] = s->pipe.n;
        s->nstreams++;
    }
    if (s->nc == s->ccap) {
        s->ccap = s->ccap ? s->ccap * 2 : 64;
        if (s->ccap > 2 * s->limit + 64) s->ccap = 2 * s->limit + 64;
        s->c = realloc(s->c, s->ccap * sizeof *s->c);
        if (!s->c) abort();
    }
    cand *c = &s->c[s->nc++];
    c->ts = e->ts;
    c->seq = s->seq++;
    c->stream = idx;
    c->len = s->pipe.len;
    c->line = malloc(c->len + 1);
    if (!c->line) abort();
    memcpy(c->line, s->pipe.line, c->len);
    c->line[c->len] = 0;
    return 0;
}

int eval_log(const tq_log_expr *le, const tq_params *p, const tq_source *src, tq_result *r, char *err,
                    size_t errlen) {
    log_state s;
    memset(&s, 0, sizeof s);
    s.le = le;
    s.limit = p->limit ? p->limit : 100;
    s.backward = p->backward;
    s.ordered = src->ordered;
    s.cacheable = !pipeline_extracts(le);
    s.r = r;
    tq_pipe_init(&s.pipe);
    tq_scan scan = {.start = p->start, .end = p->end, .sel = &le->sel, .backward = p->backward};
    hints h;
    build_hints(le, &h, &scan);
    s.deadline = p->timeout_s > 0 ? tq_now_mono() + p->timeout_s : 0;
    int rc = src->scan(src->ctx, &scan, log_cb, &s);
    if (rc == 0 && s.err == -ETIMEDOUT) {
        rc = s.err;
        snprintf(err, errlen, "query timed out after %.0f s: narrow the time range or the selector", p->timeout_s);
    } else if (rc == 0 && s.err) {
        rc = s.err;
        snprintf(err, errlen, "maximum number of streams (%d) reached", TQ_MAX_SERIES);
    } else if (rc < 0) {
        snprintf(err, errlen, "reading the store failed: %s", strerror(-rc));
    }
    if (rc == 0) {
        trim_cands(&s);
        /* Group by stream keeping the direction's order inside each one. */
        size_t *count = calloc(s.nstreams + 1, sizeof *count);
        size_t *slot = calloc(s.nstreams + 1, sizeof *slot);
        if (!count || !slot) abort();
        for (size_t i = 0; i < s.nc; i++) count[s.c[i].stream]++;
        size_t nout = 0;
        for (size_t i = 0; i < s.nstreams; i++) if (count[i]) nout++;
        r->streams = tq_arena_alloc(&r->arena, (nout ? nout : 1) * sizeof *r->streams);
        r->nstreams = 0;
        /* Streams in the order of their first (best) entry. */
        for (size_t i = 0; i < s.nstreams; i++) slot[i] = (size_t)-1;
        for (size_t i = 0; i < s.nc; i++) {
            size_t st = s.c[i].stream;
            if (slot[st] != (size_t)-1) continue;
            slot[st] = r->nstreams;
            tq_stream *o = &r->streams[r->nstreams++];
            o->labels = s.slabels[st];
            o->nlabels = s.snlabels[st];
            o->ts = tq_arena_alloc(&r->arena, count[st] * sizeof *o->ts);
            o->lines = tq_arena_alloc(&r->arena, count[st] * sizeof *o->lines);
            o->lens = tq_arena_alloc(&r->arena, count[st] * sizeof *o->lens);
            o->n = 0;
        }
        for (size_t i = 0; i < s.nc; i++) {
            tq_stream *o = &r->streams[slot[s.c[i].stream]];
            o->ts[o->n] = s.c[i].ts;
            o->lines[o->n] = tq_arena_strndup(&r->arena, s.c[i].line, s.c[i].len);
            o->lens[o->n] = s.c[i].len;
            o->n++;
        }
        r->stats.entries_returned = s.nc;
        free(count);
        free(slot);
    }
    for (size_t i = 0; i < s.nc; i++) free(s.c[i].line);
    free(s.c);
    free(s.slabels);
    free(s.snlabels);
    idcache_free(&s.ids);
    smap_free(&s.streams);
    tq_buf_free(&s.key);
    tq_pipe_free(&s.pipe);
    return rc;
}
