/* fmt_logfmt.c — logfmt: space-separated key=value pairs, one entry a line.
 *
 *   time=2026-11-24T12:00:00.123Z level=info service=shop msg="order placed"
 *   request_id=r-1 machine_id=m-1 version=1.2.3 pid=42 amount=30
 *
 * Order: time, level, service, msg, request_id, machine_id, container_id,
 * version, region, pid, logger, other context fields, call fields (empty
 * static fields, a missing request_id and the root logger are left out).
 *
 * Quoting: a value stays bare when it is non-empty printable ASCII without
 * space, '=', '"' or '\\'; otherwise it is written in double quotes with
 * JSON string escapes (\" \\ \n \t \u00XX, invalid UTF-8 as U+FFFD), so the
 * line stays valid UTF-8 and one line. Keys keep printable ASCII except
 * space, '=' and '"', which become '_' (an empty key is "_").
 * Collisions follow the JSON rule: a reserved or repeated key becomes
 * "fields.<key>" (then "fields.<key>.2", ...). */
#include "ctx_impl.h"
#include "render.h"

#include <errno.h>
#include <stdlib.h>

typedef struct logfmt_formatter {
    trail_formatter base;
    trail__time_cache tc;
    trail__time_cache field_tc;
    uint32_t gen;
    int have_static;
    trail_buf service_frag; /* " service=shop msg=" (service may be absent) */
    trail_buf static_frag;  /* " machine_id=... pid=42" */
    trail_buf key;          /* scratch: sanitised key */
    trail_buf val;          /* scratch: rendered value */
    trail__keyset keys;
} logfmt_formatter;

static const char *const logfmt_reserved[] = {"time", "level", "service", "msg", "request_id", "machine_id",
                                              "container_id", "version", "region", "pid", "logger"};

static int bare_ok(const char *str, size_t n) {
    if (n == 0) return 0;
    const unsigned char *s = (const unsigned char *)str;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '=' || s[i] == '"' || s[i] == '\\') return 0;
    return 1;
}

static int put_text(trail_buf *b, const char *s, size_t n) {
    if (!s) return trail__put_lit(b, "null");
    if (bare_ok(s, n)) return trail__put(b, s, n);
    return trail__json_put_str(b, s, n);
}

static int put_value(logfmt_formatter *f, trail_buf *b, const trail_field *fl) {
    char tmp[160];
    size_t n;
    switch (fl->type) {
    case TRAIL_T_STR:
        return put_text(b, fl->v.s, trail__field_len(fl));
    case TRAIL_T_I64:
        return trail__put_i64(b, fl->v.i);
    case TRAIL_T_U64:
        return trail__put_u64(b, fl->v.u);
    case TRAIL_T_F64:
        return trail__put(b, tmp, trail__fmt_f64(tmp, fl->v.d));
    case TRAIL_T_BOOL:
        return fl->v.i ? trail__put_lit(b, "true") : trail__put_lit(b, "false");
    case TRAIL_T_BYTES:
        if (!fl->v.p) return trail__put_lit(b, "null");
        if (fl->len == 0 || fl->len == TRAIL_LEN_CSTR) return trail__put_lit(b, "\"\"");
        return trail__put_hex(b, fl->v.p, fl->len);
    case TRAIL_T_ERRNO:
        n = trail__fmt_errno(tmp, sizeof tmp, (int)fl->v.i);
        return put_text(b, tmp, n);
    case TRAIL_T_DURATION:
        return trail__put(b, tmp, trail__fmt_duration(tmp, fl->v.i));
    case TRAIL_T_TIME:
        return trail__put_rfc3339(b, &f->field_tc, fl->v.i);
    case TRAIL_T_JSON: {
        if (!fl->v.s) return trail__put_lit(b, "null");
        f->val.len = 0;
        int rc = trail__json_put_raw(&f->val, fl->v.s, trail__field_len(fl));
        if (rc < 0) return rc;
        if (rc == 0) return put_text(b, f->val.data, f->val.len);
        return put_text(b, fl->v.s, trail__field_len(fl));
    }
    case TRAIL_T_NULL:
    default:
        return trail__put_lit(b, "null");
    }
}

static int key_char_ok(unsigned char c) { return c > 0x20 && c < 0x7f && c != '=' && c != '"'; }

static int put_field(logfmt_formatter *f, trail_buf *out, const trail_field *fl) {
    const char *key = fl->key ? fl->key : "";
    size_t kl = strlen(key);
    int clean = kl > 0;
    for (size_t i = 0; i < kl && clean; i++) clean = key_char_ok((unsigned char)key[i]);
    const char *name;
    size_t name_len;
    int rc;
    if (clean) {
        rc = trail__keyset_claim(&f->keys, key, kl, 1, &name, &name_len);
    } else {
        f->key.len = 0;
        rc = trail__put(&f->key, key, kl);
        if (!kl) rc |= trail__putc(&f->key, '_');
        if (rc) return -ENOMEM;
        for (size_t i = 0; i < f->key.len; i++)
            if (!key_char_ok((unsigned char)f->key.data[i])) f->key.data[i] = '_';
        rc = trail__keyset_claim(&f->keys, f->key.data, f->key.len, 0, &name, &name_len);
    }
    rc |= trail__putc(out, ' ');
    rc |= trail__put(out, name, name_len);
    rc |= trail__putc(out, '=');
    rc |= put_value(f, out, fl);
    return rc;
}

static int put_pair(trail_buf *b, const char *key_lit, size_t key_len, const char *v) {
    if (!*v) return 0;
    int rc = trail__put(b, key_lit, key_len);
    rc |= put_text(b, v, strlen(v));
    return rc;
}
#define PAIR(b, lit, v) put_pair((b), lit, sizeof(lit) - 1, (v))

static int render_static(logfmt_formatter *f) {
    uint32_t gen = trail__resource_generation();
    trail_resource r;
    trail__resource_snapshot(&r);
    f->service_frag.len = f->static_frag.len = 0;
    int rc = PAIR(&f->service_frag, " service=", r.service);
    rc |= trail__put_lit(&f->service_frag, " msg=");
    rc |= PAIR(&f->static_frag, " machine_id=", r.machine_id);
    rc |= PAIR(&f->static_frag, " container_id=", r.container_id);
    rc |= PAIR(&f->static_frag, " version=", r.version);
    rc |= PAIR(&f->static_frag, " region=", r.region);
    rc |= trail__put_lit(&f->static_frag, " pid=");
    rc |= trail__put_i64(&f->static_frag, r.pid);
    if (rc) return -ENOMEM;
    f->gen = gen;
    f->have_static = 1;
    return 0;
}

static int logfmt_format(trail_formatter *base, const trail_entry *e, trail_buf *out) {
    logfmt_formatter *f = (logfmt_formatter *)base;
    if (!f->have_static || f->gen != trail__resource_generation())
        if (render_static(f)) return -ENOMEM;
    size_t mark = out->len;
    int rc = trail__put_lit(out, "time=");
    rc |= trail__put_rfc3339(out, &f->tc, e->ts_ns);
    rc |= trail__put_lit(out, " level=");
    const char *lvl = trail_level_name(e->level);
    rc |= put_text(out, lvl, strlen(lvl));
    rc |= trail__put(out, f->service_frag.data, f->service_frag.len);
    rc |= put_text(out, e->msg ? e->msg : "", e->msg ? e->msg_len : 0);
    const trail_field *rid = NULL;
    for (size_t i = 0; i < e->nctx && !rid; i++) {
        if (e->ctx[i].key && strcmp(e->ctx[i].key, "request_id") == 0) {
            rid = &e->ctx[i];
            rc |= trail__put_lit(out, " request_id=");
            rc |= put_value(f, out, rid);
        }
    }
    rc |= trail__put(out, f->static_frag.data, f->static_frag.len);
    if (e->logger && *e->logger) {
        rc |= trail__put_lit(out, " logger=");
        rc |= put_text(out, e->logger, strlen(e->logger));
    }
    trail__keyset_begin(&f->keys);
    for (size_t i = 0; i < e->nctx; i++)
        if (&e->ctx[i] != rid) rc |= put_field(f, out, &e->ctx[i]);
    for (size_t i = 0; i < e->nfields; i++) rc |= put_field(f, out, &e->fields[i]);
    rc |= trail__putc(out, '\n');
    if (rc) {
        out->len = mark;
        return -ENOMEM;
    }
    return 0;
}

static void logfmt_destroy(trail_formatter *base) {
    logfmt_formatter *f = (logfmt_formatter *)base;
    trail_buf_free(&f->service_frag);
    trail_buf_free(&f->static_frag);
    trail_buf_free(&f->key);
    trail_buf_free(&f->val);
    trail__keyset_free(&f->keys);
}

trail_formatter *trail_formatter_logfmt(void) {
    logfmt_formatter *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->base.format = logfmt_format;
    f->base.destroy = logfmt_destroy;
    if (trail__keyset_init(&f->keys, logfmt_reserved, sizeof logfmt_reserved / sizeof logfmt_reserved[0])) {
        logfmt_destroy(&f->base);
        free(f);
        return NULL;
    }
    return &f->base;
}
