/* Evaluator tests: every query's result is compared with a brute-force
 * evaluation written directly against the generator's records (not the
 * lines), so a bug in the pipeline or the windowing shows up as a mismatch. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem_source.h"
#include "query.h"
#include "test.h"

#define NREC 3000
#define T0 1700000000000000000LL
#define SEC 1000000000LL
#define SPAN (3600 * SEC)

static const char *svcs[] = {"api", "web", "worker"};
static const char *lvls[] = {"info", "warn", "error"};
static const char *methods[] = {"GET", "POST"};

typedef struct rec {
    int64_t ts;
    int svc, lvl, status, method, timeout;
    int rid;
    char line[256];
    size_t len;
} rec;

static rec R[NREC];
static tq_mem *M;
static tq_source S;

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void generate(void) {
    M = tq_mem_new();
    S = tq_mem_source(M);
    for (int i = 0; i < NREC; i++) {
        rec *r = &R[i];
        /* Distinct timestamps keep the reference order unambiguous. */
        r->ts = T0 + (int64_t)(next_rand() % (uint64_t)(SPAN / 1000)) * 1000 + i % 1000;
        r->svc = (int)(next_rand() % 3);
        r->lvl = (int)(next_rand() % 3);
        r->status = (int[]){200, 201, 404, 500, 503}[next_rand() % 5];
        r->method = (int)(next_rand() % 2);
        r->timeout = next_rand() % 4 == 0;
        r->rid = (int)(next_rand() % 200);
        r->len = (size_t)snprintf(r->line, sizeof r->line,
                                  "{\"level\":\"%s\",\"msg\":\"%s\",\"request_id\":\"r%d\",\"status\":%d,"
                                  "\"http\":{\"method\":\"%s\"}}",
                                  lvls[r->lvl], r->timeout ? "upstream timeout" : "handled", r->rid, r->status,
                                  methods[r->method]);
        tq_label l[2] = {{"service", svcs[r->svc]}, {"level", lvls[r->lvl]}};
        CHECK_INT(tq_mem_add(M, l, 2, r->ts, r->line, r->len), ==, 1);
    }
}

static tq_result *run(const char *query, const tq_params *p) {
    tq_query *q;
    char err[256];
    if (tq_parse(query, &q, err, sizeof err) != 0) test__fail(__FILE__, __LINE__, "parse [%s]: %s", query, err);
    tq_result *r;
    if (tq_eval(q, p, &S, &r, err, sizeof err) != 0) test__fail(__FILE__, __LINE__, "eval [%s]: %s", query, err);
    tq_query_free(q);
    return r;
}

static const char *label(const tq_label *l, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(l[i].name, name) == 0) return l[i].value;
    return NULL;
}

typedef int (*pred_fn)(const rec *r);

static int cmp_ts_asc(const void *a, const void *b) {
    const rec *x = *(rec *const *)a, *y = *(rec *const *)b;
    return x->ts < y->ts ? -1 : x->ts > y->ts;
}

/* Log query check: the result must be exactly the `limit` first matching
 * records in the direction, each in a stream with its labels. */
static void check_log(const char *query, pred_fn pred, size_t limit, int backward) {
    tq_params p = {.start = T0, .end = T0 + SPAN, .limit = limit, .backward = backward};
    tq_result *r = run(query, &p);
    CHECK_INT(r->type, ==, TQ_RESULT_STREAMS);
    rec *want[NREC];
    size_t nw = 0;
    for (int i = 0; i < NREC; i++)
        if (pred(&R[i])) want[nw++] = &R[i];
    qsort(want, nw, sizeof *want, cmp_ts_asc);
    if (backward)
        for (size_t i = 0; i < nw / 2; i++) { rec *t = want[i]; want[i] = want[nw - 1 - i]; want[nw - 1 - i] = t; }
    if (nw > limit) nw = limit;
    size_t got = 0;
    for (size_t s = 0; s < r->nstreams; s++) {
        const tq_stream *st = &r->streams[s];
        for (size_t i = 0; i < st->n; i++) {
            if (i) CHECK(backward ? st->ts[i] <= st->ts[i - 1] : st->ts[i] >= st->ts[i - 1]);
            const rec *hit = NULL;
            for (size_t k = 0; k < nw; k++)
                if (want[k]->ts == st->ts[i]) { hit = want[k]; break; }
            if (!hit) test__fail(__FILE__, __LINE__, "[%s] returned an entry not in the reference", query);
            CHECK_STR(label(st->labels, st->nlabels, "service"), svcs[hit->svc]);
            got++;
        }
    }
    CHECK_INT(got, ==, nw);
    CHECK_INT(r->stats.entries_returned, ==, nw);
    tq_result_free(r);
}

static int p_api(const rec *r) { return r->svc == 0; }
static int p_nonapi_timeout(const rec *r) { return r->svc != 2 && r->lvl != 0 && r->timeout; }
static int p_worker_5xx_post(const rec *r) { return r->svc == 2 && r->status >= 500 && r->method == 1; }
static int p_rid42(const rec *r) { return r->lvl == 2 && r->rid == 42; }
static int p_not_get_or_404(const rec *r) { return r->method != 0 || r->status == 404; }
static int p_regex(const rec *r) { return r->status == 500 || r->status == 503; }

TEST(log_queries_match_brute_force) {
    generate();
    check_log("{service=\"api\"}", p_api, 100000, 0);
    check_log("{service=\"api\"}", p_api, 7, 0);
    check_log("{service=\"api\"}", p_api, 7, 1);
    check_log("{service=~\"api|web\", level!=\"info\"} |= \"timeout\"", p_nonapi_timeout, 100000, 1);
    check_log("{service=\"worker\"} | json | status >= 500 and http_method=\"POST\"", p_worker_5xx_post, 100000, 0);
    check_log("{level=\"error\"} | json | request_id=\"r42\"", p_rid42, 100000, 1);
    check_log("{service=~\".+\"} | json | http_method!=\"GET\" or status == 404", p_not_get_or_404, 50, 1);
    check_log("{service=~\".*\"} |~ `\"status\":5\\d\\d` != \"zzz\"", p_regex, 100000, 0);
    check_log("{service=~\".*\"} !~ `\"status\":(200|201|404)`", p_regex, 100000, 0);
}

TEST(json_labels_and_line_format) {
    generate();
    tq_params p = {.start = T0, .end = T0 + SPAN, .limit = 5000};
    tq_result *r = run("{service=\"web\"} | json | line_format \"{{.request_id}} {{.http_method}} {{.status}}\"", &p);
    size_t n = 0;
    for (size_t s = 0; s < r->nstreams; s++) {
        const tq_stream *st = &r->streams[s];
        /* json labels join the stream labels (as in Loki) */
        CHECK(label(st->labels, st->nlabels, "request_id") != NULL);
        CHECK(label(st->labels, st->nlabels, "http_method") != NULL);
        /* `level` is a stream label and a JSON key: the JSON one is renamed */
        CHECK(label(st->labels, st->nlabels, "level_extracted") != NULL);
        for (size_t i = 0; i < st->n; i++) {
            const rec *hit = NULL;
            for (int k = 0; k < NREC; k++)
                if (R[k].ts == st->ts[i]) hit = &R[k];
            CHECK(hit != NULL);
            char want[64];
            snprintf(want, sizeof want, "r%d %s %d", hit->rid, methods[hit->method], hit->status);
            CHECK_STR(st->lines[i], want);
            n++;
        }
    }
    size_t want_n = 0;
    for (int k = 0; k < NREC; k++) want_n += R[k].svc == 1;
    CHECK_INT(n, ==, want_n);
    tq_result_free(r);
}

/* ------------------------------------------------------------ metrics */

typedef const char *(*group_fn)(const rec *r, char *buf);

/* Reference value of a range function for records matching pred in group
 * key, window (t - range, t]. Returns count (0 = no sample). */
static size_t ref_window(pred_fn pred, group_fn g, const char *key, int64_t t, int64_t range, double *bytes) {
    size_t c = 0;
    *bytes = 0;
    char buf[128];
    for (int i = 0; i < NREC; i++) {
        const rec *r = &R[i];
        if (r->ts <= t - range || r->ts > t || !pred(r)) continue;
        if (g && strcmp(g(r, buf), key) != 0) continue;
        c++;
        *bytes += (double)r->len;
    }
    return c;
}

static int p_all(const rec *r) { (void)r; return 1; }
static int p_timeout(const rec *r) { return r->timeout; }
static const char *g_stream(const rec *r, char *buf) {
    sprintf(buf, "%s/%s", svcs[r->svc], lvls[r->lvl]);
    return buf;
}
static const char *g_level(const rec *r, char *buf) { strcpy(buf, lvls[r->lvl]); return buf; }
static const char *g_service(const rec *r, char *buf) { strcpy(buf, svcs[r->svc]); return buf; }

static int close_to(double a, double b) { return fabs(a - b) <= 1e-9 * (fabs(a) + fabs(b) + 1); }

TEST(count_over_time_per_stream) {
    generate();
    tq_params p = {.start = T0 + 600 * SEC, .end = T0 + SPAN, .step = 60 * SEC};
    tq_result *r = run("count_over_time({service=\"api\"}[5m])", &p);
    CHECK_INT(r->type, ==, TQ_RESULT_MATRIX);
    CHECK_INT(r->nseries, ==, 3); /* api x 3 levels */
    size_t points = 0;
    for (size_t s = 0; s < r->nseries; s++) {
        const tq_series *se = &r->series[s];
        char key[64];
        snprintf(key, sizeof key, "api/%s", label(se->labels, se->nlabels, "level"));
        size_t k = 0;
        for (int64_t t = p.start; t <= p.end; t += p.step) {
            double b;
            size_t c = ref_window(p_api, g_stream, key, t, 300 * SEC, &b);
            if (!c) continue;
            CHECK(k < se->n);
            CHECK_INT(se->ts[k], ==, t);
            CHECK(close_to(se->v[k], (double)c));
            k++;
            points++;
        }
        CHECK_INT(k, ==, se->n);
    }
    CHECK(points > 100);
    tq_result_free(r);
}

/* Generic check of `agg by (group) (fn(selector-for-pred [range]))`. */
static void check_agg(const char *query, pred_fn pred, group_fn g, const char *glabel, int64_t range, int fn_bytes,
                      int rate, const char *agg) {
    tq_params p = {.start = T0 + 300 * SEC, .end = T0 + SPAN, .step = 120 * SEC};
    tq_result *r = run(query, &p);
    CHECK_INT(r->type, ==, TQ_RESULT_MATRIX);
    const char *groups[3];
    size_t ng = g == g_level ? 3 : g == g_service ? 3 : 1;
    for (size_t i = 0; i < ng; i++) groups[i] = g == g_level ? lvls[i] : g == g_service ? svcs[i] : "";
    size_t checked = 0;
    for (size_t gi = 0; gi < ng; gi++) {
        const tq_series *se = NULL;
        for (size_t s = 0; s < r->nseries; s++) {
            const char *v = glabel ? label(r->series[s].labels, r->series[s].nlabels, glabel) : "";
            if (v && strcmp(v, groups[gi]) == 0) se = &r->series[s];
        }
        size_t k = 0;
        for (int64_t t = p.start; t <= p.end; t += p.step) {
            /* The inner series are streams (service/level); aggregate them. */
            double vals[9];
            size_t nv = 0;
            for (int s = 0; s < 3; s++)
                for (int l = 0; l < 3; l++) {
                    char key[64], buf[64];
                    snprintf(key, sizeof key, "%s/%s", svcs[s], lvls[l]);
                    rec probe = {.svc = s, .lvl = l};
                    if (g && strcmp(g(&probe, buf), groups[gi]) != 0) continue;
                    double b;
                    size_t c = ref_window(pred, g_stream, key, t, range, &b);
                    if (!c) continue;
                    double v = fn_bytes ? b : (double)c;
                    if (rate) v /= (double)range / 1e9;
                    vals[nv++] = v;
                }
            if (!nv) continue;
            double want = vals[0];
            for (size_t i = 1; i < nv; i++) {
                if (!strcmp(agg, "sum") || !strcmp(agg, "avg")) want += vals[i];
                if (!strcmp(agg, "max") && vals[i] > want) want = vals[i];
                if (!strcmp(agg, "min") && vals[i] < want) want = vals[i];
            }
            if (!strcmp(agg, "avg")) want /= (double)nv;
            if (!strcmp(agg, "count")) want = (double)nv;
            CHECK(se != NULL);
            CHECK(k < se->n);
            CHECK_INT(se->ts[k], ==, t);
            if (!close_to(se->v[k], want))
                test__fail(__FILE__, __LINE__, "[%s] group %s t=%lld: got %g want %g", query, groups[gi],
                           (long long)((t - T0) / SEC), se->v[k], want);
            k++;
            checked++;
        }
        if (se) CHECK_INT(k, ==, se->n);
    }
    CHECK(checked > 20);
    tq_result_free(r);
}

TEST(vector_aggregations_match_brute_force) {
    generate();
    check_agg("sum by (level) (count_over_time({service=~\".+\"} |= \"timeout\" [10m]))", p_timeout, g_level,
              "level", 600 * SEC, 0, 0, "sum");
    check_agg("sum(rate({service=~\".+\"}[5m]))", p_all, NULL, NULL, 300 * SEC, 0, 1, "sum");
    check_agg("avg by (service) (bytes_over_time({level=~\".+\"}[7m]))", p_all, g_service, "service", 420 * SEC, 1,
              0, "avg");
    check_agg("max by (service) (bytes_rate({level=~\".+\"}[3m]))", p_all, g_service, "service", 180 * SEC, 1, 1,
              "max");
    check_agg("min without (service) (count_over_time({level=~\".+\"}[4m]))", p_all, g_level, "level", 240 * SEC, 0, 0,
              "min");
    check_agg("count by (level) (count_over_time({level=~\".+\"} |= \"timeout\" [2m]))", p_timeout, g_level, "level",
              120 * SEC, 0, 0, "count");
}

TEST(topk_and_instant_vector) {
    generate();
    /* Instant query at the end: one sample per series. */
    tq_params p = {.start = T0 + SPAN, .end = T0 + SPAN, .instant = true};
    tq_result *r = run("topk(2, sum by (service) (count_over_time({level=~\".+\"}[1h])))", &p);
    CHECK_INT(r->type, ==, TQ_RESULT_VECTOR);
    CHECK_INT(r->nseries, ==, 2);
    double counts[3];
    for (int s = 0; s < 3; s++) {
        double b;
        counts[s] = (double)ref_window(p_all, g_service, svcs[s], T0 + SPAN, SPAN, &b);
    }
    int minsvc = 0;
    for (int s = 1; s < 3; s++) if (counts[s] < counts[minsvc]) minsvc = s;
    for (size_t i = 0; i < r->nseries; i++) {
        const char *svc = label(r->series[i].labels, r->series[i].nlabels, "service");
        CHECK(svc != NULL);
        CHECK(strcmp(svc, svcs[minsvc]) != 0);
        int s = !strcmp(svc, "api") ? 0 : !strcmp(svc, "web") ? 1 : 2;
        CHECK_INT(r->series[i].n, ==, 1);
        CHECK(close_to(r->series[i].v[0], counts[s]));
        CHECK_INT(r->series[i].ts[0], ==, T0 + SPAN);
    }
    tq_result_free(r);

    r = run("bottomk(1, sum by (service) (count_over_time({level=~\".+\"}[1h])))", &p);
    CHECK_INT(r->nseries, ==, 1);
    CHECK_STR(label(r->series[0].labels, r->series[0].nlabels, "service"), svcs[minsvc]);
    tq_result_free(r);
}

TEST(bad_params_are_errors) {
    generate();
    tq_query *q;
    char err[256];
    CHECK_INT(tq_parse("{service=\"api\"}", &q, err, sizeof err), ==, 0);
    tq_result *r;
    tq_params p = {.start = T0, .end = T0, .instant = true};
    CHECK(tq_eval(q, &p, &S, &r, err, sizeof err) < 0);
    CHECK_CONTAINS(err, "log queries are not supported as an instant query type");
    tq_params p2 = {.start = T0 + 10, .end = T0};
    CHECK(tq_eval(q, &p2, &S, &r, err, sizeof err) < 0);
    CHECK_CONTAINS(err, "end timestamp must not be before start time");
    tq_query_free(q);
    CHECK_INT(tq_parse("rate({service=\"api\"}[1m])", &q, err, sizeof err), ==, 0);
    tq_params p3 = {.start = T0, .end = T0 + SPAN, .step = SEC / 10};
    CHECK(tq_eval(q, &p3, &S, &r, err, sizeof err) < 0);
    CHECK_CONTAINS(err, "exceeded maximum resolution of 11000 points");
    /* A query past its time budget stops with a clear error. */
    tq_params p4 = {.start = T0, .end = T0 + SPAN, .step = 60 * SEC, .timeout_s = 1e-9};
    CHECK_INT(tq_eval(q, &p4, &S, &r, err, sizeof err), ==, -ETIMEDOUT);
    CHECK_CONTAINS(err, "query timed out");
    tq_query_free(q);
}

TEST(binary_operators) {
    generate();
    tq_params p = {.start = T0 + SPAN, .end = T0 + SPAN, .instant = true};
    /* Grafana's Loki health check */
    tq_result *r = run("vector(1)+vector(1)", &p);
    CHECK_INT(r->type, ==, TQ_RESULT_VECTOR);
    CHECK_INT(r->nseries, ==, 1);
    CHECK_INT(r->series[0].nlabels, ==, 0);
    CHECK(r->series[0].v[0] == 2);
    tq_result_free(r);

    double c[3];
    for (int l = 0; l < 3; l++) {
        double b;
        char buf[16];
        strcpy(buf, lvls[l]);
        c[l] = (double)ref_window(p_all, g_level, buf, T0 + SPAN, SPAN, &b);
    }
    /* vector op scalar, and vector op vector matched by labels */
    r = run("sum by (level) (count_over_time({service=~\".+\"}[1h])) * 2 - 1", &p);
    CHECK_INT(r->nseries, ==, 3);
    for (size_t i = 0; i < r->nseries; i++) {
        const char *lv = label(r->series[i].labels, r->series[i].nlabels, "level");
        int l = !strcmp(lv, "info") ? 0 : !strcmp(lv, "warn") ? 1 : 2;
        CHECK(close_to(r->series[i].v[0], c[l] * 2 - 1));
    }
    tq_result_free(r);
    r = run("sum by (level) (count_over_time({service=\"api\"}[1h])) / sum by (level) (count_over_time({service=~\".+\"}[1h]))",
            &p);
    CHECK_INT(r->nseries, ==, 3);
    for (size_t i = 0; i < r->nseries; i++) {
        const char *lv = label(r->series[i].labels, r->series[i].nlabels, "level");
        int l = !strcmp(lv, "info") ? 0 : !strcmp(lv, "warn") ? 1 : 2;
        double api = 0;
        for (int k = 0; k < NREC; k++) api += R[k].svc == 0 && R[k].lvl == l && R[k].ts > T0 && R[k].ts <= T0 + SPAN;
        CHECK(close_to(r->series[i].v[0], api / c[l]));
    }
    tq_result_free(r);
    /* no matching label set: no result */
    r = run("sum by (level) (count_over_time({service=~\".+\"}[1h])) + sum by (service) (count_over_time({service=~\".+\"}[1h]))", &p);
    CHECK_INT(r->nseries, ==, 0);
    tq_result_free(r);
    r = run("1 + 2 * 3", &p);
    CHECK_INT(r->type, ==, TQ_RESULT_SCALAR);
    CHECK_INT(r->nseries, ==, 1);
    CHECK(r->series[0].v[0] == 7);
    tq_result_free(r);
}

TEST(drop_and_keep_labels) {
    generate();
    tq_params p = {.start = T0, .end = T0 + SPAN, .limit = 100000};
    /* Grafana's log volume query shape */
    tq_params pi = {.start = T0 + SPAN, .end = T0 + SPAN, .instant = true};
    tq_result *r = run("sum by (level) (count_over_time({service=~\".+\"} | drop __error__ [1h]))", &pi);
    CHECK_INT(r->nseries, ==, 3);
    tq_result_free(r);
    r = run("{service=\"api\"} | json | keep service, http_method", &p);
    size_t n = 0;
    for (size_t s = 0; s < r->nstreams; s++) {
        CHECK_INT(r->streams[s].nlabels, ==, 2);
        CHECK(label(r->streams[s].labels, 2, "http_method") != NULL);
        n += r->streams[s].n;
    }
    CHECK_INT(r->nstreams, ==, 2); /* GET and POST */
    size_t want = 0;
    for (int k = 0; k < NREC; k++) want += R[k].svc == 0;
    CHECK_INT(n, ==, want);
    tq_result_free(r);
    r = run("{service=\"api\"} | drop level", &p);
    CHECK_INT(r->nstreams, ==, 1);
    CHECK_INT(r->streams[0].nlabels, ==, 1);
    tq_result_free(r);
}

TEST(line_format_with_line) {
    generate();
    tq_params p = {.start = T0, .end = T0 + SPAN, .limit = 5};
    tq_result *r = run("{service=\"api\"} | json | line_format \"[{{.status}}] {{ __line__ }}\"", &p);
    CHECK(r->nstreams > 0);
    for (size_t s = 0; s < r->nstreams; s++)
        for (size_t i = 0; i < r->streams[s].n; i++) {
            const char *l = r->streams[s].lines[i];
            CHECK(l[0] == '[');
            CHECK_CONTAINS(l, "] {\"level\":");
            char want[16];
            snprintf(want, sizeof want, "[%s]", label(r->streams[s].labels, r->streams[s].nlabels, "status"));
            CHECK(strncmp(l, want, strlen(want)) == 0);
        }
    tq_result_free(r);
}

TEST(logfmt_extraction_and_filters) {
    tq_mem *m = tq_mem_new();
    tq_source src = tq_mem_source(m);
    tq_label l[1] = {{"app", "svc"}};
    static const char *lines[] = {
        "level=info msg=\"hello world\" status=200 dur=15ms",
        "level=error msg=\"db \\\"down\\\"\" status=503 dur=1.5s",
        "level=warn msg=slow status=500 dur=900ms",
        "garbage without pairs",
    };
    for (int i = 0; i < 4; i++) CHECK_INT(tq_mem_add(m, l, 1, T0 + i, lines[i], strlen(lines[i])), ==, 1);
    tq_query *q;
    char err[256];
    CHECK_INT(tq_parse("{app=\"svc\"} | logfmt | status >= 500 and dur > 1s | line_format \"{{.level}}: {{.msg}}\"", &q,
                       err, sizeof err), ==, 0);
    tq_params p = {.start = T0, .end = T0 + 10, .limit = 10};
    tq_result *r;
    CHECK_INT(tq_eval(q, &p, &src, &r, err, sizeof err), ==, 0);
    CHECK_INT(r->nstreams, ==, 1);
    CHECK_INT(r->streams[0].n, ==, 1);
    CHECK_STR(r->streams[0].lines[0], "error: db \"down\"");
    tq_result_free(r);
    tq_query_free(q);
    tq_mem_free(m);
}
