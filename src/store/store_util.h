/* store_util.h — small helpers shared by the store's files: little-endian
 * loads/stores, varints, a growable byte buffer, CRC32C, a 64-bit hash and
 * file helpers that retry on EINTR. */
#ifndef TRAIL_STORE_UTIL_H
#define TRAIL_STORE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline void st_put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void st_put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static inline uint32_t st_get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t st_get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline uint16_t st_get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

/* Growable buffer; aborts on out-of-memory (the store cannot continue
 * meaningfully without memory, and every caller would do the same). */
typedef struct st_buf {
    uint8_t *p;
    size_t len, cap;
} st_buf;
void st_buf_reserve(st_buf *b, size_t extra);
static inline void st_buf_put(st_buf *b, const void *s, size_t n) {
    if (b->cap - b->len < n) st_buf_reserve(b, n);
    if (n) memcpy(b->p + b->len, s, n);
    b->len += n;
}
static inline void st_buf_u8(st_buf *b, uint8_t v) { st_buf_put(b, &v, 1); }
static inline void st_buf_u16(st_buf *b, uint16_t v) { st_buf_put(b, &v, 2); }
static inline void st_buf_u32(st_buf *b, uint32_t v) { st_buf_put(b, &v, 4); }
static inline void st_buf_u64(st_buf *b, uint64_t v) { st_buf_put(b, &v, 8); }
static inline void st_buf_varint(st_buf *b, uint64_t v) {
    if (b->cap - b->len < 10) st_buf_reserve(b, 10);
    uint8_t *p = b->p + b->len;
    while (v >= 0x80) { *p++ = (uint8_t)(v | 0x80); v >>= 7; }
    *p++ = (uint8_t)v;
    b->len = (size_t)(p - b->p);
}
void st_buf_free(st_buf *b);

/* Reads a varint from [*p, end); false when truncated or over-long. */
static inline bool st_varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
    uint64_t r = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t c = *(*p)++;
        r |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) { *v = r; return true; }
    }
    return false;
}

uint32_t st_crc32c(uint32_t crc, const void *p, size_t n);
bool st_crc32c_hw(void); /* the CPU has the CRC32C instruction (SSE4.2) */

/* A fast 64-bit hash (not cryptographic) for stream ids, dedupe
 * fingerprints and bloom keys. Stable across versions: it is on disk. */
uint64_t st_hash64(const void *p, size_t n, uint64_t seed);
static inline uint64_t st_mix64(uint64_t x) {
    x ^= x >> 33; x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/* CRC32C of the bytes zero-padded to a multiple of 8 (one instruction per
 * 8 bytes, no byte-wise tail): the base of the bloom key hash. */
uint32_t st_crc32c_words(uint32_t crc, const void *p, size_t n);

/* The bloom key of a (kind, value): kind is a trail_store_key_kind char.
 * 32 bits of CRC plus the length, widened by a bijective mix: bloom keys are
 * short and many, and that tells the few thousand keys of one block apart.
 * On disk (docs/store.md): do not change. */
static inline uint64_t st_key_hash(char kind, const void *v, size_t n) {
    uint32_t c = st_crc32c_words(0x7472616cu ^ (uint8_t)kind, v, n);
    return st_mix64(((uint64_t)n << 32 | c) ^ ((uint64_t)(uint8_t)kind << 56));
}
/* st_key_hash before its final mix (a bijection): the token keyset of a
 * block holds these (never 0: tokens are >= 3 bytes), and only the distinct
 * ones are mixed, when the bloom is written. */
static inline uint64_t st_key_unmixed(char kind, const void *v, size_t n) {
    uint32_t c = st_crc32c_words(0x7472616cu ^ (uint8_t)kind, v, n);
    return ((uint64_t)n << 32 | c) ^ ((uint64_t)(uint8_t)kind << 56);
}

/* File helpers: 0 or -errno. */
int st_write_all(int fd, const void *p, size_t n);
int st_pwrite_all(int fd, const void *p, size_t n, uint64_t off);
int st_pread_all(int fd, void *p, size_t n, uint64_t off); /* -EIO on short read */
int st_fsync_dir(const char *dir);
int st_mkdirs(const char *dir);
int64_t st_now_ns(void);   /* CLOCK_REALTIME */
int64_t st_mono_ns(void);  /* CLOCK_MONOTONIC */

#endif
