/* store_source.c — adapts trail_store's iterators to tq_source.
 *
 * Push-down: the selector becomes the store's stream matcher (evaluated once
 * per stream, not per entry); equality filters on request_id / user_id /
 * trace_id become exact bloom keys; `|= "literal"` filters become token
 * keys (only whole tokens inside the literal, per trail_store_filter_tokens).
 * The entry's indexed fields are handed to the pipeline as structured
 * metadata, so `| request_id="x"` sees the same value the index filtered on.
 */
#include "store_source.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

typedef struct store_ctx {
    trail_store *st;
    const char *push_category;
} store_ctx;

static bool match_stream(void *ctx, const trail_store_stream *st) {
    const tq_selector *sel = ctx;
    tq_label l[TRAIL_STORE_MAX_LABELS];
    uint32_t n = st->nlabels < TRAIL_STORE_MAX_LABELS ? st->nlabels : TRAIL_STORE_MAX_LABELS;
    for (uint32_t i = 0; i < n; i++) l[i] = (tq_label){st->labels[i].name, st->labels[i].value};
    return tq_selector_matches(sel, l, n);
}

typedef struct keyset {
    trail_store_key *k;
    size_t n, cap;
} keyset;

static void add_key(keyset *ks, trail_store_key_kind kind, const char *v, size_t len) {
    if (ks->n == ks->cap) {
        ks->cap = ks->cap ? ks->cap * 2 : 8;
        ks->k = realloc(ks->k, ks->cap * sizeof *ks->k);
        if (!ks->k) abort();
    }
    ks->k[ks->n++] = (trail_store_key){kind, v, len};
}

static void token_cb(void *ctx, const char *tok, size_t len) {
    add_key(ctx, TRAIL_STORE_KEY_TOKEN, tok, len);
}

static int store_scan(void *ctx, const tq_scan *q, tq_entry_cb cb, void *arg) {
    store_ctx *c = ctx;
    keyset ks = {0};
    for (size_t i = 0; i < q->nfield_eq; i++) {
        const char *n = q->field_eq[i].name;
        trail_store_key_kind k = strcmp(n, "request_id") == 0 ? TRAIL_STORE_KEY_REQUEST_ID
                                 : strcmp(n, "user_id") == 0  ? TRAIL_STORE_KEY_USER_ID
                                                              : TRAIL_STORE_KEY_TRACE_ID;
        add_key(&ks, k, q->field_eq[i].value, strlen(q->field_eq[i].value));
    }
    for (size_t i = 0; i < q->ncontains; i++) trail_store_filter_tokens(q->contains[i], strlen(q->contains[i]), token_cb, &ks);
    trail_store_query sq = {
        .from_ns = q->start,
        .to_ns = q->end == INT64_MAX ? 0 : q->end + 1,
        .backward = q->backward != 0,
        .match = q->sel && q->sel->n ? match_stream : NULL,
        .match_ctx = (void *)q->sel,
        .keys = ks.k,
        .nkeys = (uint32_t)ks.n,
    };
    trail_store_iter *it;
    int rc = trail_store_iter_open(c->st, &sq, &it);
    free(ks.k);
    if (rc < 0) return rc;
    const trail_store_entry *e;
    tq_label labels[TRAIL_STORE_MAX_LABELS];
    for (;;) {
        rc = trail_store_iter_next(it, &e);
        if (rc == -EIO) continue; /* an unreadable block is skipped and counted by the store */
        if (rc <= 0) break;
        uint32_t n = e->nlabels < TRAIL_STORE_MAX_LABELS ? e->nlabels : TRAIL_STORE_MAX_LABELS;
        for (uint32_t i = 0; i < n; i++) labels[i] = (tq_label){e->labels[i].name, e->labels[i].value};
        tq_label meta[3];
        size_t nmeta = 0;
        if (e->request_id) meta[nmeta++] = (tq_label){"request_id", e->request_id};
        if (e->user_id) meta[nmeta++] = (tq_label){"user_id", e->user_id};
        if (e->trace_id) meta[nmeta++] = (tq_label){"trace_id", e->trace_id};
        tq_entry te = {.ts = e->ts_ns, .line = e->line, .len = e->line_len, .labels = labels, .nlabels = n,
                       .stream_id = e->stream_id ? e->stream_id : 0, .meta = meta, .nmeta = nmeta};
        if (cb(arg, &te)) { rc = 0; break; }
    }
    trail_store_iter_close(it);
    return rc < 0 ? rc : 0;
}

static int store_labels(void *ctx, const char *name, int64_t start, int64_t end, tq_name_cb cb, void *arg) {
    store_ctx *c = ctx;
    char **v = NULL;
    size_t n = 0;
    int64_t to = end == INT64_MAX ? 0 : end + 1;
    int rc = name ? trail_store_label_values(c->st, name, start, to, &v, &n)
                  : trail_store_label_names(c->st, start, to, &v, &n);
    if (rc < 0) return rc;
    for (size_t i = 0; i < n; i++) cb(arg, v[i]);
    trail_store_strings_free(v, n);
    return 0;
}

typedef struct series_ctx {
    const tq_selector *sel;
    tq_series_cb cb;
    void *arg;
} series_ctx;

static int visit_stream(void *ctx, const trail_store_stream *st) {
    series_ctx *s = ctx;
    tq_label l[TRAIL_STORE_MAX_LABELS];
    uint32_t n = st->nlabels < TRAIL_STORE_MAX_LABELS ? st->nlabels : TRAIL_STORE_MAX_LABELS;
    for (uint32_t i = 0; i < n; i++) l[i] = (tq_label){st->labels[i].name, st->labels[i].value};
    if (!s->sel || tq_selector_matches(s->sel, l, n)) s->cb(s->arg, l, n);
    return 0;
}

static int store_series(void *ctx, const tq_selector *sel, int64_t start, int64_t end, tq_series_cb cb, void *arg) {
    store_ctx *c = ctx;
    series_ctx s = {sel, cb, arg};
    int rc = trail_store_streams(c->st, start, end == INT64_MAX ? 0 : end + 1, visit_stream, &s);
    return rc < 0 ? rc : 0;
}

static int valid_category(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > 64) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-')) return 0;
    return 1;
}

static int store_push(void *ctx, const tq_label *labels, size_t nlabels, const tq_entry *entries, size_t n) {
    store_ctx *c = ctx;
    if (nlabels > TRAIL_STORE_MAX_LABELS) return -EINVAL;
    trail_store_label sl[TRAIL_STORE_MAX_LABELS];
    uint32_t nl = 0;
    const char *category = c->push_category ? c->push_category : "app";
    for (size_t i = 0; i < nlabels; i++) {
        if (strcmp(labels[i].name, "category") == 0) {
            if (valid_category(labels[i].value)) category = labels[i].value;
            continue; /* the store adds `category` itself */
        }
        sl[nl++] = (trail_store_label){labels[i].name, labels[i].value};
    }
    trail_store_entry *e = calloc(n ? n : 1, sizeof *e);
    if (!e) return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        e[i].category = category;
        e[i].labels = sl;
        e[i].nlabels = nl;
        e[i].ts_ns = entries[i].ts;
        e[i].line = entries[i].line;
        e[i].line_len = (uint32_t)entries[i].len;
        /* Loki's structured metadata carries request ids: index them. */
        for (size_t m = 0; m < entries[i].nmeta; m++) {
            const tq_label *md = &entries[i].meta[m];
            if (strcmp(md->name, "request_id") == 0) e[i].request_id = md->value;
            else if (strcmp(md->name, "user_id") == 0) e[i].user_id = md->value;
            else if (strcmp(md->name, "trace_id") == 0) e[i].trace_id = md->value;
        }
    }
    trail_store_append_result res = {0};
    int rc = trail_store_append(c->st, e, n, &res);
    free(e);
    if (rc < 0) return rc;
    return (int)res.stored; /* durable after store_sync, once per request */
}

static int store_sync(void *ctx) {
    store_ctx *c = ctx;
    return trail_store_sync(c->st);
}

tq_source tq_store_source(struct trail_store *store, const char *push_category) {
    /* The context lives as long as the process's API/CLI use of it: one
     * small allocation per source, freed by tq_store_source_free. */
    store_ctx *c = calloc(1, sizeof *c);
    if (!c) abort();
    c->st = store;
    c->push_category = push_category;
    return (tq_source){.ctx = c, .scan = store_scan, .labels = store_labels, .series = store_series,
                       .push = store_push, .sync = store_sync, .ordered = 1};
}

void tq_store_source_free(tq_source *src) {
    free(src->ctx);
    src->ctx = NULL;
}
