/* quote_blocks.c — see quote_blocks.h. Each 8-byte half of a block goes
 * through one byte shuffle (pshufb) that inserts a backslash before every
 * quote or backslash: a table of the 256 possible 8-bit masks holds the
 * shuffles. SSSE3 is chosen at run time. */
#include "quote_blocks.h"

#include <pthread.h>
#include <stdint.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include "swar.h"

static _Alignas(16) uint8_t shuffle[256][16]; /* index 8 = a backslash lane */
static uint8_t out_len[256];
static int have_ssse3;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init(void) {
    for (unsigned m = 0; m < 256; m++) {
        unsigned o = 0;
        for (unsigned j = 0; j < 8; j++) {
            if (m >> j & 1) shuffle[m][o++] = 8;
            shuffle[m][o++] = (uint8_t)j;
        }
        out_len[m] = (uint8_t)o;
        for (; o < 16; o++) shuffle[m][o] = 0x80; /* zero */
    }
    have_ssse3 = __builtin_cpu_supports("ssse3");
}

__attribute__((target("ssse3"))) static size_t blocks(const char *s, size_t n, char *o, size_t *used) {
    const __m128i bslash = _mm_set1_epi8('\\');
    char *start = o;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i v = ta_sse_load(s + i);
        if (ta_sse_controls(v) | ta_sse_high(v)) break;
        unsigned m = ta_sse_quotes(v);
        if (!m) {
            _mm_storeu_si128((__m128i *)(void *)o, v);
            o += 16;
            continue;
        }
        __m128i lo = _mm_unpacklo_epi64(v, bslash), hi = _mm_unpackhi_epi64(v, bslash);
        _mm_storeu_si128((__m128i *)(void *)o,
                         _mm_shuffle_epi8(lo, _mm_load_si128((const __m128i *)(const void *)shuffle[m & 255])));
        o += out_len[m & 255];
        _mm_storeu_si128((__m128i *)(void *)o,
                         _mm_shuffle_epi8(hi, _mm_load_si128((const __m128i *)(const void *)shuffle[m >> 8])));
        o += out_len[m >> 8];
    }
    *used = i;
    return (size_t)(o - start);
}

size_t ta_quote_blocks(const char *s, size_t n, char *o, size_t *used) {
    pthread_once(&once, init);
    *used = 0;
    return have_ssse3 ? blocks(s, n, o, used) : 0;
}

#else
size_t ta_quote_blocks(const char *s, size_t n, char *o, size_t *used) {
    (void)s;
    (void)n;
    (void)o;
    *used = 0;
    return 0;
}
#endif
