/* render_json.c — JSON values of typed fields, and embedding of raw JSON
 * (validated and minified, so caller-supplied JSON can never break the
 * one-object-per-line promise). */
#include "render.h"

#include <errno.h>

int trail__json_put_str(trail_buf *b, const char *s, size_t n) {
    if (!s) return trail__put_lit(b, "null");
    return trail__json_escape_quoted(b, s, n);
}

/* ------------------------------------------------- raw JSON validation */

typedef struct raw_parser {
    const unsigned char *s;
    size_t n, i;
    trail_buf *out;
    int oom;
} raw_parser;

enum { RAW_MAX_DEPTH = 64 };

static void skip_ws(raw_parser *p) {
    while (p->i < p->n) {
        unsigned char c = p->s[p->i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->i++;
    }
}

static void emit(raw_parser *p, const void *s, size_t n) { p->oom |= trail__put(p->out, s, n); }

static int is_hex(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A string starting at p->s[p->i] == '"'; copied with U+2028/2029 escaped. */
static int parse_string(raw_parser *p) {
    size_t copy_from = p->i++;
    while (p->i < p->n) {
        unsigned char c = p->s[p->i];
        if (c == '"') {
            p->i++;
            emit(p, p->s + copy_from, p->i - copy_from);
            return 1;
        }
        if (c < 0x20) return 0;
        if (c == '\\') {
            if (p->i + 1 >= p->n) return 0;
            unsigned char e = p->s[p->i + 1];
            if (e == 'u') {
                if (p->n - p->i < 6) return 0;
                for (int k = 2; k < 6; k++)
                    if (!is_hex(p->s[p->i + k])) return 0;
                p->i += 6;
            } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
                p->i += 2;
            } else {
                return 0;
            }
            continue;
        }
        if (c < 0x80) {
            p->i++;
            continue;
        }
        size_t bad;
        size_t len = trail__utf8_seq(p->s + p->i, p->n - p->i, &bad);
        if (!len) return 0;
        if (len == 3 && c == 0xe2 && p->s[p->i + 1] == 0x80 && (p->s[p->i + 2] & 0xfe) == 0xa8) {
            emit(p, p->s + copy_from, p->i - copy_from);
            emit(p, p->s[p->i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
            copy_from = p->i + 3;
        }
        p->i += len;
    }
    return 0;
}

static int parse_number(raw_parser *p) {
    size_t start = p->i;
    const unsigned char *s = p->s;
    size_t n = p->n, i = p->i;
    if (i < n && s[i] == '-') i++;
    if (i >= n) return 0;
    if (s[i] == '0') i++;
    else if (s[i] >= '1' && s[i] <= '9') while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    else return 0;
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n || s[i] < '0' || s[i] > '9') return 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= n || s[i] < '0' || s[i] > '9') return 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    }
    p->i = i;
    emit(p, s + start, i - start);
    return 1;
}

static int parse_literal(raw_parser *p, const char *lit, size_t len) {
    if (p->n - p->i < len || memcmp(p->s + p->i, lit, len) != 0) return 0;
    emit(p, lit, len);
    p->i += len;
    return 1;
}

static int parse_value(raw_parser *p, int depth) {
    skip_ws(p);
    if (p->i >= p->n) return 0;
    unsigned char c = p->s[p->i];
    if (c == '"') return parse_string(p);
    if (c == 't') return parse_literal(p, "true", 4);
    if (c == 'f') return parse_literal(p, "false", 5);
    if (c == 'n') return parse_literal(p, "null", 4);
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(p);
    if (c != '{' && c != '[') return 0;
    if (depth >= RAW_MAX_DEPTH) return 0;
    unsigned char close = c == '{' ? '}' : ']';
    emit(p, &c, 1);
    p->i++;
    skip_ws(p);
    if (p->i < p->n && p->s[p->i] == close) {
        emit(p, &close, 1);
        p->i++;
        return 1;
    }
    for (;;) {
        if (close == '}') {
            skip_ws(p);
            if (p->i >= p->n || p->s[p->i] != '"' || !parse_string(p)) return 0;
            skip_ws(p);
            if (p->i >= p->n || p->s[p->i] != ':') return 0;
            emit(p, ":", 1);
            p->i++;
        }
        if (!parse_value(p, depth + 1)) return 0;
        skip_ws(p);
        if (p->i >= p->n) return 0;
        c = p->s[p->i++];
        if (c == close) {
            emit(p, &close, 1);
            return 1;
        }
        if (c != ',') return 0;
        emit(p, ",", 1);
    }
}

int trail__json_put_raw(trail_buf *b, const char *s, size_t n) {
    size_t mark = b->len;
    raw_parser p = {.s = (const unsigned char *)s, .n = s ? n : 0, .i = 0, .out = b, .oom = 0};
    int ok = parse_value(&p, 0);
    if (ok) {
        skip_ws(&p);
        ok = p.i == p.n;
    }
    if (p.oom) {
        b->len = mark;
        return -ENOMEM;
    }
    if (!ok) {
        b->len = mark;
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------- field values */

int trail__json_put_value(trail_buf *b, const trail_field *f, trail__time_cache *tc) {
    char tmp[160];
    size_t n;
    switch (f->type) {
    case TRAIL_T_STR: /* the common value: straight to the escape */
        if (TRAIL_UNLIKELY(!f->v.s)) return trail__put_lit(b, "null");
        return trail__json_escape_quoted(b, f->v.s, f->len == TRAIL_LEN_CSTR ? strlen(f->v.s) : f->len);
    case TRAIL_T_I64:
    case TRAIL_T_DURATION:
        return trail__put_i64(b, f->v.i);
    case TRAIL_T_U64:
        return trail__put_u64(b, f->v.u);
    case TRAIL_T_F64:
        if (TRAIL_LIKELY(f->v.d - f->v.d == 0)) { /* finite: a JSON number, written in place */
            if (b->cap - b->len < 40 && trail_buf_reserve(b, 40)) return -ENOMEM;
            b->len += trail__fmt_f64(b->data + b->len, f->v.d);
            return 0;
        }
        n = trail__fmt_f64(tmp + 1, f->v.d); /* NaN, Infinity, -Infinity as strings */
        tmp[0] = '"';
        tmp[n + 1] = '"';
        return trail__put(b, tmp, n + 2);
    case TRAIL_T_BOOL:
        return f->v.i ? trail__put_lit(b, "true") : trail__put_lit(b, "false");
    case TRAIL_T_BYTES: {
        if (!f->v.p) return trail__put_lit(b, "null");
        int rc = trail__putc(b, '"');
        rc |= trail__put_hex(b, f->v.p, f->len == TRAIL_LEN_CSTR ? 0 : f->len);
        rc |= trail__putc(b, '"');
        return rc;
    }
    case TRAIL_T_ERRNO:
        n = trail__fmt_errno(tmp, sizeof tmp, (int)f->v.i);
        return trail__json_put_str(b, tmp, n);
    case TRAIL_T_TIME: {
        int rc = trail__putc(b, '"');
        rc |= trail__put_rfc3339(b, tc, f->v.i);
        rc |= trail__putc(b, '"');
        return rc;
    }
    case TRAIL_T_JSON: {
        if (!f->v.s) return trail__put_lit(b, "null");
        size_t len = trail__field_len(f);
        int rc = trail__json_put_raw(b, f->v.s, len);
        if (rc <= 0) return rc;
        return trail__json_put_str(b, f->v.s, len);
    }
    case TRAIL_T_NULL:
    default:
        return trail__put_lit(b, "null");
    }
}
