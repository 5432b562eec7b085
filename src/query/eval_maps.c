/* eval_maps.c — the evaluator's hash maps: label-set keys to indexes, and
 * stream ids to indexes (see eval_impl.h). */
#include <stdlib.h>
#include <string.h>

#include "eval_impl.h"

static uint64_t hash_str(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

/* Returns the slot for key (n bytes); *found says whether it holds it. */
size_t smap_slot(smap *m, const char *key, size_t n, int *found) {
    if ((m->n + 1) * 2 > m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 64;
        char **nk = calloc(nc, sizeof *nk);
        size_t *nv = calloc(nc, sizeof *nv), *nl = calloc(nc, sizeof *nl);
        if (!nk || !nv || !nl) abort();
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->keys[i]) continue;
            size_t j = hash_str(m->keys[i], m->lens[i]) & (nc - 1);
            while (nk[j]) j = (j + 1) & (nc - 1);
            nk[j] = m->keys[i];
            nv[j] = m->vals[i];
            nl[j] = m->lens[i];
        }
        free(m->keys);
        free(m->vals);
        free(m->lens);
        m->keys = nk;
        m->vals = nv;
        m->lens = nl;
        m->cap = nc;
    }
    size_t j = hash_str(key, n) & (m->cap - 1);
    while (m->keys[j]) {
        if (m->lens[j] == n && memcmp(m->keys[j], key, n) == 0) {
            *found = 1;
            return j;
        }
        j = (j + 1) & (m->cap - 1);
    }
    *found = 0;
    return j;
}

/* Index for key, inserting next_index when absent. */
size_t smap_get_or_add(smap *m, const char *key, size_t n, size_t next_index, int *added) {
    int found;
    size_t j = smap_slot(m, key, n, &found);
    *added = !found;
    if (found) return m->vals[j];
    char *k = malloc(n + 1);
    if (!k) abort();
    memcpy(k, key, n);
    k[n] = 0;
    m->keys[j] = k;
    m->vals[j] = next_index;
    m->lens[j] = n;
    m->n++;
    return next_index;
}

void smap_free(smap *m) {
    for (size_t i = 0; i < m->cap; i++) free(m->keys[i]);
    free(m->keys);
    free(m->vals);
    free(m->lens);
    memset(m, 0, sizeof *m);
}


int idcache_get(const idcache *c, uint64_t id, size_t *idx) {
    if (!c->cap) return 0;
    size_t j = (size_t)(id * 0x9E3779B97F4A7C15ull) & (c->cap - 1);
    while (c->ids[j]) {
        if (c->ids[j] == id) { *idx = c->idx[j]; return 1; }
        j = (j + 1) & (c->cap - 1);
    }
    return 0;
}

void idcache_put(idcache *c, uint64_t id, size_t idx) {
    if ((c->n + 1) * 2 > c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 64;
        uint64_t *ni = calloc(nc, sizeof *ni);
        size_t *nx = calloc(nc, sizeof *nx);
        if (!ni || !nx) abort();
        for (size_t i = 0; i < c->cap; i++) {
            if (!c->ids[i]) continue;
            size_t j = (size_t)(c->ids[i] * 0x9E3779B97F4A7C15ull) & (nc - 1);
            while (ni[j]) j = (j + 1) & (nc - 1);
            ni[j] = c->ids[i];
            nx[j] = c->idx[i];
        }
        free(c->ids);
        free(c->idx);
        c->ids = ni;
        c->idx = nx;
        c->cap = nc;
    }
    size_t j = (size_t)(id * 0x9E3779B97F4A7C15ull) & (c->cap - 1);
    while (c->ids[j]) j = (j + 1) & (c->cap - 1);
    c->ids[j] = id;
    c->idx[j] = idx;
    c->n++;
}

void idcache_free(idcache *c) {
    free(c->ids);
    free(c->idx);
    memset(c, 0, sizeof *c);
}

int pipeline_extracts(const tq_log_expr *le) {
    for (size_t i = 0; i < le->nstages; i++)
        if (le->stages[i].kind == TQ_STAGE_JSON || le->stages[i].kind == TQ_STAGE_LOGFMT) return 1;
    return 0;
}
