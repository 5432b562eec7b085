/* json_escape.c — the inside of a JSON string from arbitrary bytes.
 *
 * Output is always valid UTF-8 and valid JSON string content, whatever the
 * input: quotes, backslashes and C0 controls are escaped, U+2028/U+2029 are
 * escaped (JavaScript line terminators), and every maximal invalid UTF-8
 * subpart (Unicode 15, §3.9 "U+FFFD substitution of maximal subparts") becomes
 * one U+FFFD. Overlongs, surrogates (ED A0..BF) and code points above
 * U+10FFFF are invalid.
 *
 * Speed: log text is almost always plain printable ASCII, so the scan looks
 * at 16 bytes at a time (SSE2: each block is stored whole, no memcpy per
 * run) or 8 (SWAR elsewhere); only the rare special byte takes the slow
 * path. */
#include "render.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#if !defined(__SSE2__)
/* Length of the leading run of bytes that need no escaping: 0x20..0x7f except
 * '"' and '\\'. */
static size_t plain_run(const unsigned char *s, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
        /* Classic "has byte less than / equal to" tricks; the lowest flagged
         * byte is exact (borrows only run upwards from flagged bytes). */
        uint64_t ctl = (w - ones * 0x20) & ~w;
        uint64_t q = w ^ (ones * '"'), bs = w ^ (ones * '\\');
        uint64_t zq = (q - ones) & ~q, zb = (bs - ones) & ~bs;
        uint64_t bad = (ctl | zq | zb | w) & high;
        if (bad) return i + (size_t)(__builtin_ctzll(bad) >> 3);
    }
    for (; i < n; i++) {
        unsigned char c = s[i];
        if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
    }
    return i;
}
#endif

/* Length of a valid UTF-8 sequence at s (n >= 1 bytes available, s[0] >=
 * 0x80), or 0 when invalid; *consumed is the maximal invalid subpart's
 * length in that case (always >= 1). */
size_t trail__utf8_seq(const unsigned char *s, size_t n, size_t *consumed) {
    unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
    if (c >= 0xc2 && c <= 0xdf) len = 2;
    else if (c == 0xe0) { len = 3; lo = 0xa0; }
    else if (c == 0xed) { len = 3; hi = 0x9f; } /* no surrogates */
    else if (c >= 0xe1 && c <= 0xef) len = 3;
    else if (c == 0xf0) { len = 4; lo = 0x90; }
    else if (c == 0xf4) { len = 4; hi = 0x8f; } /* <= U+10FFFF */
    else if (c >= 0xf1 && c <= 0xf3) len = 4;
    else { *consumed = 1; return 0; } /* continuation byte, C0/C1 overlong lead, F5..FF */
    size_t i = 1;
    if (i < n && s[i] >= lo && s[i] <= hi) {
        for (i = 2; i < len && i < n && s[i] >= 0x80 && s[i] <= 0xbf; i++) {}
        if (i == len) return len;
    }
    *consumed = i;
    return 0;
}

static const char hexdig[] = "0123456789abcdef";

/* Escapes the special byte(s) at s[*i] (not plain ASCII); returns the new o. */
static char *escape_special(char *o, const unsigned char *s, size_t n, size_t *ip) {
    size_t i = *ip;
    unsigned char c = s[i];
    if (c < 0x80) {
        *o++ = '\\';
        switch (c) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        case '\b': *o++ = 'b'; break;
        case '\f': *o++ = 'f'; break;
        default:
            memcpy(o, "u00", 3);
            o[3] = hexdig[c >> 4];
            o[4] = hexdig[c & 15];
            o += 5;
        }
        *ip = i + 1;
        return o;
    }
    size_t bad;
    size_t len = trail__utf8_seq(s + i, n - i, &bad);
    if (len == 0) {
        memcpy(o, "\xef\xbf\xbd", 3);
        o += 3;
        *ip = i + bad;
    } else if (len == 3 && c == 0xe2 && s[i + 1] == 0x80 && (s[i + 2] == 0xa8 || s[i + 2] == 0xa9)) {
        memcpy(o, s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
        o += 6;
        *ip = i + 3;
    } else {
        memcpy(o, s + i, len);
        o += len;
        *ip = i + len;
    }
    return o;
}

/* Output room needed for n input bytes: 6 per byte (\u00XX) plus 16 bytes
 * of slack for the vector path's whole-block stores. */
#define ESCAPE_ROOM(n) ((n) * 6 + 16)

#if defined(__SSE2__)
static inline unsigned special_mask(__m128i v) {
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20); /* signed compare: < 0x20 or >= 0x80 */
    __m128i bad = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                               _mm_cmpgt_epi8(space, v));
    return (unsigned)_mm_movemask_epi8(bad);
}

/* The last 1..15 bytes of a string as a 16-byte block, zero-filled, without
 * reading past the end (the bytes after a string in a ring may be another
 * thread's record being written) and without a memcpy call: two
 * overlapping 8-, 4- or 1-byte loads. */
static inline __m128i load_tail(const unsigned char *p, size_t avail) {
    uint64_t lo, hi = 0;
    if (avail >= 8) {
        uint64_t b;
        memcpy(&lo, p, 8);
        memcpy(&b, p + avail - 8, 8);
        if (avail > 8) hi = b >> (8 * (16 - avail)); /* bytes 8..avail-1 */
    } else if (avail >= 4) {
        uint32_t a, b;
        memcpy(&a, p, 4);
        memcpy(&b, p + avail - 4, 4);
        lo = (uint64_t)a | (uint64_t)b << (8 * (avail - 4)); /* overlap: equal bytes */
    } else {
        lo = (uint64_t)p[0] | (uint64_t)p[avail / 2] << (8 * (avail / 2)) | (uint64_t)p[avail - 1] << (8 * (avail - 1));
    }
    return _mm_set_epi64x((long long)hi, (long long)lo);
}

/* Each step stores a whole 16-byte block to the output (the slack makes it
 * safe) and advances past its plain prefix, so plain runs cost no memcpy
 * call. The last partial block is assembled by load_tail; bytes past the
 * end are masked off. */
static char *escape_chunk(char *o, const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        size_t avail = n - i;
        __m128i v;
        unsigned mask;
        if (avail >= 16) {
            v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
            mask = special_mask(v);
        } else {
            v = load_tail(s + i, avail);
            mask = special_mask(v) & ((1u << avail) - 1);
            if (!mask) {
                _mm_storeu_si128((__m128i *)(void *)o, v);
                return o + avail;
            }
        }
        _mm_storeu_si128((__m128i *)(void *)o, v);
        if (!mask) {
            o += 16;
            i += 16;
            continue;
        }
        unsigned adv = (unsigned)__builtin_ctz(mask);
        o += adv;
        i += adv;
        o = escape_special(o, s, n, &i);
    }
    return o;
}
#else
static char *escape_chunk(char *o, const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        size_t run = plain_run(s + i, n - i);
        memcpy(o, s + i, run);
        o += run;
        i += run;
        if (i >= n) break;
        o = escape_special(o, s, n, &i);
    }
    return o;
}
#endif

/* Appends the escape of s[0..n), in quotes when quote. */
static int escape_into(trail_buf *b, const unsigned char *s, size_t n, int quote) {
    if (!s) n = 0;
    /* Work in chunks so the worst-case reservation stays small for huge
     * strings. A chunk never ends inside a valid UTF-8 sequence: the cut
     * moves back to a sequence start. */
    enum { CHUNK = 64 * 1024 };
    if (quote) {
        if (b->cap - b->len < 1 && trail_buf_reserve(b, 1)) return -ENOMEM;
        b->data[b->len++] = '"';
    }
    do {
        size_t take = n;
        if (take > CHUNK) {
            take = CHUNK;
            size_t back = 0;
            while (back < 3 && (s[take - back] & 0xc0) == 0x80) back++;
            if (back < 3 || (s[take - back] & 0xc0) != 0x80) take -= back;
        }
        size_t room = ESCAPE_ROOM(take) + 1;
        if (b->cap - b->len < room && trail_buf_reserve(b, room)) return -ENOMEM;
        char *o = take ? escape_chunk(b->data + b->len, s, take) : b->data + b->len;
        b->len = (size_t)(o - b->data);
        s += take;
        n -= take;
    } while (n > 0);
    if (quote) b->data[b->len++] = '"'; /* room kept by the last reservation */
    return 0;
}

int trail__json_escape(trail_buf *b, const char *str, size_t n) {
    return escape_into(b, (const unsigned char *)str, n, 0);
}

int trail__json_escape_quoted(trail_buf *b, const char *str, size_t n) {
    return escape_into(b, (const unsigned char *)str, n, 1);
}
