/* redact_json.c — redaction inside raw JSON fields (TRAIL_JSON): values
 * under secret keys are replaced whole, strings are shape-scanned, and a
 * valid document stays valid. One linear pass, no parse tree; malformed
 * JSON (rendered as a string by the formatters) is scanned the same way. */
#include "redact_impl.h"

#include <errno.h>
#include <string.h>

static size_t json_string_end(const char *s, size_t n, size_t i) { /* s[i] == '"'; index after the closing quote */
    for (i++; i < n; i++) {
        if (s[i] == '\\') i++;
        else if (s[i] == '"') return i + 1;
    }
    return n;
}

static size_t skip_ws(const char *s, size_t n, size_t i) {
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
    return i;
}

/* End of the JSON value at s[i] (string, balanced container or scalar). */
static size_t json_value_end(const char *s, size_t n, size_t i) {
    if (i >= n) return n;
    if (s[i] == '"') return json_string_end(s, n, i);
    if (s[i] == '{' || s[i] == '[') {
        size_t depth = 0;
        while (i < n) {
            char c = s[i];
            if (c == '"') {
                i = json_string_end(s, n, i);
                continue;
            }
            if (c == '{' || c == '[') depth++;
            else if ((c == '}' || c == ']') && --depth == 0) return i + 1;
            i++;
        }
        return n;
    }
    /* A scalar; up to the next separator, spaces included, so in malformed
     * JSON "Bearer x" after a secret key goes as a whole. */
    while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != '\r' && s[i] != '\n' && s[i]) i++;
    return i;
}

/* Rewrites raw JSON: values under secret keys become the replacement string
 * (whole objects and arrays included); the contents of every string (keys
 * too) are shape-scanned with a JSON-escaped replacement; text between
 * strings (numbers, or anything in malformed JSON, which is rendered as a
 * string) is shape-scanned with a quoted replacement so valid JSON stays
 * valid. Returns the number of replacements; out gets the text only if > 0. */
typedef struct json_rw {
    const char *s;
    size_t copied;
    long count;
    trail_buf *out;
} json_rw;

/* Shape-scans s[a, b); on a match emits everything up to b, redacted. */
static int json_region(json_rw *w, const trail__shape_cfg *cfg, size_t a, size_t b) {
    if (b <= a) return 0;
    size_t mark = w->out->len;
    if (trail_buf_put(w->out, w->s + w->copied, a - w->copied)) return -ENOMEM;
    long m = trail__redact_text(cfg, w->s + a, b - a, w->out);
    if (m < 0) return -ENOMEM;
    if (m == 0) {
        w->out->len = mark;
        return 0;
    }
    w->count += m;
    w->copied = b;
    return 0;
}

static int json_sep(char c) { return strchr(" \t\r\n,:[]{}", c) != NULL; }

/* Text between strings: a match is widened to its whole token (a number
 * such as -4111111111111111 or 1e4111111111111111) and replaced by the
 * quoted replacement, so a valid document stays valid. */
static int json_outer_region(json_rw *w, const trail__shape_cfg *cfg, size_t a, size_t b) {
    if (b <= a) return 0;
    const char *s = w->s + a;
    size_t n = b - a, pos = 0, ms, me;
    unsigned possible = trail__shapes_possible(cfg, s, n);
    while (pos < n && trail__shape_next_in(cfg, possible, s, n, pos, &ms, &me)) {
        while (ms > pos && !json_sep(s[ms - 1])) ms--;
        while (me < n && !json_sep(s[me])) me++;
        if (trail_buf_put(w->out, w->s + w->copied, a + ms - w->copied) ||
            trail_buf_put(w->out, cfg->repl, cfg->repl_len))
            return -ENOMEM;
        w->copied = a + me;
        w->count++;
        pos = me > ms ? me : ms + 1;
    }
    return 0;
}

long trail__redact_json(const redactor *r, const char *s, size_t n, trail_buf *out) {
    json_rw w = {s, 0, 0, out};
    size_t start = out->len, i = 0;
    trail__shape_cfg inner = r->shapes, outer = r->shapes;
    inner.repl = r->inner_json_repl;
    inner.repl_len = r->inner_json_repl_len;
    outer.repl = r->json_repl;
    outer.repl_len = r->json_repl_len;
    for (;;) {
        const char *q = memchr(s + i, '"', n - i);
        size_t qs = q ? (size_t)(q - s) : n;
        if (json_outer_region(&w, &outer, i, qs)) goto oom;
        if (qs >= n) break;
        size_t end = json_string_end(s, n, qs);
        size_t cs = qs + 1, ce = end > cs && s[end - 1] == '"' ? end - 1 : end;
        size_t after = skip_ws(s, n, end);
        if (json_region(&w, &inner, cs, ce)) goto oom;
        if (after < n && s[after] == ':' && trail__redact_key(s + cs, ce - cs, (void *)r)) {
            size_t v = skip_ws(s, n, after + 1);
            size_t ve = json_value_end(s, n, v);
            if (trail_buf_put(out, s + w.copied, v - w.copied) || trail_buf_put(out, r->json_repl, r->json_repl_len))
                goto oom;
            w.copied = i = ve;
            w.count++;
            continue;
        }
        i = end;
    }
    if (w.count && trail_buf_put(out, s + w.copied, n - w.copied)) goto oom;
    if (!w.count) out->len = start;
    return w.count;
oom:
    out->len = start;
    return -ENOMEM;
}

