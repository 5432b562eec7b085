/* logql_eval.c — tq_eval: checks the parameters, dispatches to the log
 * (logql_eval_log.c) or metric (logql_eval_metric.c) evaluator, and times
 * the run. Also the shared helpers: label copies and push-down hints. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eval_impl.h"

double tq_now_mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t tq_default_step(int64_t start, int64_t end) {
    int64_t secs = (end - start) / 250 / 1000000000; /* Loki: floor(range/250), at least 1s */
    return (secs < 1 ? 1 : secs) * 1000000000;
}

/* Copies pipeline labels into the result arena. */
tq_label *copy_plabels(tq_arena *a, const tq_pipe *p) {
    tq_label *l = tq_arena_alloc(a, (p->n ? p->n : 1) * sizeof *l);
    for (size_t i = 0; i < p->n; i++) {
        l[i].name = tq_arena_strndup(a, p->l[i].name, p->l[i].nlen);
        l[i].value = tq_arena_strndup(a, p->l[i].value, p->l[i].vlen);
    }
    return l;
}

/* Push-down hints from the pipeline: literal |= filters and equality label
 * filters on high-cardinality fields, both only from the AND-part that every
 * returned entry must satisfy, and only before a line_format rewrites the
 * line. */

static int is_indexed_field(const char *name) {
    return strcmp(name, "request_id") == 0 || strcmp(name, "user_id") == 0 || strcmp(name, "trace_id") == 0;
}

static void lf_hints(const tq_label_filter *f, hints *h) {
    if (f->kind == TQ_LF_AND) {
        lf_hints(f->left, h);
        lf_hints(f->right, h);
    } else if (f->kind == TQ_LF_CMP && f->op == TQ_CMP_EQ && !f->numeric && f->str[0] && is_indexed_field(f->name) &&
               h->neq < 8) {
        h->eq[h->neq].name = f->name;
        h->eq[h->neq].value = f->str;
        h->neq++;
    }
}

void build_hints(const tq_log_expr *le, hints *h, tq_scan *s) {
    memset(h, 0, sizeof *h);
    for (size_t i = 0; i < le->nstages; i++) {
        const tq_stage *st = &le->stages[i];
        if (st->kind == TQ_STAGE_LINE_FORMAT) break;
        if (st->kind == TQ_STAGE_LINE_FILTER && st->line_op == TQ_LINE_CONTAINS && st->text_len > 0 &&
            strlen(st->text) == st->text_len && h->ncontains < 8)
            h->contains[h->ncontains++] = st->text;
        if (st->kind == TQ_STAGE_LABEL_FILTER) lf_hints(st->lf, h);
    }
    s->field_eq = h->eq;
    s->nfield_eq = h->neq;
    s->contains = h->contains;
    s->ncontains = h->ncontains;
}

int tq_eval(const tq_query *q, const tq_params *p, const tq_source *src, tq_result **out, char *err, size_t errlen) {
    char dummy[1];
    if (!err || !errlen) { err = dummy; errlen = sizeof dummy; }
    err[0] = 0;
    *out = NULL;
    if (p->end < p->start) {
        snprintf(err, errlen, "end timestamp must not be before start time");
        return -EINVAL;
    }
    if (p->limit > TQ_MAX_LIMIT) {
        snprintf(err, errlen, "max entries limit per query exceeded, limit > max_entries_limit (%zu > %d)", p->limit,
                 TQ_MAX_LIMIT);
        return -EINVAL;
    }
    tq_result *r = calloc(1, sizeof *r);
    if (!r) return -ENOMEM;
    double t0 = tq_now_mono();
    int rc;
    if (!tq_query_is_metric(q)) {
        if (p->instant) {
            snprintf(err, errlen, "log queries are not supported as an instant query type, please change your query "
                                  "to a range query type");
            free(r);
            return -EINVAL;
        }
        r->type = TQ_RESULT_STREAMS;
        rc = eval_log(&q->root->log, p, src, r, err, errlen);
    } else {
        rc = eval_metric_query(q, p, src, r, err, errlen);
    }
    r->stats.exec_seconds = tq_now_mono() - t0;
    if (rc < 0) {
        tq_result_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

void tq_result_free(tq_result *r) {
    if (!r) return;
    tq_arena_free(&r->arena);
    free(r);
}
