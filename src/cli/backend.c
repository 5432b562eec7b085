/* backend.c — where `trail` gets its data: the Loki-compatible HTTP API of
 * traild (libcurl, like logcli), or a store directory opened read-only
 * (works while traild is writing it; sees sealed blocks). */
#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "store.h"
#include "store_source.h"
#include "tq_json.h"
#include "tq_time.h"

struct cli_backend {
    const cli_opts *o;
    trail_store *st;
    tq_source src;
    CURL *curl;
};

int cli_backend_open(const cli_opts *o, cli_backend **out, char *err, size_t errlen) {
    cli_backend *b = calloc(1, sizeof *b);
    if (!b) return -ENOMEM;
    b->o = o;
    if (o->store) {
        struct stat sb;
        if (stat(o->store, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
            snprintf(err, errlen, "cannot open store %s: no such directory (the store output's `dir:` in traild.yaml)",
                     o->store);
            free(b);
            return -ENOENT;
        }
        trail_store_config cfg = {.dir = o->store, .flags = TRAIL_STORE_READONLY};
        char serr[256];
        int rc = trail_store_open(&cfg, &b->st, serr, sizeof serr);
        if (rc < 0) {
            snprintf(err, errlen, "cannot open store %s: %s", o->store, serr);
            free(b);
            return rc;
        }
        b->src = tq_store_source(b->st, NULL);
    } else {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        b->curl = curl_easy_init();
        if (!b->curl) {
            snprintf(err, errlen, "libcurl init failed");
            free(b);
            return -ENOMEM;
        }
    }
    *out = b;
    return 0;
}

void cli_backend_close(cli_backend *b) {
    if (!b) return;
    if (b->st) {
        tq_store_source_free(&b->src);
        trail_store_close(b->st);
    }
    if (b->curl) {
        curl_easy_cleanup(b->curl);
        curl_global_cleanup();
    }
    free(b);
}

/* ------------------------------------------------------------ HTTP */

typedef struct http_body {
    tq_buf b;
    size_t max;
} http_body;

static size_t collect(char *p, size_t sz, size_t n, void *arg) {
    http_body *h = arg;
    if (h->b.len + sz * n > h->max) return 0;
    tq_buf_add(&h->b, p, sz * n);
    return sz * n;
}

/* GET base+path; 0 and the body on HTTP 200, else a message. */
static int http_get(cli_backend *b, const char *path, tq_buf *body, char *err, size_t errlen) {
    char url[16384];
    snprintf(url, sizeof url, "%s%s", b->o->addr, path);
    http_body h = {.max = 512u << 20};
    curl_easy_reset(b->curl);
    curl_easy_setopt(b->curl, CURLOPT_URL, url);
    curl_easy_setopt(b->curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(b->curl, CURLOPT_WRITEDATA, &h);
    curl_easy_setopt(b->curl, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(b->curl, CURLOPT_TIMEOUT, 300L);
    struct curl_slist *hd = NULL;
    if (b->o->token) {
        char auth[1024];
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", b->o->token);
        hd = curl_slist_append(hd, auth);
        curl_easy_setopt(b->curl, CURLOPT_HTTPHEADER, hd);
    }
    CURLcode rc = curl_easy_perform(b->curl);
    curl_slist_free_all(hd);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "cannot reach %s: %s (is traild running with an api listen address? or use --store DIR)",
                 b->o->addr, curl_easy_strerror(rc));
        tq_buf_free(&h.b);
        return -EIO;
    }
    long status = 0;
    curl_easy_getinfo(b->curl, CURLINFO_RESPONSE_CODE, &status);
    tq_buf_cstr(&h.b);
    if (status != 200) {
        size_t n = h.b.len;
        while (n && (h.b.p[n - 1] == '\n' || h.b.p[n - 1] == '\r')) n--;
        snprintf(err, errlen, "%s answered %ld: %.*s", b->o->addr, status, (int)(n > 400 ? 400 : n), h.b.p);
        tq_buf_free(&h.b);
        return status == 400 ? -EINVAL : -EIO;
    }
    *body = h.b;
    return 0;
}

static char *esc(cli_backend *b, const char *s) {
    char *e = curl_easy_escape(b->curl, s, 0);
    char *r = strdup(e ? e : "");
    curl_free(e);
    return r;
}

static tq_label *labels_from(tq_arena *a, const tq_jval *o, size_t *n) {
    *n = 0;
    if (!o || o->type != TQ_JOBJ) return tq_arena_alloc(a, sizeof(tq_label));
    tq_label *l = tq_arena_alloc(a, (o->n + 1) * sizeof *l);
    for (size_t i = 0; i < o->n; i++)
        if (o->kids[i].type == TQ_JSTR) l[(*n)++] = (tq_label){o->keys[i], o->kids[i].s};
    return l;
}

int cli_result_from_loki(const char *json, size_t len, tq_result **out, char *err, size_t errlen) {
    tq_result *r = calloc(1, sizeof *r);
    if (!r) return -ENOMEM;
    char jerr[200];
    const tq_jval *root = tq_json_parse(&r->arena, json, len, 64, jerr, sizeof jerr);
    const tq_jval *data = tq_json_get(root, "data");
    const tq_jval *type = tq_json_get(data, "resultType");
    const tq_jval *res = tq_json_get(data, "result");
    if (!root || !type || type->type != TQ_JSTR || !res || res->type != TQ_JARR) {
        snprintf(err, errlen, "unexpected response from the API (not a Loki query result)");
        tq_result_free(r);
        return -EPROTO;
    }
    if (strcmp(type->s, "scalar") == 0) {
        /* "result":[<seconds>,"<value>"]: one unlabeled sample */
        r->type = TQ_RESULT_SCALAR;
        r->series = tq_arena_alloc(&r->arena, sizeof *r->series);
        tq_series *s = &r->series[0];
        memset(s, 0, sizeof *s);
        s->labels = tq_arena_alloc(&r->arena, sizeof *s->labels);
        s->ts = tq_arena_alloc(&r->arena, sizeof *s->ts);
        s->v = tq_arena_alloc(&r->arena, sizeof *s->v);
        if (res->n == 2 && res->kids[0].type == TQ_JNUM && res->kids[1].type == TQ_JSTR) {
            s->ts[0] = (int64_t)(strtod(res->kids[0].s, NULL) * 1e3) * 1000000;
            s->v[0] = strtod(res->kids[1].s, NULL);
            s->n = 1;
        }
        r->nseries = 1;
    } else if (strcmp(type->s, "streams") == 0) {
        r->type = TQ_RESULT_STREAMS;
        r->streams = tq_arena_alloc(&r->arena, (res->n + 1) * sizeof *r->streams);
        for (size_t i = 0; i < res->n; i++) {
            tq_stream *s = &r->streams[r->nstreams++];
            memset(s, 0, sizeof *s);
            s->labels = labels_from(&r->arena, tq_json_get(&res->kids[i], "stream"), &s->nlabels);
            const tq_jval *vals = tq_json_get(&res->kids[i], "values");
            size_t n = vals && vals->type == TQ_JARR ? vals->n : 0;
            s->ts = tq_arena_alloc(&r->arena, (n + 1) * sizeof *s->ts);
            s->lines = tq_arena_alloc(&r->arena, (n + 1) * sizeof *s->lines);
            s->lens = tq_arena_alloc(&r->arena, (n + 1) * sizeof *s->lens);
            for (size_t k = 0; k < n; k++) {
                const tq_jval *p = &vals->kids[k];
                if (p->type != TQ_JARR || p->n < 2 || p->kids[0].type != TQ_JSTR || p->kids[1].type != TQ_JSTR) continue;
                s->ts[s->n] = strtoll(p->kids[0].s, NULL, 10);
                s->lines[s->n] = p->kids[1].s;
                s->lens[s->n] = p->kids[1].len;
                s->n++;
            }
        }
    } else {
        int vector = strcmp(type->s, "vector") == 0;
        r->type = vector ? TQ_RESULT_VECTOR : TQ_RESULT_MATRIX;
        r->series = tq_arena_alloc(&r->arena, (res->n + 1) * sizeof *r->series);
        for (size_t i = 0; i < res->n; i++) {
            tq_series *s = &r->series[r->nseries++];
            memset(s, 0, sizeof *s);
            s->labels = labels_from(&r->arena, tq_json_get(&res->kids[i], "metric"), &s->nlabels);
            const tq_jval *vals = tq_json_get(&res->kids[i], vector ? "value" : "values");
            size_t n = !vals || vals->type != TQ_JARR ? 0 : vector ? 1 : vals->n;
            s->ts = tq_arena_alloc(&r->arena, (n + 1) * sizeof *s->ts);
            s->v = tq_arena_alloc(&r->arena, (n + 1) * sizeof *s->v);
            for (size_t k = 0; k < n; k++) {
                const tq_jval *p = vector ? vals : &vals->kids[k];
                if (p->type != TQ_JARR || p->n < 2 || p->kids[0].type != TQ_JNUM || p->kids[1].type != TQ_JSTR) continue;
                s->ts[s->n] = (int64_t)(strtod(p->kids[0].s, NULL) * 1e3) * 1000000;
                s->v[s->n] = strtod(p->kids[1].s, NULL);
                s->n++;
            }
        }
    }
    *out = r;
    return 0;
}

int cli_run(cli_backend *b, const char *query, const tq_params *p, tq_result **out, char *err, size_t errlen) {
    if (b->st) {
        tq_query *q;
        int rc = tq_parse(query, &q, err, errlen);
        if (rc < 0) return rc;
        rc = tq_eval(q, p, &b->src, out, err, errlen);
        tq_query_free(q);
        return rc;
    }
    char *qe = esc(b, query);
    char path[12288];
    if (p->instant)
        snprintf(path, sizeof path, "/loki/api/v1/query?query=%s&time=%lld&limit=%zu&direction=%s", qe,
                 (long long)p->end, p->limit, p->backward ? "backward" : "forward");
    else
    {
        char step[48] = "";
        if (p->step) snprintf(step, sizeof step, "&step=%lldms", (long long)(p->step / 1000000));
        snprintf(path, sizeof path, "/loki/api/v1/query_range?query=%s&start=%lld&end=%lld&limit=%zu&direction=%s%s",
                 qe, (long long)p->start, (long long)p->end + 1, p->limit, p->backward ? "backward" : "forward", step);
    }
    free(qe);
    tq_buf body = {0};
    int rc = http_get(b, path, &body, err, errlen);
    if (rc < 0) return rc;
    rc = cli_result_from_loki(body.p, body.len, out, err, errlen);
    tq_buf_free(&body);
    return rc;
}

typedef struct names {
    char **v;
    size_t n, cap;
} names;

static void add_name(void *arg, const char *s) {
    names *ns = arg;
    for (size_t i = 0; i < ns->n; i++)
        if (strcmp(ns->v[i], s) == 0) return;
    if (ns->n == ns->cap) {
        ns->cap = ns->cap ? ns->cap * 2 : 16;
        ns->v = realloc(ns->v, ns->cap * sizeof *ns->v);
        if (!ns->v) abort();
    }
    ns->v[ns->n++] = strdup(s);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int cli_labels(cli_backend *b, const char *name, int64_t start, int64_t end, char ***out, size_t *n, char *err,
               size_t errlen) {
    names ns = {0};
    if (b->st) {
        int rc = b->src.labels(b->src.ctx, name, start, end, add_name, &ns);
        if (rc < 0) {
            snprintf(err, errlen, "reading labels failed: %s", strerror(-rc));
            return rc;
        }
    } else {
        char path[1024];
        char *ne = name ? esc(b, name) : NULL;
        if (name) snprintf(path, sizeof path, "/loki/api/v1/label/%s/values?start=%lld&end=%lld", ne, (long long)start, (long long)end);
        else snprintf(path, sizeof path, "/loki/api/v1/labels?start=%lld&end=%lld", (long long)start, (long long)end);
        free(ne);
        tq_buf body = {0};
        int rc = http_get(b, path, &body, err, errlen);
        if (rc < 0) return rc;
        tq_arena a = {0};
        const tq_jval *root = tq_json_parse(&a, body.p, body.len, 8, NULL, 0);
        const tq_jval *data = tq_json_get(root, "data");
        for (size_t i = 0; data && data->type == TQ_JARR && i < data->n; i++)
            if (data->kids[i].type == TQ_JSTR) add_name(&ns, data->kids[i].s);
        tq_arena_free(&a);
        tq_buf_free(&body);
    }
    if (ns.n) qsort(ns.v, ns.n, sizeof *ns.v, cmp_str);
    *out = ns.v;
    *n = ns.n;
    return 0;
}

/* ------------------------------------------------------------ tail */

static volatile sig_atomic_t interrupted;
static void on_sigint(int sig) { (void)sig; interrupted = 1; }

typedef struct tail_http {
    const cli_opts *o;
    tq_buf pending;
} tail_http;

static void tail_message(const cli_opts *o, const char *json, size_t len) {
    tq_arena a = {0};
    const tq_jval *root = tq_json_parse(&a, json, len, 64, NULL, 0);
    const tq_jval *streams = tq_json_get(root, "streams");
    for (size_t i = 0; streams && streams->type == TQ_JARR && i < streams->n; i++) {
        size_t nl;
        tq_label *l = labels_from(&a, tq_json_get(&streams->kids[i], "stream"), &nl);
        const tq_jval *vals = tq_json_get(&streams->kids[i], "values");
        for (size_t k = 0; vals && vals->type == TQ_JARR && k < vals->n; k++) {
            const tq_jval *p = &vals->kids[k];
            if (p->type != TQ_JARR || p->n < 2 || p->kids[0].type != TQ_JSTR || p->kids[1].type != TQ_JSTR) continue;
            cli_line e = {strtoll(p->kids[0].s, NULL, 10), l, nl, p->kids[1].s, p->kids[1].len};
            cli_print_entry(stdout, o, &e);
        }
    }
    fflush(stdout);
    tq_arena_free(&a);
}

static size_t tail_chunk(char *p, size_t sz, size_t n, void *arg) {
    tail_http *t = arg;
    if (interrupted) return 0;
    tq_buf_add(&t->pending, p, sz * n);
    size_t start = 0;
    for (size_t i = 0; i < t->pending.len; i++) {
        if (t->pending.p[i] != '\n') continue;
        if (i > start) tail_message(t->o, t->pending.p + start, i - start);
        start = i + 1;
    }
    memmove(t->pending.p, t->pending.p + start, t->pending.len - start);
    t->pending.len -= start;
    return sz * n;
}

static int progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d) {
    (void)arg; (void)a; (void)b; (void)c; (void)d;
    return interrupted ? 1 : 0;
}

int cli_tail(cli_backend *b, const char *query, const cli_opts *o, char *err, size_t errlen) {
    struct sigaction sa = {.sa_handler = on_sigint};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (!b->st) {
        char *qe = esc(b, query);
        char path[12288], url[16384];
        snprintf(path, sizeof path, "/loki/api/v1/tail?query=%s&limit=%zu&start=%lld", qe, o->limit,
                 (long long)o->start);
        free(qe);
        snprintf(url, sizeof url, "%s%s", o->addr, path);
        tail_http t = {.o = o};
        curl_easy_reset(b->curl);
        curl_easy_setopt(b->curl, CURLOPT_URL, url);
        curl_easy_setopt(b->curl, CURLOPT_WRITEFUNCTION, tail_chunk);
        curl_easy_setopt(b->curl, CURLOPT_WRITEDATA, &t);
        curl_easy_setopt(b->curl, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(b->curl, CURLOPT_XFERINFOFUNCTION, progress);
        curl_easy_setopt(b->curl, CURLOPT_CONNECTTIMEOUT, 5L);
        struct curl_slist *hd = NULL;
        if (o->token) {
            char auth[1024];
            snprintf(auth, sizeof auth, "Authorization: Bearer %s", o->token);
            hd = curl_slist_append(hd, auth);
            curl_easy_setopt(b->curl, CURLOPT_HTTPHEADER, hd);
        }
        CURLcode rc = curl_easy_perform(b->curl);
        curl_slist_free_all(hd);
        tq_buf_free(&t.pending);
        if (interrupted) return 0;
        long status = 0;
        curl_easy_getinfo(b->curl, CURLINFO_RESPONSE_CODE, &status);
        snprintf(err, errlen, "tail from %s ended: %s (HTTP %ld)", o->addr, curl_easy_strerror(rc), status);
        return -EIO;
    }
    /* Store mode: poll the directory (refreshing the read-only view). */
    tq_query *q;
    int rc = tq_parse(query, &q, err, errlen);
    if (rc < 0) return rc;
    if (tq_query_is_metric(q)) {
        snprintf(err, errlen, "tail needs a log query, not a metric query");
        tq_query_free(q);
        return -EINVAL;
    }
    int64_t from = o->start;
    bool first = true;
    while (!interrupted) {
        trail_store_refresh(b->st);
        tq_params p = {.start = from, .end = tq_now_ns() + 3600LL * 1000000000LL, .limit = first ? o->limit : 5000,
                       .backward = first};
        tq_result *r;
        rc = tq_eval(q, &p, &b->src, &r, err, errlen);
        if (rc < 0) break;
        cli_opts po = *o;
        po.forward = true;
        /* Entries at exactly `from` were printed by the previous round. */
        int64_t newest = from;
        for (size_t i = 0; i < r->nstreams; i++) {
            tq_stream *s = &r->streams[i];
            size_t o2 = 0;
            for (size_t k = 0; k < s->n; k++) {
                if (!first && s->ts[k] <= from) continue;
                if (s->ts[k] > newest) newest = s->ts[k];
                s->ts[o2] = s->ts[k];
                s->lines[o2] = s->lines[k];
                s->lens[o2] = s->lens[k];
                o2++;
            }
            s->n = o2;
        }
        cli_print_result(stdout, &po, r);
        fflush(stdout);
        tq_result_free(r);
        from = newest;
        first = false;
        if (!o->follow) break;
        for (int i = 0; i < 10 && !interrupted; i++) {
            struct timespec ts = {0, 100000000};
            nanosleep(&ts, NULL);
        }
    }
    tq_query_free(q);
    return rc < 0 ? rc : 0;
}
