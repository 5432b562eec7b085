/* tq_json.c — recursive-descent JSON reader into an arena (see tq_json.h).
 * Strict RFC 8259 except that invalid UTF-8 inside strings is passed
 * through (log lines are not always clean; output escaping repairs it). */
#include "tq_json.h"

#include <stdio.h>
#include <string.h>

typedef struct jp {
    tq_arena *a;
    const char *p, *e, *start;
    int depth, max_depth;
    char *err;
    size_t errlen;
    int failed;
} jp;

static void jfail(jp *j, const char *msg) {
    if (j->failed) return;
    j->failed = 1;
    snprintf(j->err, j->errlen, "invalid JSON at byte %zu: %s", (size_t)(j->p - j->start), msg);
}

static void ws(jp *j) {
    while (j->p < j->e && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) j->p++;
}

static int hex4(const char *p, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

static char *jstring(jp *j, size_t *outlen) {
    j->p++; /* opening quote */
    const char *s = j->p;
    while (s < j->e && *s != '"' && *s != '\\') s++;
    if (s < j->e && *s == '"') { /* fast path: no escapes */
        for (const char *q = j->p; q < s; q++)
            if ((unsigned char)*q < 0x20) { j->p = q; jfail(j, "control character in string"); return NULL; }
        char *r = tq_arena_strndup(j->a, j->p, (size_t)(s - j->p));
        *outlen = (size_t)(s - j->p);
        j->p = s + 1;
        return r;
    }
    /* Escaped text is never longer than its source. */
    const char *end = j->p;
    while (end < j->e && *end != '"') end += (*end == '\\' && end + 1 < j->e) ? 2 : 1;
    if (end >= j->e) { jfail(j, "unterminated string"); return NULL; }
    char *out = tq_arena_alloc(j->a, (size_t)(end - j->p) + 4);
    size_t n = 0;
    while (j->p < end) {
        unsigned char c = (unsigned char)*j->p;
        if (c < 0x20) { jfail(j, "control character in string"); return NULL; }
        if (c != '\\') { out[n++] = (char)c; j->p++; continue; }
        j->p++;
        char esc = *j->p++;
        switch (esc) {
        case '"': out[n++] = '"'; break;
        case '\\': out[n++] = '\\'; break;
        case '/': out[n++] = '/'; break;
        case 'b': out[n++] = '\b'; break;
        case 'f': out[n++] = '\f'; break;
        case 'n': out[n++] = '\n'; break;
        case 'r': out[n++] = '\r'; break;
        case 't': out[n++] = '\t'; break;
        case 'u': {
            unsigned cp;
            if (end - j->p < 4 || hex4(j->p, &cp) < 0) { jfail(j, "bad \\u escape"); return NULL; }
            j->p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && end - j->p >= 6 && j->p[0] == '\\' && j->p[1] == 'u') {
                unsigned lo;
                if (hex4(j->p + 2, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    j->p += 6;
                }
            }
            if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD; /* lone surrogate */
            /* A \uXXXX (6 source bytes) yields at most 3 bytes; a pair (12) at most 4. */
            if (cp < 0x80) out[n++] = (char)cp;
            else if (cp < 0x800) { out[n++] = (char)(0xC0 | (cp >> 6)); out[n++] = (char)(0x80 | (cp & 0x3F)); }
            else if (cp < 0x10000) {
                out[n++] = (char)(0xE0 | (cp >> 12)); out[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                out[n++] = (char)(0x80 | (cp & 0x3F));
            } else {
                out[n++] = (char)(0xF0 | (cp >> 18)); out[n++] = (char)(0x80 | ((cp >> 12) & 0x3F));
                out[n++] = (char)(0x80 | ((cp >> 6) & 0x3F)); out[n++] = (char)(0x80 | (cp & 0x3F));
            }
            break;
        }
        default: j->p--; jfail(j, "bad escape"); return NULL;
        }
    }
    out[n] = 0;
    j->p = end + 1;
    *outlen = n;
    return out;
}

static void jvalue(jp *j, tq_jval *v);

static void jcontainer(jp *j, tq_jval *v, int obj) {
    if (++j->depth > j->max_depth) { jfail(j, "nested too deeply"); return; }
    j->p++;
    size_t cap = 0;
    v->type = obj ? TQ_JOBJ : TQ_JARR;
    ws(j);
    if (j->p < j->e && *j->p == (obj ? '}' : ']')) { j->p++; j->depth--; return; }
    for (;;) {
        if (v->n == cap) {
            size_t nc = cap ? cap * 2 : 4;
            tq_jval *k = tq_arena_alloc(j->a, nc * sizeof *k);
            if (v->n) memcpy(k, v->kids, v->n * sizeof *k);
            v->kids = k;
            if (obj) {
                const char **keys = tq_arena_alloc(j->a, nc * sizeof *keys);
                size_t *kl = tq_arena_alloc(j->a, nc * sizeof *kl);
                if (v->n) { memcpy(keys, v->keys, v->n * sizeof *keys); memcpy(kl, v->keylens, v->n * sizeof *kl); }
                v->keys = keys;
                v->keylens = kl;
            }
            cap = nc;
        }
        ws(j);
        if (obj) {
            if (j->p >= j->e || *j->p != '"') { jfail(j, "expected a string key"); return; }
            size_t kl;
            const char *k = jstring(j, &kl);
            if (!k) return;
            v->keys[v->n] = k;
            v->keylens[v->n] = kl;
            ws(j);
            if (j->p >= j->e || *j->p != ':') { jfail(j, "expected ':'"); return; }
            j->p++;
        }
        jvalue(j, &v->kids[v->n]);
        if (j->failed) return;
        v->n++;
        ws(j);
        if (j->p < j->e && *j->p == ',') { j->p++; continue; }
        if (j->p < j->e && *j->p == (obj ? '}' : ']')) { j->p++; j->depth--; return; }
        jfail(j, obj ? "expected ',' or '}'" : "expected ',' or ']'");
        return;
    }
}

static void jvalue(jp *j, tq_jval *v) {
    memset(v, 0, sizeof *v);
    ws(j);
    if (j->p >= j->e) { jfail(j, "unexpected end"); return; }
    char c = *j->p;
    if (c == '{' || c == '[') { jcontainer(j, v, c == '{'); return; }
    if (c == '"') {
        v->type = TQ_JSTR;
        v->s = jstring(j, &v->len);
        return;
    }
    static const struct { const char *w; tq_jtype t; } words[] = {{"true", TQ_JBOOL}, {"false", TQ_JBOOL}, {"null", TQ_JNULL}};
    for (size_t i = 0; i < 3; i++) {
        size_t l = strlen(words[i].w);
        if ((size_t)(j->e - j->p) >= l && memcmp(j->p, words[i].w, l) == 0) {
            v->type = words[i].t;
            v->s = words[i].w;
            v->len = l;
            j->p += l;
            return;
        }
    }
    const char *s = j->p;
    if (j->p < j->e && *j->p == '-') j->p++;
    if (j->p >= j->e || *j->p < '0' || *j->p > '9') { j->p = s; jfail(j, "unexpected character"); return; }
    if (*j->p == '0') j->p++;
    else while (j->p < j->e && *j->p >= '0' && *j->p <= '9') j->p++;
    if (j->p < j->e && *j->p == '.') {
        j->p++;
        if (j->p >= j->e || *j->p < '0' || *j->p > '9') { jfail(j, "bad number"); return; }
        while (j->p < j->e && *j->p >= '0' && *j->p <= '9') j->p++;
    }
    if (j->p < j->e && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->e && (*j->p == '+' || *j->p == '-')) j->p++;
        if (j->p >= j->e || *j->p < '0' || *j->p > '9') { jfail(j, "bad number"); return; }
        while (j->p < j->e && *j->p >= '0' && *j->p <= '9') j->p++;
    }
    v->type = TQ_JNUM;
    v->s = tq_arena_strndup(j->a, s, (size_t)(j->p - s));
    v->len = (size_t)(j->p - s);
}

tq_jval *tq_json_parse(tq_arena *a, const char *text, size_t n, int max_depth, char *err, size_t errlen) {
    char dummy[1];
    jp j = {.a = a, .p = text, .e = text + n, .start = text, .max_depth = max_depth,
            .err = err && errlen ? err : dummy, .errlen = err && errlen ? errlen : 1};
    tq_jval *v = tq_arena_alloc(a, sizeof *v);
    jvalue(&j, v);
    if (!j.failed) {
        ws(&j);
        if (j.p != j.e) jfail(&j, "trailing characters");
    }
    return j.failed ? NULL : v;
}

const tq_jval *tq_json_get(const tq_jval *obj, const char *key) {
    if (!obj || obj->type != TQ_JOBJ) return NULL;
    size_t kl = strlen(key);
    for (size_t i = 0; i < obj->n; i++)
        if (obj->keylens[i] == kl && memcmp(obj->keys[i], key, kl) == 0) return &obj->kids[i];
    return NULL;
}
