/* traceparent.c — W3C Trace Context (traceparent) and X-Request-ID: parse,
 * generate, format, and move them in and out of the request context.
 *
 * Parsing is strict on purpose (only what we generate ourselves is trusted
 * into every log line): version "00", exactly 55 characters, lowercase hex,
 * dashes in place, trace id and parent id not all zeros. */
#include "context_state.h"
#include "core_impl.h"
#include "random_impl.h"

#include <errno.h>
#include <string.h>

#define TP_LEN 55 /* "00-" 32 "-" 16 "-" 2 */
#define RID_MAX 128

static int lower_hex(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return 0;
    }
    return 1;
}

static int all_zero(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != '0') return 0;
    return 1;
}

static int hexval(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

int trail_traceparent_parse(const char *h, trail_traceparent *out) {
    if (!h || !out) return -EINVAL;
    if (strnlen(h, TP_LEN + 1) != TP_LEN) return -EINVAL;
    if (h[0] != '0' || h[1] != '0' || h[2] != '-' || h[35] != '-' || h[52] != '-') return -EINVAL;
    if (!lower_hex(h + 3, 32) || !lower_hex(h + 36, 16) || !lower_hex(h + 53, 2)) return -EINVAL;
    if (all_zero(h + 3, 32) || all_zero(h + 36, 16)) return -EINVAL;
    memcpy(out->trace_id, h + 3, 32);
    out->trace_id[32] = '\0';
    memcpy(out->span_id, h + 36, 16);
    out->span_id[16] = '\0';
    out->flags = (uint8_t)(hexval(h[53]) << 4 | hexval(h[54]));
    return 0;
}

/* n random bytes as hex, retried in the (2^-64) case of all zeros. */
static void random_id(char *out, size_t nbytes) {
    unsigned char b[16];
    do {
        trail__random_bytes(b, nbytes);
        trail__hex(b, nbytes, out);
    } while (all_zero(out, nbytes * 2));
    out[nbytes * 2] = '\0';
}

void trail_traceparent_new(trail_traceparent *out) {
    if (!out) return;
    random_id(out->trace_id, 16);
    random_id(out->span_id, 8);
    out->flags = 1; /* sampled */
}

void trail_traceparent_format(const trail_traceparent *tp, char out[56]) {
    if (!out) return;
    if (!tp) {
        out[0] = '\0';
        return;
    }
    unsigned char f = tp->flags;
    memcpy(out, "00-", 3);
    memcpy(out + 3, tp->trace_id, 32);
    out[35] = '-';
    memcpy(out + 36, tp->span_id, 16);
    out[52] = '-';
    trail__hex(&f, 1, out + 53);
    out[55] = '\0';
}

/* X-Request-ID we accept as is: 1..128 bytes of [A-Za-z0-9._:-] (no spaces,
 * quotes or control bytes, so it can go into logs and headers unescaped). */
static int request_id_ok(const char *s) {
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (n >= RID_MAX) return 0;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == ':' || c == '-'))
            return 0;
    }
    return n > 0;
}

int trail_ctx_from_headers(trail_ctx *c, const char *x_request_id, const char *traceparent) {
    struct trail_ctx *ctx = c ? c : trail__ctx_cur();
    char uuid[37];
    const char *rid = x_request_id;
    if (!rid || !request_id_ok(rid)) {
        trail_uuid_v7(uuid);
        rid = uuid;
    }
    trail_traceparent tp;
    if (!traceparent || trail_traceparent_parse(traceparent, &tp) != 0) {
        trail_traceparent_new(&tp); /* new trace; its span is ours */
    } else {
        random_id(tp.span_id, 8); /* our span: a child of the caller's */
    }
    /* Check the room first so a full context is left untouched. */
    struct trail_ctx tmp = *ctx;
    int rc = trail__ctx_put(&tmp, "request_id", rid, strlen(rid));
    if (!rc) rc = trail__ctx_put(&tmp, "trace_id", tp.trace_id, 32);
    if (!rc) rc = trail__ctx_put(&tmp, "span_id", tp.span_id, 16);
    if (rc) return rc;
    tmp.trace_flags = tp.flags;
    tmp.has_flags = 1;
    *ctx = tmp;
    return 0;
}

int trail_ctx_outgoing_headers(char *request_id, size_t rid_size, char traceparent[56]) {
    struct trail_ctx *ctx = trail__ctx_cur();
    const char *v;
    size_t vlen;
    if (request_id) {
        char uuid[37];
        if (trail__ctx_lookup(ctx, "request_id", &v, &vlen) != 0) {
            trail_uuid_v7(uuid); /* no incoming id: the outgoing call still gets one */
            v = uuid;
            vlen = 36;
        }
        if (rid_size < vlen + 1)
            return trail__error(-ERANGE, "request id buffer holds %zu bytes, %zu needed", rid_size, vlen + 1);
        memcpy(request_id, v, vlen);
        request_id[vlen] = '\0';
    }
    if (traceparent) {
        trail_traceparent tp;
        if (trail__ctx_lookup(ctx, "trace_id", &v, &vlen) == 0 && vlen == 32 && lower_hex(v, 32) &&
            !all_zero(v, 32)) {
            memcpy(tp.trace_id, v, 32);
            tp.trace_id[32] = '\0';
            random_id(tp.span_id, 8);
            tp.flags = ctx->has_flags ? ctx->trace_flags : 1;
        } else {
            trail_traceparent_new(&tp);
        }
        trail_traceparent_format(&tp, traceparent);
    }
    return 0;
}
