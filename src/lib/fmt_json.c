/* fmt_json.c — JSON Lines, the format of trail's files and of traild.
 *
 *   {"timestamp":"2026-11-24T12:00:00.123Z","service":"shop","level":"info",
 *    "message":"order placed","request_id":"...","machine_id":"...",
 *    "container_id":"...","version":"...","region":"...","pid":42,
 *    "logger":"shop.db","user_id":"...","order_id":"A-1","amount":30}
 *
 * Top-level order is fixed: timestamp, service, level, message, request_id,
 * machine_id, container_id, version, region, pid, logger, then the other
 * context fields in context order, then the call fields (call site first,
 * then bound fields). The ten top-level fields are always present, so every
 * line has the same schema: request_id and empty static fields are null.
 * logger is left out for the root logger.
 *
 * Collision rule: the top-level names above are reserved whether or not
 * they appear in a given line. An extra field whose key is reserved, or was
 * already used by an earlier extra field, is written as "fields.<key>" (then
 * "fields.<key>.2", ...), so it never overwrites and keys stay unique.
 *
 * Speed: the static fields are rendered once into two fragments and redone
 * only when trail__resource_generation() changes (trail_resource_set, fork);
 * the date-and-seconds text is cached per second. */
#include "ctx_impl.h"
#include "render.h"

#include <errno.h>
#include <stdlib.h>

typedef struct json_formatter {
    trail_formatter base;
    trail__time_cache tc;
    uint32_t gen;
    int have_static;
    trail_buf service_frag; /* ,"service":"shop","level":" */
    trail_buf static_frag;  /* ,"machine_id":"..",...,"pid":42 */
    trail__keyset keys;
} json_formatter;

static const char *const json_reserved[] = {"timestamp", "service", "level", "message", "request_id", "machine_id",
                                            "container_id", "version", "region", "pid", "logger"};

static int put_member_str(trail_buf *b, const char *key_lit, size_t key_len, const char *v) {
    int rc = trail__put(b, key_lit, key_len);
    if (!v || !*v) return rc | trail__put_lit(b, "null");
    rc |= trail__json_put_str(b, v, strlen(v));
    return rc;
}
#define MEMBER(b, lit, v) put_member_str((b), lit, sizeof(lit) - 1, (v))

static int render_static(json_formatter *f) {
    uint32_t gen = trail__resource_generation(); /* read first: a later change re-renders */
    trail_resource r;
    trail__resource_snapshot(&r);
    trail_buf *s = &f->service_frag, *t = &f->static_frag;
    s->len = t->len = 0;
    int rc = trail__put_lit(s, ",\"service\":");
    rc |= trail__json_put_str(s, r.service, strlen(r.service));
    rc |= trail__put_lit(s, ",\"level\":\"");
    rc |= MEMBER(t, ",\"machine_id\":", r.machine_id);
    rc |= MEMBER(t, ",\"container_id\":", r.container_id);
    rc |= MEMBER(t, ",\"version\":", r.version);
    rc |= MEMBER(t, ",\"region\":", r.region);
    rc |= trail__put_lit(t, ",\"pid\":");
    rc |= trail__put_i64(t, r.pid);
    if (rc) return -ENOMEM;
    f->gen = gen;
    f->have_static = 1;
    return 0;
}

static int json_format(trail_formatter *base, const trail_entry *e, trail_buf *out) {
    json_formatter *f = (json_formatter *)base;
    if (TRAIL_UNLIKELY(!f->have_static || f->gen != trail__resource_generation()))
        if (render_static(f)) return -ENOMEM;
    size_t mark = out->len;
    int rc = trail__put_lit(out, "{\"timestamp\":\"");
    rc |= trail__put_rfc3339(out, &f->tc, e->ts_ns);
    rc |= trail__putc(out, '"');
    rc |= trail__put(out, f->service_frag.data, f->service_frag.len);
    const char *lvl = trail_level_name(e->level);
    rc |= trail__json_escape(out, lvl, strlen(lvl));
    rc |= trail__put_lit(out, "\",\"message\":\"");
    rc |= trail__json_escape(out, e->msg, e->msg ? e->msg_len : 0);
    rc |= trail__putc(out, '"');

    const trail_field *rid = NULL;
    for (size_t i = 0; i < e->nctx; i++) {
        if (e->ctx[i].key && strcmp(e->ctx[i].key, "request_id") == 0) {
            rid = &e->ctx[i];
            rc |= trail__put_lit(out, ",\"request_id\":");
            rc |= trail__json_put_value(out, rid, NULL);
            break;
        }
    }
    if (!rid) rc |= trail__put_lit(out, ",\"request_id\":null");
    rc |= trail__put(out, f->static_frag.data, f->static_frag.len);
    if (e->logger && *e->logger) {
        rc |= trail__put_lit(out, ",\"logger\":");
        rc |= trail__json_put_str(out, e->logger, strlen(e->logger));
    }
    if (e->nfields || e->nctx > (rid != NULL)) {
        trail__keyset_begin(&f->keys);
        for (size_t i = 0; i < e->nctx; i++)
            if (&e->ctx[i] != rid) rc |= trail__json_put_member(out, &f->keys, e->ctx[i].key, &e->ctx[i], 1);
        for (size_t i = 0; i < e->nfields; i++) rc |= trail__json_put_member(out, &f->keys, e->fields[i].key, &e->fields[i], 1);
    }
    rc |= trail__put_lit(out, "}\n");
    if (rc) {
        out->len = mark;
        return -ENOMEM;
    }
    return 0;
}

static void json_destroy(trail_formatter *base) {
    json_formatter *f = (json_formatter *)base;
    trail_buf_free(&f->service_frag);
    trail_buf_free(&f->static_frag);
    trail__keyset_free(&f->keys);
}

trail_formatter *trail_formatter_json(void) {
    json_formatter *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->base.format = json_format;
    f->base.destroy = json_destroy;
    if (trail__keyset_init(&f->keys, json_reserved, sizeof json_reserved / sizeof json_reserved[0])) {
        json_destroy(&f->base);
        free(f);
        return NULL;
    }
    return &f->base;
}
