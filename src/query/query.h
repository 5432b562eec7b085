/* query.h — evaluate LogQL queries over a tq_source.
 *
 *   tq_query *q; char err[256];
 *   if (tq_parse(text, &q, err, sizeof err) < 0) report(err);
 *   tq_params p = {.start = ..., .end = ..., .step = 60e9, .limit = 100};
 *   tq_result *r; tq_eval(q, &p, &src, &r, err, sizeof err);
 *   ... r->type, r->streams / r->series ...
 *   tq_result_free(r); tq_query_free(q);
 *
 * A parsed query is immutable; tq_eval may run concurrently on it.
 */
#ifndef TRAIL_QUERY_H
#define TRAIL_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logql_ast.h"
#include "tq_buf.h"
#include "tq_source.h"

/* SCALAR: an instant query that is a plain number (`1+1`): one series
 * without labels holding one sample, rendered as Loki's "scalar". */
typedef enum tq_result_type { TQ_RESULT_STREAMS, TQ_RESULT_MATRIX, TQ_RESULT_VECTOR, TQ_RESULT_SCALAR } tq_result_type;

typedef struct tq_params {
    int64_t start, end;  /* unix ns, inclusive. Instant queries: start == end == time */
    int64_t step;        /* ns; 0 picks Loki's default for the range */
    size_t limit;        /* log queries: max entries (0 = 100) */
    bool backward;       /* log queries: newest first (Loki's default direction) */
    bool instant;        /* /query: metric result is a vector at `end` */
    double timeout_s;    /* give up (-ETIMEDOUT) after this long; 0 = no limit */
} tq_params;

typedef struct tq_stream {
    tq_label *labels;    /* sorted by name */
    size_t nlabels;
    int64_t *ts;
    const char **lines;
    size_t *lens;
    size_t n;
} tq_stream;

typedef struct tq_series {
    tq_label *labels;
    size_t nlabels;
    int64_t *ts;         /* step times, unix ns */
    double *v;
    size_t n;
} tq_series;

typedef struct tq_stats {
    uint64_t entries_scanned;  /* handed over by the source */
    uint64_t bytes_scanned;
    uint64_t entries_returned;
    double exec_seconds;
} tq_stats;

typedef struct tq_result {
    tq_result_type type;
    tq_stream *streams;  /* TQ_RESULT_STREAMS */
    size_t nstreams;
    tq_series *series;   /* MATRIX and VECTOR (a vector has one point per series) */
    size_t nseries;
    tq_stats stats;
    tq_arena arena;      /* owns every string above */
} tq_result;

/* Limits that keep one query from taking the process down. */
#define TQ_MAX_POINTS 11000    /* per series, as Loki */
#define TQ_MAX_SERIES 100000
#define TQ_MAX_LIMIT 100000    /* log entries per query */

/* 0, -EINVAL for a query/params problem (message in err), -E2BIG when a
 * limit is exceeded, -ETIMEDOUT past p->timeout_s, or the source's error. */
int tq_eval(const tq_query *q, const tq_params *p, const tq_source *src, tq_result **out, char *err,
            size_t errlen);
void tq_result_free(tq_result *r);

/* Loki's default step: floor(range / 250) in whole seconds, at least 1s. */
int64_t tq_default_step(int64_t start, int64_t end);

#endif
