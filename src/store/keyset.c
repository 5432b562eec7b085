/* keyset.c — the set of distinct bloom keys of a block being built, and the
 * line tokenizer that fills it for the token bloom (the query side's rule,
 * trail_store_filter_tokens in tokens.c, must stay in step with it).
 * Tokenizing is the hottest loop of sealing: the SSE2 scan classifies 64
 * bytes at a time into bitmasks and walks token boundaries with ctz, and
 * each token's key (st_key_unmixed: st_key_hash without its final mix,
 * which put_bloom applies once per distinct key) is computed from 8-byte
 * loads with a CRC32C instruction per word, not a byte loop and a call. */
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

#if defined(__x86_64__) && defined(__SSE2__)
#include <emmintrin.h>
#define HAVE_SCAN 1
#endif

#define MIN_TOKEN 3

void st_keyset_clear(st_keyset *k) {
    if (k->cap > (1u << 17) && k->n < k->cap / 8) { /* one huge block: do not clear its table each time */
        st_keyset_free(k);
        return;
    }
    if (k->v && k->n) memset(k->v, 0, k->cap * sizeof *k->v);
    k->n = 0;
}

void st_keyset_free(st_keyset *k) {
    free(k->v);
    memset(k, 0, sizeof *k);
}

void st_keyset_grow(st_keyset *k) {
    uint32_t cap = k->cap ? k->cap * 2 : 4096;
    uint64_t *v = calloc(cap, sizeof *v);
    if (!v) abort();
    for (uint32_t i = 0; i < k->cap; i++) {
        if (!k->v[i]) continue;
        uint32_t j = (uint32_t)k->v[i] & (cap - 1);
        while (v[j]) j = (j + 1) & (cap - 1);
        v[j] = k->v[i];
    }
    free(k->v);
    k->v = v;
    k->cap = cap;
}

/* ------------------------------------------------------------ reference */

static unsigned char tok_class[256]; /* 0 separator, 1 digit, 2 other token byte */
__attribute__((constructor)) static void tok_class_init(void) {
    for (int c = 0; c < 256; c++)
        tok_class[c] = c >= '0' && c <= '9' ? 1 : (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80 ? 2 : 0;
}

/* A token: a maximal run of [0-9A-Za-z\x80-\xff] of at least 3 bytes with a
 * non-digit, not followed by `":` (a JSON key). */
void st_index_line_tokens_ref(st_keyset *k, const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        while (p < end && !tok_class[*p]) p++;
        const unsigned char *t = p;
        unsigned kind = 0;
        while (p < end && tok_class[*p]) kind |= tok_class[*p++];
        if (p - t >= MIN_TOKEN && (kind & 2) && !(end - p >= 2 && p[0] == '"' && p[1] == ':'))
            st_keyset_add(k, st_key_unmixed(TRAIL_STORE_KEY_TOKEN, t, (size_t)(p - t)));
    }
}

/* ------------------------------------------------------------ SSE2 scan */

#ifdef HAVE_SCAN
/* Token-byte and digit bits of up to 64 bytes at p (bits from n on are 0). */
static inline void classify64(const uint8_t *p, size_t n, uint64_t *tok, uint64_t *dig) {
    uint8_t tail[64];
    if (n < 64) {
        memcpy(tail, p, n);
        memset(tail + n, 0, 64 - n);
        p = tail;
    }
    const __m128i d0 = _mm_set1_epi8('0' - 1), d9 = _mm_set1_epi8('9' + 1);
    const __m128i a0 = _mm_set1_epi8('a' - 1), az = _mm_set1_epi8('z' + 1), lo = _mm_set1_epi8(0x20);
    uint64_t t = 0, d = 0;
    for (int i = 0; i < 4; i++) {
        __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i));
        __m128i isd = _mm_and_si128(_mm_cmpgt_epi8(c, d0), _mm_cmplt_epi8(c, d9));
        __m128i l = _mm_or_si128(c, lo); /* ASCII letters to lower case */
        __m128i isa = _mm_and_si128(_mm_cmpgt_epi8(l, a0), _mm_cmplt_epi8(l, az));
        uint64_t dm = (uint32_t)_mm_movemask_epi8(isd);
        /* bytes >= 0x80 are token bytes: their sign bit */
        uint64_t tm = dm | (uint32_t)_mm_movemask_epi8(_mm_or_si128(isa, c));
        t |= tm << (16 * i);
        d |= dm << (16 * i);
    }
    *tok = t;
    *dig = d;
}

/* The token [t, e) of the line p[0..n) becomes a key, if it qualifies. */
#define EMIT(ADD_HASH)                                                                     \
    do {                                                                                   \
        size_t len_ = e - t;                                                               \
        if (len_ >= MIN_TOKEN && alpha && !(n - e >= 2 && p[e] == '"' && p[e + 1] == ':')) \
            ADD_HASH(k, p, n, t, len_);                                                    \
    } while (0)

/* Token starts and ends of a window come from the token-byte mask and its
 * shift (ends: the first non-token byte after a run); they are walked by
 * clearing the lowest bit, so tokens do not depend on each other and their
 * hashing overlaps. A token running off a window stays open. */
#define SCAN_BODY(ADD_HASH)                                                  \
    size_t t = 0;                                                            \
    bool open = false, alpha = false;                                        \
    for (size_t base = 0; base < n; base += 64) {                            \
        uint64_t tm, dm;                                                     \
        classify64(p + base, n - base, &tm, &dm);                            \
        uint64_t am = tm & ~dm, sh = (tm << 1) | (uint64_t)open;             \
        uint64_t S = tm & ~sh, E = ~tm & sh;                                 \
        if (open) {                                                          \
            if (!E) { /* the whole window continues the token */             \
                alpha |= am != 0;                                            \
                continue;                                                    \
            }                                                                \
            unsigned eb = (unsigned)__builtin_ctzll(E);                      \
            E &= E - 1;                                                      \
            alpha |= (am & ((1ULL << eb) - 1)) != 0;                         \
            size_t e = base + eb;                                            \
            EMIT(ADD_HASH);                                                  \
            open = false;                                                    \
        }                                                                    \
        while (S) {                                                          \
            unsigned sb = (unsigned)__builtin_ctzll(S);                      \
            S &= S - 1;                                                      \
            t = base + sb;                                                   \
            if (!E) { /* runs on into the next window */                     \
                open = true;                                                 \
                alpha = (am >> sb) != 0;                                     \
                break;                                                       \
            }                                                                \
            unsigned eb = (unsigned)__builtin_ctzll(E);                      \
            E &= E - 1;                                                      \
            alpha = ((am & ((1ULL << eb) - 1)) >> sb) != 0;                  \
            size_t e = base + eb;                                            \
            EMIT(ADD_HASH);                                                  \
        }                                                                    \
    }                                                                        \
    if (open) {                                                              \
        size_t e = n;                                                        \
        EMIT(ADD_HASH);                                                      \
    }

/* st_key_hash(TRAIL_STORE_KEY_TOKEN, p + t, len) with the CRC instruction
 * inline: zero-padded 8-byte words, loaded straight from the line while a
 * whole word fits in it. */
#define HW_ADD(k, p, n, t, len)                                                       \
    do {                                                                              \
        uint64_t c_ = ~(uint32_t)(0x7472616cu ^ (uint8_t)TRAIL_STORE_KEY_TOKEN);      \
        c_ &= 0xffffffffu;                                                            \
        for (size_t o_ = 0; o_ < (len); o_ += 8) {                                    \
            uint64_t w_ = 0;                                                          \
            size_t at_ = (t) + o_, r_ = (len) - o_;                                   \
            if (at_ + 8 <= (n)) w_ = st_get64((p) + at_);                             \
            else memcpy(&w_, (p) + at_, r_ < 8 ? r_ : 8);                             \
            if (r_ < 8) w_ &= (1ULL << (8 * r_)) - 1;                                 \
            c_ = __builtin_ia32_crc32di(c_, w_);                                      \
        }                                                                             \
        uint32_t crc_ = ~(uint32_t)c_;                                                \
        st_keyset_add((k), ((uint64_t)(len) << 32 | crc_) ^                           \
                               ((uint64_t)(uint8_t)TRAIL_STORE_KEY_TOKEN << 56));      \
    } while (0)

#define SOFT_ADD(k, p, n, t, len) \
    st_keyset_add((k), st_key_unmixed(TRAIL_STORE_KEY_TOKEN, (p) + (t), (len)))

__attribute__((target("sse4.2"))) static void scan_hw(st_keyset *k, const uint8_t *p, size_t n) {
    SCAN_BODY(HW_ADD)
}

static void scan_soft(st_keyset *k, const uint8_t *p, size_t n) {
    SCAN_BODY(SOFT_ADD)
}
#endif

void st_index_line_tokens(st_keyset *k, const char *s, size_t n) {
#ifdef HAVE_SCAN
    if (st_crc32c_hw()) scan_hw(k, (const uint8_t *)s, n);
    else scan_soft(k, (const uint8_t *)s, n);
#else
    st_index_line_tokens_ref(k, s, n);
#endif
}
