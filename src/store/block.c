/* block.c — one block: entries sorted by (ts, stream, line), encoded in
 * columns and zstd-compressed, behind a meta header (time range, streams,
 * bloom filter) that lets readers skip it without decompressing.
 * Byte layout: docs/store.md. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>
#if defined(__x86_64__) && defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "store_impl.h"

int st_ent_cmp(const st_ent *a, const st_ent *b) {
    if (a->ts != b->ts) return a->ts < b->ts ? -1 : 1;
    if (a->stream_id != b->stream_id) return a->stream_id < b->stream_id ? -1 : 1;
    size_t n = a->line_len < b->line_len ? a->line_len : b->line_len;
    int c = n ? memcmp(a->line, b->line, n) : 0;
    if (c) return c;
    return a->line_len < b->line_len ? -1 : a->line_len > b->line_len;
}

/* Bit i of a bloom of m bits for key hash h: double hashing, mapped onto
 * [0, m) by a multiply-shift (m need not be a power of two). */
static inline uint32_t bloom_pos(uint64_t h, uint32_t m, uint32_t i) {
    uint64_t x = h + (uint64_t)i * ((h >> 29 | h << 35) | 1);
    return (uint32_t)(((x >> 32) * (uint64_t)m) >> 32);
}

bool st_bloom_has(const st_block *b, int which, uint64_t h) {
    if (!h) h = 1;
    uint32_t m = b->bloom_bits[which];
    const uint8_t *bl = b->bloom[which];
    for (uint32_t i = 0; i < b->bloom_k[which]; i++) {
        uint32_t pos = bloom_pos(h, m, i);
        if (!(bl[pos >> 3] & (1u << (pos & 7)))) return false;
    }
    return true;
}

/* Appends one bloom (u32 bits, u32 k, bits/8 bytes) over the keys (key
 * hashes, or st_key_unmixed values when unmixed). */
static void put_bloom(st_buf *out, const st_keyset *keys, uint32_t bits_per_key, uint32_t k, bool unmixed) {
    uint64_t bits64 = ((uint64_t)keys->n * bits_per_key + 63) / 64 * 64;
    if (bits64 < 512) bits64 = 512;
    if (bits64 > (1u << 30)) bits64 = 1u << 30;
    uint32_t bits = (uint32_t)bits64;
    st_buf_u32(out, bits);
    st_buf_u32(out, k);
    st_buf_reserve(out, bits / 8);
    uint8_t *bloom = out->p + out->len;
    memset(bloom, 0, bits / 8);
    for (uint32_t i = 0; i < keys->cap; i++) {
        if (!keys->v[i]) continue;
        uint64_t h = keys->v[i];
        if (unmixed) {
            h = st_mix64(h);
            if (!h) h = 1; /* as st_keyset_add and st_bloom_has */
        }
        for (uint32_t j = 0; j < k; j++) {
            uint32_t pos = bloom_pos(h, bits, j);
            bloom[pos >> 3] |= (uint8_t)(1u << (pos & 7));
        }
    }
    out->len += bits / 8;
}

static const char kinds[3] = {TRAIL_STORE_KEY_REQUEST_ID, TRAIL_STORE_KEY_USER_ID,
                              TRAIL_STORE_KEY_TRACE_ID};

/* ------------------------------------------------------------ build */

/* Where an id occurs in its line. SSE2: 16 candidate positions at a time
 * whose first and last bytes both match, then a memcmp (memchr on the first
 * byte alone stops at every hex digit of a JSON line's ids and times). */
static const char *find_in_line(const char *h, size_t hn, const char *nd, size_t nn) {
    if (nn == 0 || nn > hn) return NULL;
    size_t last = hn - nn, i = 0;
#if defined(__x86_64__) && defined(__SSE2__)
    const __m128i f = _mm_set1_epi8(nd[0]), l = _mm_set1_epi8(nd[nn - 1]);
    for (; i + 15 <= last; i += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(h + i));
        __m128i z = _mm_loadu_si128((const __m128i *)(const void *)(h + i + nn - 1));
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, f), _mm_cmpeq_epi8(z, l)));
        while (m) {
            size_t at = i + (unsigned)__builtin_ctz(m);
            if (memcmp(h + at, nd, nn) == 0) return h + at;
            m &= m - 1;
        }
    }
#endif
    for (; i <= last; i++)
        if (h[i] == nd[0] && memcmp(h + i, nd, nn) == 0) return h + i;
    return NULL;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Lower bound of id in the sorted ids: branch-free halving (conditional
 * moves), as entries of many streams interleave unpredictably. */
static uint32_t stream_index(const uint64_t *ids, uint32_t n, uint64_t id) {
    if (n == 0) return 0;
    const uint64_t *b = ids;
    uint32_t len = n;
    while (len > 1) {
        uint32_t half = len / 2;
        b = b[half - 1] < id ? b + half : b;
        len -= half;
    }
    return (uint32_t)(b - ids) + (*b < id);
}

void st_builder_free(st_builder *b) {
    ZSTD_freeCCtx(b->zcctx);
    st_keyset_free(&b->keys);
    st_keyset_free(&b->idkeys);
    st_buf_free(&b->a);
    st_buf_free(&b->idb);
    st_buf_free(&b->raw);
    free(b->ids);
    free(b->ents);
    free(b->ents2);
    free(b->skeys);
    memset(b, 0, sizeof *b);
}

void st_block_build(st_buf *out, uint64_t seq, const st_ent *e, size_t n, st_builder *bld, int zlevel) {
    /* distinct streams */
    if (bld->idscap < n || !bld->ids) {
        free(bld->ids);
        bld->idscap = n ? n : 1;
        bld->ids = malloc(bld->idscap * sizeof *bld->ids);
        if (!bld->ids) abort();
    }
    uint64_t *ids = bld->ids;
    uint32_t ns = 0;
    /* a block has few streams: insert each new one in order (binary search);
     * with many, sort them all */
    for (size_t i = 0; i < n && ns <= 64; i++) {
        uint64_t id = e[i].stream_id;
        uint32_t at = stream_index(ids, ns, id);
        if (at < ns && ids[at] == id) continue;
        memmove(ids + at + 1, ids + at, (ns - at) * sizeof *ids);
        ids[at] = id;
        ns++;
    }
    if (ns > 64) {
        for (size_t i = 0; i < n; i++) ids[i] = e[i].stream_id;
        qsort(ids, n, sizeof *ids, cmp_u64);
        ns = 0;
        for (size_t i = 0; i < n; i++)
            if (ns == 0 || ids[ns - 1] != ids[i]) ids[ns++] = ids[i];
    }

    /* raw columns: A (varints), lines, C (ids not found in their line) */
    st_buf *a = &bld->a, *idb = &bld->idb, *raw = &bld->raw;
    a->len = idb->len = raw->len = 0;
    st_keyset *keys = &bld->keys, *idkeys = &bld->idkeys;
    st_keyset_clear(keys);
    st_keyset_clear(idkeys);
    uint64_t line_bytes = 0;
    uint32_t hint[3] = {0, 0, 0};
    int64_t prev = n ? e[0].ts : 0;
    for (size_t i = 0; i < n; i++) {
        st_buf_varint(a, (uint64_t)(e[i].ts - prev));
        prev = e[i].ts;
        st_buf_varint(a, stream_index(ids, ns, e[i].stream_id));
        st_buf_varint(a, e[i].line_len);
        line_bytes += e[i].line_len;
        for (int k = 0; k < 3; k++) {
            if (e[i].id_len[k] == ST_ID_ABSENT) {
                st_buf_varint(a, 0);
                continue;
            }
            st_buf_varint(a, (uint64_t)e[i].id_len[k] + 1);
            /* ids usually appear verbatim in their line: refer to it */
            /* lines of one producer keep their fields in one order: look
             * where the previous entry had this id first (any occurrence
             * will do for the reader) */
            const char *at = NULL;
            if ((size_t)hint[k] + e[i].id_len[k] <= e[i].line_len && e[i].id_len[k] &&
                memcmp(e[i].line + hint[k], e[i].id[k], e[i].id_len[k]) == 0)
                at = e[i].line + hint[k];
            else
                at = find_in_line(e[i].line, e[i].line_len, e[i].id[k], e[i].id_len[k]);
            if (at) hint[k] = (uint32_t)(at - e[i].line);
            if (at) {
                st_buf_varint(a, (uint64_t)(at - e[i].line) + 1);
            } else {
                st_buf_varint(a, 0);
                st_buf_put(idb, e[i].id[k], e[i].id_len[k]);
            }
            st_keyset_add(idkeys, st_key_hash(kinds[k], e[i].id[k], e[i].id_len[k]));
        }
        st_index_line_tokens(keys, e[i].line, e[i].line_len);
    }
    st_buf_reserve(raw, 12 + a->len + line_bytes + idb->len);
    st_buf_u32(raw, (uint32_t)a->len);
    st_buf_u32(raw, (uint32_t)line_bytes);
    st_buf_u32(raw, (uint32_t)idb->len);
    st_buf_put(raw, a->p, a->len);
    for (size_t i = 0; i < n; i++) st_buf_put(raw, e[i].line, e[i].line_len);
    st_buf_put(raw, idb->p, idb->len);

    /* record: prefix, meta, data */
    size_t start = out->len;
    st_buf_reserve(out, ST_BLK_PREFIX);
    out->len += ST_BLK_PREFIX;
    size_t meta_start = out->len;
    st_buf_u64(out, seq);
    st_buf_u64(out, (uint64_t)(n ? e[0].ts : 0));
    st_buf_u64(out, (uint64_t)(n ? e[n - 1].ts : 0));
    st_buf_u32(out, (uint32_t)n);
    st_buf_u32(out, (uint32_t)raw->len);
    st_buf_u64(out, line_bytes);
    st_buf_u32(out, ns);
    st_buf_put(out, ids, ns * sizeof *ids);
    put_bloom(out, idkeys, ST_ID_BITS_PER_KEY, ST_ID_K, false);
    put_bloom(out, keys, ST_TOK_BITS_PER_KEY, ST_TOK_K, true);
    size_t meta_len = out->len - meta_start;

    size_t bound = ZSTD_compressBound(raw->len);
    st_buf_reserve(out, bound);
    size_t z = ZSTD_compressCCtx(bld->zcctx, out->p + out->len, bound, raw->p, raw->len, zlevel);
    if (ZSTD_isError(z)) abort(); /* only on a bad context or bound: a bug */
    uint8_t *data = out->p + out->len;
    out->len += z;

    uint8_t *pre = out->p + start;
    st_put32(pre, ST_BLK_MAGIC);
    st_put32(pre + 4, (uint32_t)meta_len);
    st_put32(pre + 8, (uint32_t)z);
    st_put32(pre + 12, st_crc32c(0, out->p + meta_start, meta_len));
    st_put32(pre + 16, st_crc32c(0, data, z));
    st_put32(pre + 20, st_crc32c(0, pre, 20));
}

/* ------------------------------------------------------------ parse */

bool st_block_prefix(const uint8_t *p, uint32_t *meta_len, uint32_t *data_len) {
    if (st_get32(p) != ST_BLK_MAGIC || st_crc32c(0, p, 20) != st_get32(p + 20)) return false;
    *meta_len = st_get32(p + 4);
    *data_len = st_get32(p + 8);
    return *meta_len >= 48 && *meta_len < (64u << 20) && *data_len < (256u << 20);
}

st_block *st_block_parse(const uint8_t *p, size_t len, uint64_t off) {
    uint32_t ml, dl;
    if (len < ST_BLK_PREFIX || !st_block_prefix(p, &ml, &dl)) return NULL;
    if (len - ST_BLK_PREFIX < ml) return NULL;
    const uint8_t *m = p + ST_BLK_PREFIX, *end = m + ml;
    if (st_crc32c(0, m, ml) != st_get32(p + 12)) return NULL;
    uint32_t ns = st_get32(m + 40);
    if ((uint64_t)ns * 8 > (uint64_t)(end - m - 44)) return NULL;
    const uint8_t *q = m + 44 + (size_t)ns * 8;
    uint32_t bits[2], k[2];
    const uint8_t *bl[2];
    for (int w = 0; w < 2; w++) {
        if (end - q < 8) return NULL;
        bits[w] = st_get32(q);
        k[w] = st_get32(q + 4);
        q += 8;
        if (bits[w] % 64 || bits[w] == 0 || bits[w] > (1u << 30) || k[w] < 1 || k[w] > 32 ||
            (uint64_t)(end - q) < bits[w] / 8)
            return NULL;
        bl[w] = q;
        q += bits[w] / 8;
    }
    if (q != end) return NULL;
    size_t bloom_bytes = bits[0] / 8 + bits[1] / 8;
    st_block *b = malloc(sizeof *b + (size_t)ns * 8 + bloom_bytes);
    if (!b) abort();
    b->seq = st_get64(m);
    b->min_ts = (int64_t)st_get64(m + 8);
    b->max_ts = (int64_t)st_get64(m + 16);
    b->count = st_get32(m + 24);
    b->raw_len = st_get32(m + 28);
    b->line_bytes = st_get64(m + 32);
    b->nstreams = ns;
    b->streams = (uint64_t *)(b + 1);
    memcpy(b->streams, m + 44, (size_t)ns * 8);
    uint8_t *dst = (uint8_t *)(b->streams + ns);
    for (int w = 0; w < 2; w++) {
        b->bloom_bits[w] = bits[w];
        b->bloom_k[w] = k[w];
        b->bloom[w] = dst;
        memcpy(dst, bl[w], bits[w] / 8);
        dst += bits[w] / 8;
    }
    b->off = off;
    b->meta_len = ml;
    b->data_len = dl;
    b->data_crc = st_get32(p + 16);
    if (b->min_ts > b->max_ts || b->raw_len < 12 || b->raw_len > (512u << 20)) {
        free(b);
        return NULL;
    }
    return b;
}

/* ------------------------------------------------------------ decode */

int st_block_decode(const st_block *b, const uint8_t *data, uint8_t **rawp, st_ent **entsp) {
    *rawp = NULL;
    *entsp = NULL;
    if (st_crc32c(0, data, b->data_len) != b->data_crc) return -EIO;
    uint8_t *raw = malloc(b->raw_len);
    if (!raw) return -ENOMEM;
    size_t z = ZSTD_decompress(raw, b->raw_len, data, b->data_len);
    if (ZSTD_isError(z) || z != b->raw_len) {
        free(raw);
        return -EIO;
    }
    uint32_t la = st_get32(raw), lb = st_get32(raw + 4), lc = st_get32(raw + 8);
    if ((uint64_t)la + lb + lc + 12 != b->raw_len || b->count > b->raw_len) {
        free(raw);
        return -EIO;
    }
    st_ent *e = malloc((b->count ? b->count : 1) * sizeof *e);
    if (!e) {
        free(raw);
        return -ENOMEM;
    }
    const uint8_t *a = raw + 12, *aend = a + la;
    const char *lines = (const char *)aend, *lend = lines + lb;
    const char *ids = lend, *iend = ids + lc;
    int64_t ts = b->min_ts;
    for (uint32_t i = 0; i < b->count; i++) {
        uint64_t d, si, ll, il;
        if (!st_varint(&a, aend, &d) || !st_varint(&a, aend, &si) || !st_varint(&a, aend, &ll) ||
            si >= b->nstreams || ll > (uint64_t)(lend - lines))
            goto bad;
        ts += (int64_t)d;
        e[i].ts = ts;
        e[i].stream_id = b->streams[si];
        e[i].line = lines;
        e[i].line_len = (uint32_t)ll;
        lines += ll;
        for (int k = 0; k < 3; k++) {
            uint64_t where;
            if (!st_varint(&a, aend, &il)) goto bad;
            if (il == 0) {
                e[i].id_len[k] = ST_ID_ABSENT;
                e[i].id[k] = NULL;
                continue;
            }
            il--;
            if (il > ST_MAX_ID || !st_varint(&a, aend, &where)) goto bad;
            e[i].id_len[k] = (uint16_t)il;
            if (where) { /* inside the entry's line */
                if (where - 1 > e[i].line_len || il > e[i].line_len - (where - 1)) goto bad;
                e[i].id[k] = e[i].line + (where - 1);
                continue;
            }
            if (il > (uint64_t)(iend - ids)) goto bad;
            e[i].id[k] = ids;
            ids += il;
        }
    }
    *rawp = raw;
    *entsp = e;
    return (int)b->count;
bad:
    free(raw);
    free(e);
    return -EIO;
}
