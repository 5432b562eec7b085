/* swar.h — "SIMD within a register": how many leading bytes need no JSON
 * attention, 8 at a time. Used by the JSON scanner and the renderer, which
 * spend most of their time walking plain text. */
#ifndef TRAILD_SWAR_H
#define TRAILD_SWAR_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define TA_ONES 0x0101010101010101ull
#define TA_HIGHS 0x8080808080808080ull

/* Nonzero high bit in each byte of x that is zero (exact for our use: we
 * only test whether any byte matched). */
static inline uint64_t ta_swar_zero(uint64_t x) { return (x - TA_ONES) & ~x & TA_HIGHS; }

#ifdef __SSE2__
/* The 16 bytes at p and, per byte, one bit: '"' or '\\' (ta_sse_quotes), a
 * control byte < 0x20 (ta_sse_controls), a byte >= 0x80 (ta_sse_high). The
 * JSON scanner, the renderers and the Loki escaper all look for these. */
static inline __m128i ta_sse_load(const char *p) { return _mm_loadu_si128((const __m128i *)(const void *)p); }
static inline unsigned ta_sse_quotes(__m128i v) {
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                                    _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
}
static inline unsigned ta_sse_controls(__m128i v) { /* unsigned byte < 0x20, by flipping the sign bit */
    return (unsigned)_mm_movemask_epi8(
        _mm_cmplt_epi8(_mm_xor_si128(v, _mm_set1_epi8((char)0x80)), _mm_set1_epi8((char)(0x20 ^ 0x80))));
}
static inline unsigned ta_sse_high(__m128i v) { return (unsigned)_mm_movemask_epi8(v); }
#endif

/* Leading bytes of p[0..n) that are not '"', '\\', a control byte (< 0x20)
 * and, unless high_ok, not >= 0x80. */
static inline size_t ta_plain_run(const char *p, size_t n, int high_ok) {
    size_t i = 0;
#ifdef __SSE2__
    /* 16 bytes at a time where SSE2 exists (every x86-64): most strings in a
     * log line are shorter than that, so this is usually one step. */
    for (; i + 16 <= n; i += 16) {
        __m128i v = ta_sse_load(p + i);
        unsigned mask = ta_sse_quotes(v) | ta_sse_controls(v);
        if (!high_ok) mask |= ta_sse_high(v);
        if (mask) return i + (size_t)__builtin_ctz(mask);
    }
#endif
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        uint64_t hit = ta_swar_zero(w ^ (TA_ONES * '"')) | ta_swar_zero(w ^ (TA_ONES * '\\')) |
                       ((w - TA_ONES * 0x20) & ~w & TA_HIGHS); /* bytes < 0x20 */
        if (!high_ok) hit |= w & TA_HIGHS;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        /* The lowest flagged byte is always a real match (the tricks above only
         * err upwards, past a real match), so it is the first special byte. */
        if (hit) return i + ((size_t)__builtin_ctzll(hit) >> 3);
#else
        if (hit) break;
#endif
    }
    for (; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '"' || c == '\\' || c < 0x20 || (!high_ok && c >= 0x80)) break;
    }
    return i;
}

#endif
