/* seal_sort.c — sorts a head's entries into block order (st_ent_cmp: ts,
 * stream, line) for sealing: an LSD radix sort of the timestamps (11 bits a
 * pass, as many passes as the head's time span needs), stable, then equal
 * timestamps (rare) put in order by the full comparison. It replaced qsort
 * with a comparison callback, a tenth of sealing's time. */
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

#define RADIX_BITS 11
#define RADIX (1u << RADIX_BITS)

typedef struct skey {
    uint64_t k;   /* ts - min ts */
    size_t idx;
} skey;

static int cmp_ent(const void *a, const void *b) { return st_ent_cmp(a, b); }

static bool grow(void **p, size_t *cap, size_t n, size_t size) {
    if (*cap >= n && *p) return true;
    free(*p);
    *cap = n + n / 4;
    *p = malloc(*cap * size);
    if (!*p) *cap = 0;
    return *p != NULL;
}

st_ent *st_sort_entries(st_builder *b, st_ent *e, size_t n) {
    if (n < 256) {
        qsort(e, n, sizeof *e, cmp_ent);
        return e;
    }
    if (!grow((void **)&b->skeys, &b->skeycap, 2 * n, sizeof(skey)) ||
        !grow((void **)&b->ents2, &b->ents2cap, n, sizeof *e)) {
        qsort(e, n, sizeof *e, cmp_ent);
        return e;
    }
    skey *k = b->skeys, *k2 = k + n;
    int64_t mn = e[0].ts, mx = e[0].ts;
    for (size_t i = 1; i < n; i++) {
        if (e[i].ts < mn) mn = e[i].ts;
        if (e[i].ts > mx) mx = e[i].ts;
    }
    uint64_t span = (uint64_t)mx - (uint64_t)mn;
    for (size_t i = 0; i < n; i++) k[i] = (skey){(uint64_t)e[i].ts - (uint64_t)mn, i};
    _Static_assert(RADIX_BITS * 6 >= 64, "six passes cover 64 bits");
    for (unsigned shift = 0; shift < 64 && (shift == 0 || span >> shift); shift += RADIX_BITS) {
        size_t count[RADIX] = {0};
        for (size_t i = 0; i < n; i++) count[(k[i].k >> shift) & (RADIX - 1)]++;
        size_t sum = 0;
        for (unsigned d = 0; d < RADIX; d++) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) k2[count[(k[i].k >> shift) & (RADIX - 1)]++] = k[i];
        skey *t = k;
        k = k2;
        k2 = t;
    }
    st_ent *out = b->ents2;
    for (size_t i = 0; i < n; i++) out[i] = e[k[i].idx];
    /* equal timestamps: by stream, then line */
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && out[j].ts == out[i].ts) j++;
        if (j - i > 1) qsort(out + i, j - i, sizeof *out, cmp_ent);
        i = j;
    }
    /* the sorted array becomes the builder's entries; the old one its spare */
    b->ents2 = b->ents;
    size_t c = b->ents2cap;
    b->ents2cap = b->entcap;
    b->ents = out;
    b->entcap = c;
    return out;
}
