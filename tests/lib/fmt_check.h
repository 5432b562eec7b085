/* fmt_check.h — an independent UTF-8 and JSON checker for the formatter
 * tests and the fuzz target. Written separately from the library's escaper
 * (code-point decoding here, byte-range tables there) so that one cannot
 * hide the other's bug.
 *
 * jc_parse_line() accepts exactly one JSON object followed by one '\n' and
 * nothing else, and returns its top-level members in order with string
 * values decoded. */
#ifndef TRAIL_FMT_CHECK_H
#define TRAIL_FMT_CHECK_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* 1 when s is valid UTF-8 (no overlongs, surrogates or values > U+10FFFF). */
static inline int jc_utf8_valid(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        int extra;
        uint32_t cp, min;
        if ((c & 0xe0) == 0xc0) extra = 1, cp = c & 0x1f, min = 0x80;
        else if ((c & 0xf0) == 0xe0) extra = 2, cp = c & 0x0f, min = 0x800;
        else if ((c & 0xf8) == 0xf0) extra = 3, cp = c & 0x07, min = 0x10000;
        else return 0;
        if (n - i <= (size_t)extra) return 0;
        for (int k = 1; k <= extra; k++) {
            unsigned d = s[i + (size_t)k];
            if ((d & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (d & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
        i += (size_t)extra + 1;
    }
    return 1;
}

typedef struct jc_member {
    char *key;       /* decoded, NUL-terminated */
    const char *raw; /* the value's text in the line */
    size_t raw_len;
    char *str; /* decoded string value (NULL when not a string) */
    size_t str_len;
} jc_member;

typedef struct jc_object {
    jc_member *m;
    size_t n, cap;
} jc_object;

typedef struct jc_state {
    const unsigned char *s;
    size_t n, i;
} jc_state;

static inline void jc_ws(jc_state *p) {
    while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\r' || p->s[p->i] == '\n')) p->i++;
}

static inline int jc_hex4(const unsigned char *h, uint32_t *out) {
    uint32_t v = 0;
    for (int k = 0; k < 4; k++) {
        unsigned c = h[k];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= c - '0';
        else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
        else return 0;
    }
    *out = v;
    return 1;
}

static inline size_t jc_put_utf8(char *o, uint32_t cp) {
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xc0 | cp >> 6); o[1] = (char)(0x80 | (cp & 63)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12); o[1] = (char)(0x80 | ((cp >> 6) & 63)); o[2] = (char)(0x80 | (cp & 63));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18); o[1] = (char)(0x80 | ((cp >> 12) & 63));
    o[2] = (char)(0x80 | ((cp >> 6) & 63)); o[3] = (char)(0x80 | (cp & 63));
    return 4;
}

/* Parses a string at p->i ('"'); decoded copy in *out (malloc'd) when out. */
static inline int jc_string(jc_state *p, char **out, size_t *outlen) {
    if (p->i >= p->n || p->s[p->i] != '"') return 0;
    size_t start = ++p->i;
    char *d = malloc(p->n - start + 1);
    size_t dn = 0;
    if (!d) return 0;
    while (p->i < p->n) {
        unsigned c = p->s[p->i];
        if (c == '"') {
            p->i++;
            d[dn] = 0;
            if (out) *out = d, *outlen = dn;
            else free(d);
            return 1;
        }
        if (c < 0x20) break;
        if (c == '\\') {
            if (p->i + 1 >= p->n) break;
            unsigned e = p->s[p->i + 1];
            const char *simple = strchr("\"\\/bfnrt", (int)e);
            if (e && simple) {
                static const char map[] = "\"\\/\b\f\n\r\t";
                d[dn++] = map[simple - "\"\\/bfnrt"];
                p->i += 2;
                continue;
            }
            uint32_t cp;
            if (e != 'u' || p->n - p->i < 6 || !jc_hex4(p->s + p->i + 2, &cp)) break;
            p->i += 6;
            if (cp >= 0xd800 && cp <= 0xdbff && p->n - p->i >= 6 && p->s[p->i] == '\\' && p->s[p->i + 1] == 'u') {
                uint32_t lo;
                if (jc_hex4(p->s + p->i + 2, &lo) && lo >= 0xdc00 && lo <= 0xdfff) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    p->i += 6;
                }
            }
            if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd; /* lone surrogate escape */
            dn += jc_put_utf8(d + dn, cp);
            continue;
        }
        d[dn++] = (char)c;
        p->i++;
    }
    free(d);
    return 0;
}

static inline int jc_value(jc_state *p, int depth);

static inline int jc_number(jc_state *p) {
    size_t i = p->i;
    const unsigned char *s = p->s;
    if (i < p->n && s[i] == '-') i++;
    if (i >= p->n) return 0;
    if (s[i] == '0') i++;
    else if (s[i] >= '1' && s[i] <= '9') { while (i < p->n && s[i] >= '0' && s[i] <= '9') i++; }
    else return 0;
    if (i < p->n && s[i] == '.') {
        i++;
        size_t d = i;
        while (i < p->n && s[i] >= '0' && s[i] <= '9') i++;
        if (i == d) return 0;
    }
    if (i < p->n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < p->n && (s[i] == '+' || s[i] == '-')) i++;
        size_t d = i;
        while (i < p->n && s[i] >= '0' && s[i] <= '9') i++;
        if (i == d) return 0;
    }
    p->i = i;
    return 1;
}

static inline int jc_container(jc_state *p, int depth, char close) {
    p->i++;
    jc_ws(p);
    if (p->i < p->n && p->s[p->i] == close) { p->i++; return 1; }
    for (;;) {
        jc_ws(p);
        if (close == '}') {
            if (!jc_string(p, NULL, NULL)) return 0;
            jc_ws(p);
            if (p->i >= p->n || p->s[p->i] != ':') return 0;
            p->i++;
        }
        if (!jc_value(p, depth + 1)) return 0;
        jc_ws(p);
        if (p->i >= p->n) return 0;
        char c = (char)p->s[p->i++];
        if (c == close) return 1;
        if (c != ',') return 0;
    }
}

static inline int jc_value(jc_state *p, int depth) {
    if (depth > 200) return 0;
    jc_ws(p);
    if (p->i >= p->n) return 0;
    unsigned c = p->s[p->i];
    if (c == '"') return jc_string(p, NULL, NULL);
    if (c == '{') return jc_container(p, depth, '}');
    if (c == '[') return jc_container(p, depth, ']');
    static const char *lits[] = {"true", "false", "null"};
    for (int k = 0; k < 3; k++) {
        size_t l = strlen(lits[k]);
        if (p->n - p->i >= l && memcmp(p->s + p->i, lits[k], l) == 0) { p->i += l; return 1; }
    }
    return jc_number(p);
}

static inline void jc_free(jc_object *o) {
    for (size_t k = 0; k < o->n; k++) { free(o->m[k].key); free(o->m[k].str); }
    free(o->m);
    memset(o, 0, sizeof *o);
}

/* 1 when line[0..n) is one valid UTF-8 JSON object followed by exactly one
 * '\n'; o (may be NULL) receives the top-level members. */
static inline int jc_parse_line(const char *line, size_t n, jc_object *o) {
    if (o) memset(o, 0, sizeof *o);
    if (n < 3 || line[n - 1] != '\n' || memchr(line, '\n', n - 1)) return 0;
    if (!jc_utf8_valid((const unsigned char *)line, n)) return 0;
    jc_state p = {(const unsigned char *)line, n - 1, 0};
    if (p.s[0] != '{') return 0;
    p.i = 1;
    jc_ws(&p);
    int ok = 0;
    if (p.i < p.n && p.s[p.i] == '}') { p.i++; ok = 1; }
    while (!ok) {
        jc_ws(&p);
        jc_member m = {0};
        size_t kl;
        if (!jc_string(&p, &m.key, &kl)) break;
        jc_ws(&p);
        if (p.i >= p.n || p.s[p.i] != ':') { free(m.key); break; }
        p.i++;
        jc_ws(&p);
        size_t vs = p.i;
        if (p.i < p.n && p.s[p.i] == '"') {
            if (!jc_string(&p, &m.str, &m.str_len)) { free(m.key); break; }
        } else if (!jc_value(&p, 1)) { free(m.key); break; }
        m.raw = line + vs;
        m.raw_len = p.i - vs;
        if (o) {
            if (o->n == o->cap) {
                o->cap = o->cap ? o->cap * 2 : 16;
                o->m = realloc(o->m, o->cap * sizeof *o->m);
            }
            o->m[o->n++] = m;
        } else { free(m.key); free(m.str); }
        jc_ws(&p);
        if (p.i >= p.n) break;
        char c = (char)p.s[p.i++];
        if (c == '}') { ok = 1; break; }
        if (c != ',') break;
    }
    if (ok) { jc_ws(&p); ok = p.i == p.n; }
    if (!ok && o) jc_free(o);
    return ok;
}

static inline const jc_member *jc_get(const jc_object *o, const char *key) {
    for (size_t k = 0; k < o->n; k++)
        if (strcmp(o->m[k].key, key) == 0) return &o->m[k];
    return NULL;
}

/* 1 when no two top-level keys are equal. */
static inline int jc_keys_unique(const jc_object *o) {
    for (size_t a = 0; a < o->n; a++)
        for (size_t b = a + 1; b < o->n; b++)
            if (strcmp(o->m[a].key, o->m[b].key) == 0) return 0;
    return 1;
}

#endif
