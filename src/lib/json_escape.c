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
 * at 16 bytes at a time (SSE2) or 8 (SWAR) and copies whole runs with
 * memcpy; only the rare special byte takes the slow path. */
#include "render.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Length of the leading run of bytes that need no escaping: 0x20..0x7f except
 * '"' and '\\'. */
static size_t plain_run(const unsigned char *s, size_t n) {
    size_t i = 0;
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20); /* signed compare: < 0x20 or >= 0x80 */
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i bad = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                                   _mm_cmpgt_epi8(space, v));
        int mask = _mm_movemask_epi8(bad);
        if (mask) return i + (size_t)__builtin_ctz((unsigned)mask);
    }
#endif
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

/* Appends the escaped form of one chunk; b has room for 6 bytes per input byte. */
static char *escape_chunk(char *o, const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        size_t run = plain_run(s + i, n - i);
        memcpy(o, s + i, run);
        o += run;
        i += run;
        if (i >= n) break;
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
            i++;
            continue;
        }
        size_t bad;
        size_t len = trail__utf8_seq(s + i, n - i, &bad);
        if (len == 0) {
            memcpy(o, "\xef\xbf\xbd", 3);
            o += 3;
            i += bad;
        } else if (len == 3 && c == 0xe2 && s[i + 1] == 0x80 && (s[i + 2] == 0xa8 || s[i + 2] == 0xa9)) {
            memcpy(o, s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
            o += 6;
            i += 3;
        } else {
            memcpy(o, s + i, len);
            o += len;
            i += len;
        }
    }
    return o;
}

int trail__json_escape(trail_buf *b, const char *str, size_t n) {
    const unsigned char *s = (const unsigned char *)str;
    if (!s) n = 0;
    /* Work in chunks so the worst-case reservation (6 bytes per input byte)
     * stays small for huge strings. A chunk never ends inside a valid UTF-8
     * sequence: the cut moves back to a sequence start. */
    enum { CHUNK = 64 * 1024 };
    while (n > 0) {
        size_t take = n;
        if (take > CHUNK) {
            take = CHUNK;
            size_t back = 0;
            while (back < 3 && (s[take - back] & 0xc0) == 0x80) back++;
            if (back < 3 || (s[take - back] & 0xc0) != 0x80) take -= back;
        }
        if (trail_buf_reserve(b, take * 6)) return -ENOMEM;
        char *o = escape_chunk(b->data + b->len, s, take);
        b->len = (size_t)(o - b->data);
        s += take;
        n -= take;
    }
    return 0;
}
