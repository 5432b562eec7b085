/* json_scan.c — see json_scan.h. The scanner itself is in json_walk.h, so
 * that parsers can inline their member callbacks into it. */
#include "json_scan.h"

#include <string.h>

#include "json_walk.h"

int ta_json_object_each(const char *s, size_t n, ta_json_member_fn fn, void *ctx) {
    return ta_json_walk(s, n, fn, ctx);
}

static size_t put_utf8(char *o, unsigned cp) {
    if (cp < 0x80) return o[0] = (char)cp, 1;
    if (cp < 0x800) return o[0] = (char)(0xC0 | cp >> 6), o[1] = (char)(0x80 | (cp & 63)), 2;
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | ((cp >> 6) & 63));
        o[2] = (char)(0x80 | (cp & 63));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | ((cp >> 12) & 63));
    o[2] = (char)(0x80 | ((cp >> 6) & 63));
    o[3] = (char)(0x80 | (cp & 63));
    return 4;
}

static int u4(const char *p) {
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexv(p[i]);
        if (h < 0) return -1;
        v = v * 16 + h;
    }
    return v;
}

long ta_json_unescape_to(const char *p, size_t n, char *o) {
    char *w = o;
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '\\') {
            *w++ = p[i];
            continue;
        }
        if (++i >= n) return -1;
        switch (p[i]) {
        case 'n': *w++ = '\n'; break;
        case 't': *w++ = '\t'; break;
        case 'r': *w++ = '\r'; break;
        case 'b': *w++ = '\b'; break;
        case 'f': *w++ = '\f'; break;
        case '/': *w++ = '/'; break;
        case '\\': *w++ = '\\'; break;
        case '"': *w++ = '"'; break;
        case 'u': {
            if (i + 4 >= n) return -1;
            int cp = u4(p + i + 1);
            if (cp < 0) return -1;
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < n && p[i + 1] == '\\' && p[i + 2] == 'u') {
                int lo = u4(p + i + 3);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 6;
                }
            }
            if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD; /* lone surrogate */
            w += put_utf8(w, (unsigned)cp);
            break;
        }
        default: return -1;
        }
    }
    return (long)(w - o);
}

int ta_json_unescape(const char *p, size_t n, ta_arena *a, const char **out, size_t *outlen) {
    char *o = ta_arena_alloc(a, n + 1); /* escapes never expand */
    long len;
    if (!memchr(p, '\\', n)) {
        memcpy(o, p, n);
        len = (long)n;
    } else if ((len = ta_json_unescape_to(p, n, o)) < 0)
        return -1;
    o[len] = 0;
    *out = o;
    *outlen = (size_t)len;
    return 0;
}

int ta_json_first_string(const ta_json_val *arr, ta_json_val *out) {
    if (arr->kind != TA_RAW || !arr->n || arr->p[0] != '[') return -1;
    cur c = {arr->p, arr->n, 1};
    ws(&c);
    if (c.i >= c.n || c.s[c.i] != '"') return -1;
    out->kind = TA_STR;
    out->key_esc = out->key_high = false;
    return str(&c, &out->p, &out->n, &out->esc, &out->high);
}

void ta_json_set_field(ta_record *r, ta_arena *a, const char *key, const ta_json_val *v) {
    if (v->kind == TA_STR) {
        const char *s;
        size_t n;
        if (ta_json_unescape(v->p, v->n, a, &s, &n) == 0) {
            ta_field *f = ta_record_set(r, a, key, NULL, 0, TA_STR);
            f->val = s;
            f->val_len = (uint32_t)n;
            return;
        }
    }
    ta_record_set(r, a, key, v->p, v->n, v->kind);
}
