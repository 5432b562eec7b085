/* part_open.c — opening a category partition: the stream table, segments,
 * and, for the writer, recovery: drop torn tails, cut blocks the WAL still
 * covers, replay the WAL into the head, refill the dedupe window.
 *
 * The invariant recovery relies on: the WAL file wal-W holds exactly the
 * entries of blocks with seq >= W plus the unsealed head. So cutting every
 * block with seq >= W and replaying wal-W restores the state, whatever
 * step of a seal a kill -9 interrupted (docs/store.md). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "store_impl.h"

static char *path_of(const st_partition *p, const char *fmt, uint64_t seq) {
    char *name = NULL, *full = NULL;
    if (asprintf(&name, fmt, (unsigned long long)seq) < 0 ||
        asprintf(&full, "%s/%s", p->dir, name) < 0)
        abort();
    free(name);
    return full;
}

char *st_wal_path(const st_partition *p, uint64_t seq) { return path_of(p, "wal-%016llx.log", seq); }

/* ------------------------------------------------------------ streams file */

static int load_streams(st_partition *p, bool writable) {
    char *path = NULL;
    if (asprintf(&path, "%s/streams", p->dir) < 0) abort();
    int fd = open(path, (writable ? O_RDWR | O_CREAT : O_RDONLY) | O_CLOEXEC, 0644);
    free(path);
    if (fd < 0) return errno == ENOENT && !writable ? 0 : -errno;
    p->streams_fd = fd;
    return st_part_load_streams_more(p, writable);
}

int st_part_load_streams_more(st_partition *p, bool writable) {
    struct stat st;
    if (fstat(p->streams_fd, &st) < 0) return -errno;
    uint64_t size = (uint64_t)st.st_size;
    if (size == 0 && writable) {
        uint8_t hdr[ST_FILE_HDR] = {0};
        memcpy(hdr, ST_STR_MAGIC, 8);
        int r = st_pwrite_all(p->streams_fd, hdr, sizeof hdr, 0);
        if (r) return r;
        if (p->store->dofsync && (fsync(p->streams_fd) < 0 || st_fsync_dir(p->dir) < 0)) return -errno;
        p->streams_size = ST_FILE_HDR;
        return 0;
    }
    if (size <= p->streams_size) return 0;
    uint64_t from = p->streams_size ? p->streams_size : 0;
    uint8_t *buf = malloc(size - from);
    if (!buf) return -ENOMEM;
    if (st_pread_all(p->streams_fd, buf, size - from, from) < 0) {
        free(buf);
        return -EIO;
    }
    size_t skip = 0;
    if (from == 0) {
        if (size < ST_FILE_HDR || memcmp(buf, ST_STR_MAGIC, 8) != 0) {
            free(buf);
            if (!writable) return 0;
            /* a torn creation: start the file again */
            if (ftruncate(p->streams_fd, 0) < 0) return -errno;
            return st_part_load_streams_more(p, writable);
        }
        skip = ST_FILE_HDR;
    }
    pthread_rwlock_wrlock(&p->rw);
    size_t valid = st_streams_parse(&p->streams, p->name, buf + skip, size - from - skip);
    pthread_rwlock_unlock(&p->rw);
    free(buf);
    p->streams_size = from + skip + valid;
    if (writable && p->streams_size < size) {
        atomic_fetch_add(&p->store->torn_bytes, size - p->streams_size);
        if (ftruncate(p->streams_fd, (off_t)p->streams_size) < 0) return -errno;
    }
    return 0;
}

/* ------------------------------------------------------------ directory */

typedef struct seqlist {
    uint64_t *v;
    size_t n, cap;
} seqlist;

static void seq_add(seqlist *l, uint64_t s) {
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
        if (!l->v) abort();
    }
    l->v[l->n++] = s;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Lists seg-*.dat and wal-*.log; removes *.tmp when writable. */
static int list_dir(st_partition *p, seqlist *segs, seqlist *wals, bool writable) {
    DIR *d = opendir(p->dir);
    if (!d) return -errno;
    struct dirent *de;
    while ((de = readdir(d))) {
        unsigned long long seq;
        char ext[8];
        int used = 0;
        if (sscanf(de->d_name, "seg-%16llx.%3s%n", &seq, ext, &used) == 2 && strcmp(ext, "dat") == 0 &&
            de->d_name[used] == 0)
            seq_add(segs, seq);
        else if (wals && sscanf(de->d_name, "wal-%16llx.%3s%n", &seq, ext, &used) == 2 &&
                 strcmp(ext, "log") == 0 && de->d_name[used] == 0)
            seq_add(wals, seq);
        else if (writable && strstr(de->d_name, ".tmp")) {
            char *f = NULL;
            if (asprintf(&f, "%s/%s", p->dir, de->d_name) >= 0) unlink(f);
            free(f);
        }
    }
    closedir(d);
    if (segs->n) qsort(segs->v, segs->n, sizeof(uint64_t), cmp_u64);
    if (wals && wals->n) qsort(wals->v, wals->n, sizeof(uint64_t), cmp_u64);
    return 0;
}

void st_part_add_segment(st_partition *p, st_segment *s) {
    if (p->nsegs == p->segcap) {
        p->segcap = p->segcap ? p->segcap * 2 : 16;
        p->segs = realloc(p->segs, p->segcap * sizeof *p->segs);
        if (!p->segs) abort();
    }
    p->segs[p->nsegs++] = s;
}

/* Widens each stream's time range by the blocks that hold it. */
static void note_block_streams(st_partition *p, const st_block *b) {
    for (uint32_t i = 0; i < b->nstreams; i++) {
        st_stream *s = st_streams_find(&p->streams, b->streams[i]);
        if (!s) continue;
        if (b->min_ts < s->pub.min_ts) s->pub.min_ts = b->min_ts;
        if (b->max_ts > s->pub.max_ts) s->pub.max_ts = b->max_ts;
    }
}

static void rename_bad(const st_partition *p, uint64_t seq) {
    char *a = path_of(p, "seg-%016llx.dat", seq), *b = NULL;
    if (asprintf(&b, "%s.bad", a) < 0) abort();
    rename(a, b);
    free(a);
    free(b);
}

static void delete_segment_files(st_segment *s) {
    unlink(s->idx_path);
    unlink(s->dat_path);
}

/* ------------------------------------------------------------ WAL */

/* WAL record: u32 payload_len, u32 crc32c(payload); payload = u64 stream,
 * i64 ts, u32 line_len, line, 3 x (u16 len or 0xffff, bytes). */
static size_t replay_wal(st_partition *p, const uint8_t *buf, size_t n, uint64_t *unknown) {
    size_t pos = 0;
    while (n - pos >= 8) {
        uint32_t plen = st_get32(buf + pos), crc = st_get32(buf + pos + 4);
        if (plen < 26 || plen > n - pos - 8 || st_crc32c(0, buf + pos + 8, plen) != crc) break;
        const uint8_t *q = buf + pos + 8, *end = q + plen;
        st_ent e;
        e.stream_id = st_get64(q);
        e.ts = (int64_t)st_get64(q + 8);
        e.line_len = st_get32(q + 16);
        q += 20;
        if ((size_t)(end - q) < e.line_len) break;
        e.line = (const char *)q;
        q += e.line_len;
        bool ok = true;
        for (int k = 0; k < 3 && ok; k++) {
            if (end - q < 2) { ok = false; break; }
            uint16_t l = st_get16(q);
            q += 2;
            e.id_len[k] = l;
            e.id[k] = NULL;
            if (l == ST_ID_ABSENT) continue;
            if (l > ST_MAX_ID || end - q < l) { ok = false; break; }
            e.id[k] = (const char *)q;
            q += l;
        }
        if (!ok || q != end) break;
        st_stream *s = st_streams_find(&p->streams, e.stream_id);
        if (s) {
            st_part_head_add(p, &e, st_fingerprint(e.stream_id, e.ts, e.line, e.line_len));
        } else {
            (*unknown)++; /* its stream record never reached disk: it was never acknowledged */
        }
        pos += 8 + plen;
    }
    return pos;
}

int st_part_wal_create(st_partition *p, uint64_t seq) {
    char *path = st_wal_path(p, seq);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    free(path);
    if (fd < 0) return -errno;
    uint8_t hdr[ST_FILE_HDR];
    memcpy(hdr, ST_WAL_MAGIC, 8);
    st_put64(hdr + 8, seq);
    int r = st_pwrite_all(fd, hdr, sizeof hdr, 0);
    if (!r && p->store->dofsync) r = fsync(fd) < 0 ? -errno : st_fsync_dir(p->dir);
    if (r) {
        close(fd);
        return r;
    }
    if (p->wal_fd >= 0) {
        char *old = st_wal_path(p, p->wal_seq);
        close(p->wal_fd);
        unlink(old);
        free(old);
    }
    p->wal_fd = fd;
    p->wal_seq = seq;
    p->wal_size = ST_FILE_HDR;
    p->wal_dirty = false;
    return 0;
}

static int recover_wal(st_partition *p, seqlist *wals) {
    if (wals->n == 0) return st_part_wal_create(p, p->next_seq);
    uint64_t w = wals->v[wals->n - 1];
    for (size_t i = 0; i + 1 < wals->n; i++) { /* superseded: their seal completed */
        char *old = st_wal_path(p, wals->v[i]);
        unlink(old);
        free(old);
    }
    /* cut blocks the WAL still covers */
    while (p->nsegs && p->segs[p->nsegs - 1]->first_seq >= w) {
        st_segment *s = p->segs[--p->nsegs];
        delete_segment_files(s);
        st_segment_unref(s);
    }
    if (p->nsegs) {
        int r = st_segment_truncate_seq(p->segs[p->nsegs - 1], w);
        if (r) return r;
    }
    p->next_seq = w;
    char *path = st_wal_path(p, w);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    free(path);
    if (fd < 0) return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        close(fd);
        return -errno;
    }
    size_t size = (size_t)st.st_size;
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf || st_pread_all(fd, buf, size, 0) < 0) {
        free(buf);
        close(fd);
        return -EIO;
    }
    if (size < ST_FILE_HDR || memcmp(buf, ST_WAL_MAGIC, 8) != 0 || st_get64(buf + 8) != w) {
        /* torn creation (killed before the header was written): nothing in it */
        free(buf);
        close(fd);
        return st_part_wal_create(p, w);
    }
    uint64_t unknown = 0;
    size_t valid = ST_FILE_HDR + replay_wal(p, buf + ST_FILE_HDR, size - ST_FILE_HDR, &unknown);
    free(buf);
    if (valid < size) {
        atomic_fetch_add(&p->store->torn_bytes, size - valid);
        if (ftruncate(fd, (off_t)valid) < 0 || (p->store->dofsync && fsync(fd) < 0)) {
            close(fd);
            return -errno;
        }
    }
    p->wal_fd = fd;
    p->wal_seq = w;
    p->wal_size = valid;
    return 0;
}

/* Refills the dedupe window from the newest blocks (oldest of them first). */
static void refill_dedupe(st_partition *p) {
    uint64_t want = p->dd.window, have = 0;
    int32_t si = (int32_t)p->nsegs - 1, bi = -1;
    /* find the oldest block needed */
    while (si >= 0 && have < want) {
        st_segment *s = p->segs[si];
        bi = (int32_t)s->nblocks - 1;
        while (bi >= 0 && have < want) have += s->blocks[bi--]->count;
        if (have < want) si--;
    }
    if (si < 0) {
        si = 0;
        bi = -1;
    }
    for (uint32_t s = (uint32_t)si; s < p->nsegs; s++) {
        st_segment *seg = p->segs[s];
        uint32_t from = s == (uint32_t)si ? (uint32_t)(bi + 1) : 0;
        for (uint32_t b = from; b < seg->nblocks; b++) {
            st_block *blk = seg->blocks[b];
            uint8_t *data = malloc(blk->data_len ? blk->data_len : 1), *raw = NULL;
            st_ent *e = NULL;
            if (data && st_pread_all(seg->fd, data, blk->data_len, blk->off + ST_BLK_PREFIX + blk->meta_len) == 0) {
                int n = st_block_decode(blk, data, &raw, &e);
                for (int i = 0; i < n; i++)
                    st_dedupe_add(&p->dd, st_fingerprint(e[i].stream_id, e[i].ts, e[i].line, e[i].line_len));
            }
            free(data);
            free(raw);
            free(e);
        }
    }
}

/* ------------------------------------------------------------ open */

int st_part_open(trail_store *s, const char *name, bool create, st_partition **out) {
    st_partition *p = calloc(1, sizeof *p);
    if (!p) return -ENOMEM;
    p->store = s;
    p->name = strdup(name);
    if (asprintf(&p->dir, "%s/%s", s->cfg.dir, name) < 0) abort();
    pthread_mutex_init(&p->mu, NULL);
    pthread_rwlock_init(&p->rw, NULL);
    p->streams_fd = p->wal_fd = -1;
    p->view_cutoff = UINT64_MAX;
    bool w = !s->ro;
    int r = 0;
    seqlist segs = {0}, wals = {0};
    if (w && create) {
        r = st_mkdirs(p->dir);
        if (!r && s->dofsync) r = st_fsync_dir(s->cfg.dir);
        if (r) goto fail;
    }
    if (w) {
        st_dedupe_init(&p->dd, s->cfg.dedupe_window);
        p->bld.zcctx = ZSTD_createCCtx();
        if (!p->bld.zcctx) { r = -ENOMEM; goto fail; }
    }
    /* segments before streams: a reader must know every stream a block it
     * sees refers to, and streams are written before the blocks using them */
    r = list_dir(p, &segs, w ? &wals : NULL, w);
    if (r) goto fail;
    uint64_t corrupt = 0, torn = 0;
    for (size_t i = 0; i < segs.n; i++) {
        st_segment *seg = st_segment_load(p->dir, segs.v[i], w, &corrupt, &torn);
        if (!seg) {
            if (w) rename_bad(p, segs.v[i]);
            continue;
        }
        st_part_add_segment(p, seg);
    }
    atomic_fetch_add(&s->corrupt_blocks, corrupt);
    atomic_fetch_add(&s->torn_bytes, torn);
    r = load_streams(p, w);
    if (r) goto fail;
    for (uint32_t i = 0; i < p->nsegs; i++) {
        st_segment *seg = p->segs[i];
        if (seg->nblocks) p->next_seq = seg->blocks[seg->nblocks - 1]->seq + 1;
        if (seg->first_seq > p->next_seq) p->next_seq = seg->first_seq;
    }
    if (w) {
        r = recover_wal(p, &wals);
        if (r) goto fail;
        refill_dedupe(p);
        for (size_t i = 0; i < p->nhead; i++) {
            st_hent *h = &p->head[i];
            st_dedupe_add(&p->dd, st_fingerprint(h->stream_id, h->ts, (const char *)p->hdata.p + h->off, h->line_len));
        }
    }
    for (uint32_t i = 0; i < p->nsegs; i++)
        for (uint32_t b = 0; b < p->segs[i]->nblocks; b++) note_block_streams(p, p->segs[i]->blocks[b]);
    free(segs.v);
    free(wals.v);
    if (!w) st_part_ro_wal(p);
    *out = p;
    return 0;
fail:
    free(segs.v);
    free(wals.v);
    st_part_free(p);
    return r;
}

void st_part_free(st_partition *p) {
    if (!p) return;
    for (uint32_t i = 0; i < p->nsegs; i++) st_segment_unref(p->segs[i]);
    free(p->segs);
    st_streams_free(&p->streams);
    if (p->streams_fd >= 0) close(p->streams_fd);
    if (p->wal_fd >= 0) close(p->wal_fd);
    free(p->head);
    st_buf_free(&p->hdata);
    st_buf_free(&p->scratch);
    if (p->dd.gen[0]) st_dedupe_free(&p->dd);
    st_builder_free(&p->bld);
    st_buf_free(&p->sealed);
    pthread_mutex_destroy(&p->mu);
    pthread_rwlock_destroy(&p->rw);
    free(p->name);
    free(p->dir);
    free(p);
}

/* ------------------------------------------------------------ refresh */

/* Read-only: forgets deleted segments, walks new blocks of known ones and
 * loads new segment files. */
static int refresh_segments(st_partition *p) {
    seqlist segs = {0};
    int r = list_dir(p, &segs, NULL, false);
    if (r) return r;
    uint64_t corrupt = 0, torn = 0;
    pthread_rwlock_wrlock(&p->rw);
    /* drop segments deleted by the writer's retention */
    uint32_t k = 0;
    for (uint32_t i = 0; i < p->nsegs; i++) {
        st_segment *s = p->segs[i];
        if (!segs.n || !bsearch(&s->first_seq, segs.v, segs.n, sizeof(uint64_t), cmp_u64)) {
            st_segment_unref(s);
            continue;
        }
        p->segs[k++] = s;
    }
    p->nsegs = k;
    for (uint32_t i = 0; i < p->nsegs; i++) {
        uint32_t before = p->segs[i]->nblocks;
        st_segment_scan_more(p->segs[i], &corrupt);
        for (uint32_t b = before; b < p->segs[i]->nblocks; b++) note_block_streams(p, p->segs[i]->blocks[b]);
    }
    uint64_t last = p->nsegs ? p->segs[p->nsegs - 1]->first_seq : 0;
    for (size_t i = 0; i < segs.n; i++) {
        if (p->nsegs && segs.v[i] <= last) continue;
        st_segment *s = st_segment_load(p->dir, segs.v[i], false, &corrupt, &torn);
        if (!s) continue;
        st_part_add_segment(p, s);
        for (uint32_t b = 0; b < s->nblocks; b++) note_block_streams(p, s->blocks[b]);
    }
    pthread_rwlock_unlock(&p->rw);
    free(segs.v);
    atomic_fetch_add(&p->store->corrupt_blocks, corrupt);
    return 0;
}

int st_part_refresh(st_partition *p) {
    int r = refresh_segments(p);
    if (r) return r;
    if (p->streams_fd < 0) {
        char *path = NULL;
        if (asprintf(&path, "%s/streams", p->dir) < 0) abort();
        p->streams_fd = open(path, O_RDONLY | O_CLOEXEC);
        free(path);
    }
    if (p->streams_fd >= 0) r = st_part_load_streams_more(p, false);
    /* streams read after blocks: widen ranges of streams that were unknown */
    pthread_rwlock_wrlock(&p->rw);
    for (uint32_t i = 0; i < p->nsegs; i++)
        for (uint32_t b = 0; b < p->segs[i]->nblocks; b++) note_block_streams(p, p->segs[i]->blocks[b]);
    pthread_rwlock_unlock(&p->rw);
    st_part_ro_wal(p);
    return r;
}

/* ------------------------------------------------------------ read-only WAL view */

/* Read the newest WAL first, then pick up blocks and streams written
 * before it: wal-W exists only once every block below W is durable, and
 * it holds exactly the entries of blocks >= W plus the head. So showing
 * blocks < W plus the WAL's records is a complete, duplicate-free view,
 * whenever the writer seals or rotates in between. */
void st_part_ro_wal(st_partition *p) {
    seqlist segs = {0}, wals = {0};
    if (list_dir(p, &segs, &wals, false) || wals.n == 0) {
        free(segs.v);
        free(wals.v);
        return;
    }
    uint64_t w = wals.v[wals.n - 1];
    free(segs.v);
    free(wals.v);
    char *path = st_wal_path(p, w);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    free(path);
    if (fd < 0) return; /* rotated meanwhile: the next refresh sees the new one */
    struct stat st;
    uint8_t *buf = NULL;
    size_t size = 0;
    if (fstat(fd, &st) == 0 && st.st_size >= ST_FILE_HDR && st.st_size < (1LL << 31)) {
        size = (size_t)st.st_size;
        buf = malloc(size);
        if (buf && st_pread_all(fd, buf, size, 0) < 0) size = 0;
    }
    close(fd);
    if (!buf || size < ST_FILE_HDR || memcmp(buf, ST_WAL_MAGIC, 8) != 0 || st_get64(buf + 8) != w) {
        free(buf);
        return;
    }
    /* blocks (in new segment files too) and streams written before this WAL */
    refresh_segments(p);
    if (p->streams_fd >= 0) st_part_load_streams_more(p, false);
    /* parse into a new head, then swap it in at once */
    st_hent *head = NULL;
    size_t nhead = 0, cap = 0;
    st_buf data = {0};
    const uint8_t *q = buf + ST_FILE_HDR, *end = buf + size;
    while (end - q >= 8) {
        uint32_t plen = st_get32(q), crc = st_get32(q + 4);
        if (plen < 26 || plen > (size_t)(end - q) - 8 || st_crc32c(0, q + 8, plen) != crc) break;
        const uint8_t *r = q + 8, *rend = r + plen;
        st_hent h = {.stream_id = st_get64(r), .ts = (int64_t)st_get64(r + 8), .line_len = st_get32(r + 16)};
        r += 20;
        if ((size_t)(rend - r) < h.line_len) break;
        const uint8_t *line = r;
        r += h.line_len;
        const uint8_t *ids[3] = {0};
        bool ok = true;
        for (int k = 0; k < 3 && ok; k++) {
            if (rend - r < 2) { ok = false; break; }
            h.id_len[k] = st_get16(r);
            r += 2;
            if (h.id_len[k] == ST_ID_ABSENT) continue;
            if (h.id_len[k] > ST_MAX_ID || rend - r < h.id_len[k]) { ok = false; break; }
            ids[k] = r;
            r += h.id_len[k];
        }
        if (!ok || r != rend) break;
        q = rend;
        pthread_rwlock_rdlock(&p->rw);
        bool known = st_streams_find(&p->streams, h.stream_id) != NULL;
        pthread_rwlock_unlock(&p->rw);
        if (!known) continue;
        if (nhead == cap) {
            cap = cap ? cap * 2 : 256;
            head = realloc(head, cap * sizeof *head);
            if (!head) abort();
        }
        h.off = data.len;
        st_buf_put(&data, line, h.line_len);
        for (int k = 0; k < 3; k++)
            if (ids[k]) st_buf_put(&data, ids[k], h.id_len[k]);
        head[nhead++] = h;
    }
    free(buf);
    pthread_rwlock_wrlock(&p->rw);
    free(p->head);
    st_buf_free(&p->hdata);
    p->head = head;
    p->nhead = nhead;
    p->headcap = cap;
    p->hdata = data;
    p->view_cutoff = w;
    for (size_t i = 0; i < nhead; i++) {
        st_stream *s = st_streams_find(&p->streams, head[i].stream_id);
        if (s && head[i].ts < s->pub.min_ts) s->pub.min_ts = head[i].ts;
        if (s && head[i].ts > s->pub.max_ts) s->pub.max_ts = head[i].ts;
    }
    pthread_rwlock_unlock(&p->rw);
}
