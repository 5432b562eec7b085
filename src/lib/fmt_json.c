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
 * the date-and-seconds text is cached per second; the level's and the
 * logger's text are rendered again only when they differ from the last
 * entry's. */
#include "ctx_impl.h"
#include "render.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct json_formatter {
    trail_formatter base;
    trail__time_cache tc;
    uint32_t gen;
    int have_static;
    trail_buf service_frag; /* ,"service":"shop","level":" */
    trail_buf static_frag;  /* ,"machine_id":"..",...,"pid":42 */
    trail__keyset keys;
    /* The last level's and logger's rendered text, reused while the next
     * entry has the same level name / logger name (compared by content, so
     * a renamed level or a new logger at a reused address re-renders). */
    int lvl;
    const char *lvl_src;
    trail_buf lvl_raw, lvl_frag;    /* name as given; ","service":..,"level":"info","message":" */
    trail_buf logger_raw, logger_frag; /* name as given; ,"logger":"name" */
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

static int same_text(const trail_buf *raw, const char *s, size_t n) {
    return raw->len == n && raw->data && memcmp(raw->data, s, n) == 0;
}

/* lvl_frag: from the quote closing the timestamp up to the message (the
 * service fragment, the escaped level name); rebuilt when either changes. */
static int level_frag(json_formatter *f, int level) {
    const char *lvl = trail_level_name(level);
    size_t n = strlen(lvl);
    if (TRAIL_LIKELY(f->lvl_src == lvl && f->lvl == level && same_text(&f->lvl_raw, lvl, n))) return 0;
    f->lvl_raw.len = f->lvl_frag.len = 0;
    f->lvl_src = NULL;
    int rc = trail__put(&f->lvl_raw, lvl, n);
    rc |= trail__putc(&f->lvl_frag, '"');
    rc |= trail__put(&f->lvl_frag, f->service_frag.data, f->service_frag.len);
    rc |= trail__json_escape(&f->lvl_frag, lvl, n);
    rc |= trail__put_lit(&f->lvl_frag, "\",\"message\":\"");
    if (rc) return -ENOMEM;
    f->lvl = level;
    f->lvl_src = lvl;
    return 0;
}

/* logger_frag: ,"logger":"name" (empty for the root logger). */
static int logger_frag(json_formatter *f, const char *name) {
    size_t n = strlen(name);
    if (TRAIL_LIKELY(same_text(&f->logger_raw, name, n))) return 0;
    f->logger_raw.len = f->logger_frag.len = 0;
    int rc = trail__put(&f->logger_raw, name, n);
    if (n) {
        rc |= trail__put_lit(&f->logger_frag, ",\"logger\":");
        rc |= trail__json_put_str(&f->logger_frag, name, n);
    }
    if (rc) {
        f->logger_raw.len = f->logger_frag.len = 0;
        return -ENOMEM;
    }
    return 0;
}

static int json_format(trail_formatter *base, const trail_entry *e, trail_buf *out) {
    json_formatter *f = (json_formatter *)base;
    if (TRAIL_UNLIKELY(!f->have_static || f->gen != trail__resource_generation())) {
        f->lvl_src = NULL; /* lvl_frag holds the service fragment */
        if (render_static(f)) return -ENOMEM;
    }
    size_t mark = out->len;
    int rc = trail__put_lit(out, "{\"timestamp\":\"");
    rc |= trail__put_rfc3339(out, &f->tc, e->ts_ns);
    if (level_frag(f, e->level)) rc = -ENOMEM;
    else rc |= trail__put(out, f->lvl_frag.data, f->lvl_frag.len);
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
        if (logger_frag(f, e->logger)) rc = -ENOMEM;
        else rc |= trail__put(out, f->logger_frag.data, f->logger_frag.len);
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
    trail_buf_free(&f->lvl_raw);
    trail_buf_free(&f->lvl_frag);
    trail_buf_free(&f->logger_raw);
    trail_buf_free(&f->logger_frag);
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
