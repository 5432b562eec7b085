/* fuzz_json_render.c — arbitrary bytes as message, context and typed fields
 * through every built-in formatter. JSON, ECS and OTel output must be one
 * valid UTF-8 JSON object with unique top-level keys and exactly one
 * trailing newline; logfmt and console output must be valid UTF-8 with
 * exactly one newline, at the end. Anything else aborts. */
#include "../tests/lib/fmt_check.h"
#include "trail.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct reader {
    const uint8_t *p;
    size_t n;
} reader;

static uint8_t take_u8(reader *r) {
    if (!r->n) return 0;
    r->n--;
    return *r->p++;
}

/* A chunk: one length byte, then up to that many bytes. */
static const char *take_chunk(reader *r, size_t *len) {
    size_t want = take_u8(r);
    if (want == 255) want = r->n; /* the rest: lets inputs grow large */
    if (want > r->n) want = r->n;
    const char *s = (const char *)r->p;
    r->p += want;
    r->n -= want;
    *len = want;
    return s;
}

static uint64_t take_u64(reader *r) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | take_u8(r);
    return v;
}

static void fail(const char *what, const trail_buf *b) {
    fprintf(stderr, "%s: %.*s\n", what, (int)(b->len > 4000 ? 4000 : b->len), b->data);
    abort();
}

enum { MAX_FIELDS = 12, KEY_MAX = 64 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static trail_formatter *json, *ecs, *otel, *logfmt, *console;
    if (!json) {
        json = trail_formatter_json();
        ecs = trail_formatter_ecs();
        otel = trail_formatter_otel();
        logfmt = trail_formatter_logfmt();
        trail_console_opts o = {.color = TRAIL_COLOR_NEVER, .show_level = 1, .show_logger = 1, .show_date = 1};
        console = trail_formatter_console(&o);
    }
    reader r = {data, size};
    static const char *ctx_keys[] = {"request_id", "trace_id", "span_id", "user_id", "level", "message"};
    char keys[2 * MAX_FIELDS][KEY_MAX + 1];
    trail_field ctx[4], fields[MAX_FIELDS];
    trail_entry e = {0};
    e.level = take_u8(&r);
    e.ts_ns = (int64_t)take_u64(&r);
    e.tid = take_u8(&r);
    size_t nctx = take_u8(&r) % 5, nfields = take_u8(&r) % (MAX_FIELDS + 1);
    size_t len;
    const char *s = take_chunk(&r, &len);
    size_t kl = len < KEY_MAX ? len : KEY_MAX;
    memcpy(keys[0], s, kl);
    keys[0][kl] = 0;
    e.logger = keys[0];
    e.msg = take_chunk(&r, &e.msg_len);
    for (size_t i = 0; i < nctx; i++) {
        uint8_t k = take_u8(&r);
        ctx[i].key = ctx_keys[k % 6];
        ctx[i].type = TRAIL_T_STR;
        ctx[i].v.s = take_chunk(&r, &len);
        ctx[i].len = (uint32_t)len;
    }
    e.ctx = ctx;
    e.nctx = nctx;
    for (size_t i = 0; i < nfields; i++) {
        trail_field *f = &fields[i];
        memset(f, 0, sizeof *f);
        f->type = take_u8(&r) % 13; /* 0 and 12 are not valid types */
        s = take_chunk(&r, &len);
        kl = len < KEY_MAX ? len : KEY_MAX;
        memcpy(keys[1 + i], s, kl);
        keys[1 + i][kl] = 0;
        f->key = (take_u8(&r) & 7) == 0 ? NULL : keys[1 + i];
        switch (f->type) {
        case TRAIL_T_STR:
        case TRAIL_T_BYTES:
        case TRAIL_T_JSON:
            f->v.s = take_chunk(&r, &len);
            f->len = (uint32_t)len;
            break;
        default:
            f->v.u = take_u64(&r);
        }
    }
    e.fields = fields;
    e.nfields = nfields;

    trail_formatter *as_json[] = {json, ecs, otel};
    trail_buf b = {0};
    for (size_t k = 0; k < 3; k++) {
        b.len = 0;
        if (trail_formatter_format(as_json[k], &e, &b) != 0) fail("format failed", &b);
        jc_object o;
        if (!jc_parse_line(b.data, b.len, &o)) fail("invalid JSON line", &b);
        if (!jc_keys_unique(&o)) fail("duplicate keys", &b);
        jc_free(&o);
    }
    trail_formatter *as_text[] = {logfmt, console};
    for (size_t k = 0; k < 2; k++) {
        b.len = 0;
        if (trail_formatter_format(as_text[k], &e, &b) != 0) fail("format failed", &b);
        if (!b.len || b.data[b.len - 1] != '\n' || memchr(b.data, '\n', b.len - 1)) fail("not one line", &b);
        if (memchr(b.data, '\r', b.len) || memchr(b.data, '\033', b.len)) fail("raw control byte", &b);
        if (!jc_utf8_valid((const unsigned char *)b.data, b.len)) fail("invalid UTF-8", &b);
    }
    trail_buf_free(&b);
    return 0;
}
