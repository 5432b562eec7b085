/* dedupe.c — remembers fingerprints of the last `window` (to 2 x window)
 * entries of a partition: two open-addressing tables; when the current one
 * holds `window` entries the older one is dropped and they swap. */
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

/* Four independent lanes of st_hash64's round, 32 bytes a step, so their
 * multiplies overlap instead of forming one chain; the rest of the line
 * goes through st_hash64 seeded with the lanes. Fingerprints live only in
 * memory (recomputed from the data when a store opens): free to change. */
static inline uint64_t fp_round(uint64_t h, uint64_t w) {
    const uint64_t k1 = 0x9e3779b97f4a7c15ULL, k2 = 0xc2b2ae3d27d4eb4fULL;
    w *= k2;
    w = (w << 31) | (w >> 33);
    h ^= w * k1;
    return ((h << 27) | (h >> 37)) * 5 + 0x52dce729;
}

uint64_t st_fingerprint(uint64_t stream_id, int64_t ts, const char *line, size_t n) {
    const uint8_t *p = (const uint8_t *)line;
    uint64_t seed = stream_id ^ st_mix64((uint64_t)ts ^ n);
    uint64_t h0 = seed, h1 = seed ^ 0x165667b19e3779f9ULL, h2 = seed + 0x27d4eb2f165667c5ULL,
             h3 = seed - 0x9e3779b97f4a7c15ULL;
    for (; n >= 32; p += 32, n -= 32) {
        h0 = fp_round(h0, st_get64(p));
        h1 = fp_round(h1, st_get64(p + 8));
        h2 = fp_round(h2, st_get64(p + 16));
        h3 = fp_round(h3, st_get64(p + 24));
    }
    uint64_t lanes = h0;
    lanes = (lanes ^ st_mix64(h1)) * 0x9e3779b97f4a7c15ULL;
    lanes = (lanes ^ st_mix64(h2)) * 0x9e3779b97f4a7c15ULL;
    lanes ^= st_mix64(h3);
    uint64_t h = st_hash64(p, n, lanes);
    return h ? h : 1; /* 0 marks an empty slot */
}

void st_dedupe_init(st_dedupe *d, uint32_t window) {
    memset(d, 0, sizeof *d);
    d->window = window ? window : 1;
    uint32_t cap = 16;
    while (cap < d->window * 2u) cap *= 2;
    d->cap = cap;
    for (int g = 0; g < 2; g++) {
        d->gen[g] = calloc(cap, sizeof(uint64_t));
        if (!d->gen[g]) abort();
    }
}

void st_dedupe_free(st_dedupe *d) {
    free(d->gen[0]);
    free(d->gen[1]);
    memset(d, 0, sizeof *d);
}

static bool tab_has(const uint64_t *t, uint32_t cap, uint64_t fp) {
    for (uint32_t i = (uint32_t)fp & (cap - 1);; i = (i + 1) & (cap - 1)) {
        if (t[i] == fp) return true;
        if (!t[i]) return false;
    }
}

bool st_dedupe_has(const st_dedupe *d, uint64_t fp) {
    return tab_has(d->gen[0], d->cap, fp) || tab_has(d->gen[1], d->cap, fp);
}

bool st_dedupe_check_add(st_dedupe *d, uint64_t fp) {
    if (d->n[0] < d->window && !tab_has(d->gen[1], d->cap, fp)) {
        /* one probe of the current table both checks and inserts */
        uint64_t *t = d->gen[0];
        uint32_t i = (uint32_t)fp & (d->cap - 1);
        while (t[i]) {
            if (t[i] == fp) return true;
            i = (i + 1) & (d->cap - 1);
        }
        t[i] = fp;
        d->n[0]++;
        return false;
    }
    if (st_dedupe_has(d, fp)) return true;
    st_dedupe_add(d, fp);
    return false;
}

void st_dedupe_add(st_dedupe *d, uint64_t fp) {
    if (d->n[0] >= d->window) {
        uint64_t *old = d->gen[1];
        memset(old, 0, d->cap * sizeof *old);
        d->gen[1] = d->gen[0];
        d->n[1] = d->n[0];
        d->gen[0] = old;
        d->n[0] = 0;
    }
    uint64_t *t = d->gen[0];
    uint32_t i = (uint32_t)fp & (d->cap - 1);
    while (t[i]) {
        if (t[i] == fp) return;
        i = (i + 1) & (d->cap - 1);
    }
    t[i] = fp;
    d->n[0]++;
}

/* Linear-probing delete with backward shift (no tombstones). */
static bool tab_del(uint64_t *t, uint32_t cap, uint64_t fp) {
    uint32_t mask = cap - 1, i = (uint32_t)fp & mask;
    while (t[i] != fp) {
        if (!t[i]) return false;
        i = (i + 1) & mask;
    }
    for (uint32_t j = (i + 1) & mask; t[j]; j = (j + 1) & mask) {
        uint32_t home = (uint32_t)t[j] & mask;
        /* move t[j] into the hole at i if its home is not in (i, j] */
        bool between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!between) {
            t[i] = t[j];
            i = j;
        }
    }
    t[i] = 0;
    return true;
}

void st_dedupe_del(st_dedupe *d, uint64_t fp) {
    if (tab_del(d->gen[0], d->cap, fp)) d->n[0]--;
    else if (tab_del(d->gen[1], d->cap, fp)) d->n[1]--;
}
