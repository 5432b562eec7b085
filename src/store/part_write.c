/* part_write.c — the write side of a partition: append to the WAL and the
 * head, sync, seal the head into blocks, and delete whole segments for
 * retention. Every function here runs with p->mu held. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_impl.h"

/* ------------------------------------------------------------ head */

/* s: the entry's stream when the caller has it (else looked up). */
static void head_put(st_partition *p, const st_ent *e, st_stream *s) {
    if (p->nhead == p->headcap) {
        p->headcap = p->headcap ? p->headcap * 2 : 4096;
        p->head = realloc(p->head, p->headcap * sizeof *p->head);
        if (!p->head) abort();
    }
    st_hent *h = &p->head[p->nhead++];
    h->stream_id = e->stream_id;
    h->ts = e->ts;
    h->off = p->hdata.len;
    h->line_len = e->line_len;
    st_buf_put(&p->hdata, e->line, e->line_len);
    for (int k = 0; k < 3; k++) {
        h->id_len[k] = e->id_len[k];
        if (e->id_len[k] != ST_ID_ABSENT) st_buf_put(&p->hdata, e->id[k], e->id_len[k]);
    }
    if (!s) s = st_streams_find(&p->streams, e->stream_id);
    if (s) {
        if (e->ts < s->pub.min_ts) s->pub.min_ts = e->ts;
        if (e->ts > s->pub.max_ts) s->pub.max_ts = e->ts;
    }
}

void st_part_head_add(st_partition *p, const st_ent *e, uint64_t fp) {
    pthread_rwlock_wrlock(&p->rw);
    if (!p->nhead) p->head_since = st_mono_ns();
    head_put(p, e, NULL);
    pthread_rwlock_unlock(&p->rw);
    if (p->dd.gen[0]) st_dedupe_add(&p->dd, fp);
}

/* ------------------------------------------------------------ append */

static int cmp_label(const void *a, const void *b) {
    return strcmp(((const trail_store_label *)a)->name, ((const trail_store_label *)b)->name);
}

/* The entry's stream (created, and its record written, when new). */
static int entry_stream(st_partition *p, const trail_store_entry *e, uint64_t *id, st_stream **sp) {
    trail_store_label l[TRAIL_STORE_MAX_LABELS + 1];
    uint32_t n = 0;
    bool has_cat = false;
    for (uint32_t i = 0; i < e->nlabels; i++) {
        if (strcmp(e->labels[i].name, "category") == 0) {
            if (strcmp(e->labels[i].value, p->name) != 0) return -EINVAL;
            has_cat = true;
        }
        l[n++] = e->labels[i];
    }
    if (!has_cat) l[n++] = (trail_store_label){"category", p->name};
    /* insertion sort: label sets are small */
    for (uint32_t i = 1; i < n; i++)
        for (uint32_t j = i; j > 0 && cmp_label(&l[j - 1], &l[j]) > 0; j--) {
            trail_store_label t = l[j];
            l[j] = l[j - 1];
            l[j - 1] = t;
        }
    for (uint32_t i = 1; i < n; i++)
        if (strcmp(l[i - 1].name, l[i].name) == 0) return -EINVAL;
    *id = st_stream_id(l, n);
    if ((*sp = st_streams_find(&p->streams, *id))) return 0;
    pthread_rwlock_wrlock(&p->rw);
    st_stream *s = st_streams_add(&p->streams, *id, p->name, l, n);
    *sp = s;
    pthread_rwlock_unlock(&p->rw);
    st_buf rec = {0};
    st_streams_encode(&rec, s);
    int r = st_pwrite_all(p->streams_fd, rec.p, rec.len, p->streams_size);
    if (!r) {
        p->streams_size += rec.len;
        p->streams_dirty = true;
    } else if (ftruncate(p->streams_fd, (off_t)p->streams_size) < 0) {
        /* the next record overwrites the partial one anyway */
    }
    st_buf_free(&rec);
    if (r) { /* forget the stream: the caller's retry writes its record again */
        st_stream_table *t = &p->streams;
        pthread_rwlock_wrlock(&p->rw);
        t->n--;
        memset(t->map, 0, t->map_cap * sizeof *t->map);
        for (uint32_t j = 0; j < t->n; j++) {
            uint32_t mask = t->map_cap - 1, k = (uint32_t)st_mix64(t->v[j]->pub.id) & mask;
            while (t->map[k]) k = (k + 1) & mask;
            t->map[k] = t->v[j];
        }
        pthread_rwlock_unlock(&p->rw);
        for (uint32_t j = 0; j < s->pub.nlabels; j++) {
            free((char *)s->pub.labels[j].name);
            free((char *)s->pub.labels[j].value);
        }
        free((void *)s->pub.labels);
        free(s);
    }
    return r;
}

/* Within one append call the caller's label strings cannot change, so an
 * entry whose label name and value pointers equal an earlier entry's has
 * that entry's stream: a small cache by those pointers skips sorting and
 * hashing the labels again (callers typically reuse the same strings). */
#define STREAM_CACHE 64
typedef struct stream_cache {
    const trail_store_entry *e[STREAM_CACHE];
    uint64_t id[STREAM_CACHE];
    st_stream *s[STREAM_CACHE];
} stream_cache;

static uint32_t labels_slot(const trail_store_entry *e) {
    uint64_t h = e->nlabels;
    for (uint32_t i = 0; i < e->nlabels; i++)
        h = (h ^ (uintptr_t)e->labels[i].name ^ ((uint64_t)(uintptr_t)e->labels[i].value << 1)) * 0x9e3779b97f4a7c15ULL;
    return (uint32_t)(h >> 58) & (STREAM_CACHE - 1);
}

static bool same_label_ptrs(const trail_store_entry *a, const trail_store_entry *b) {
    if (a->nlabels != b->nlabels) return false;
    for (uint32_t i = 0; i < a->nlabels; i++)
        if (a->labels[i].name != b->labels[i].name || a->labels[i].value != b->labels[i].value) return false;
    return true;
}

static int entry_stream_cached(st_partition *p, stream_cache *c, const trail_store_entry *e, uint64_t *id,
                               st_stream **sp) {
    uint32_t slot = labels_slot(e);
    if (c->e[slot] && same_label_ptrs(c->e[slot], e)) {
        *id = c->id[slot];
        *sp = c->s[slot];
        return 0;
    }
    int r = entry_stream(p, e, id, sp);
    if (!r) {
        c->e[slot] = e;
        c->id[slot] = *id;
        c->s[slot] = *sp;
    }
    return r;
}

/* One WAL record (format in docs/store.md): sized first, then written with
 * plain stores. */
static void wal_encode(st_buf *b, const st_ent *e) {
    size_t need = 8 + 20 + (size_t)e->line_len + 6;
    for (int k = 0; k < 3; k++)
        if (e->id_len[k] != ST_ID_ABSENT) need += e->id_len[k];
    st_buf_reserve(b, need);
    uint8_t *rec = b->p + b->len, *q = rec + 8;
    st_put64(q, e->stream_id);
    st_put64(q + 8, (uint64_t)e->ts);
    st_put32(q + 16, e->line_len);
    q += 20;
    if (e->line_len) memcpy(q, e->line, e->line_len);
    q += e->line_len;
    for (int k = 0; k < 3; k++) {
        uint16_t l = e->id_len[k];
        memcpy(q, &l, 2);
        q += 2;
        if (l != ST_ID_ABSENT && l) {
            memcpy(q, e->id[k], l);
            q += l;
        }
    }
    uint32_t plen = (uint32_t)(need - 8);
    st_put32(rec, plen);
    st_put32(rec + 4, st_crc32c(0, rec + 8, plen));
    b->len += need;
}

static const char *const id_names[3] = {"request_id", "user_id", "trace_id"};

static void entry_ids(const trail_store_entry *in, st_ent *e) {
    const char *v[3] = {in->request_id, in->user_id, in->trace_id};
    bool any = v[0] || v[1] || v[2];
    for (int k = 0; k < 3; k++) {
        e->id[k] = NULL;
        e->id_len[k] = ST_ID_ABSENT;
        size_t n = 0;
        const char *s = v[k];
        if (any) {
            if (s) n = strlen(s);
        } else if (!st_json_find_str(in->line, in->line_len, id_names[k], &s, &n)) {
            s = NULL;
        }
        if (!s) continue;
        if (n > ST_MAX_ID) n = ST_MAX_ID;
        e->id[k] = s;
        e->id_len[k] = (uint16_t)n;
    }
}

int st_part_append(st_partition *p, const trail_store_entry *const *in, size_t n,
                   trail_store_append_result *res) {
    st_buf *b = &p->scratch;
    b->len = 0;
    st_ent *ents = malloc((n ? n : 1) * sizeof *ents);
    uint64_t *fps = malloc((n ? n : 1) * sizeof *fps);
    st_stream **strm = malloc((n ? n : 1) * sizeof *strm);
    if (!ents || !fps || !strm) abort();
    size_t m = 0;
    int r = 0;
    /* pass 1: streams and fingerprints, prefetching the dedupe slots (the
     * tables are megabytes: a cache miss each otherwise) */
    stream_cache sc;
    memset(sc.e, 0, sizeof sc.e);
    for (size_t i = 0; i < n && !r; i++) {
        st_ent *e = &ents[i];
        r = entry_stream_cached(p, &sc, in[i], &e->stream_id, &strm[i]);
        e->ts = in[i]->ts_ns;
        e->line = in[i]->line ? in[i]->line : "";
        e->line_len = in[i]->line_len;
        fps[i] = st_fingerprint(e->stream_id, e->ts, e->line, e->line_len);
        st_dedupe_prefetch(&p->dd, fps[i]);
    }
    for (size_t i = 0; i < n && !r; i++) {
        ents[m] = ents[i];
        strm[m] = strm[i];
        st_ent *e = &ents[m];
        entry_ids(in[i], e);
        uint64_t fp = fps[i];
        if (st_dedupe_check_add(&p->dd, fp)) {
            if (res) res->duplicates++;
            atomic_fetch_add(&p->store->duplicates, 1);
            continue;
        }
        fps[m++] = fp;
        wal_encode(b, e);
    }
    if (!r && b->len) {
        r = st_pwrite_all(p->wal_fd, b->p, b->len, p->wal_size);
        if (r && ftruncate(p->wal_fd, (off_t)p->wal_size) < 0) {
            /* the next append overwrites the partial bytes at wal_size */
        }
    }
    if (r) {
        for (size_t i = 0; i < m; i++) st_dedupe_del(&p->dd, fps[i]);
        if (res) res->duplicates = 0;
    } else if (m) {
        p->wal_size += b->len;
        p->wal_dirty = true;
        pthread_rwlock_wrlock(&p->rw);
        if (!p->nhead) p->head_since = st_mono_ns();
        for (size_t i = 0; i < m; i++) head_put(p, &ents[i], strm[i]);
        pthread_rwlock_unlock(&p->rw);
        if (res) res->stored += (uint32_t)m;
    }
    free(ents);
    free(fps);
    free(strm);
    if (b->cap > (16u << 20)) st_buf_free(b);
    if (!r && p->hdata.len >= p->store->cfg.head_bytes) {
        /* The entries are in the WAL whatever happens to the seal; a failed
         * seal is retried next time, and only reported (back-pressure) once
         * the head has grown well past its size. */
        int sr = st_part_seal(p);
        if (sr && p->hdata.len >= 4 * (size_t)p->store->cfg.head_bytes) r = sr;
    }
    return r;
}

int st_part_sync(st_partition *p) {
    if (!p->store->dofsync) {
        p->streams_dirty = p->wal_dirty = false;
        return 0;
    }
    if (p->streams_dirty) {
        if (fsync(p->streams_fd) < 0) return -errno;
        p->streams_dirty = false;
    }
    if (p->wal_dirty) {
        if (fdatasync(p->wal_fd) < 0) return -errno;
        p->wal_dirty = false;
    }
    return 0;
}

/* ------------------------------------------------------------ seal */

static st_segment *active_segment(st_partition *p) {
    return p->nsegs && !p->segs[p->nsegs - 1]->closed ? p->segs[p->nsegs - 1] : NULL;
}

/* Closes the active segment if it is big or old enough, opens a new one. */
static int roll_segment(st_partition *p) {
    trail_store *s = p->store;
    st_segment *a = active_segment(p);
    if (a && a->nblocks && (a->size >= s->cfg.segment_bytes || st_mono_ns() - a->opened_mono >= s->cfg.segment_span_ns ||
                            a->opened_mono == 0)) {
        int r = st_segment_close(a, p->dir, s->dofsync);
        if (r) return r;
        a = NULL;
    }
    if (a) return 0;
    int err = 0;
    st_segment *n = st_segment_create(p->dir, p->next_seq, s->dofsync, &err);
    if (!n) return err;
    pthread_rwlock_wrlock(&p->rw);
    st_part_add_segment(p, n);
    pthread_rwlock_unlock(&p->rw);
    return 0;
}

int st_part_seal(st_partition *p) {
    if (!p->nhead) return 0;
    trail_store *s = p->store;
    /* entries sorted, cut into blocks of ~block_bytes */
    if (p->bld.entcap < p->nhead) {
        free(p->bld.ents);
        p->bld.entcap = p->nhead + p->nhead / 4;
        p->bld.ents = malloc(p->bld.entcap * sizeof *p->bld.ents);
        if (!p->bld.ents) {
            p->bld.entcap = 0;
            return -ENOMEM;
        }
    }
    st_ent *e = p->bld.ents;
    for (size_t i = 0; i < p->nhead; i++) {
        const st_hent *h = &p->head[i];
        const char *d = (const char *)p->hdata.p + h->off;
        e[i].stream_id = h->stream_id;
        e[i].ts = h->ts;
        e[i].line = d;
        e[i].line_len = h->line_len;
        d += h->line_len;
        for (int k = 0; k < 3; k++) {
            e[i].id_len[k] = h->id_len[k];
            e[i].id[k] = h->id_len[k] == ST_ID_ABSENT ? NULL : d;
            if (h->id_len[k] != ST_ID_ABSENT) d += h->id_len[k];
        }
    }
    e = st_sort_entries(&p->bld, e, p->nhead);
    int r = roll_segment(p);
    if (r) return r;
    st_segment *seg = active_segment(p);
    st_buf out = p->sealed;
    out.len = 0;
    size_t *offs = malloc((p->nhead + 1) * sizeof *offs);
    if (!offs) abort();
    uint32_t nb = 0;
    for (size_t i = 0; i < p->nhead;) {
        size_t j = i, raw = 0;
        while (j < p->nhead && (j == i || raw < s->cfg.block_bytes) && j - i < 65536) {
            raw += e[j].line_len + 16;
            j++;
        }
        offs[nb] = out.len;
        st_block_build(&out, p->next_seq + nb, e + i, j - i, &p->bld, s->cfg.zstd_level);
        nb++;
        i = j;
    }
    /* streams before blocks: no durable block may name an unknown stream */
    if (s->dofsync && p->streams_dirty) {
        if (fsync(p->streams_fd) < 0) r = -errno;
        else p->streams_dirty = false;
    }
    if (!r) r = st_pwrite_all(seg->fd, out.p, out.len, seg->size);
    if (!r && s->dofsync && fdatasync(seg->fd) < 0) r = -errno;
    if (r) {
        if (ftruncate(seg->fd, (off_t)seg->size) < 0) { /* next seal overwrites */ }
        p->sealed = out;
        free(offs);
        return r;
    }
    st_block **blk = malloc(nb * sizeof *blk);
    if (!blk) abort();
    for (uint32_t i = 0; i < nb; i++) {
        blk[i] = st_block_parse(out.p + offs[i], out.len - offs[i], seg->size + offs[i]);
        if (!blk[i]) abort(); /* we just built it */
    }
    pthread_rwlock_wrlock(&p->rw);
    for (uint32_t i = 0; i < nb; i++) st_segment_add_block(seg, blk[i]);
    seg->size += out.len;
    p->nhead = 0;
    p->hdata.len = 0;
    pthread_rwlock_unlock(&p->rw);
    p->next_seq += nb;
    p->sealed = out; /* kept for the next seal, unless one seal made it huge */
    if (out.cap > 4 * (size_t)s->cfg.head_bytes + (1u << 20)) st_buf_free(&p->sealed);
    free(offs);
    free(blk);
    if (p->hdata.cap > 2 * (size_t)s->cfg.head_bytes + (1u << 20)) st_buf_free(&p->hdata);
    /* The blocks are durable: start a new WAL. If that fails the old one
     * stays (it still covers blocks >= its seq, which recovery cuts and
     * replays), so this is not an error for the caller. */
    st_part_wal_create(p, p->next_seq);
    return 0;
}

/* ------------------------------------------------------------ retention */

static void remove_segment(st_partition *p, uint32_t i) {
    st_segment *s = p->segs[i];
    pthread_rwlock_wrlock(&p->rw);
    memmove(p->segs + i, p->segs + i + 1, (p->nsegs - i - 1) * sizeof *p->segs);
    p->nsegs--;
    pthread_rwlock_unlock(&p->rw);
    unlink(s->idx_path);
    unlink(s->dat_path);
    if (p->store->dofsync) st_fsync_dir(p->dir);
    atomic_fetch_add(&p->store->segments_deleted, 1);
    st_segment_unref(s); /* open iterators keep their reference */
}

int st_part_retire(st_partition *p, int64_t cutoff) {
    int n = 0;
    for (uint32_t i = 0; i < p->nsegs;) {
        st_segment *s = p->segs[i];
        if (!s->nblocks || s->max_ts >= cutoff) {
            i++;
            continue;
        }
        if (!s->closed && st_segment_close(s, p->dir, p->store->dofsync) < 0) {
            i++;
            continue;
        }
        remove_segment(p, i);
        n++;
    }
    return n;
}

int st_part_delete_oldest(st_partition *p, uint64_t *freed) {
    for (uint32_t i = 0; i < p->nsegs; i++) {
        st_segment *s = p->segs[i];
        if (!s->nblocks) continue;
        if (!s->closed && st_segment_close(s, p->dir, p->store->dofsync) < 0) return 0;
        *freed = s->size;
        remove_segment(p, i);
        return 1;
    }
    return 0;
}

/* Oldest data (newest entry of the oldest segment), INT64_MAX if none. */
int64_t st_part_oldest(st_partition *p) {
    for (uint32_t i = 0; i < p->nsegs; i++)
        if (p->segs[i]->nblocks) return p->segs[i]->max_ts;
    return INT64_MAX;
}

uint64_t st_part_disk_bytes(st_partition *p) {
    uint64_t t = p->streams_size + (p->wal_fd >= 0 ? p->wal_size : 0);
    for (uint32_t i = 0; i < p->nsegs; i++) {
        t += p->segs[i]->size;
        struct stat st;
        if (p->segs[i]->closed && stat(p->segs[i]->idx_path, &st) == 0) t += (uint64_t)st.st_size;
    }
    return t;
}
