/* json_scan.c — see json_scan.h. Recursive descent with a depth limit so
 * hostile input cannot exhaust the stack. */
#include "json_scan.h"

#include <string.h>

#include "swar.h"
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define MAX_DEPTH 64

typedef struct cur {
    const char *s;
    size_t n, i;
} cur;

static void ws(cur *c) {
    while (c->i < c->n && (c->s[c->i] == ' ' || c->s[c->i] == '\t' || c->s[c->i] == '\n' || c->s[c->i] == '\r'))
        c->i++;
}

static int hexv(char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* At '"': skips the string, sets body span; *esc and *high tell whether
 * the body holds escapes / bytes >= 0x80 (what a renderer must look at).
 * The hot loop of every parser: 16 bytes at a time, stopping only at a
 * quote, a backslash or a control byte. */
static int str(cur *c, const char **p, size_t *n, bool *esc, bool *high) {
    const char *s = c->s;
    size_t i = c->i, end = c->n;
    if (i >= end || s[i] != '"') return -1;
    size_t start = ++i;
    bool e = false, h = false;
    for (;;) {
#ifdef __SSE2__
        const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'), flip = _mm_set1_epi8((char)0x80),
                      ctl = _mm_set1_epi8((char)(0x20 ^ 0x80));
        for (; i + 16 <= end; i += 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
            __m128i m = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash));
            m = _mm_or_si128(m, _mm_cmplt_epi8(_mm_xor_si128(v, flip), ctl)); /* unsigned byte < 0x20 */
            unsigned mask = (unsigned)_mm_movemask_epi8(m), hi = (unsigned)_mm_movemask_epi8(v);
            if (mask) {
                unsigned at = (unsigned)__builtin_ctz(mask);
                if (hi & ((1u << at) - 1)) h = true; /* high bytes before the stop only */
                i += at;
                goto special;
            }
            if (hi) h = true;
        }
#endif
        for (;; i++) {
            if (i >= end) return -1;
            unsigned char ch = (unsigned char)s[i];
            if (ch == '"' || ch == '\\' || ch < 0x20) break;
            if (ch >= 0x80) h = true;
        }
#ifdef __SSE2__
    special:
#endif
        if (s[i] == '"') {
            *p = s + start;
            *n = i - start;
            *esc = e;
            *high = h;
            c->i = i + 1;
            return 0;
        }
        if ((unsigned char)s[i] < 0x20) return -1;
        /* a backslash */
        e = true;
        if (i + 1 >= end) return -1;
        char x = s[i + 1];
        if (x == 'u') {
            if (i + 6 > end) return -1;
            for (size_t k = 2; k < 6; k++)
                if (hexv(s[i + k]) < 0) return -1;
            i += 6;
            continue;
        }
        if (!x || !strchr("\"\\/bfnrt", x)) return -1;
        i += 2;
    }
}

static int value(cur *c, ta_json_val *v, int depth);

static int container(cur *c, int depth) {
    if (depth > MAX_DEPTH) return -1;
    char open = c->s[c->i++], close = open == '{' ? '}' : ']';
    ws(c);
    if (c->i < c->n && c->s[c->i] == close) {
        c->i++;
        return 0;
    }
    for (;;) {
        ws(c);
        if (open == '{') {
            const char *k;
            size_t kl;
            bool e, h;
            if (str(c, &k, &kl, &e, &h) < 0) return -1;
            ws(c);
            if (c->i >= c->n || c->s[c->i] != ':') return -1;
            c->i++;
            ws(c);
        }
        ta_json_val v;
        if (value(c, &v, depth + 1) < 0) return -1;
        ws(c);
        if (c->i >= c->n) return -1;
        if (c->s[c->i] == ',') {
            c->i++;
            continue;
        }
        if (c->s[c->i] == close) {
            c->i++;
            return 0;
        }
        return -1;
    }
}

static int number(cur *c, ta_json_val *v) {
    size_t st = c->i;
    bool flt = false;
    if (c->i < c->n && c->s[c->i] == '-') c->i++;
    if (c->i >= c->n) return -1;
    if (c->s[c->i] == '0') c->i++;
    else if (c->s[c->i] >= '1' && c->s[c->i] <= '9')
        while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9') c->i++;
    else return -1;
    if (c->i < c->n && c->s[c->i] == '.') {
        flt = true;
        c->i++;
        size_t d = c->i;
        while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9') c->i++;
        if (c->i == d) return -1;
    }
    if (c->i < c->n && (c->s[c->i] == 'e' || c->s[c->i] == 'E')) {
        flt = true;
        c->i++;
        if (c->i < c->n && (c->s[c->i] == '+' || c->s[c->i] == '-')) c->i++;
        size_t d = c->i;
        while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9') c->i++;
        if (c->i == d) return -1;
    }
    v->kind = flt ? TA_FLOAT : TA_INT;
    v->p = c->s + st;
    v->n = c->i - st;
    return 0;
}

static int lit(cur *c, const char *w, ta_kind k, ta_json_val *v) {
    size_t l = strlen(w);
    if (c->n - c->i < l || memcmp(c->s + c->i, w, l) != 0) return -1;
    v->kind = k;
    v->p = c->s + c->i;
    v->n = l;
    c->i += l;
    return 0;
}

static int value(cur *c, ta_json_val *v, int depth) {
    if (c->i >= c->n) return -1;
    char ch = c->s[c->i];
    v->esc = v->high = false;
    if (ch == '"') {
        v->kind = TA_STR;
        return str(c, &v->p, &v->n, &v->esc, &v->high);
    }
    if (ch == '{' || ch == '[') {
        size_t st = c->i;
        if (container(c, depth) < 0) return -1;
        v->kind = TA_RAW;
        v->p = c->s + st;
        v->n = c->i - st;
        return 0;
    }
    if (ch == 't') return lit(c, "true", TA_BOOL, v);
    if (ch == 'f') return lit(c, "false", TA_BOOL, v);
    if (ch == 'n') return lit(c, "null", TA_NULL, v);
    return number(c, v);
}

int ta_json_object_each(const char *s, size_t n, ta_json_member_fn fn, void *ctx) {
    cur c = {s, n, 0};
    ws(&c);
    if (c.i >= n || s[c.i] != '{') return -1;
    c.i++;
    ws(&c);
    if (c.i < n && s[c.i] == '}') {
        c.i++;
        ws(&c);
        return c.i == n ? 0 : -1;
    }
    for (;;) {
        ws(&c);
        const char *k;
        size_t kl;
        bool kesc, khigh;
        if (str(&c, &k, &kl, &kesc, &khigh) < 0) return -1;
        ws(&c);
        if (c.i >= n || s[c.i] != ':') return -1;
        c.i++;
        ws(&c);
        ta_json_val v;
        if (value(&c, &v, 1) < 0) return -1;
        v.key_esc = kesc;
        v.key_high = khigh;
        if (fn && fn(ctx, k, kl, &v) != 0) fn = NULL; /* keep validating, stop calling */
        ws(&c);
        if (c.i >= n) return -1;
        if (s[c.i] == ',') {
            c.i++;
            continue;
        }
        if (s[c.i] != '}') return -1;
        c.i++;
        ws(&c);
        return c.i == n ? 0 : -1;
    }
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
