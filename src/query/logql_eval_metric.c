/* logql_eval_metric.c — metric queries: scan (start - range, end] once,
 * keep per series only (timestamp, bytes) pairs, then slide a window over
 * each series for every step; vector aggregations and arithmetic combine
 * the step values. Windows are (t - range, t] like Loki's range vectors;
 * steps without entries have no sample (nothing is invented as 0). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval_impl.h"

/* A dense step matrix: every series has a value slot per step. */
typedef struct mseries {
    tq_label *labels; /* result arena */
    size_t nlabels;
    double *v;        /* nsteps */
    unsigned char *has;
} mseries;

typedef struct mat {
    mseries *s;
    size_t n, cap;
    size_t nsteps;
    int64_t start, step;
    int scalar;   /* a number, not series: sv at every step */
    double sv;
} mat;

static mseries *mat_add(mat *m) {
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 16;
        m->s = realloc(m->s, m->cap * sizeof *m->s);
        if (!m->s) abort();
    }
    mseries *s = &m->s[m->n++];
    memset(s, 0, sizeof *s);
    s->v = calloc(m->nsteps, sizeof *s->v);
    s->has = calloc(m->nsteps, 1);
    if (!s->v || !s->has) abort();
    return s;
}

static void mat_free(mat *m) {
    for (size_t i = 0; i < m->n; i++) {
        free(m->s[i].v);
        free(m->s[i].has);
    }
    free(m->s);
    memset(m, 0, sizeof *m);
}

typedef struct point {
    int64_t ts;
    size_t bytes;
} point;

typedef struct raw_series {
    point *p;
    size_t n, cap;
    int unsorted; /* an entry arrived out of time order */
} raw_series;

typedef struct range_state {
    const tq_log_expr *le;
    tq_pipe pipe;
    tq_buf key;
    smap map;
    raw_series *rs;
    tq_label **labels;
    size_t *nlabels;
    size_t n, cap;
    tq_result *r;
    int err;
    int cacheable;
    idcache ids;
    double deadline;
} range_state;

static int range_cb(void *arg, const tq_entry *e) {
    range_state *s = arg;
    if (s->deadline && (s->r->stats.entries_scanned & 4095) == 0 && tq_now_mono() > s->deadline) {
        s->err = -ETIMEDOUT;
        return 1;
    }
    s->r->stats.entries_scanned++;
    s->r->stats.bytes_scanned += e->len;
    int added = 0;
    size_t idx;
    /* No stages and a known stream: nothing to run, the series is known. */
    int known = s->cacheable && e->stream_id && idcache_get(&s->ids, e->stream_id, &idx);
    if (!(known && s->le->nstages == 0) && !tq_pipe_run(&s->pipe, s->le, e)) return 0;
    if (!known) {
        tq_pipe_labels_key(&s->pipe, &s->key);
        idx = smap_get_or_add(&s->map, s->key.p, s->key.len, s->n, &added);
        if (s->cacheable && e->stream_id) idcache_put(&s->ids, e->stream_id, idx);
    }
    if (added) {
        if (s->n >= TQ_MAX_SERIES) { s->err = -E2BIG; return 1; }
        if (s->n == s->cap) {
            s->cap = s->cap ? s->cap * 2 : 16;
            s->rs = realloc(s->rs, s->cap * sizeof *s->rs);
            s->labels = realloc(s->labels, s->cap * sizeof *s->labels);
            s->nlabels = realloc(s->nlabels, s->cap * sizeof *s->nlabels);
            if (!s->rs || !s->labels || !s->nlabels) abort();
        }
        memset(&s->rs[s->n], 0, sizeof s->rs[s->n]);
        s->labels[s->n] = copy_plabels(&s->r->arena, &s->pipe);
        s->nlabels[s->n] = s->pipe.n;
        s->n++;
    }
    raw_series *rs = &s->rs[idx];
    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? rs->cap * 2 : 16;
        rs->p = realloc(rs->p, rs->cap * sizeof *rs->p);
        if (!rs->p) abort();
    }
    /* bytes_over_time counts the original line's bytes, as Loki does. */
    if (rs->n && e->ts < rs->p[rs->n - 1].ts) rs->unsorted = 1;
    rs->p[rs->n++] = (point){e->ts, e->len};
    return 0;
}

static int point_cmp(const void *a, const void *b) {
    const point *x = a, *y = b;
    return x->ts < y->ts ? -1 : x->ts > y->ts;
}

static int eval_range(const tq_expr *e, const tq_params *p, const tq_source *src, tq_result *r, mat *m, char *err,
                      size_t errlen) {
    range_state s;
    memset(&s, 0, sizeof s);
    s.le = &e->log;
    s.r = r;
    s.cacheable = !pipeline_extracts(&e->log);
    tq_pipe_init(&s.pipe);
    /* Windows are (t - range, t]: the scan's inclusive start is one ns in. */
    tq_scan scan = {.start = p->start - e->range_ns + 1, .end = p->end, .sel = &e->log.sel};
    hints h;
    build_hints(&e->log, &h, &scan);
    s.deadline = p->timeout_s > 0 ? tq_now_mono() + p->timeout_s : 0;
    int rc = src->scan(src->ctx, &scan, range_cb, &s);
    if (rc == 0 && s.err == -ETIMEDOUT) {
        rc = s.err;
        snprintf(err, errlen, "query timed out after %.0f s: narrow the time range or the selector", p->timeout_s);
    } else if (rc == 0 && s.err) {
        rc = s.err;
        snprintf(err, errlen, "maximum number of series (%d) reached", TQ_MAX_SERIES);
    } else if (rc < 0) {
        snprintf(err, errlen, "reading the store failed: %s", strerror(-rc));
    }
    double range_s = (double)e->range_ns / 1e9;
    for (size_t i = 0; rc == 0 && i < s.n; i++) {
        raw_series *rs = &s.rs[i];
        if (rs->unsorted) qsort(rs->p, rs->n, sizeof *rs->p, point_cmp);
        mseries *ms = mat_add(m);
        ms->labels = s.labels[i];
        ms->nlabels = s.nlabels[i];
        size_t lo = 0, hi = 0;
        double bytes = 0;
        for (size_t k = 0; k < m->nsteps; k++) {
            int64_t t = m->start + (int64_t)k * m->step;
            while (hi < rs->n && rs->p[hi].ts <= t) bytes += (double)rs->p[hi++].bytes;
            while (lo < hi && rs->p[lo].ts <= t - e->range_ns) bytes -= (double)rs->p[lo++].bytes;
            size_t cnt = hi - lo;
            if (!cnt) continue;
            double v;
            switch (e->fn) {
            case TQ_COUNT_OVER_TIME: v = (double)cnt; break;
            case TQ_RATE: v = (double)cnt / range_s; break;
            case TQ_BYTES_OVER_TIME: v = bytes; break;
            default: v = bytes / range_s; break;
            }
            ms->v[k] = v;
            ms->has[k] = 1;
        }
    }
    for (size_t i = 0; i < s.n; i++) free(s.rs[i].p);
    free(s.rs);
    free(s.labels);
    free(s.nlabels);
    idcache_free(&s.ids);
    smap_free(&s.map);
    tq_buf_free(&s.key);
    tq_pipe_free(&s.pipe);
    return rc;
}

/* Labels kept by a grouping clause (sorted input stays sorted). */
static size_t group_labels(const tq_expr *e, const mseries *in, tq_label *out) {
    size_t n = 0;
    for (size_t i = 0; i < in->nlabels; i++) {
        int listed = 0;
        for (size_t g = 0; g < e->ngroup; g++)
            if (strcmp(in->labels[i].name, e->group[g]) == 0) { listed = 1; break; }
        if (e->without ? !listed : listed) out[n++] = in->labels[i];
    }
    return n;
}

static int eval_metric(const tq_expr *e, const tq_params *p, const tq_source *src, tq_result *r, mat *m, char *err,
                       size_t errlen);

static int eval_vector(const tq_expr *e, const tq_params *p, const tq_source *src, tq_result *r, mat *out, char *err,
                       size_t errlen) {
    mat in = {.nsteps = out->nsteps, .start = out->start, .step = out->step};
    int rc = eval_metric(e->inner, p, src, r, &in, err, errlen);
    if (rc < 0) { mat_free(&in); return rc; }
    smap groups;
    memset(&groups, 0, sizeof groups);
    size_t *gid = calloc(in.n + 1, sizeof *gid);
    tq_label *tmp = calloc(64, sizeof *tmp);
    size_t tmpcap = 64;
    tq_buf key = {0};
    if (!gid || !tmp) abort();
    size_t ng = 0;
    /* Without a grouping clause everything falls in one group with no labels
     * (for topk/bottomk: one group overall). */
    for (size_t i = 0; i < in.n; i++) {
        if (in.s[i].nlabels > tmpcap) {
            tmpcap = in.s[i].nlabels;
            tmp = realloc(tmp, tmpcap * sizeof *tmp);
            if (!tmp) abort();
        }
        size_t nl = e->grouped ? group_labels(e, &in.s[i], tmp) : 0;
        tq_labels_key(tmp, nl, &key);
        int added;
        gid[i] = smap_get_or_add(&groups, key.p, key.len, ng, &added);
        if (added) {
            ng++;
            if (e->op != TQ_TOPK && e->op != TQ_BOTTOMK) {
                mseries *o = mat_add(out);
                o->labels = tq_arena_alloc(&r->arena, (nl ? nl : 1) * sizeof *o->labels);
                memcpy(o->labels, tmp, nl * sizeof *tmp);
                o->nlabels = nl;
            }
        }
    }
    if (e->op == TQ_TOPK || e->op == TQ_BOTTOMK) {
        /* The output keeps each input series' labels; a series has a value at
         * the steps where it ranked within k in its group. */
        size_t first_out = out->n;
        for (size_t i = 0; i < in.n; i++) {
            mseries *o = mat_add(out);
            o->labels = in.s[i].labels;
            o->nlabels = in.s[i].nlabels;
        }
        size_t *order = calloc(in.n + 1, sizeof *order);
        if (!order) abort();
        for (size_t k = 0; k < in.nsteps; k++) {
            for (size_t g = 0; g < ng; g++) {
                size_t cnt = 0;
                for (size_t i = 0; i < in.n; i++)
                    if (gid[i] == g && in.s[i].has[k]) order[cnt++] = i;
                /* Partial selection sort: k is small. */
                size_t take = cnt < (size_t)e->k ? cnt : (size_t)e->k;
                for (size_t a = 0; a < take; a++) {
                    size_t best = a;
                    for (size_t b = a + 1; b < cnt; b++) {
                        double vb = in.s[order[b]].v[k], vbest = in.s[order[best]].v[k];
                        int better = e->op == TQ_TOPK ? (vb > vbest || (isnan(vbest) && !isnan(vb)))
                                                      : (vb < vbest || (isnan(vbest) && !isnan(vb)));
                        if (better) best = b;
                    }
                    size_t t = order[a]; order[a] = order[best]; order[best] = t;
                    mseries *o = &out->s[first_out + order[a]];
                    o->v[k] = in.s[order[a]].v[k];
                    o->has[k] = 1;
                }
            }
        }
        free(order);
    } else {
        size_t *cnt = calloc(ng + 1, sizeof *cnt);
        if (!cnt) abort();
        for (size_t k = 0; k < in.nsteps; k++) {
            memset(cnt, 0, (ng + 1) * sizeof *cnt);
            for (size_t i = 0; i < in.n; i++) {
                if (!in.s[i].has[k]) continue;
                mseries *o = &out->s[out->n - ng + gid[i]];
                double v = in.s[i].v[k];
                size_t c = cnt[gid[i]]++;
                switch (e->op) {
                case TQ_SUM: case TQ_AVG: o->v[k] = c ? o->v[k] + v : v; break;
                case TQ_MIN: o->v[k] = c ? (v < o->v[k] ? v : o->v[k]) : v; break;
                case TQ_MAX: o->v[k] = c ? (v > o->v[k] ? v : o->v[k]) : v; break;
                case TQ_COUNT: o->v[k] = (double)(c + 1); break;
                default: break;
                }
                o->has[k] = 1;
            }
            if (e->op == TQ_AVG)
                for (size_t g = 0; g < ng; g++)
                    if (cnt[g]) out->s[out->n - ng + g].v[k] /= (double)cnt[g];
        }
        free(cnt);
    }
    free(gid);
    free(tmp);
    tq_buf_free(&key);
    smap_free(&groups);
    mat_free(&in);
    return 0;
}

static double apply_op(tq_bin_op op, double x, double y) {
    switch (op) {
    case TQ_ADD: return x + y;
    case TQ_SUB: return x - y;
    case TQ_MUL: return x * y;
    case TQ_DIV: return x / y; /* IEEE: x/0 is +-Inf or NaN, as in Prometheus */
    default: return fmod(x, y);
    }
}

/* lhs op rhs: numbers combine directly; a vector and a number combine per
 * sample; two vectors match series with identical label sets (one-to-one,
 * Prometheus' default) and keep the left side's labels. */
static int eval_binary(const tq_expr *e, const tq_params *p, const tq_source *src, tq_result *r, mat *out, char *err,
                       size_t errlen) {
    mat a = {.nsteps = out->nsteps, .start = out->start, .step = out->step};
    mat b = a;
    int rc = eval_metric(e->lhs, p, src, r, &a, err, errlen);
    if (rc == 0) rc = eval_metric(e->rhs, p, src, r, &b, err, errlen);
    if (rc < 0) goto done;
    if (a.scalar && b.scalar) {
        out->scalar = 1;
        out->sv = apply_op(e->bop, a.sv, b.sv);
    } else if (a.scalar || b.scalar) {
        mat *v = a.scalar ? &b : &a;
        for (size_t i = 0; i < v->n; i++) {
            mseries *o = mat_add(out);
            o->labels = v->s[i].labels;
            o->nlabels = v->s[i].nlabels;
            for (size_t k = 0; k < out->nsteps; k++) {
                if (!v->s[i].has[k]) continue;
                o->v[k] = a.scalar ? apply_op(e->bop, a.sv, v->s[i].v[k]) : apply_op(e->bop, v->s[i].v[k], b.sv);
                o->has[k] = 1;
            }
        }
    } else {
        smap m;
        memset(&m, 0, sizeof m);
        tq_buf key = {0};
        for (size_t i = 0; i < b.n; i++) {
            int added;
            tq_labels_key(b.s[i].labels, b.s[i].nlabels, &key);
            smap_get_or_add(&m, key.p, key.len, i, &added);
        }
        for (size_t i = 0; i < a.n; i++) {
            tq_labels_key(a.s[i].labels, a.s[i].nlabels, &key);
            int found;
            size_t slot = m.cap ? smap_slot(&m, key.p, key.len, &found) : 0;
            if (!m.cap || !found) continue;
            const mseries *y = &b.s[m.vals[slot]];
            mseries *o = mat_add(out);
            o->labels = a.s[i].labels;
            o->nlabels = a.s[i].nlabels;
            for (size_t k = 0; k < out->nsteps; k++) {
                if (!a.s[i].has[k] || !y->has[k]) continue;
                o->v[k] = apply_op(e->bop, a.s[i].v[k], y->v[k]);
                o->has[k] = 1;
            }
        }
        tq_buf_free(&key);
        smap_free(&m);
    }
done:
    mat_free(&a);
    mat_free(&b);
    return rc;
}

static int eval_metric(const tq_expr *e, const tq_params *p, const tq_source *src, tq_result *r, mat *m, char *err,
                       size_t errlen) {
    switch (e->kind) {
    case TQ_EXPR_RANGE: return eval_range(e, p, src, r, m, err, errlen);
    case TQ_EXPR_VECTOR: return eval_vector(e, p, src, r, m, err, errlen);
    case TQ_EXPR_BINARY: return eval_binary(e, p, src, r, m, err, errlen);
    case TQ_EXPR_NUMBER:
        m->scalar = 1;
        m->sv = e->num;
        return 0;
    case TQ_EXPR_VECFN: {
        mseries *s = mat_add(m);
        s->labels = tq_arena_alloc(&r->arena, sizeof *s->labels);
        s->nlabels = 0;
        for (size_t k = 0; k < m->nsteps; k++) {
            s->v[k] = e->num;
            s->has[k] = 1;
        }
        return 0;
    }
    default:
        snprintf(err, errlen, "not a metric expression");
        return -EINVAL;
    }
}

static int label_cmp(const void *a, const void *b) {
    return strcmp(((const tq_label *)a)->name, ((const tq_label *)b)->name);
}

static int series_cmp(const void *a, const void *b) {
    const tq_series *x = a, *y = b;
    for (size_t i = 0; i < x->nlabels && i < y->nlabels; i++) {
        int c = strcmp(x->labels[i].name, y->labels[i].name);
        if (!c) c = strcmp(x->labels[i].value, y->labels[i].value);
        if (c) return c;
    }
    return x->nlabels < y->nlabels ? -1 : x->nlabels > y->nlabels;
}

/* The metric part of tq_eval: step grid, evaluation, result series. */
int eval_metric_query(const tq_query *q, const tq_params *p, const tq_source *src, tq_result *r, char *err,
                      size_t errlen) {
    mat m;
    memset(&m, 0, sizeof m);
    if (p->instant) {
        m.start = p->end;
        m.step = 1;
        m.nsteps = 1;
    } else {
        m.start = p->start;
        m.step = p->step > 0 ? p->step : tq_default_step(p->start, p->end);
        uint64_t steps = (uint64_t)((p->end - p->start) / m.step) + 1;
        if (steps > TQ_MAX_POINTS) {
            snprintf(err, errlen, "exceeded maximum resolution of %d points per timeseries. Try decreasing the "
                                  "query resolution (?step=XX)", TQ_MAX_POINTS);
            return -EINVAL;
        }
        m.nsteps = (size_t)steps;
    }
    tq_params pp = *p;
    pp.start = m.start;
    pp.end = m.start + (int64_t)(m.nsteps - 1) * m.step;
    int rc = eval_metric(q->root, &pp, src, r, &m, err, errlen);
    int scalar = rc == 0 && m.scalar;
    if (scalar) {
        /* A plain number (`1+1`) is returned as one series without labels. */
        mseries *s = mat_add(&m);
        s->labels = tq_arena_alloc(&r->arena, sizeof *s->labels);
        for (size_t k = 0; k < m.nsteps; k++) {
            s->v[k] = m.sv;
            s->has[k] = 1;
        }
    }
    if (rc == 0) {
        r->type = p->instant ? (scalar ? TQ_RESULT_SCALAR : TQ_RESULT_VECTOR) : TQ_RESULT_MATRIX;
        r->series = tq_arena_alloc(&r->arena, (m.n ? m.n : 1) * sizeof *r->series);
        for (size_t i = 0; i < m.n; i++) {
            size_t cnt = 0;
            for (size_t k = 0; k < m.nsteps; k++) cnt += m.s[i].has[k];
            if (!cnt) continue;
            tq_series *o = &r->series[r->nseries++];
            o->n = 0;
            o->labels = m.s[i].labels;
            o->nlabels = m.s[i].nlabels;
            if (o->nlabels) qsort(o->labels, o->nlabels, sizeof *o->labels, label_cmp);
            o->ts = tq_arena_alloc(&r->arena, cnt * sizeof *o->ts);
            o->v = tq_arena_alloc(&r->arena, cnt * sizeof *o->v);
            for (size_t k = 0; k < m.nsteps; k++)
                if (m.s[i].has[k]) {
                    o->ts[o->n] = m.start + (int64_t)k * m.step;
                    o->v[o->n++] = m.s[i].v[k];
                }
        }
        if (r->nseries) qsort(r->series, r->nseries, sizeof *r->series, series_cmp);
    }
    mat_free(&m);
    return rc;
}
