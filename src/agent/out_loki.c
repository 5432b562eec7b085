/* out_loki.c — Loki push output (POST /loki/api/v1/push, libcurl).
 *
 * One thread per output owns a FIFO of submitted batches. It packs records
 * from the front of the FIFO into one request (up to batch_max_bytes, after
 * waiting up to batch_wait for more when the request would be small), so a
 * request may span several pipeline batches or a part of one. A batch is
 * done (ta_batch_done) only when every one of its records got a final
 * answer, so checkpoints move only after Loki has the data.
 *
 * Loki's answers (../shared/REFERENCE.md):
 *   204/2xx  stored
 *   400      some entries invalid, the others stored: final, never retried;
 *            the count is the sum of Loki's per-stream "total ignored: N
 *            out of M" lines (without any, the whole request counts)
 *   413      too large: the request is halved; one entry alone is invalid
 *   429, 5xx retried with exponential back-off and full jitter
 *   260      "ingestion blocked": looks like success but is retried
 *   401/403  held: data kept, retried slowly, reported (other 4xx too:
 *            they need an operator, e.g. a wrong URL)
 * A duplicate resend (after kill -9 or a lost answer) carries the original
 * timestamps and lines, which Loki drops. */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent_log.h"
#include "loki_encode.h"
#include "timefmt.h"

#ifdef TA_HAVE_CURL
#include <curl/curl.h>

typedef struct loki_conf {
    const char *url;
    const char *tenant;
    int encoding;            /* 0 json, 1 protobuf */
    int compression;         /* json only: 0 gzip, 1 none */
    int line_format;         /* 0 raw, 1 json */
    ta_strlist labels;
    ta_labels static_labels;
    ta_strlist meta;
    ta_labels headers;
    uint64_t max_bytes;
    int64_t batch_wait;
    int64_t timeout;
    int64_t retry_base, retry_max, hold;
} loki_conf;

static const ta_option loki_options[] = {
    {"url", TA_OPT_STR, "http://127.0.0.1:3100/loki/api/v1/push", offsetof(loki_conf, url),
     "push endpoint (http or https)", NULL, false},
    {"tenant_id", TA_OPT_STR, NULL, offsetof(loki_conf, tenant), "sent as X-Scope-OrgID (multi-tenant Loki)", NULL,
     false},
    {"encoding", TA_OPT_ENUM, "json", offsetof(loki_conf, encoding),
     "json (gzip'd, see compression) or protobuf (snappy block)", "json|protobuf", false},
    {"compression", TA_OPT_ENUM, "gzip", offsetof(loki_conf, compression), "for encoding json", "gzip|none", false},
    {"line_format", TA_OPT_ENUM, "raw", offsetof(loki_conf, line_format),
     "raw: the original line; json: traild's JSON object of the parsed entry (ECS fields)", "raw|json", false},
    {"labels", TA_OPT_STRLIST, "service,category,level,host", offsetof(loki_conf, labels),
     "label names, valued from: category, input, level, the input's labels, or the entry's fields. Keep it "
     "small; request ids and the like are refused (use structured_metadata)",
     NULL, false},
    {"static_labels", TA_OPT_MAP, NULL, offsetof(loki_conf, static_labels), "labels added to every stream", NULL,
     false},
    {"structured_metadata", TA_OPT_STRLIST, "request_id,trace_id,span_id,user_id", offsetof(loki_conf, meta),
     "fields sent as Loki structured metadata (not indexed; queryable)", NULL, false},
    {"headers", TA_OPT_MAP, NULL, offsetof(loki_conf, headers), "extra HTTP headers (e.g. Authorization)", NULL,
     false},
    {"batch_max_bytes", TA_OPT_SIZE, "1MiB", offsetof(loki_conf, max_bytes),
     "a push request carries at most this many bytes of lines (a bigger batch is split)", NULL, false},
    {"batch_wait", TA_OPT_DURATION, "200ms", offsetof(loki_conf, batch_wait),
     "wait this long for more entries before sending a request smaller than batch_max_bytes", NULL, false},
    {"timeout", TA_OPT_DURATION, "10s", offsetof(loki_conf, timeout), "HTTP request timeout", NULL, false},
    {"retry_backoff", TA_OPT_DURATION, "250ms", offsetof(loki_conf, retry_base),
     "first retry delay after 429/5xx/260/network errors", NULL, false},
    {"retry_backoff_max", TA_OPT_DURATION, "30s", offsetof(loki_conf, retry_max), "longest retry delay", NULL,
     false},
    {"hold_retry", TA_OPT_DURATION, "30s", offsetof(loki_conf, hold),
     "after 401/403 (or another 4xx that needs an operator), retry every hold_retry..2*hold_retry", NULL, false},
    TA_OPTIONS_END,
};

typedef struct qent {
    ta_batch *b;
    uint32_t next;      /* records before this one have a final answer */
    uint32_t invalid;   /* of those, declared invalid */
    int64_t arrived;    /* CLOCK_MONOTONIC */
} qent;

typedef struct loki_out {
    ta_output base;
    loki_conf c;
    ta_loki_enc enc;
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv, idle_cv;
    qent *q;
    size_t head, len, cap;
    uint64_t queued_bytes;
    _Atomic int64_t deadline;  /* INT64_MAX unless draining */
    bool stop;
    int calling;               /* batches popped whose ta_batch_done() has not returned yet */
    /* worker-only state */
    CURL *curl;
    struct curl_slist *hdrs;
    ta_buf body, zbody, resp;
    ta_gzipper *gz;            /* json + gzip only */
    ta_loki_item *items;
    size_t items_cap;
    uint64_t cur_max;
    int attempt;
} loki_out;

enum { R_OK, R_RETRY, R_HOLD, R_TOO_LARGE };

/* ------------------------------------------------------------ HTTP */

static size_t on_body(char *p, size_t sz, size_t n, void *arg) {
    ta_buf *b = arg;
    size_t add = sz * n;
    if (b->len < 4096) ta_buf_put(b, p, add < 4096 - b->len ? add : 4096 - b->len);
    return add;
}

static int on_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d) {
    (void)a, (void)b, (void)c, (void)d;
    loki_out *l = arg;
    return ta_mono_ns() >= atomic_load(&l->deadline); /* shutdown deadline: abort the transfer */
}

static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

/* Entries Loki refused: its ingester writes one "total ignored: N out of M"
 * per stream that had refused entries (M = that stream's entries), so the
 * counts are summed. Without any, the whole request is counted. */
static uint32_t total_ignored(const char *body, uint32_t n) {
    unsigned long sum = 0, of_sum = 0;
    bool found = false;
    for (const char *p = body; p && (p = strstr(p, "total ignored: ")); p += 15) {
        unsigned long ign, of;
        if (sscanf(p, "total ignored: %lu out of %lu", &ign, &of) == 2 && ign <= of) {
            sum += ign;
            of_sum += of;
            found = true;
        }
    }
    if (!found || of_sum > n || sum > n) return n;
    return (uint32_t)sum;
}

/* One attempt for items[0..n). *n_invalid set on R_OK. */
static int push(loki_out *l, size_t n, uint32_t *n_invalid) {
    l->body.len = 0;
    if (l->c.encoding == 1) ta_loki_encode_proto(&l->enc, l->items, n, &l->body);
    else ta_loki_encode_json(&l->enc, l->items, n, &l->body);
    const ta_buf *send = &l->body;
    if (l->c.encoding == 1) {
        if (ta_snappy(l->body.p, l->body.len, &l->zbody) < 0) return R_RETRY;
        send = &l->zbody;
    } else if (l->c.compression == 0) {
        if (ta_gzipper_compress(l->gz, l->body.p, l->body.len, &l->zbody) < 0) return R_RETRY;
        send = &l->zbody;
    }
    l->resp.len = 0;
    if (l->resp.p) l->resp.p[0] = 0;
    CURL *h = l->curl;
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, send->p);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)send->len);
    CURLcode cr = curl_easy_perform(h);
    long status = 0;
    if (cr == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    while (l->resp.len && (l->resp.p[l->resp.len - 1] == '\n' || l->resp.p[l->resp.len - 1] == '\r'))
        l->resp.p[--l->resp.len] = 0; /* one log line */
    for (size_t i = 0; i < l->resp.len; i++)
        if (l->resp.p[i] == '\n') l->resp.p[i] = ' ';
    const char *why = l->resp.p ? l->resp.p : "";
    bool loud = l->attempt == 0 || l->attempt % 10 == 9; /* first failure of a streak, then every 10th */
    if (cr != CURLE_OK) {
        if (loud) ta_warn("output %s: %s: %s — will retry", l->base.name, l->c.url, curl_easy_strerror(cr));
        return R_RETRY;
    }
    if (status == 260) {
        if (loud) ta_warn("output %s: Loki answered 260 (ingestion blocked) — will retry", l->base.name);
        return R_RETRY;
    }
    if (status >= 200 && status < 300) {
        atomic_fetch_add_explicit(&l->base.stats->bytes, l->body.len, memory_order_relaxed);
        *n_invalid = 0;
        return R_OK;
    }
    if (status == 400) {
        *n_invalid = total_ignored(why, (uint32_t)n);
        ta_warn("output %s: Loki rejected %u of %zu entries as invalid (dropped, not retried): %.300s", l->base.name,
                *n_invalid, n, why);
        atomic_fetch_add_explicit(&l->base.stats->bytes, l->body.len, memory_order_relaxed);
        return R_OK;
    }
    if (status == 413) return R_TOO_LARGE;
    if (status == 429 || status >= 500 || status < 200) {
        if (loud) ta_warn("output %s: Loki answered %ld — will retry: %.200s", l->base.name, status, why);
        return R_RETRY;
    }
    if (loud)
        ta_error("output %s: Loki answered %ld (%s) — holding the data, retrying every %.1fs: %.200s", l->base.name,
                 status, status == 401 || status == 403 ? "check tenant_id / credentials" : "check url",
                 (double)l->c.hold / 1e9, why);
    return R_HOLD;
}

/* ------------------------------------------------------------ worker */

static qent *at(loki_out *l, size_t k) { return &l->q[(l->head + k) % l->cap]; }

static void timed_wait(loki_out *l, int64_t until) {
    struct timespec ts = {.tv_sec = until / 1000000000, .tv_nsec = until % 1000000000};
    pthread_cond_timedwait(&l->cv, &l->mu, &ts);
}

static size_t rec_cost(const ta_record *r) { return (size_t)r->line_len + 64; }

/* Items for the next request: records from the front of the FIFO. */
static size_t build(loki_out *l) {
    size_t n = 0;
    uint64_t bytes = 0;
    for (size_t k = 0; k < l->len; k++) {
        qent *e = at(l, k);
        for (uint32_t r = e->next; r < e->b->nrecs; r++) {
            size_t cost = rec_cost(&e->b->recs[r]);
            if (n && bytes + cost > l->cur_max) return n;
            if (n == l->items_cap) {
                l->items_cap = l->items_cap ? l->items_cap * 2 : 1024;
                l->items = realloc(l->items, l->items_cap * sizeof *l->items);
                if (!l->items) abort();
            }
            l->items[n++] = (ta_loki_item){e->b, &e->b->recs[r]};
            bytes += cost;
        }
    }
    return n;
}

/* Pops finished batches from the front into done[] (called under mu). */
static size_t pop_finished(loki_out *l, qent *done, size_t cap) {
    size_t n = 0;
    while (l->len && n < cap && at(l, 0)->next >= at(l, 0)->b->nrecs) {
        done[n++] = *at(l, 0);
        l->queued_bytes -= at(l, 0)->b->bytes;
        l->head = (l->head + 1) % l->cap;
        l->len--;
    }
    return n;
}

/* The first n records (from the front) got a final answer, n_invalid of them invalid. */
static void advance(loki_out *l, size_t n, uint32_t n_invalid) {
    for (size_t k = 0; k < l->len && n; k++) {
        qent *e = at(l, k);
        uint32_t take = e->b->nrecs - e->next;
        if (take > n) take = (uint32_t)n;
        uint32_t inv = n_invalid < take ? n_invalid : take;
        e->next += take;
        e->invalid += inv;
        n -= take;
        n_invalid -= inv;
    }
}

static void finish(loki_out *l) {
    qent done[64];
    size_t n;
    do {
        n = pop_finished(l, done, 64);
        l->calling += (int)n;
        pthread_mutex_unlock(&l->mu);
        for (size_t i = 0; i < n; i++) ta_batch_done(done[i].b, TA_DONE, done[i].invalid);
        pthread_mutex_lock(&l->mu);
        l->calling -= (int)n;
        if (!l->len && !l->calling) pthread_cond_broadcast(&l->idle_cv);
    } while (n == 64);
}

static void *run(void *arg) {
    loki_out *l = arg;
    ta_output_stats *st = l->base.stats;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (!l->len && !l->stop) pthread_cond_wait(&l->cv, &l->mu);
        if (!l->len) break;
        int64_t deadline = atomic_load(&l->deadline);
        if (ta_mono_ns() >= deadline || (l->stop && deadline == INT64_MAX)) {
            qent e = *at(l, 0);
            l->queued_bytes -= e.b->bytes;
            l->head = (l->head + 1) % l->cap;
            l->len--;
            l->calling++;
            pthread_mutex_unlock(&l->mu);
            ta_batch_done(e.b, TA_ABANDONED, 0);
            pthread_mutex_lock(&l->mu);
            if (!--l->calling && !l->len) pthread_cond_broadcast(&l->idle_cv);
            continue;
        }
        finish(l); /* empty batches */
        if (!l->len) continue;
        /* Size or time: a small request waits for more (not while draining). */
        int64_t until = at(l, 0)->arrived + l->c.batch_wait;
        while (!l->stop && atomic_load(&l->deadline) == INT64_MAX && l->queued_bytes < l->c.max_bytes &&
               ta_mono_ns() < until)
            timed_wait(l, until);
        size_t n = build(l);
        pthread_mutex_unlock(&l->mu);
        uint32_t n_invalid = 0;
        int r = push(l, n, &n_invalid);
        pthread_mutex_lock(&l->mu);
        if (r == R_TOO_LARGE && n == 1) {
            ta_warn("output %s: Loki refused one entry of %u bytes as too large (dropped, counted)", l->base.name,
                    l->items[0].rec->line_len);
            r = R_OK;
            n_invalid = 1;
        }
        if (r == R_OK) {
            advance(l, n, n_invalid);
            l->attempt = 0;
            l->cur_max = l->c.max_bytes;
            atomic_store(&st->held, 0);
            atomic_store(&st->last_ok_ns, ta_now_ns());
            finish(l);
            continue;
        }
        if (r == R_TOO_LARGE) { /* halve and try again at once */
            uint64_t half = 0;
            for (size_t i = 0; i < n; i++) half += rec_cost(l->items[i].rec);
            l->cur_max = half / 2 ? half / 2 : 1;
            atomic_fetch_add(&st->errors, 1);
            continue;
        }
        l->attempt++;
        atomic_fetch_add(&st->errors, 1);
        atomic_fetch_add(&st->retries, 1);
        int64_t delay;
        if (r == R_HOLD) {
            atomic_store(&st->held, 1);
            delay = ta_backoff_ns(2, l->c.hold, 2 * l->c.hold); /* in [hold, 2*hold] */
        } else delay = ta_backoff_ns(l->attempt, l->c.retry_base, l->c.retry_max);
        until = ta_mono_ns() + delay;
        while (!l->stop && ta_mono_ns() < until && ta_mono_ns() < atomic_load(&l->deadline))
            timed_wait(l, until < atomic_load(&l->deadline) ? until : atomic_load(&l->deadline));
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

/* ------------------------------------------------------------ plug-in */

static ta_loki_enc enc_of(const loki_conf *c) {
    return (ta_loki_enc){
        .labels = c->labels.v, .nlabels = c->labels.n,
        .static_labels = c->static_labels.v, .nstatic = c->static_labels.n,
        .meta = c->meta.v, .nmeta = c->meta.n,
        .json_line = c->line_format == 1,
    };
}

static int loki_validate(const void *conf, char *err, size_t errlen) {
    const loki_conf *c = conf;
    if (strncmp(c->url, "http://", 7) != 0 && strncmp(c->url, "https://", 8) != 0) {
        snprintf(err, errlen, "url '%s': expected http://host:port/loki/api/v1/push", c->url);
        return -EINVAL;
    }
#ifndef TA_HAVE_SNAPPY
    if (c->encoding == 1) {
        snprintf(err, errlen, "encoding protobuf needs snappy (install libsnappy-dev and rebuild)");
        return -EINVAL;
    }
#endif
    ta_loki_enc e = enc_of(c);
    return ta_loki_check_labels(&e, err, errlen) ? -EINVAL : 0;
}

static int loki_create(const void *conf, ta_output **out, char *err, size_t errlen) {
    const loki_conf *c = conf;
    int r = loki_validate(conf, err, errlen);
    if (r < 0) return r;
    loki_out *l = calloc(1, sizeof *l);
    if (!l) return -ENOMEM;
    l->c = *c;
    l->enc = enc_of(c);
    if (l->c.max_bytes < 1024) l->c.max_bytes = 1024;
    l->cur_max = l->c.max_bytes;
    atomic_store(&l->deadline, INT64_MAX);
    /* Level 1 (igzip where installed, else libdeflate): on bodies of ~330-byte
     * JSONL lines about 0.2 us (igzip) / 0.6 us (libdeflate) per entry, body
     * 6.5-6.8 % of its JSON size; libdeflate level 2 costs twice level 1's
     * CPU for 6.3 %. */
    if (c->encoding == 0 && c->compression == 0 && !(l->gz = ta_gzipper_new(1))) {
        free(l);
        snprintf(err, errlen, "cannot allocate the gzip compressor");
        return -ENOMEM;
    }
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, curl_init_once);
    l->curl = curl_easy_init();
    if (!l->curl) {
        ta_gzipper_free(l->gz);
        free(l);
        snprintf(err, errlen, "cannot initialise libcurl");
        return -ENOMEM;
    }
    CURL *h = l->curl;
    curl_easy_setopt(h, CURLOPT_URL, c->url);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(c->timeout / 1000000));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(c->timeout / 1000000));
    curl_easy_setopt(h, CURLOPT_USERAGENT, "traild");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &l->resp);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, l);
    l->hdrs = curl_slist_append(l->hdrs, c->encoding == 1 ? "Content-Type: application/x-protobuf"
                                                          : "Content-Type: application/json");
    if (c->encoding == 0 && c->compression == 0) l->hdrs = curl_slist_append(l->hdrs, "Content-Encoding: gzip");
    l->hdrs = curl_slist_append(l->hdrs, "Expect:"); /* no 100-continue round trip */
    char h1[1024];
    if (c->tenant && *c->tenant) {
        snprintf(h1, sizeof h1, "X-Scope-OrgID: %s", c->tenant);
        l->hdrs = curl_slist_append(l->hdrs, h1);
    }
    for (uint32_t i = 0; i < c->headers.n; i++) {
        snprintf(h1, sizeof h1, "%s: %s", c->headers.v[i].name, c->headers.v[i].value);
        l->hdrs = curl_slist_append(l->hdrs, h1);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, l->hdrs);
    pthread_mutex_init(&l->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&l->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&l->idle_cv, NULL);
    *out = &l->base;
    return 0;
}

static int loki_submit(ta_output *o, ta_batch *b) {
    loki_out *l = (loki_out *)o;
    pthread_mutex_lock(&l->mu);
    if (!l->started) { /* base.name/stats are filled after create() */
        if (pthread_create(&l->thread, NULL, run, l) != 0) abort();
        l->started = true;
    }
    if (l->len == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 8;
        qent *nq = malloc(ncap * sizeof *nq);
        if (!nq) abort();
        for (size_t i = 0; i < l->len; i++) nq[i] = *at(l, i);
        free(l->q);
        l->q = nq;
        l->head = 0;
        l->cap = ncap;
    }
    l->q[(l->head + l->len) % l->cap] = (qent){b, 0, 0, ta_mono_ns()};
    l->len++;
    l->queued_bytes += b->bytes;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    return 0;
}

static void loki_drain(ta_output *o, int64_t deadline_ns) {
    loki_out *l = (loki_out *)o;
    pthread_mutex_lock(&l->mu);
    atomic_store(&l->deadline, deadline_ns);
    pthread_cond_broadcast(&l->cv);
    while (l->len || l->calling) { /* until every ta_batch_done() has returned */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&l->idle_cv, &l->mu, &ts);
        pthread_cond_broadcast(&l->cv);
    }
    atomic_store(&l->deadline, INT64_MAX);
    pthread_mutex_unlock(&l->mu);
}

static void loki_destroy(ta_output *o) {
    loki_out *l = (loki_out *)o;
    if (l->started) {
        pthread_mutex_lock(&l->mu);
        l->stop = true;
        pthread_cond_broadcast(&l->cv);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->thread, NULL);
    }
    curl_slist_free_all(l->hdrs);
    curl_easy_cleanup(l->curl);
    ta_buf_free(&l->body);
    ta_buf_free(&l->zbody);
    ta_buf_free(&l->resp);
    ta_gzipper_free(l->gz);
    free(l->items);
    free(l->q);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    pthread_cond_destroy(&l->idle_cv);
    free(l);
}

#else /* built without libcurl: the type exists and says what is missing */
typedef struct loki_conf {
    const char *url;
} loki_conf;
static const ta_option loki_options[] = {
    {"url", TA_OPT_STR, NULL, offsetof(loki_conf, url), "push endpoint", NULL, false},
    TA_OPTIONS_END,
};
static int loki_create(const void *conf, ta_output **out, char *err, size_t errlen) {
    (void)conf, (void)out;
    snprintf(err, errlen, "the loki output needs libcurl (install libcurl4-openssl-dev and rebuild)");
    return -ENOTSUP;
}
#define loki_submit NULL
#define loki_drain NULL
#define loki_destroy NULL
#define loki_validate NULL
#endif

const ta_output_type ta_output_loki = {
    .name = "loki",
    .options = loki_options,
    .conf_size = sizeof(loki_conf),
    .help = "Grafana Loki push API (JSON+gzip or protobuf+snappy), retries, 400 final, 401/403 held",
    .create = loki_create,
    .submit = loki_submit,
    .drain = loki_drain,
    .destroy = loki_destroy,
    .validate = loki_validate,
};
