/* out_store.c — traild's "store" output: entries go into the embedded
 * store (src/store/store.h). A batch is acknowledged only after
 * trail_store_append + trail_store_sync returned, i.e. when it is durable;
 * a batch re-sent after a crash is deduplicated by the store (same stream,
 * timestamp and line). Stream labels: the input's static labels, its
 * category (the store's partition), and the record fields listed in
 * `labels` (default: level). request_id/user_id/trace_id (or the ECS
 * http.request.id/user.id/trace.id) are indexed in the blocks' blooms. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_log.h"
#include "out_store.h"
#include "output_worker.h"
#include "render.h"

typedef struct store_conf {
    const char *dir;
    ta_labels retention;
    const char *retention_default;
    uint64_t max_size;
    uint64_t block_size;
    uint64_t segment_size;
    int64_t seal_interval;
    int64_t dedupe_window;
    int64_t compression_level;
    bool fsync;
    ta_strlist labels;
    int line;                  /* 0 json, 1 raw */
    int64_t retry_base, retry_max;
    const char *listen;        /* query API (src/query/api.h): host:port, NULL = off */
    const char *token;         /* its bearer token */
} store_conf;

static const ta_option store_options[] = {
    {"dir", TA_OPT_STR, "/var/lib/traild/store", offsetof(store_conf, dir),
     "store directory (created); one writer process at a time", NULL, false},
    {"retention", TA_OPT_MAP, NULL, offsetof(store_conf, retention),
     "max age per category, e.g. {access: 731d, app: 90d} (units s m h d w y; 0 = keep forever)", NULL, false},
    {"retention_default", TA_OPT_STR, "90d", offsetof(store_conf, retention_default),
     "max age for categories not listed (access 731d and app 90d unless listed)", NULL, false},
    {"max_size", TA_OPT_SIZE, "0", offsetof(store_conf, max_size),
     "total size cap; oldest whole segments are deleted first (0 = none)", NULL, false},
    {"block_size", TA_OPT_SIZE, "256KiB", offsetof(store_conf, block_size), "raw bytes per compressed block", NULL, false},
    {"segment_size", TA_OPT_SIZE, "64MiB", offsetof(store_conf, segment_size), "segment file size before a new one starts", NULL, false},
    {"seal_interval", TA_OPT_DURATION, "2s", offsetof(store_conf, seal_interval),
     "longest an entry waits in the WAL before it is sealed into a block (visible to other processes)", NULL, false},
    {"dedupe_window", TA_OPT_INT, "131072", offsetof(store_conf, dedupe_window),
     "entries per category remembered to drop exact duplicates (same stream, ts, line)", NULL, false},
    {"compression_level", TA_OPT_INT, "1", offsetof(store_conf, compression_level), "zstd level", NULL, false},
    {"fsync", TA_OPT_BOOL, "true", offsetof(store_conf, fsync),
     "fsync before acknowledging (false: survives kill -9 but not power loss)", NULL, false},
    {"labels", TA_OPT_STRLIST, "level", offsetof(store_conf, labels),
     "record fields promoted to stream labels (keep them low-cardinality)", NULL, false},
    {"line", TA_OPT_ENUM, "json", offsetof(store_conf, line),
     "json: the traild JSON object (parsed fields, labels); raw: the original line", "json|raw", false},
    {"retry_backoff", TA_OPT_DURATION, "100ms", offsetof(store_conf, retry_base), "first retry delay", NULL, false},
    {"retry_backoff_max", TA_OPT_DURATION, "30s", offsetof(store_conf, retry_max), "longest retry delay", NULL, false},
    {"listen", TA_OPT_STR, NULL, offsetof(store_conf, listen),
     "serve the Loki-compatible query API (docs/api.md) on host:port, e.g. 127.0.0.1:3100 (default: off)", NULL, false},
    {"token", TA_OPT_STR, NULL, offsetof(store_conf, token),
     "bearer token the API requires; mandatory when listen is not a loopback address", NULL, false},
    TA_OPTIONS_END,
};

/* ------------------------------------------------------------ shared handles */

typedef struct shared {
    char *dir;
    trail_store *s;
    int refs;
    struct shared *next;
} shared;

static pthread_mutex_t shared_mu = PTHREAD_MUTEX_INITIALIZER;
static shared *shared_list; /* newest first */

static trail_store *shared_open(const trail_store_config *c, char *err, size_t errlen, int *r) {
    pthread_mutex_lock(&shared_mu);
    for (shared *x = shared_list; x; x = x->next)
        if (strcmp(x->dir, c->dir) == 0) {
            x->refs++;
            pthread_mutex_unlock(&shared_mu);
            return x->s;
        }
    trail_store *s = NULL;
    *r = trail_store_open(c, &s, err, errlen);
    if (!*r) {
        shared *x = calloc(1, sizeof *x);
        x->dir = strdup(c->dir);
        x->s = s;
        x->refs = 1;
        x->next = shared_list;
        shared_list = x;
    }
    pthread_mutex_unlock(&shared_mu);
    return s;
}

trail_store *ta_store_acquire(const char *dir) {
    trail_store *s = NULL;
    pthread_mutex_lock(&shared_mu);
    for (shared *x = shared_list; x && !s; x = x->next)
        if (!dir || strcmp(x->dir, dir) == 0) {
            x->refs++;
            s = x->s;
        }
    pthread_mutex_unlock(&shared_mu);
    return s;
}

void ta_store_release(trail_store *s) {
    if (!s) return;
    trail_store *close_it = NULL;
    pthread_mutex_lock(&shared_mu);
    for (shared **pp = &shared_list; *pp; pp = &(*pp)->next) {
        shared *x = *pp;
        if (x->s != s) continue;
        if (--x->refs == 0) {
            *pp = x->next;
            close_it = x->s;
            free(x->dir);
            free(x);
        }
        break;
    }
    pthread_mutex_unlock(&shared_mu);
    trail_store_close(close_it);
}

/* ------------------------------------------------------------ config */

/* "731d", "90d", "12h", "1y", "0" -> ns; -1 when malformed. */
static int64_t parse_age(const char *s) {
    if (!s) return -1;
    if (!strcmp(s, "0") || !strcmp(s, "forever") || !strcmp(s, "keep")) return 0;
    char *end;
    double v = strtod(s, &end);
    if (end == s || v < 0) return -1;
    while (*end == ' ') end++;
    double unit;
    switch (*end) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    case 'w': unit = 7 * 86400; break;
    case 'y': unit = 365 * 86400; break;
    default: return -1;
    }
    if (end[1] && strcmp(end + 1, "ays") && strcmp(end + 1, "ay")) return -1;
    return (int64_t)(v * unit * 1e9);
}

typedef struct store_out {
    ta_output base;
    store_conf c;
    trail_store *s;
    ta_worker *w;
    ta_buf buf;                 /* rendered lines of the batch being sent */
    trail_store_entry *ents;
    trail_store_label *labels;  /* per entry: up to MAXL */
    char (*cats)[65];
    uint32_t cap;
} store_out;

#define MAXL 32

static int api_acquire(const store_conf *c, char *err, size_t errlen);
static void api_release(const store_conf *c);

static int store_create(const void *conf, ta_output **out, char *err, size_t errlen) {
    const store_conf *c = conf;
    store_out *o = calloc(1, sizeof *o);
    if (!o) return -ENOMEM;
    o->c = *c;
    trail_store_retention ret[64];
    trail_store_config sc = {.dir = c->dir};
    for (uint32_t i = 0; i < c->retention.n && i < 64; i++) {
        int64_t age = parse_age(c->retention.v[i].value);
        if (age < 0) {
            snprintf(err, errlen, "retention.%s: cannot read '%s' as an age (like 731d, 12h, 0 = keep)",
                     c->retention.v[i].name, c->retention.v[i].value);
            free(o);
            return -EINVAL;
        }
        ret[sc.nretention++] = (trail_store_retention){c->retention.v[i].name, age};
    }
    sc.retention = ret;
    int64_t def = parse_age(c->retention_default);
    if (def < 0) {
        snprintf(err, errlen, "retention_default: cannot read '%s' as an age (like 90d)", c->retention_default);
        free(o);
        return -EINVAL;
    }
    sc.default_max_age_ns = def ? def : -1;
    sc.max_bytes = c->max_size;
    sc.block_bytes = (uint32_t)c->block_size;
    sc.segment_bytes = c->segment_size;
    sc.seal_interval_ns = c->seal_interval;
    sc.dedupe_window = c->dedupe_window > 0 ? (uint32_t)c->dedupe_window : 0;
    sc.zstd_level = (int)c->compression_level;
    if (!c->fsync) sc.flags |= TRAIL_STORE_NO_FSYNC;
    int r = 0;
    o->s = shared_open(&sc, err, errlen, &r);
    if (!o->s) {
        free(o);
        return r ? r : -EIO;
    }
    if ((r = api_acquire(c, err, errlen)) < 0) {
        ta_store_release(o->s);
        free(o);
        return r;
    }
    *out = &o->base;
    return 0;
}

/* Category names become directory names: [a-z0-9_-], at most 64. */
static void category_of(const ta_record *r, char out[65]) {
    const char *c = r->input && r->input->category && *r->input->category ? r->input->category : "app";
    size_t n = 0;
    for (; c[n] && n < 64; n++) {
        unsigned char ch = (unsigned char)tolower((unsigned char)c[n]);
        out[n] = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ? (char)ch : '_';
    }
    out[n] = 0;
}

static const char *field(const ta_record *r, const char *a, const char *b) {
    const ta_field *f = ta_record_get(r, a);
    if (!f && b) f = ta_record_get(r, b);
    return f && f->kind == TA_STR && f->val_len && strlen(f->val) == f->val_len ? f->val : NULL;
}

static void grow(store_out *o, uint32_t n) {
    if (n <= o->cap) return;
    o->cap = n;
    o->ents = realloc(o->ents, n * sizeof *o->ents);
    o->labels = realloc(o->labels, (size_t)n * MAXL * sizeof *o->labels);
    o->cats = realloc(o->cats, n * sizeof *o->cats);
    if (!o->ents || !o->labels || !o->cats) abort();
}

static int store_send(ta_output *base, ta_batch *b, uint32_t *n_invalid) {
    store_out *o = (store_out *)base;
    (void)n_invalid;
    grow(o, b->nrecs);
    o->buf.len = 0;
    size_t *offs = malloc((b->nrecs + 1) * sizeof *offs);
    if (!offs) return TA_SEND_RETRY;
    for (uint32_t i = 0; i < b->nrecs; i++) {
        const ta_record *r = &b->recs[i];
        offs[i] = o->buf.len;
        if (o->c.line == 1) ta_buf_put(&o->buf, r->line, r->line_len);
        else ta_render_json(&o->buf, b, r);
    }
    offs[b->nrecs] = o->buf.len;
    for (uint32_t i = 0; i < b->nrecs; i++) {
        const ta_record *r = &b->recs[i];
        trail_store_entry *e = &o->ents[i];
        trail_store_label *l = &o->labels[(size_t)i * MAXL];
        uint32_t nl = 0;
        category_of(r, o->cats[i]);
        if (r->input)
            for (uint32_t k = 0; k < r->input->nlabels && nl < MAXL - 8; k++) {
                const ta_label *x = &r->input->labels[k];
                if (!x->name || !*x->name || !x->value || !strcmp(x->name, "category") || strlen(x->value) > 65535)
                    continue;
                bool dup = false;
                for (uint32_t j = 0; j < nl; j++) dup |= !strcmp(l[j].name, x->name);
                if (!dup) l[nl++] = (trail_store_label){x->name, x->value};
            }
        for (uint32_t k = 0; k < o->c.labels.n && nl < MAXL; k++) {
            const char *name = o->c.labels.v[k], *v = NULL;
            if (!strcmp(name, "level")) v = r->level;
            else v = field(r, name, NULL);
            bool dup = false;
            for (uint32_t j = 0; j < nl; j++) dup |= !strcmp(l[j].name, name);
            /* a label is for selecting streams: long values are not labels */
            if (v && !dup && strcmp(name, "category") && strlen(v) <= 256) l[nl++] = (trail_store_label){name, v};
        }
        *e = (trail_store_entry){
            .category = o->cats[i],
            .labels = l,
            .nlabels = nl,
            .ts_ns = r->ts_ns,
            .line = (const char *)o->buf.p + offs[i],
            .line_len = (uint32_t)(offs[i + 1] - offs[i]),
            .request_id = field(r, "request_id", "http.request.id"),
            .user_id = field(r, "user_id", "user.id"),
            .trace_id = field(r, "trace_id", "trace.id"),
        };
        /* no id field parsed: let the store look in the line */
    }
    /* buf may have moved while rendering: fix line pointers now */
    for (uint32_t i = 0; i < b->nrecs; i++) o->ents[i].line = (const char *)o->buf.p + offs[i];
    free(offs);
    trail_store_append_result res;
    int r = trail_store_append(o->s, o->ents, b->nrecs, &res);
    if (!r) r = trail_store_sync(o->s);
    size_t bytes = o->buf.len;
    if (o->buf.cap > (8u << 20)) ta_buf_free(&o->buf);
    if (r) {
        ta_warn("output %s: store write failed: %s — will retry", base->name, trail_store_strerror(r));
        return r == -ENOSPC ? TA_SEND_HOLD : r == -EINVAL ? TA_SEND_INVALID : TA_SEND_RETRY;
    }
    atomic_fetch_add_explicit(&base->stats->bytes, bytes, memory_order_relaxed);
    return TA_SEND_OK;
}

static int store_submit(ta_output *o, ta_batch *b) {
    store_out *s = (store_out *)o;
    if (!s->w) {
        ta_worker_conf wc = {s->c.retry_base, s->c.retry_max};
        s->w = ta_worker_start(o, store_send, &wc);
    }
    return ta_worker_submit(s->w, b);
}

static void store_drain(ta_output *o, int64_t deadline_ns) {
    store_out *s = (store_out *)o;
    if (s->w) ta_worker_drain(s->w, deadline_ns);
}

static void store_destroy(ta_output *o) {
    store_out *s = (store_out *)o;
    ta_worker_stop(s->w);
    api_release(&s->c);
    ta_store_release(s->s);
    ta_buf_free(&s->buf);
    free(s->ents);
    free(s->labels);
    free(s->cats);
    free(s);
}

const ta_output_type ta_output_store = {
    .name = "store",
    .options = store_options,
    .conf_size = sizeof(store_conf),
    .help = "the embedded store: compressed, indexed, crash-safe; queried by `trail` and the Loki API",
    .create = store_create,
    .submit = store_submit,
    .drain = store_drain,
    .destroy = store_destroy,
};

/* ------------------------------------------------------------ query API
 * (added by the query component.) With `listen:`, the store output also
 * serves the Loki-compatible HTTP API over the same store handle. One API
 * per listen address, reference-counted like the store: a config reload
 * (new generation while the old one drains) keeps the running server
 * instead of failing to bind its port twice. The API holds its own store
 * reference, so it never outlives the handle it reads. */
#ifdef TA_HAVE_QUERY_API
#include "api.h"
#include "store_source.h"

typedef struct api_entry {
    char *listen, *dir;
    tq_api *api;
    tq_source src;
    trail_store *s;
    int refs;
    struct api_entry *next;
} api_entry;

static pthread_mutex_t api_mu = PTHREAD_MUTEX_INITIALIZER;
static api_entry *api_list;

static int api_acquire(const store_conf *c, char *err, size_t errlen) {
    if (!c->listen || !*c->listen) return 0;
    int rc = 0;
    pthread_mutex_lock(&api_mu);
    for (api_entry *x = api_list; x; x = x->next) {
        if (strcmp(x->listen, c->listen) != 0) continue;
        if (strcmp(x->dir, c->dir) != 0) {
            snprintf(err, errlen, "listen %s: already serving the store in %s (one API per address)", c->listen, x->dir);
            rc = -EADDRINUSE;
        } else {
            x->refs++;
        }
        pthread_mutex_unlock(&api_mu);
        return rc;
    }
    api_entry *x = calloc(1, sizeof *x);
    if (!x) { pthread_mutex_unlock(&api_mu); return -ENOMEM; }
    x->s = ta_store_acquire(c->dir);
    x->src = tq_store_source(x->s, NULL);
    tq_api_config ac = {.listen = c->listen, .bearer_token = c->token};
    rc = x->s ? tq_api_start(&ac, &x->src, &x->api, err, errlen) : -EIO;
    if (rc < 0) {
        tq_store_source_free(&x->src);
        ta_store_release(x->s);
        free(x);
        pthread_mutex_unlock(&api_mu);
        return rc;
    }
    x->listen = strdup(c->listen);
    x->dir = strdup(c->dir);
    x->refs = 1;
    x->next = api_list;
    api_list = x;
    pthread_mutex_unlock(&api_mu);
    ta_info("store: Loki-compatible API on http://%s (docs/api.md)", c->listen);
    return 0;
}

static void api_release(const store_conf *c) {
    if (!c->listen || !*c->listen) return;
    api_entry *stop = NULL;
    pthread_mutex_lock(&api_mu);
    for (api_entry **pp = &api_list; *pp; pp = &(*pp)->next) {
        api_entry *x = *pp;
        if (strcmp(x->listen, c->listen) != 0 || strcmp(x->dir, c->dir) != 0) continue;
        if (--x->refs == 0) {
            *pp = x->next;
            stop = x;
        }
        break;
    }
    pthread_mutex_unlock(&api_mu);
    if (!stop) return;
    tq_api_stop(stop->api);
    tq_store_source_free(&stop->src);
    ta_store_release(stop->s);
    free(stop->listen);
    free(stop->dir);
    free(stop);
}
#else
static int api_acquire(const store_conf *c, char *err, size_t errlen) {
    if (!c->listen || !*c->listen) return 0;
    snprintf(err, errlen, "listen: this traild was built without the query API (libmicrohttpd missing)");
    return -ENOTSUP;
}
static void api_release(const store_conf *c) { (void)c; }
#endif
