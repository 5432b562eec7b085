/* api_query.c — /query, /query_range, /labels, /label/<name>/values and
 * /series, with Loki's parameters, defaults and error texts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_impl.h"
#include "logql_pipeline.h"

#define HOUR_NS (3600LL * 1000000000LL)

void api_render_labels(const tq_label *l, size_t n, tq_buf *b) {
    tq_buf_putc(b, '{');
    for (size_t i = 0; i < n; i++) {
        if (i) tq_buf_putc(b, ',');
        tq_buf_json_str(b, l[i].name, strlen(l[i].name));
        tq_buf_putc(b, ':');
        tq_buf_json_str(b, l[i].value, strlen(l[i].value));
    }
    tq_buf_putc(b, '}');
}

/* Prometheus-style sample time: unix seconds, shortest form (1700000000.5). */
static void render_ts_seconds(tq_buf *b, int64_t ns) {
    int64_t ms = ns / 1000000;
    long long sec = (long long)(ms / 1000), frac = (long long)(ms % 1000);
    if (frac < 0) { sec--; frac += 1000; }
    if (!frac) { tq_buf_printf(b, "%lld", sec); return; }
    char f[8];
    snprintf(f, sizeof f, "%03lld", frac);
    size_t n = strlen(f);
    while (n && f[n - 1] == '0') f[--n] = 0;
    tq_buf_printf(b, "%lld.%s", sec, f);
}

static void render_stats(const tq_stats *s, tq_buf *b) {
    double secs = s->exec_seconds > 0 ? s->exec_seconds : 1e-9;
    tq_buf_printf(b,
                  "{\"summary\":{\"bytesProcessedPerSecond\":%llu,\"linesProcessedPerSecond\":%llu,"
                  "\"totalBytesProcessed\":%llu,\"totalLinesProcessed\":%llu,\"execTime\":%.6f,\"queueTime\":0,"
                  "\"subqueries\":0,\"totalEntriesReturned\":%llu,\"splits\":0,\"shards\":0,"
                  "\"totalPostFilterLines\":%llu,\"totalStructuredMetadataBytesProcessed\":0},"
                  "\"querier\":{\"store\":{\"totalChunksRef\":0,\"totalChunksDownloaded\":0,\"chunksDownloadTime\":0,"
                  "\"chunk\":{\"headChunkBytes\":0,\"headChunkLines\":0,\"decompressedBytes\":%llu,"
                  "\"decompressedLines\":%llu,\"compressedBytes\":0,\"totalDuplicates\":0}}},"
                  "\"ingester\":{\"totalReached\":0,\"totalChunksMatched\":0,\"totalBatches\":0,\"totalLinesSent\":0,"
                  "\"store\":{\"chunk\":{\"headChunkBytes\":0,\"headChunkLines\":0,\"decompressedBytes\":0,"
                  "\"decompressedLines\":0,\"compressedBytes\":0,\"totalDuplicates\":0}}}}",
                  (unsigned long long)((double)s->bytes_scanned / secs),
                  (unsigned long long)((double)s->entries_scanned / secs), (unsigned long long)s->bytes_scanned,
                  (unsigned long long)s->entries_scanned, s->exec_seconds, (unsigned long long)s->entries_returned,
                  (unsigned long long)s->entries_returned, (unsigned long long)s->bytes_scanned,
                  (unsigned long long)s->entries_scanned);
}

void api_render_result(const tq_result *res, tq_buf *b) {
    static const char *const types[] = {"streams", "matrix", "vector", "scalar"};
    tq_buf_printf(b, "{\"status\":\"success\",\"data\":{\"resultType\":\"%s\",\"result\":[", types[res->type]);
    char v[64];
    if (res->type == TQ_RESULT_SCALAR) {
        /* "result":[<seconds>,"<value>"] — the pair itself, as Prometheus/Loki */
        if (res->nseries && res->series[0].n) {
            render_ts_seconds(b, res->series[0].ts[0]);
            tq_format_value(v, sizeof v, res->series[0].v[0]);
            tq_buf_printf(b, ",\"%s\"", v);
        }
    } else if (res->type == TQ_RESULT_STREAMS) {
        for (size_t i = 0; i < res->nstreams; i++) {
            const tq_stream *s = &res->streams[i];
            if (i) tq_buf_putc(b, ',');
            tq_buf_puts(b, "{\"stream\":");
            api_render_labels(s->labels, s->nlabels, b);
            tq_buf_puts(b, ",\"values\":[");
            for (size_t k = 0; k < s->n; k++) {
                tq_buf_printf(b, "%s[\"%lld\",", k ? "," : "", (long long)s->ts[k]);
                tq_buf_json_str(b, s->lines[k], s->lens[k]);
                tq_buf_putc(b, ']');
            }
            tq_buf_puts(b, "]}");
        }
    } else {
        for (size_t i = 0; i < res->nseries; i++) {
            const tq_series *s = &res->series[i];
            if (i) tq_buf_putc(b, ',');
            tq_buf_puts(b, "{\"metric\":");
            api_render_labels(s->labels, s->nlabels, b);
            tq_buf_puts(b, res->type == TQ_RESULT_VECTOR ? ",\"value\":" : ",\"values\":[");
            for (size_t k = 0; k < s->n; k++) {
                if (k) tq_buf_putc(b, ',');
                tq_buf_putc(b, '[');
                render_ts_seconds(b, s->ts[k]);
                tq_format_value(v, sizeof v, s->v[k]);
                tq_buf_printf(b, ",\"%s\"]", v);
            }
            if (res->type == TQ_RESULT_MATRIX) tq_buf_putc(b, ']');
            tq_buf_putc(b, '}');
        }
    }
    tq_buf_puts(b, "],\"stats\":");
    render_stats(&res->stats, b);
    tq_buf_puts(b, "}}");
}

/* start/end/since with Loki's defaults: end = now, start = end - since. */
static int time_range(api_req *r, api_resp *o, int64_t def_since, int64_t *start, int64_t *end) {
    const char *s;
    *end = api_now_ns();
    if ((s = api_param(r, "end")) && api_parse_time(s, end) < 0) {
        api_text(o, 400, "invalid parameter \"end\": cannot parse \"%.64s\" as a timestamp (unix seconds, unix ns or "
                         "RFC3339)", s);
        return -1;
    }
    int64_t since = def_since;
    if ((s = api_param(r, "since")) && api_parse_step(s, &since) < 0) {
        api_text(o, 400, "invalid parameter \"since\": cannot parse \"%.64s\" as a duration", s);
        return -1;
    }
    *start = *end - since;
    if ((s = api_param(r, "start")) && api_parse_time(s, start) < 0) {
        api_text(o, 400, "invalid parameter \"start\": cannot parse \"%.64s\" as a timestamp (unix seconds, unix ns "
                         "or RFC3339)", s);
        return -1;
    }
    return 0;
}

static int parse_limit(api_req *r, api_resp *o, size_t *limit) {
    const char *s = api_param(r, "limit");
    *limit = 100;
    if (!s) return 0;
    char *e;
    long long v = strtoll(s, &e, 10);
    if (*e || e == s || v <= 0) {
        api_text(o, 400, "limit must be a positive value");
        return -1;
    }
    if ((unsigned long long)v > r->api->cfg.max_query_limit) {
        api_text(o, 400, "max entries limit per query exceeded, limit > max_entries_limit (%lld > %zu)", v,
                 r->api->cfg.max_query_limit);
        return -1;
    }
    *limit = (size_t)v;
    return 0;
}

static int parse_direction(api_req *r, api_resp *o, bool *backward) {
    const char *s = api_param(r, "direction");
    *backward = true;
    if (!s) return 0;
    if (strcasecmp(s, "forward") == 0) *backward = false;
    else if (strcasecmp(s, "backward") != 0) {
        api_text(o, 400, "invalid direction \"%.32s\": use forward or backward", s);
        return -1;
    }
    return 0;
}

void api_query(api_req *r, api_resp *o, bool range) {
    const char *qs = api_param(r, "query");
    if (!qs || !*qs) {
        api_text(o, 400, "query parameter is required");
        return;
    }
    tq_params p = {0};
    if (parse_limit(r, o, &p.limit) < 0 || parse_direction(r, o, &p.backward) < 0) return;
    if (range) {
        if (time_range(r, o, HOUR_NS, &p.start, &p.end) < 0) return;
        if (p.end <= p.start) {
            api_text(o, 400, "end timestamp must not be before or equal to start time");
            return;
        }
        const char *st = api_param(r, "step");
        if (st && api_parse_step(st, &p.step) < 0) {
            api_text(o, 400, "invalid parameter \"step\": zero or negative query resolution step widths are not "
                             "accepted. Try a positive integer");
            return;
        }
    } else {
        int64_t t = api_now_ns();
        const char *ts = api_param(r, "time");
        if (ts && api_parse_time(ts, &t) < 0) {
            api_text(o, 400, "invalid parameter \"time\": cannot parse \"%.64s\" as a timestamp", ts);
            return;
        }
        p.start = p.end = t;
        p.instant = true;
    }
    tq_query *q;
    char err[512];
    if (tq_parse(qs, &q, err, sizeof err) < 0) {
        api_text(o, 400, "%s", err);
        return;
    }
    /* Log range queries: [start, end) like Loki. */
    if (range && !tq_query_is_metric(q)) p.end -= 1;
    p.timeout_s = r->api->cfg.query_timeout_s;
    tq_result *res;
    int rc = tq_eval(q, &p, &r->api->src, &res, err, sizeof err);
    tq_query_free(q);
    if (rc < 0) {
        api_text(o, rc == -EINVAL || rc == -E2BIG ? 400 : rc == -ETIMEDOUT ? 504 : 500, "%s", err);
        return;
    }
    o->status = 200;
    o->type = "application/json; charset=utf-8";
    api_render_result(res, &o->body);
    tq_result_free(res);
}

/* ------------------------------------------------------------ labels */

typedef struct strset {
    char **v;
    size_t n, cap;
} strset;

static void strset_add(void *arg, const char *s) {
    strset *ss = arg;
    for (size_t i = 0; i < ss->n; i++)
        if (strcmp(ss->v[i], s) == 0) return;
    if (ss->n == ss->cap) {
        ss->cap = ss->cap ? ss->cap * 2 : 32;
        ss->v = realloc(ss->v, ss->cap * sizeof *ss->v);
        if (!ss->v) abort();
    }
    ss->v[ss->n++] = strdup(s);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

typedef struct label_filter_acc {
    const char *name; /* NULL: collect names */
    strset *ss;
} label_filter_acc;

static void labels_of_series(void *arg, const tq_label *l, size_t n) {
    label_filter_acc *a = arg;
    for (size_t i = 0; i < n; i++) {
        if (!a->name) strset_add(a->ss, l[i].name);
        else if (strcmp(a->name, l[i].name) == 0) strset_add(a->ss, l[i].value);
    }
}

void api_labels(api_req *r, api_resp *o, const char *name) {
    int64_t start, end;
    if (time_range(r, o, 6 * HOUR_NS, &start, &end) < 0) return;
    strset ss = {0};
    int rc;
    const char *qs = api_param(r, "query");
    if (qs && *qs) {
        /* Loki 2.9+: only labels of the streams a selector matches (Grafana's label browser). */
        tq_query *q;
        char err[512];
        if (tq_parse(qs, &q, err, sizeof err) < 0) {
            api_text(o, 400, "%s", err);
            return;
        }
        label_filter_acc acc = {name, &ss};
        rc = r->api->src.series(r->api->src.ctx, &tq_query_log_expr(q)->sel, start, end, labels_of_series, &acc);
        tq_query_free(q);
    } else {
        rc = r->api->src.labels(r->api->src.ctx, name, start, end, strset_add, &ss);
    }
    if (rc < 0) {
        api_text(o, 500, "reading labels failed: %s", strerror(-rc));
    } else {
        if (ss.n) qsort(ss.v, ss.n, sizeof *ss.v, cmp_str);
        o->status = 200;
        o->type = "application/json; charset=utf-8";
        tq_buf_puts(&o->body, "{\"status\":\"success\",\"data\":[");
        for (size_t i = 0; i < ss.n; i++) {
            if (i) tq_buf_putc(&o->body, ',');
            tq_buf_json_str(&o->body, ss.v[i], strlen(ss.v[i]));
        }
        tq_buf_puts(&o->body, "]}");
    }
    for (size_t i = 0; i < ss.n; i++) free(ss.v[i]);
    free(ss.v);
}

/* ------------------------------------------------------------ series */

typedef struct series_acc {
    tq_buf keys;   /* seen label keys, NUL-separated */
    tq_buf out;
    size_t n;
    tq_buf key;
} series_acc;

static void series_cb(void *arg, const tq_label *l, size_t n) {
    series_acc *a = arg;
    tq_labels_key(l, n, &a->key);
    tq_buf_putc(&a->key, 0);
    for (size_t i = 0; i < a->keys.len;) {
        const char *k = a->keys.p + i;
        size_t kl = strlen(k);
        if (kl + 1 == a->key.len && memcmp(k, a->key.p, kl) == 0) return;
        i += kl + 1;
    }
    tq_buf_add(&a->keys, a->key.p, a->key.len);
    if (a->n++) tq_buf_putc(&a->out, ',');
    api_render_labels(l, n, &a->out);
}

typedef struct match_list {
    const char *v[64];
    size_t n;
} match_list;

static void collect_match(void *arg, const char *s) {
    match_list *m = arg;
    if (m->n < 64) m->v[m->n++] = s;
}

void api_series(api_req *r, api_resp *o) {
    int64_t start, end;
    if (time_range(r, o, 6 * HOUR_NS, &start, &end) < 0) return;
    match_list ml = {.n = 0};
    api_param_each(r, "match[]", collect_match, &ml);
    api_param_each(r, "match", collect_match, &ml);
    if (!ml.n) {
        api_text(o, 400, "at least one match[] argument is required");
        return;
    }
    series_acc acc = {0};
    for (size_t i = 0; i < ml.n; i++) {
        tq_query *q;
        char err[512];
        if (tq_parse(ml.v[i], &q, err, sizeof err) < 0) {
            api_text(o, 400, "%s", err);
            goto done;
        }
        if (tq_query_is_metric(q) || tq_query_log_expr(q)->nstages) {
            tq_query_free(q);
            api_text(o, 400, "match[] must be a stream selector like {app=\"x\"}");
            goto done;
        }
        int rc = r->api->src.series(r->api->src.ctx, &tq_query_log_expr(q)->sel, start, end, series_cb, &acc);
        tq_query_free(q);
        if (rc < 0) {
            api_text(o, 500, "reading series failed: %s", strerror(-rc));
            goto done;
        }
    }
    o->status = 200;
    o->type = "application/json; charset=utf-8";
    tq_buf_puts(&o->body, "{\"status\":\"success\",\"data\":[");
    if (acc.out.len) tq_buf_add(&o->body, acc.out.p, acc.out.len);
    tq_buf_puts(&o->body, "]}");
done:
    tq_buf_free(&acc.keys);
    tq_buf_free(&acc.out);
    tq_buf_free(&acc.key);
}

/* ------------------------------------------------------------ index/stats */

/* GET /loki/api/v1/index/stats?query=<selector>&start&end: what Grafana
 * shows as the query size. Loki estimates from its index; trail counts the
 * streams and entries the selector covers (chunks = sealed blocks are not
 * visible here, reported as 0). */
typedef struct stats_acc {
    uint64_t entries, bytes;
    double deadline;
    int timed_out;
} stats_acc;

static int stats_cb(void *arg, const tq_entry *e) {
    stats_acc *a = arg;
    if ((a->entries & 4095) == 0 && a->deadline && tq_now_ns() / 1e9 > a->deadline) {
        a->timed_out = 1;
        return 1;
    }
    a->entries++;
    a->bytes += e->len;
    return 0;
}

static void count_series(void *arg, const tq_label *l, size_t n) {
    (void)l;
    (void)n;
    (*(uint64_t *)arg)++;
}

void api_index_stats(api_req *r, api_resp *o) {
    const char *qs = api_param(r, "query");
    if (!qs || !*qs) {
        api_text(o, 400, "query parameter is required");
        return;
    }
    int64_t start, end;
    if (time_range(r, o, HOUR_NS, &start, &end) < 0) return;
    tq_query *q;
    char err[512];
    if (tq_parse(qs, &q, err, sizeof err) < 0) {
        api_text(o, 400, "%s", err);
        return;
    }
    const tq_selector *sel = &tq_query_log_expr(q)->sel;
    uint64_t streams = 0;
    stats_acc acc = {.deadline = tq_now_ns() / 1e9 + r->api->cfg.query_timeout_s};
    tq_scan scan = {.start = start, .end = end, .sel = sel};
    int rc = r->api->src.series(r->api->src.ctx, sel, start, end, count_series, &streams);
    if (rc == 0) rc = r->api->src.scan(r->api->src.ctx, &scan, stats_cb, &acc);
    tq_query_free(q);
    if (rc < 0) {
        api_text(o, 500, "reading the store failed: %s", strerror(-rc));
        return;
    }
    if (acc.timed_out) {
        api_text(o, 504, "index stats timed out: narrow the time range or the selector");
        return;
    }
    o->status = 200;
    o->type = "application/json; charset=utf-8";
    tq_buf_printf(&o->body, "{\"streams\":%llu,\"chunks\":0,\"entries\":%llu,\"bytes\":%llu}",
                  (unsigned long long)streams, (unsigned long long)acc.entries, (unsigned long long)acc.bytes);
}
