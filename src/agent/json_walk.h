/* json_walk.h — the JSON scanner's code, for json_scan.c and for parsers
 * that want their per-member callback inlined (see ta_json_walk). Recursive
 * descent with a depth limit so hostile input cannot exhaust the stack. */
#ifndef TRAILD_JSON_WALK_H
#define TRAILD_JSON_WALK_H
#include <string.h>

#include "json_scan.h"
#include "swar.h"

#define MAX_DEPTH 64

typedef struct cur {
    const char *s;
    size_t n, i;
} cur;

static inline void ws(cur *c) {
    while (c->i < c->n && (c->s[c->i] == ' ' || c->s[c->i] == '\t' || c->s[c->i] == '\n' || c->s[c->i] == '\r'))
        c->i++;
}

static inline int hexv(char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* At '"': skips the string, sets body span; *esc and *high tell whether
 * the body holds escapes / bytes >= 0x80 (what a renderer must look at).
 * The hot loop of every parser: 16 bytes at a time, stopping only at a
 * quote, a backslash or a control byte. */
static inline int str(cur *c, const char **p, size_t *n, bool *esc, bool *high) {
    const char *s = c->s;
    size_t i = c->i, end = c->n;
    if (i >= end || s[i] != '"') return -1;
    size_t start = ++i;
    bool e = false, h = false;
    for (;;) {
#ifdef __SSE2__
        for (; i + 16 <= end; i += 16) {
            __m128i v = ta_sse_load(s + i);
            unsigned mask = ta_sse_quotes(v) | ta_sse_controls(v), hi = ta_sse_high(v);
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

static inline int value(cur *c, ta_json_val *v, int depth);

/* Not inlined: nested values recurse through here, so value() itself is not
 * recursive and inlines into the member loop. */
static __attribute__((noinline, unused)) int container(cur *c, int depth) {
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

static inline int number(cur *c, ta_json_val *v) {
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

static inline int lit(cur *c, const char *w, ta_kind k, ta_json_val *v) {
    size_t l = strlen(w);
    if (c->n - c->i < l || memcmp(c->s + c->i, w, l) != 0) return -1;
    v->kind = k;
    v->p = c->s + c->i;
    v->n = l;
    c->i += l;
    return 0;
}

static inline int value(cur *c, ta_json_val *v, int depth) {
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

/* ta_json_object_each() itself, inlined into each parser that includes this
 * header (the hot loop of parsing: one call less per line, constants known). */
static inline __attribute__((always_inline)) int ta_json_walk(const char *s, size_t n, ta_json_member_fn fn, void *ctx) {
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

#endif
