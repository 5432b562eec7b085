/* fmt_otel.c — the OpenTelemetry log data model, one JSON object a line
 * (the field names of the data model specification, as the OTel
 * collector's file exporter and most log backends expect them):
 *
 *   {"Timestamp":"1795521600123000000","TraceId":"4bf9...4736",
 *    "SpanId":"00f0...02b7","SeverityText":"INFO","SeverityNumber":9,
 *    "Body":"order placed","Resource":{"service.name":"shop",
 *    "service.version":"1.2.3","deployment.environment":"production",
 *    "host.id":"m-1","host.name":"web-1","container.id":"c-1",
 *    "cloud.region":"eu-west-1","process.pid":42},
 *    "InstrumentationScope":{"Name":"shop.db"},
 *    "Attributes":{"request_id":"r-1","amount":30}}
 *
 * Timestamp is unix nanoseconds as a string (64-bit safe in every JSON
 * reader). TraceId/SpanId come from the trace_id/span_id context values
 * when they are 32/16 hex digits and not all zero; otherwise those values
 * stay in Attributes. SeverityNumber follows the data model's ranges:
 * below DEBUG -> TRACE 1-4, DEBUG 5, INFO 9, SUCCESS 10, WARNING 13,
 * ERROR 17, CRITICAL 21, custom levels in between by position in the range.
 * Attributes hold the context values, code.filepath/code.lineno/
 * code.function and thread.id when known, then the call fields; a key
 * already used becomes "fields.<key>" (no other names are reserved there,
 * since Resource and the top level are separate objects). */
#include "ctx_impl.h"
#include "render.h"

#include <errno.h>
#include <stdlib.h>

typedef struct otel_formatter {
    trail_formatter base;
    uint32_t gen;
    int have_static;
    trail_buf resource_frag; /* ,"Resource":{...} */
    trail__keyset keys;
    trail__level_upper levels;
} otel_formatter;

static const char *const otel_reserved[] = {"code.filepath", "code.lineno", "code.function", "thread.id"};

int trail__otel_severity(int level) {
    int base, lo;
    if (level < TRAIL_DEBUG) /* TRACE 1-4 */
        return level <= 2 ? 1 : level >= 8 ? 4 : 1 + (level - 2) / 2;
    if (level < TRAIL_INFO) base = 5, lo = TRAIL_DEBUG;
    else if (level < TRAIL_WARNING) base = 9, lo = TRAIL_INFO;
    else if (level < TRAIL_ERROR) base = 13, lo = TRAIL_WARNING;
    else if (level < TRAIL_CRITICAL) base = 17, lo = TRAIL_ERROR;
    else base = 21, lo = TRAIL_CRITICAL;
    int step = (level - lo) / 3;
    return base + (step > 3 ? 3 : step);
}

static int put_str_member(trail_buf *b, const char *key_lit, size_t key_len, const char *v) {
    if (!v || !*v) return 0;
    int rc = trail__put(b, key_lit, key_len);
    rc |= trail__json_put_str(b, v, strlen(v));
    return rc;
}
#define MEMBER(b, lit, v) put_str_member((b), lit, sizeof(lit) - 1, (v))

static int render_static(otel_formatter *f) {
    uint32_t gen = trail__resource_generation();
    trail_resource r;
    trail__resource_snapshot(&r);
    trail_buf *t = &f->resource_frag;
    t->len = 0;
    int rc = trail__put_lit(t, ",\"Resource\":{\"service.name\":");
    rc |= trail__json_put_str(t, r.service, strlen(r.service));
    rc |= MEMBER(t, ",\"service.version\":", r.version);
    rc |= MEMBER(t, ",\"deployment.environment\":", r.env);
    rc |= MEMBER(t, ",\"host.id\":", r.machine_id);
    rc |= MEMBER(t, ",\"host.name\":", r.hostname);
    rc |= MEMBER(t, ",\"container.id\":", r.container_id);
    rc |= MEMBER(t, ",\"cloud.region\":", r.region);
    rc |= trail__put_lit(t, ",\"process.pid\":");
    rc |= trail__put_i64(t, r.pid);
    rc |= trail__putc(t, '}');
    if (rc) return -ENOMEM;
    f->gen = gen;
    f->have_static = 1;
    return 0;
}

/* A context value usable as TraceId (want 32) or SpanId (want 16). */
static int is_trace_hex(const trail_field *fl, size_t want) {
    if (fl->type != TRAIL_T_STR || !fl->v.s || trail__field_len(fl) != want) return 0;
    int nonzero = 0;
    for (size_t i = 0; i < want; i++) {
        char c = fl->v.s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return 0;
        nonzero |= c != '0';
    }
    return nonzero;
}

static int put_hex_id(trail_buf *b, const char *key_lit, size_t key_len, const trail_field *fl, size_t n) {
    int rc = trail__put(b, key_lit, key_len);
    if (rc || trail_buf_reserve(b, n + 1)) return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        char c = fl->v.s[i];
        b->data[b->len++] = c >= 'A' && c <= 'F' ? (char)(c + 32) : c; /* lowercase, as W3C */
    }
    b->data[b->len++] = '"';
    return 0;
}

static int otel_format(trail_formatter *base, const trail_entry *e, trail_buf *out) {
    otel_formatter *f = (otel_formatter *)base;
    if (!f->have_static || f->gen != trail__resource_generation())
        if (render_static(f)) return -ENOMEM;
    size_t mark = out->len;
    int rc = trail__put_lit(out, "{\"Timestamp\":\"");
    rc |= trail__put_i64(out, e->ts_ns);
    rc |= trail__putc(out, '"');
    const trail_field *trace = NULL, *span = NULL;
    for (size_t i = 0; i < e->nctx; i++) {
        const char *k = e->ctx[i].key;
        if (!k) continue;
        if (!trace && strcmp(k, "trace_id") == 0 && is_trace_hex(&e->ctx[i], 32)) trace = &e->ctx[i];
        else if (!span && strcmp(k, "span_id") == 0 && is_trace_hex(&e->ctx[i], 16)) span = &e->ctx[i];
    }
    if (trace) rc |= put_hex_id(out, ",\"TraceId\":\"", 12, trace, 32);
    if (span) rc |= put_hex_id(out, ",\"SpanId\":\"", 11, span, 16);
    size_t ln;
    const char *lvl = trail__level_upper_get(&f->levels, e->level, &ln);
    rc |= trail__put_lit(out, ",\"SeverityText\":\"");
    rc |= trail__json_escape(out, lvl, ln);
    rc |= trail__put_lit(out, "\",\"SeverityNumber\":");
    rc |= trail__put_i64(out, trail__otel_severity(e->level));
    rc |= trail__put_lit(out, ",\"Body\":\"");
    rc |= trail__json_escape(out, e->msg, e->msg ? e->msg_len : 0);
    rc |= trail__putc(out, '"');
    rc |= trail__put(out, f->resource_frag.data, f->resource_frag.len);
    if (e->logger && *e->logger) {
        rc |= trail__put_lit(out, ",\"InstrumentationScope\":{\"Name\":");
        rc |= trail__json_put_str(out, e->logger, strlen(e->logger));
        rc |= trail__putc(out, '}');
    }
    rc |= trail__put_lit(out, ",\"Attributes\":{");
    int comma = 0;
    if (e->file) {
        rc |= trail__put_lit(out, "\"code.filepath\":");
        rc |= trail__json_put_str(out, e->file, strlen(e->file));
        rc |= trail__put_lit(out, ",\"code.lineno\":");
        rc |= trail__put_i64(out, e->line);
        if (e->func) {
            rc |= trail__put_lit(out, ",\"code.function\":");
            rc |= trail__json_put_str(out, e->func, strlen(e->func));
        }
        comma = 1;
    }
    if (e->tid) {
        if (comma) rc |= trail__putc(out, ',');
        rc |= trail__put_lit(out, "\"thread.id\":");
        rc |= trail__put_u64(out, e->tid);
        comma = 1;
    }
    if (e->nctx || e->nfields) {
        trail__keyset_begin(&f->keys);
        for (size_t i = 0; i < e->nctx; i++) {
            if (&e->ctx[i] == trace || &e->ctx[i] == span) continue;
            rc |= trail__json_put_member(out, &f->keys, e->ctx[i].key, &e->ctx[i], comma);
            comma = 1;
        }
        for (size_t i = 0; i < e->nfields; i++) {
            rc |= trail__json_put_member(out, &f->keys, e->fields[i].key, &e->fields[i], comma);
            comma = 1;
        }
    }
    rc |= trail__put_lit(out, "}}\n");
    if (rc) {
        out->len = mark;
        return -ENOMEM;
    }
    return 0;
}

static void otel_destroy(trail_formatter *base) {
    otel_formatter *f = (otel_formatter *)base;
    trail_buf_free(&f->resource_frag);
    trail__keyset_free(&f->keys);
}

trail_formatter *trail_formatter_otel(void) {
    otel_formatter *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->base.format = otel_format;
    f->base.destroy = otel_destroy;
    if (trail__keyset_init(&f->keys, otel_reserved, sizeof otel_reserved / sizeof otel_reserved[0])) {
        otel_destroy(&f->base);
        free(f);
        return NULL;
    }
    return &f->base;
}
