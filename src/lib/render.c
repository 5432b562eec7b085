/* render.c — numbers, timestamps, level names and key sets for the
 * built-in formatters. See render.h. */
#include "render.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------- numbers */

static const char digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

static unsigned digits10(uint64_t v) {
    unsigned n = 1;
    for (;;) {
        if (v < 10) return n;
        if (v < 100) return n + 1;
        if (v < 1000) return n + 2;
        if (v < 10000) return n + 3;
        v /= 10000;
        n += 4;
    }
}

/* Writes backwards from the known end: no temporary, no memcpy call. */
size_t trail__fmt_u64(char *dst, uint64_t v) {
    unsigned n = digits10(v);
    char *p = dst + n;
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        p -= 2;
        p[0] = digit_pairs[2 * r];
        p[1] = digit_pairs[2 * r + 1];
    }
    if (v >= 10) {
        p[-2] = digit_pairs[2 * v];
        p[-1] = digit_pairs[2 * v + 1];
    } else {
        p[-1] = (char)('0' + v);
    }
    return n;
}

size_t trail__fmt_i64(char *dst, int64_t v) {
    if (v >= 0) return trail__fmt_u64(dst, (uint64_t)v);
    dst[0] = '-';
    return 1 + trail__fmt_u64(dst + 1, (uint64_t)0 - (uint64_t)v);
}

int trail__put_u64(trail_buf *b, uint64_t v) {
    if (b->cap - b->len < 24 && trail_buf_reserve(b, 24)) return -ENOMEM;
    b->len += trail__fmt_u64(b->data + b->len, v);
    return 0;
}

int trail__put_i64(trail_buf *b, int64_t v) {
    if (b->cap - b->len < 24 && trail_buf_reserve(b, 24)) return -ENOMEM;
    b->len += trail__fmt_i64(b->data + b->len, v);
    return 0;
}

int trail__put_hex(trail_buf *b, const void *p, size_t n) {
    static const char hex[] = "0123456789abcdef";
    if (n > SIZE_MAX / 2 || trail_buf_reserve(b, n * 2)) return -ENOMEM;
    const unsigned char *s = p;
    char *o = b->data + b->len;
    for (size_t i = 0; i < n; i++) {
        o[2 * i] = hex[s[i] >> 4];
        o[2 * i + 1] = hex[s[i] & 15];
    }
    b->len += n * 2;
    return 0;
}

/* Doubles: most logged values (0.25, 12.5, 3.14159) have few decimals.
 * Try k = 0, 1, 2, ... decimals: when round(d * 10^k) / 10^k == d exactly
 * (both operands exact, so the division is correctly rounded like strtod),
 * that decimal text reads back as d. The rest (very large/small values, or
 * 17 significant digits) goes through %.{15,16,17}g with a read-back check. */
static const double pow10_tab[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8,
                                   1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17};

size_t trail__fmt_f64(char *dst, double d) {
    if (isnan(d)) {
        memcpy(dst, "NaN", 3);
        return 3;
    }
    if (isinf(d)) {
        if (d > 0) {
            memcpy(dst, "Infinity", 8);
            return 8;
        }
        memcpy(dst, "-Infinity", 9);
        return 9;
    }
    char *o = dst;
    if (signbit(d)) {
        *o++ = '-';
        d = -d;
    }
    if (d == 0) {
        memcpy(o, "0.0", 3);
        return (size_t)(o - dst) + 3;
    }
    if (d >= 1e-6 && d < 1e15) {
        for (int k = 0; k < (int)(sizeof pow10_tab / sizeof pow10_tab[0]); k++) {
            double m = d * pow10_tab[k];
            if (m >= 9007199254740992.0) break; /* 2^53: no longer exact */
            double r = (double)(uint64_t)(m + 0.5); /* m < 2^53: exact, no libm */
            if (r / pow10_tab[k] != d) continue;
            uint64_t u = (uint64_t)r;
            size_t ku = (size_t)k, nd = digits10(u);
            if (k == 0) {
                trail__fmt_u64(o, u);
                o[nd] = '.';
                o[nd + 1] = '0';
                return (size_t)(o - dst) + nd + 2;
            }
            if (nd <= ku) { /* 0.000ddd */
                *o++ = '0';
                *o++ = '.';
                for (size_t z = nd; z < ku; z++) *o++ = '0';
                trail__fmt_u64(o, u);
                return (size_t)(o - dst) + nd;
            }
            trail__fmt_u64(o, u); /* then open a gap for the point */
            for (size_t j = nd; j > nd - ku; j--) o[j] = o[j - 1];
            o[nd - ku] = '.';
            return (size_t)(o - dst) + nd + 1;
        }
    }
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, d);
        if (prec == 17 || strtod(tmp, NULL) == d) break;
    }
    size_t n = 0;
    for (; tmp[n] && n < 28; n++) o[n] = tmp[n] == ',' ? '.' : tmp[n]; /* any locale's decimal comma */
    return (size_t)(o - dst) + n;
}

/* Exact decimal fraction of ns in unit (1e3, 1e6, 1e9) with trailing zeros cut. */
static size_t fmt_scaled(char *o, uint64_t v, uint64_t unit, int unit_digits, const char *suffix) {
    size_t n = trail__fmt_u64(o, v / unit);
    uint64_t frac = v % unit;
    if (frac) {
        char f[12];
        for (int i = unit_digits - 1; i >= 0; i--) {
            f[i] = (char)('0' + frac % 10);
            frac /= 10;
        }
        int len = unit_digits;
        while (len > 0 && f[len - 1] == '0') len--;
        o[n++] = '.';
        memcpy(o + n, f, (size_t)len);
        n += (size_t)len;
    }
    size_t sl = strlen(suffix);
    memcpy(o + n, suffix, sl);
    return n + sl;
}

size_t trail__fmt_duration(char *dst, int64_t ns) {
    char *o = dst;
    uint64_t v = (uint64_t)ns;
    if (ns < 0) {
        *o++ = '-';
        v = (uint64_t)0 - (uint64_t)ns;
    }
    size_t n;
    if (v < 1000) n = fmt_scaled(o, v, 1, 0, "ns");
    else if (v < 1000000) n = fmt_scaled(o, v, 1000, 3, "us");
    else if (v < 1000000000) n = fmt_scaled(o, v, 1000000, 6, "ms");
    else n = fmt_scaled(o, v, 1000000000, 9, "s");
    return (size_t)(o - dst) + n;
}

size_t trail__fmt_errno(char *dst, size_t cap, int err) {
    char tmp[128];
    const char *text = strerror_r(err, tmp, sizeof tmp); /* GNU variant: thread-safe */
    if (!text) text = "unknown error";
    size_t n = strlen(text);
    if (n > cap - 32) n = cap - 32; /* keep room for " (errno N)" */
    memcpy(dst, text, n);
    memcpy(dst + n, " (errno ", 8);
    n += 8;
    n += trail__fmt_i64(dst + n, err);
    dst[n++] = ')';
    return n;
}

/* ---------------------------------------------------------------- time */

/* Days since 1970-01-01 to y/m/d (H. Hinnant's civil_from_days). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static void put2(char *o, unsigned v) { memcpy(o, digit_pairs + 2 * (v % 100), 2); }

/* Years 0000..9999 in seconds since the epoch. */
#define MIN_SEC (-62167219200LL)
#define MAX_SEC (253402300799LL)

static void floor_split(int64_t ns, int64_t *sec, unsigned *ms) {
    int64_t s = ns / 1000000000, r = ns % 1000000000;
    if (r < 0) {
        r += 1000000000;
        s--;
    }
    *sec = s;
    *ms = (unsigned)(r / 1000000);
}

int trail__put_rfc3339(trail_buf *b, trail__time_cache *c, int64_t ns) {
    int64_t sec;
    unsigned ms;
    floor_split(ns, &sec, &ms);
    if (sec < MIN_SEC) sec = MIN_SEC, ms = 0;
    if (sec > MAX_SEC) sec = MAX_SEC, ms = 999;
    trail__time_cache local;
    if (!c) c = &local, c->valid = 0;
    if (!c->valid || c->sec != sec) {
        int64_t days = sec / 86400, rem = sec % 86400;
        if (rem < 0) rem += 86400, days--;
        int64_t y;
        unsigned mo, d;
        civil_from_days(days, &y, &mo, &d);
        char *o = c->text;
        put2(o, (unsigned)(y / 100));
        put2(o + 2, (unsigned)(y % 100));
        o[4] = '-';
        put2(o + 5, mo);
        o[7] = '-';
        put2(o + 8, d);
        o[10] = 'T';
        put2(o + 11, (unsigned)(rem / 3600));
        o[13] = ':';
        put2(o + 14, (unsigned)(rem / 60 % 60));
        o[16] = ':';
        put2(o + 17, (unsigned)(rem % 60));
        c->len = 19;
        c->sec = sec;
        c->valid = 1;
    }
    if (b->cap - b->len < 24 && trail_buf_reserve(b, 24)) return -ENOMEM;
    char *o = b->data + b->len;
    memcpy(o, c->text, 19);
    o[19] = '.';
    o[20] = (char)('0' + ms / 100);
    put2(o + 21, ms % 100);
    o[23] = 'Z';
    b->len += 24;
    return 0;
}

int trail__put_local_clock(trail_buf *b, trail__time_cache *c, int64_t ns, int with_date) {
    int64_t sec;
    unsigned ms;
    floor_split(ns, &sec, &ms);
    if (sec < MIN_SEC) sec = MIN_SEC;
    if (sec > MAX_SEC) sec = MAX_SEC;
    if (!c->valid || c->sec != sec) {
        time_t t = (time_t)sec;
        struct tm tm;
        if (!localtime_r(&t, &tm)) memset(&tm, 0, sizeof tm);
        char *o = c->text;
        size_t n = 0;
        if (with_date) {
            unsigned y = (unsigned)(tm.tm_year + 1900) % 10000;
            put2(o, y / 100);
            put2(o + 2, y % 100);
            o[4] = '-';
            put2(o + 5, (unsigned)tm.tm_mon + 1);
            o[7] = '-';
            put2(o + 8, (unsigned)tm.tm_mday);
            o[10] = ' ';
            n = 11;
        }
        put2(o + n, (unsigned)tm.tm_hour);
        o[n + 2] = ':';
        put2(o + n + 3, (unsigned)tm.tm_min);
        o[n + 5] = ':';
        put2(o + n + 6, (unsigned)tm.tm_sec);
        c->len = (uint8_t)(n + 8);
        c->sec = sec;
        c->valid = 1;
    }
    int rc = trail__put(b, c->text, c->len);
    if (with_date) {
        char f[4] = {'.', (char)('0' + ms / 100), digit_pairs[2 * (ms % 100)], digit_pairs[2 * (ms % 100) + 1]};
        rc |= trail__put(b, f, 4);
    }
    return rc;
}

/* ------------------------------------------------------------ key sets */

/* A prefilter only (exact comparison follows), so O(1): length and three bytes. */
static uint32_t key_hash(const char *str, size_t n) {
    if (!n) return 0x9e3779b1u;
    const unsigned char *s = (const unsigned char *)str;
    return (uint32_t)n * 0x9e3779b1u ^ s[0] * 0x85ebca6bu ^ s[n / 2] * 0xc2b2ae35u ^ s[n - 1] * 0x27d4eb2fu;
}

#define BLOOM_BIT(h) (1ull << ((h) >> 26))

static const char *key_text(const trail__keyset *k, const trail__key *e) {
    return e->p ? e->p : k->names.data + e->off;
}

static int key_taken(const trail__keyset *k, const char *s, size_t n, uint32_t h) {
    if (!(k->bloom & BLOOM_BIT(h))) return 0;
    for (size_t i = 0; i < k->n; i++) {
        const trail__key *e = &k->keys[i];
        if (e->hash == h && e->len == n && memcmp(key_text(k, e), s, n) == 0) return 1;
    }
    return 0;
}

static int key_add(trail__keyset *k, const char *p, size_t off, size_t n, uint32_t h) {
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 32;
        trail__key *v = realloc(k->keys, cap * sizeof *v);
        if (!v) return -ENOMEM;
        k->keys = v;
        k->cap = cap;
    }
    k->keys[k->n++] = (trail__key){.p = p, .off = off, .len = (uint32_t)n, .hash = h};
    k->bloom |= BLOOM_BIT(h);
    return 0;
}

int trail__keyset_init(trail__keyset *k, const char *const *reserved, size_t nreserved) {
    memset(k, 0, sizeof *k);
    for (size_t i = 0; i < nreserved; i++) {
        size_t n = strlen(reserved[i]);
        if (key_add(k, reserved[i], 0, n, key_hash(reserved[i], n))) return -ENOMEM;
    }
    k->nreserved = k->n;
    k->reserved_bloom = k->bloom;
    return 0;
}

void trail__keyset_free(trail__keyset *k) {
    free(k->keys);
    trail_buf_free(&k->names);
    trail_buf_free(&k->esc);
    memset(k, 0, sizeof *k);
}

int trail__keyset_claim(trail__keyset *k, const char *key, size_t len, int stable, const char **out,
                        size_t *outlen) {
    if (!key) key = "", len = 0, stable = 1;
    if (len > UINT32_MAX / 2) len = UINT32_MAX / 2;
    uint32_t h = key_hash(key, len);
    *out = key;
    *outlen = len;
    if (TRAIL_LIKELY(stable && !(k->bloom & BLOOM_BIT(h)) && k->n < k->cap)) { /* the usual case */
        k->keys[k->n++] = (trail__key){.p = key, .off = 0, .len = (uint32_t)len, .hash = h};
        k->bloom |= BLOOM_BIT(h);
        return 0;
    }
    if (!key_taken(k, key, len, h)) {
        *out = key;
        *outlen = len;
        if (stable) return key_add(k, key, 0, len, h);
        /* A scratch key is kept as a copy. */
        size_t off = k->names.len;
        if (trail__put(&k->names, key, len)) return -ENOMEM;
        return key_add(k, NULL, off, len, h);
    }
    /* Renamed: "fields.<key>", then "fields.<key>.N". */
    size_t off = k->names.len;
    int rc = trail__put_lit(&k->names, "fields.");
    rc |= trail__put(&k->names, key, len);
    if (rc) return -ENOMEM;
    size_t base = k->names.len - off;
    for (uint64_t suffix = 2;; suffix++) {
        size_t n = k->names.len - off;
        h = key_hash(k->names.data + off, n);
        if (!key_taken(k, k->names.data + off, n, h)) {
            *out = k->names.data + off; /* valid until the next claim */
            *outlen = n;
            return key_add(k, NULL, off, n, h);
        }
        k->names.len = off + base;
        char tmp[24];
        tmp[0] = '.';
        size_t tn = 1 + trail__fmt_u64(tmp + 1, suffix);
        if (trail__put(&k->names, tmp, tn)) return -ENOMEM;
    }
}

/* ----------------------------------------------------------- resource */

static const char *load_str(const char *const *p) {
    const char *s = __atomic_load_n(p, __ATOMIC_ACQUIRE);
    return s ? s : "";
}

void trail__resource_snapshot(trail_resource *out) {
    const trail_resource *r = trail_resource_get();
    memset(out, 0, sizeof *out);
    out->service = out->version = out->machine_id = out->container_id = "";
    out->region = out->env = out->hostname = "";
    if (!r) return;
    out->service = load_str(&r->service);
    out->version = load_str(&r->version);
    out->machine_id = load_str(&r->machine_id);
    out->container_id = load_str(&r->container_id);
    out->region = load_str(&r->region);
    out->env = load_str(&r->env);
    out->hostname = load_str(&r->hostname);
    out->pid = __atomic_load_n(&r->pid, __ATOMIC_RELAXED);
}

/* -------------------------------------------------------------- levels */

const char *trail__level_upper_get(trail__level_upper *c, int level, size_t *len) {
    const char *name = trail_level_name(level);
    if (level < 0 || level > 255) {
        /* Out of table: names of such levels are "level<N>", already safe. */
        *len = strlen(name);
        return name;
    }
    if (c->src[level] != name) {
        size_t n = strlen(name);
        if (n > sizeof c->text[0]) n = sizeof c->text[0];
        for (size_t i = 0; i < n; i++) {
            char ch = name[i];
            c->text[level][i] = ch >= 'a' && ch <= 'z' ? (char)(ch - 32) : ch;
        }
        c->len[level] = (uint8_t)n;
        c->src[level] = name;
    }
    *len = c->len[level];
    return c->text[level];
}

/* 1 for bytes a JSON key may hold unescaped: 0x20..0x7e except '"' and '\\'. */
#define P16(b) b, b, b, b, b, b, b, b, b, b, b, b, b, b, b, b
static const unsigned char key_plain[256] = {
    P16(0), P16(0), 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, P16(1), P16(1),
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, P16(1), 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
};
#undef P16

int trail__json_put_member(trail_buf *out, trail__keyset *k, const char *key, const trail_field *f, int comma) {
    /* Keys are compared in their escaped form: two different byte strings
     * (say, two invalid sequences) can escape to the same JSON key. Plain
     * keys (nearly all: string literals) are their own escaped form. */
    const char *name;
    size_t name_len;
    if (!key) key = "";
    size_t len = 0;
    while (key_plain[(unsigned char)key[len]]) len++; /* stops at NUL too */
    int rc;
    if (TRAIL_LIKELY(key[len] == 0)) {
        uint32_t h = key_hash(key, len);
        if (TRAIL_LIKELY(!(k->bloom & BLOOM_BIT(h)) && k->n < k->cap && len <= UINT32_MAX / 2)) {
            /* The usual case of trail__keyset_claim, without the call. */
            k->keys[k->n++] = (trail__key){.p = key, .off = 0, .len = (uint32_t)len, .hash = h};
            k->bloom |= BLOOM_BIT(h);
            name = key;
            name_len = len;
            rc = 0;
        } else {
            rc = trail__keyset_claim(k, key, len, 1, &name, &name_len);
        }
    } else {
        len += strlen(key + len);
        k->esc.len = 0;
        rc = trail__json_escape(&k->esc, key, len);
        rc |= trail__keyset_claim(k, k->esc.data, k->esc.len, 0, &name, &name_len);
    }
    if (rc || (out->cap - out->len < name_len + 4 && trail_buf_reserve(out, name_len + 4))) return -ENOMEM;
    char *o = out->data + out->len;
    if (comma) *o++ = ',';
    *o++ = '"';
    memcpy(o, name, name_len);
    o += name_len;
    *o++ = '"';
    *o++ = ':';
    out->len = (size_t)(o - out->data);
    return trail__json_put_value(out, f, NULL);
}
