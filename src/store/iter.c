/* iter.c — queries: choose blocks by time range, stream and bloom keys
 * under the partitions' read locks, snapshot matching head entries, then
 * k-way merge the candidates in (ts, stream, line) order, decompressing a
 * block only when the merge reaches its time range. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

typedef struct cand {
    st_partition *p;
    st_segment *seg;          /* referenced until opened or the iterator closes */
    st_block *b;
} cand;

typedef struct cursor {
    st_partition *p;
    st_ent *e;                /* matching entries, ascending */
    uint32_t n, i;            /* next index (from the end when backward) */
    uint8_t *raw;             /* owned data the entries point into */
    st_ent *all;
} cursor;

typedef struct idset {
    uint64_t *v;
    uint32_t cap, n;
} idset;

typedef struct part_sel {
    st_partition *p;
    bool all;                 /* every stream matches */
    idset ids;
} part_sel;

struct trail_store_iter {
    trail_store *s;
    int64_t from, to;
    bool backward;
    uint32_t nkeys;
    uint64_t *key_hash;
    char *key_kind;
    char **key_val;
    size_t *key_len;
    part_sel *sel;
    uint32_t nsel;
    cand *c;
    size_t nc, next;
    cursor **heap;
    size_t nheap;
    uint8_t *head_data;       /* head snapshots */
    uint64_t skipped, read;
    trail_store_entry out;
    char idbuf[3][ST_MAX_ID + 1];
    st_partition *last_p;
    st_stream *last_s;
};

/* ------------------------------------------------------------ id sets */

static void idset_add(idset *s, uint64_t id) {
    if ((s->n + 1) * 2 > s->cap) {
        uint32_t cap = s->cap ? s->cap * 2 : 64;
        uint64_t *v = calloc(cap, sizeof *v);
        if (!v) abort();
        for (uint32_t i = 0; i < s->cap; i++) {
            if (!s->v[i]) continue;
            uint32_t j = (uint32_t)st_mix64(s->v[i]) & (cap - 1);
            while (v[j]) j = (j + 1) & (cap - 1);
            v[j] = s->v[i];
        }
        free(s->v);
        s->v = v;
        s->cap = cap;
    }
    if (!id) id = 1; /* 0 marks empty; a stream id of 0 shares 1's slot (harmless: a superset) */
    uint32_t j = (uint32_t)st_mix64(id) & (s->cap - 1);
    while (s->v[j]) {
        if (s->v[j] == id) return;
        j = (j + 1) & (s->cap - 1);
    }
    s->v[j] = id;
    s->n++;
}

static bool idset_has(const idset *s, uint64_t id) {
    if (!s->cap) return false;
    if (!id) id = 1;
    for (uint32_t j = (uint32_t)st_mix64(id) & (s->cap - 1);; j = (j + 1) & (s->cap - 1)) {
        if (s->v[j] == id) return true;
        if (!s->v[j]) return false;
    }
}

static bool sel_has(const part_sel *ps, uint64_t id) { return ps->all || idset_has(&ps->ids, id); }

/* ------------------------------------------------------------ filters */

static bool in_range(const trail_store_iter *it, int64_t ts) {
    return ts >= it->from && (it->to == 0 || ts < it->to);
}

static int kind_index(char k) {
    return k == TRAIL_STORE_KEY_REQUEST_ID ? 0 : k == TRAIL_STORE_KEY_USER_ID ? 1 : k == TRAIL_STORE_KEY_TRACE_ID ? 2 : -1;
}

static bool ids_match(const trail_store_iter *it, const st_ent *e) {
    for (uint32_t k = 0; k < it->nkeys; k++) {
        int x = kind_index(it->key_kind[k]);
        if (x < 0) continue;
        if (e->id_len[x] == ST_ID_ABSENT) return false;
        size_t want = it->key_len[k] > ST_MAX_ID ? ST_MAX_ID : it->key_len[k];
        if (e->id_len[x] != want || memcmp(e->id[x], it->key_val[k], want) != 0) return false;
    }
    return true;
}

static bool block_may_match(const trail_store_iter *it, const part_sel *ps, const st_block *b) {
    if (b->max_ts < it->from || (it->to && b->min_ts >= it->to)) return false;
    if (!ps->all) {
        bool any = false;
        for (uint32_t i = 0; i < b->nstreams && !any; i++) any = idset_has(&ps->ids, b->streams[i]);
        if (!any) return false;
    }
    for (uint32_t k = 0; k < it->nkeys; k++)
        if (!st_bloom_has(b, kind_index(it->key_kind[k]) >= 0 ? ST_BLOOM_IDS : ST_BLOOM_TOKENS, it->key_hash[k]))
            return false;
    return true;
}

/* ------------------------------------------------------------ heap */

static int cur_cmp(const trail_store_iter *it, const cursor *a, const cursor *b) {
    int c = st_ent_cmp(&a->e[a->i], &b->e[b->i]);
    return it->backward ? -c : c;
}

static void heap_down(trail_store_iter *it, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < it->nheap && cur_cmp(it, it->heap[l], it->heap[m]) < 0) m = l;
        if (r < it->nheap && cur_cmp(it, it->heap[r], it->heap[m]) < 0) m = r;
        if (m == i) return;
        cursor *t = it->heap[i];
        it->heap[i] = it->heap[m];
        it->heap[m] = t;
        i = m;
    }
}

static void heap_push(trail_store_iter *it, cursor *c) {
    size_t i = it->nheap++;
    it->heap[i] = c;
    while (i && cur_cmp(it, it->heap[i], it->heap[(i - 1) / 2]) < 0) {
        cursor *t = it->heap[i];
        it->heap[i] = it->heap[(i - 1) / 2];
        it->heap[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static void cursor_free(cursor *c) {
    if (!c) return;
    free(c->raw);
    free(c->all);
    if (c->e != c->all) free(c->e);
    free(c);
}

/* Turns a cursor's index into its direction: i counts from the start when
 * forward; when backward e is reversed once so i still counts up. */
static cursor *cursor_ready(trail_store_iter *it, cursor *c) {
    if (!c->n) {
        cursor_free(c);
        return NULL;
    }
    if (it->backward)
        for (uint32_t a = 0, b = c->n - 1; a < b; a++, b--) {
            st_ent t = c->e[a];
            c->e[a] = c->e[b];
            c->e[b] = t;
        }
    c->i = 0;
    return c;
}

/* ------------------------------------------------------------ open */

static int cmp_cand_fwd(const void *a, const void *b) {
    const st_block *x = ((const cand *)a)->b, *y = ((const cand *)b)->b;
    return x->min_ts < y->min_ts ? -1 : x->min_ts > y->min_ts;
}
static int cmp_cand_bwd(const void *a, const void *b) {
    const st_block *x = ((const cand *)a)->b, *y = ((const cand *)b)->b;
    return x->max_ts > y->max_ts ? -1 : x->max_ts < y->max_ts;
}
static int cmp_ent(const void *a, const void *b) { return st_ent_cmp(a, b); }

static bool wanted_category(const trail_store_query *q, const char *name) {
    if (!q->categories) return true;
    for (uint32_t i = 0; i < q->ncategories; i++)
        if (q->categories[i] && strcmp(q->categories[i], name) == 0) return true;
    return false;
}

/* Under p->rw (read): stream selection, candidate blocks, head snapshot. */
static void select_part(trail_store_iter *it, const trail_store_query *q, part_sel *ps, st_buf *hd,
                        st_ent **hent, size_t *nhent, size_t *hcap) {
    st_partition *p = ps->p;
    ps->all = !q->match;
    if (q->match)
        for (uint32_t i = 0; i < p->streams.n; i++)
            if (q->match(q->match_ctx, &p->streams.v[i]->pub)) idset_add(&ps->ids, p->streams.v[i]->pub.id);
    if (!ps->all && ps->ids.n == 0) return;
    for (uint32_t g = 0; g < p->nsegs; g++) {
        st_segment *seg = p->segs[g];
        for (uint32_t b = 0; b < seg->nblocks; b++) {
            st_block *blk = seg->blocks[b];
            if (blk->seq >= p->view_cutoff) continue; /* shown from the WAL (read-only handles) */
            if (!block_may_match(it, ps, blk)) {
                it->skipped++;
                continue;
            }
            if (it->nc % 256 == 0) {
                it->c = realloc(it->c, (it->nc + 256) * sizeof *it->c);
                if (!it->c) abort();
            }
            st_segment_ref(seg);
            it->c[it->nc++] = (cand){p, seg, blk};
        }
    }
    for (size_t h = 0; h < p->nhead; h++) {
        const st_hent *x = &p->head[h];
        if (!in_range(it, x->ts) || !sel_has(ps, x->stream_id)) continue;
        const char *d = (const char *)p->hdata.p + x->off;
        st_ent e = {x->stream_id, x->ts, d, x->line_len, {0}, {0}};
        d += x->line_len;
        for (int k = 0; k < 3; k++) {
            e.id_len[k] = x->id_len[k];
            e.id[k] = x->id_len[k] == ST_ID_ABSENT ? NULL : d;
            if (x->id_len[k] != ST_ID_ABSENT) d += x->id_len[k];
        }
        if (!ids_match(it, &e)) continue;
        /* copy: pointers become offsets into hd, fixed up after */
        if (*nhent == *hcap) {
            *hcap = *hcap ? *hcap * 2 : 256;
            *hent = realloc(*hent, *hcap * sizeof **hent);
            if (!*hent) abort();
        }
        st_ent *c = &(*hent)[(*nhent)++];
        *c = e;
        c->line = (const char *)(uintptr_t)hd->len;
        st_buf_put(hd, e.line, e.line_len);
        for (int k = 0; k < 3; k++)
            if (e.id[k]) {
                c->id[k] = (const char *)(uintptr_t)hd->len;
                st_buf_put(hd, e.id[k], e.id_len[k]);
            }
        /* remember the partition of each head entry through a parallel pass below */
    }
}

int trail_store_iter_open(trail_store *s, const trail_store_query *q, trail_store_iter **out) {
    *out = NULL;
    if (!s || !q) return -EINVAL;
    trail_store_iter *it = calloc(1, sizeof *it);
    if (!it) return -ENOMEM;
    it->s = s;
    it->from = q->from_ns ? q->from_ns : INT64_MIN;
    it->to = q->to_ns;
    it->backward = q->backward;
    it->nkeys = q->nkeys;
    if (q->nkeys) {
        it->key_hash = calloc(q->nkeys, sizeof *it->key_hash);
        it->key_kind = calloc(q->nkeys, 1);
        it->key_val = calloc(q->nkeys, sizeof *it->key_val);
        it->key_len = calloc(q->nkeys, sizeof *it->key_len);
        if (!it->key_hash || !it->key_kind || !it->key_val || !it->key_len) abort();
        for (uint32_t k = 0; k < q->nkeys; k++) {
            const trail_store_key *key = &q->keys[k];
            size_t n = key->len;
            if (kind_index((char)key->kind) >= 0 && n > ST_MAX_ID) n = ST_MAX_ID;
            it->key_kind[k] = (char)key->kind;
            it->key_val[k] = malloc(n + 1);
            if (!it->key_val[k]) abort();
            if (n) memcpy(it->key_val[k], key->value, n);
            it->key_val[k][n] = 0;
            it->key_len[k] = n;
            it->key_hash[k] = st_key_hash((char)key->kind, key->value, n);
        }
    }
    pthread_rwlock_rdlock(&s->rw);
    it->sel = calloc(s->nparts + 1, sizeof *it->sel);
    if (!it->sel) abort();
    st_buf hd = {0};
    st_ent *hent = NULL;
    size_t nhent = 0, hcap = 0;
    size_t *hstart = calloc(s->nparts + 1, sizeof *hstart);
    for (uint32_t i = 0; i < s->nparts; i++) {
        st_partition *p = s->parts[i];
        if (!wanted_category(q, p->name)) continue;
        part_sel *ps = &it->sel[it->nsel++];
        ps->p = p;
        hstart[it->nsel - 1] = nhent;
        pthread_rwlock_rdlock(&p->rw);
        select_part(it, q, ps, &hd, &hent, &nhent, &hcap);
        pthread_rwlock_unlock(&p->rw);
    }
    pthread_rwlock_unlock(&s->rw);
    hstart[it->nsel] = nhent;
    it->head_data = hd.p;
    /* one cursor per partition for its head snapshot */
    it->heap = calloc(it->nc + it->nsel + 1, sizeof *it->heap);
    if (!it->heap) abort();
    for (uint32_t i = 0; i < it->nsel; i++) {
        size_t a = hstart[i], b = hstart[i + 1];
        if (a == b) continue;
        cursor *c = calloc(1, sizeof *c);
        c->p = it->sel[i].p;
        c->n = (uint32_t)(b - a);
        c->e = malloc(c->n * sizeof *c->e);
        if (!c || !c->e) abort();
        for (size_t j = a; j < b; j++) {
            st_ent e = hent[j];
            e.line = (const char *)hd.p + (uintptr_t)e.line;
            for (int k = 0; k < 3; k++)
                if (e.id[k]) e.id[k] = (const char *)hd.p + (uintptr_t)e.id[k];
            c->e[j - a] = e;
        }
        qsort(c->e, c->n, sizeof *c->e, cmp_ent);
        c->all = c->e;
        c = cursor_ready(it, c);
        if (c) heap_push(it, c);
    }
    free(hstart);
    free(hent);
    if (it->nc) qsort(it->c, it->nc, sizeof *it->c, it->backward ? cmp_cand_bwd : cmp_cand_fwd);
    *out = it;
    return 0;
}

/* ------------------------------------------------------------ next */

static const part_sel *sel_of(const trail_store_iter *it, const st_partition *p) {
    for (uint32_t i = 0; i < it->nsel; i++)
        if (it->sel[i].p == p) return &it->sel[i];
    return NULL;
}

static void open_cand(trail_store_iter *it, cand *c) {
    st_block *b = c->b;
    uint8_t *data = malloc(b->data_len ? b->data_len : 1);
    cursor *cur = calloc(1, sizeof *cur);
    if (!data || !cur) abort();
    cur->p = c->p;
    it->read++;
    int n = -EIO;
    if (st_pread_all(c->seg->fd, data, b->data_len, b->off + ST_BLK_PREFIX + b->meta_len) == 0)
        n = st_block_decode(b, data, &cur->raw, &cur->all);
    free(data);
    st_segment_unref(c->seg);
    c->seg = NULL;
    if (n < 0) {
        atomic_fetch_add(&it->s->corrupt_blocks, 1);
        cursor_free(cur);
        return;
    }
    const part_sel *ps = sel_of(it, c->p);
    uint32_t m = 0;
    for (int i = 0; i < n; i++) {
        const st_ent *e = &cur->all[i];
        if (in_range(it, e->ts) && sel_has(ps, e->stream_id) && ids_match(it, e)) cur->all[m++] = *e;
    }
    cur->e = cur->all;
    cur->n = m;
    cur = cursor_ready(it, cur);
    if (cur) heap_push(it, cur);
}

static st_stream *stream_of(trail_store_iter *it, st_partition *p, uint64_t id) {
    if (it->last_s && it->last_p == p && it->last_s->pub.id == id) return it->last_s;
    pthread_rwlock_rdlock(&p->rw);
    st_stream *s = st_streams_find(&p->streams, id);
    pthread_rwlock_unlock(&p->rw);
    it->last_p = p;
    it->last_s = s;
    return s;
}

int trail_store_iter_next(trail_store_iter *it, const trail_store_entry **out) {
    for (;;) {
        /* open every block that may hold something at or before the top */
        while (it->next < it->nc) {
            const st_block *b = it->c[it->next].b;
            if (it->nheap) {
                const cursor *top = it->heap[0];
                int64_t t = top->e[top->i].ts;
                if (it->backward ? b->max_ts < t : b->min_ts > t) break;
            }
            open_cand(it, &it->c[it->next++]);
        }
        if (!it->nheap) return 0;
        cursor *c = it->heap[0];
        const st_ent *e = &c->e[c->i];
        st_stream *st = stream_of(it, c->p, e->stream_id);
        trail_store_entry *o = &it->out;
        if (st) {
            o->category = c->p->name;
            o->labels = st->pub.labels;
            o->nlabels = st->pub.nlabels;
            o->stream_id = e->stream_id;
            o->ts_ns = e->ts;
            o->line = e->line;
            o->line_len = e->line_len;
            const char **ids[3] = {&o->request_id, &o->user_id, &o->trace_id};
            for (int k = 0; k < 3; k++) {
                if (e->id_len[k] == ST_ID_ABSENT) {
                    *ids[k] = NULL;
                    continue;
                }
                memcpy(it->idbuf[k], e->id[k], e->id_len[k]);
                it->idbuf[k][e->id_len[k]] = 0;
                *ids[k] = it->idbuf[k];
            }
        }
        /* advance the cursor (entries stay valid: cursors are freed lazily) */
        if (++c->i == c->n) {
            it->heap[0] = it->heap[--it->nheap];
            if (it->nheap) heap_down(it, 0);
            /* keep the finished cursor's data alive until the next call */
            cursor_free(it->heap[it->nc + it->nsel]);
            it->heap[it->nc + it->nsel] = c;
        } else {
            heap_down(it, 0);
        }
        if (!st) continue; /* a stream this reader does not know yet */
        *out = o;
        return 1;
    }
}

void trail_store_iter_counts(const trail_store_iter *it, uint64_t *skipped, uint64_t *read) {
    if (skipped) *skipped = it ? it->skipped : 0;
    if (read) *read = it ? it->read : 0;
}

void trail_store_iter_close(trail_store_iter *it) {
    if (!it) return;
    for (size_t i = 0; i < it->nheap; i++) cursor_free(it->heap[i]);
    if (it->heap) cursor_free(it->heap[it->nc + it->nsel]);
    for (size_t i = it->next; i < it->nc; i++) st_segment_unref(it->c[i].seg);
    free(it->c);
    free(it->heap);
    for (uint32_t i = 0; i < it->nsel; i++) free(it->sel[i].ids.v);
    free(it->sel);
    for (uint32_t k = 0; k < it->nkeys; k++) free(it->key_val[k]);
    free(it->key_val);
    free(it->key_hash);
    free(it->key_kind);
    free(it->key_len);
    free(it->head_data);
    free(it);
}
