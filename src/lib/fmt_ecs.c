/* fmt_ecs.c — Elastic Common Schema (ECS 8.x) JSON Lines, the shape
 * Elasticsearch/Kibana and the ecs-logging libraries use:
 *
 *   {"@timestamp":"2026-11-24T12:00:00.123Z","log.level":"info",
 *    "message":"order placed","ecs.version":"8.11.0","service.name":"shop",
 *    "service.version":"1.2.3","service.environment":"production",
 *    "host.id":"m-1","host.name":"web-1","container.id":"c-1",
 *    "cloud.region":"eu-west-1","process.pid":42,"process.thread.id":43,
 *    "log.logger":"shop.db","log.origin.file.name":"shop.c",
 *    "log.origin.file.line":12,"log.origin.function":"place",
 *    "http.request.id":"r-1","user.id":"u-7","trace.id":"...","span.id":"...",
 *    "amount":30}
 *
 * Dotted keys at the top level, as the ECS logging spec allows. Context keys
 * with an ECS meaning are renamed (request_id -> http.request.id, user_id ->
 * user.id, trace_id -> trace.id, span_id -> span.id, transaction_id ->
 * transaction.id); other context keys and call fields keep their names, so
 * a caller can log ECS fields directly ("http.response.status_code").
 * Collision rule as in JSON: a key already used becomes "fields.<key>". */
#include "ctx_impl.h"
#include "render.h"

#include <errno.h>
#include <stdlib.h>

typedef struct ecs_formatter {
    trail_formatter base;
    trail__time_cache tc;
    uint32_t gen;
    int have_static;
    trail_buf static_frag; /* ,"ecs.version":"8.11.0",...,"process.pid":42 */
    trail__keyset keys;
} ecs_formatter;

static const char *const ecs_reserved[] = {
    "@timestamp",       "log.level",    "message",      "ecs.version",       "service.name",
    "service.version",  "service.environment", "host.id", "host.name",      "container.id",
    "cloud.region",     "process.pid",  "process.thread.id", "log.logger",   "log.origin.file.name",
    "log.origin.file.line", "log.origin.function",
};

static const struct { const char *from, *to; } ecs_ctx_names[] = {
    {"request_id", "http.request.id"}, {"user_id", "user.id"},          {"trace_id", "trace.id"},
    {"span_id", "span.id"},            {"transaction_id", "transaction.id"},
};

static int put_str_member(trail_buf *b, const char *key_lit, size_t key_len, const char *v) {
    if (!v || !*v) return 0;
    int rc = trail__put(b, key_lit, key_len);
    rc |= trail__json_put_str(b, v, strlen(v));
    return rc;
}
#define MEMBER(b, lit, v) put_str_member((b), lit, sizeof(lit) - 1, (v))

static int render_static(ecs_formatter *f) {
    uint32_t gen = trail__resource_generation();
    trail_resource r;
    trail__resource_snapshot(&r);
    trail_buf *t = &f->static_frag;
    t->len = 0;
    int rc = trail__put_lit(t, ",\"ecs.version\":\"8.11.0\",\"service.name\":");
    rc |= trail__json_put_str(t, r.service, strlen(r.service));
    rc |= MEMBER(t, ",\"service.version\":", r.version);
    rc |= MEMBER(t, ",\"service.environment\":", r.env);
    rc |= MEMBER(t, ",\"host.id\":", r.machine_id);
    rc |= MEMBER(t, ",\"host.name\":", r.hostname);
    rc |= MEMBER(t, ",\"container.id\":", r.container_id);
    rc |= MEMBER(t, ",\"cloud.region\":", r.region);
    rc |= trail__put_lit(t, ",\"process.pid\":");
    rc |= trail__put_i64(t, r.pid);
    if (rc) return -ENOMEM;
    f->gen = gen;
    f->have_static = 1;
    return 0;
}

static const char *ecs_ctx_name(const char *key) {
    if (!key) return "";
    for (size_t i = 0; i < sizeof ecs_ctx_names / sizeof ecs_ctx_names[0]; i++)
        if (strcmp(key, ecs_ctx_names[i].from) == 0) return ecs_ctx_names[i].to;
    return key;
}

static int ecs_format(trail_formatter *base, const trail_entry *e, trail_buf *out) {
    ecs_formatter *f = (ecs_formatter *)base;
    if (!f->have_static || f->gen != trail__resource_generation())
        if (render_static(f)) return -ENOMEM;
    size_t mark = out->len;
    int rc = trail__put_lit(out, "{\"@timestamp\":\"");
    rc |= trail__put_rfc3339(out, &f->tc, e->ts_ns);
    rc |= trail__put_lit(out, "\",\"log.level\":\"");
    const char *lvl = trail_level_name(e->level);
    rc |= trail__json_escape(out, lvl, strlen(lvl));
    rc |= trail__put_lit(out, "\",\"message\":\"");
    rc |= trail__json_escape(out, e->msg, e->msg ? e->msg_len : 0);
    rc |= trail__putc(out, '"');
    rc |= trail__put(out, f->static_frag.data, f->static_frag.len);
    if (e->tid) {
        rc |= trail__put_lit(out, ",\"process.thread.id\":");
        rc |= trail__put_u64(out, e->tid);
    }
    if (e->logger && *e->logger) {
        rc |= trail__put_lit(out, ",\"log.logger\":");
        rc |= trail__json_put_str(out, e->logger, strlen(e->logger));
    }
    if (e->file) {
        rc |= trail__put_lit(out, ",\"log.origin.file.name\":");
        rc |= trail__json_put_str(out, e->file, strlen(e->file));
        rc |= trail__put_lit(out, ",\"log.origin.file.line\":");
        rc |= trail__put_i64(out, e->line);
        if (e->func) {
            rc |= trail__put_lit(out, ",\"log.origin.function\":");
            rc |= trail__json_put_str(out, e->func, strlen(e->func));
        }
    }
    if (e->nctx || e->nfields) {
        trail__keyset_begin(&f->keys);
        for (size_t i = 0; i < e->nctx; i++)
            rc |= trail__json_put_member(out, &f->keys, ecs_ctx_name(e->ctx[i].key), &e->ctx[i], 1);
        for (size_t i = 0; i < e->nfields; i++)
            rc |= trail__json_put_member(out, &f->keys, e->fields[i].key, &e->fields[i], 1);
    }
    rc |= trail__put_lit(out, "}\n");
    if (rc) {
        out->len = mark;
        return -ENOMEM;
    }
    return 0;
}

static void ecs_destroy(trail_formatter *base) {
    ecs_formatter *f = (ecs_formatter *)base;
    trail_buf_free(&f->static_frag);
    trail__keyset_free(&f->keys);
}

trail_formatter *trail_formatter_ecs(void) {
    ecs_formatter *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->base.format = ecs_format;
    f->base.destroy = ecs_destroy;
    if (trail__keyset_init(&f->keys, ecs_reserved, sizeof ecs_reserved / sizeof ecs_reserved[0])) {
        ecs_destroy(&f->base);
        free(f);
        return NULL;
    }
    return &f->base;
}
