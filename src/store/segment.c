/* segment.c — segment files: a header and a sequence of block records,
 * appended by the writer and fsynced per seal; closed with a .idx sidecar
 * holding every block's prefix+meta so a reader loads a segment's index
 * with one read. Without a valid .idx (the active segment, or a crash before
 * the .idx was renamed in) the .dat is walked block by block. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_impl.h"

static char *seg_path(const char *dir, uint64_t seq, const char *ext) {
    char *p = NULL;
    if (asprintf(&p, "%s/seg-%016llx.%s", dir, (unsigned long long)seq, ext) < 0) abort();
    return p;
}

void st_segment_ref(st_segment *s) { atomic_fetch_add(&s->refs, 1); }

void st_segment_unref(st_segment *s) {
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1) return;
    for (uint32_t i = 0; i < s->nblocks; i++) free(s->blocks[i]);
    free(s->blocks);
    if (s->fd >= 0) close(s->fd);
    free(s->dat_path);
    free(s->idx_path);
    free(s);
}

void st_segment_add_block(st_segment *s, st_block *b) {
    if (s->nblocks == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->blocks = realloc(s->blocks, s->cap * sizeof *s->blocks);
        if (!s->blocks) abort();
    }
    s->blocks[s->nblocks++] = b;
    if (b->min_ts < s->min_ts) s->min_ts = b->min_ts;
    if (b->max_ts > s->max_ts) s->max_ts = b->max_ts;
}

static st_segment *seg_new(const char *dir, uint64_t first_seq, int fd) {
    st_segment *s = calloc(1, sizeof *s);
    if (!s) abort();
    s->dat_path = seg_path(dir, first_seq, "dat");
    s->idx_path = seg_path(dir, first_seq, "idx");
    s->first_seq = first_seq;
    s->fd = fd;
    s->min_ts = INT64_MAX;
    s->max_ts = INT64_MIN;
    atomic_init(&s->refs, 1);
    return s;
}

/* Reads prefix+meta of the block at off and parses it; verifies the data
 * CRC too when check_data. NULL when anything is wrong or incomplete. */
static st_block *read_block(int fd, uint64_t off, uint64_t size, bool check_data) {
    uint8_t pre[ST_BLK_PREFIX];
    uint32_t ml, dl;
    if (size - off < ST_BLK_PREFIX || st_pread_all(fd, pre, sizeof pre, off) < 0 ||
        !st_block_prefix(pre, &ml, &dl) || size - off - ST_BLK_PREFIX < (uint64_t)ml + dl)
        return NULL;
    uint8_t *buf = malloc(ST_BLK_PREFIX + (size_t)ml + (check_data ? dl : 0));
    if (!buf) return NULL;
    st_block *b = NULL;
    if (st_pread_all(fd, buf, ST_BLK_PREFIX + (size_t)ml + (check_data ? dl : 0), off) == 0) {
        b = st_block_parse(buf, ST_BLK_PREFIX + (size_t)ml, off);
        if (b && check_data && st_crc32c(0, buf + ST_BLK_PREFIX + ml, dl) != b->data_crc) {
            free(b);
            b = NULL;
        }
    }
    free(buf);
    return b;
}

/* After a bad block at off: the offset of the next valid block, or 0. */
static uint64_t resync(int fd, uint64_t off, uint64_t size, bool check_data) {
    uint8_t buf[65536];
    for (uint64_t pos = off + 1; pos + ST_BLK_PREFIX <= size;) {
        size_t want = size - pos < sizeof buf ? (size_t)(size - pos) : sizeof buf;
        if (st_pread_all(fd, buf, want, pos) < 0) return 0;
        for (size_t i = 0; i + 4 <= want; i++) {
            if (st_get32(buf + i) != ST_BLK_MAGIC) continue;
            st_block *b = read_block(fd, pos + i, size, check_data);
            if (b) {
                free(b);
                return pos + i;
            }
        }
        if (want < sizeof buf) break;
        pos += want - 3;
    }
    return 0;
}

static void walk(st_segment *s, uint64_t off, uint64_t size, bool check_data, uint64_t *corrupt,
                 uint64_t *torn_at) {
    *torn_at = 0;
    while (off < size) {
        st_block *b = read_block(s->fd, off, size, check_data);
        if (b && (s->nblocks == 0 || b->seq > s->blocks[s->nblocks - 1]->seq)) {
            st_segment_add_block(s, b);
            off += ST_BLK_PREFIX + (uint64_t)b->meta_len + b->data_len;
            continue;
        }
        free(b);
        uint64_t next = resync(s->fd, off, size, check_data);
        if (!next) {
            *torn_at = off;
            break;
        }
        (*corrupt)++;
        off = next;
    }
    s->size = *torn_at ? *torn_at : size;
}

static bool load_idx(st_segment *s, uint64_t size) {
    int fd = open(s->idx_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat st;
    bool ok = false;
    uint8_t *buf = NULL;
    if (fstat(fd, &st) < 0 || st.st_size < 24 || st.st_size > (1LL << 31)) goto out;
    size_t n = (size_t)st.st_size;
    buf = malloc(n);
    if (!buf || st_pread_all(fd, buf, n, 0) < 0) goto out;
    if (memcmp(buf, ST_IDX_MAGIC, 8) != 0 || st_get64(buf + 8) != size ||
        st_crc32c(0, buf, n - 4) != st_get32(buf + n - 4))
        goto out;
    uint32_t count = st_get32(buf + 16);
    size_t pos = 20;
    for (uint32_t i = 0; i < count; i++) {
        if (n - 4 - pos < 8 + ST_BLK_PREFIX) goto out;
        uint64_t off = st_get64(buf + pos);
        uint32_t ml, dl;
        if (!st_block_prefix(buf + pos + 8, &ml, &dl) || n - 4 - pos - 8 < ST_BLK_PREFIX + (size_t)ml)
            goto out;
        st_block *b = st_block_parse(buf + pos + 8, ST_BLK_PREFIX + (size_t)ml, off);
        if (!b || off + ST_BLK_PREFIX + ml + dl > size) {
            free(b);
            goto out;
        }
        st_segment_add_block(s, b);
        pos += 8 + ST_BLK_PREFIX + ml;
    }
    ok = pos == n - 4;
out:
    if (!ok) { /* forget a partial load; the caller walks the .dat */
        for (uint32_t i = 0; i < s->nblocks; i++) free(s->blocks[i]);
        s->nblocks = 0;
        s->min_ts = INT64_MAX;
        s->max_ts = INT64_MIN;
    }
    free(buf);
    close(fd);
    return ok;
}

static bool all_zero(int fd, uint64_t off, uint64_t size) {
    uint8_t buf[65536];
    while (off < size) {
        size_t want = size - off < sizeof buf ? (size_t)(size - off) : sizeof buf;
        if (st_pread_all(fd, buf, want, off) < 0) return false;
        for (size_t i = 0; i < want; i++)
            if (buf[i]) return false;
        off += want;
    }
    return true;
}

/* Whether the unreadable bytes from off to the end can be the one block
 * being appended when the process or the machine stopped: shorter than a
 * prefix, a valid prefix whose block reaches the end (runs past it, or is
 * the last block with bad contents), or zeros (an extension never written).
 * Anything else — e.g. a readable prefix followed by more data that the
 * parser does not understand, as a store written by another version has —
 * is not a torn tail: cutting it would destroy acknowledged data. */
static bool torn_tail(int fd, uint64_t off, uint64_t size) {
    uint64_t rest = size - off;
    if (rest < ST_BLK_PREFIX) return true;
    uint8_t pre[ST_BLK_PREFIX];
    uint32_t ml, dl;
    if (st_pread_all(fd, pre, sizeof pre, off) < 0) return false;
    if (st_block_prefix(pre, &ml, &dl)) return ST_BLK_PREFIX + (uint64_t)ml + dl >= rest;
    return all_zero(fd, off, size);
}

st_segment *st_segment_load(const char *dir, uint64_t first_seq, bool writable, uint64_t *corrupt,
                            uint64_t *torn) {
    char *path = seg_path(dir, first_seq, "dat");
    int fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    free(path);
    if (fd < 0) return NULL;
    struct stat st;
    uint8_t hdr[ST_FILE_HDR];
    if (fstat(fd, &st) < 0 || st.st_size < ST_FILE_HDR || st_pread_all(fd, hdr, sizeof hdr, 0) < 0 ||
        memcmp(hdr, ST_SEG_MAGIC, 8) != 0 || st_get64(hdr + 8) != first_seq) {
        close(fd);
        return NULL;
    }
    st_segment *s = seg_new(dir, first_seq, fd);
    uint64_t size = (uint64_t)st.st_size;
    if (load_idx(s, size)) {
        s->closed = true;
        s->size = size;
        return s;
    }
    uint64_t torn_at;
    walk(s, ST_FILE_HDR, size, writable, corrupt, &torn_at);
    if (torn_at && writable) {
        if (!torn_tail(fd, torn_at, size)) {
            /* Not ours to cut: the caller moves the segment aside (.bad). */
            (*corrupt)++;
            st_segment_unref(s);
            return NULL;
        }
        *torn += size - torn_at;
        if (ftruncate(fd, (off_t)torn_at) == 0) fsync(fd);
    }
    return s;
}

void st_segment_scan_more(st_segment *s, uint64_t *corrupt) {
    struct stat st;
    if (s->closed || fstat(s->fd, &st) < 0 || (uint64_t)st.st_size <= s->size) return;
    uint64_t torn_at;
    walk(s, s->size, (uint64_t)st.st_size, false, corrupt, &torn_at);
    /* an incomplete block at the end is being written: look again next time */
}

st_segment *st_segment_create(const char *dir, uint64_t first_seq, bool dofsync, int *err) {
    char *path = seg_path(dir, first_seq, "dat");
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    free(path);
    if (fd < 0) {
        *err = -errno;
        return NULL;
    }
    uint8_t hdr[ST_FILE_HDR];
    memcpy(hdr, ST_SEG_MAGIC, 8);
    st_put64(hdr + 8, first_seq);
    int r = st_pwrite_all(fd, hdr, sizeof hdr, 0);
    if (!r && dofsync) r = fsync(fd) < 0 ? -errno : st_fsync_dir(dir);
    if (r) {
        close(fd);
        *err = r;
        return NULL;
    }
    st_segment *s = seg_new(dir, first_seq, fd);
    s->size = ST_FILE_HDR;
    s->opened_mono = st_mono_ns();
    return s;
}

int st_segment_close(st_segment *s, const char *dir, bool dofsync) {
    st_buf b = {0};
    st_buf_put(&b, ST_IDX_MAGIC, 8);
    st_buf_u64(&b, s->size);
    st_buf_u32(&b, s->nblocks);
    int r = 0;
    for (uint32_t i = 0; i < s->nblocks && !r; i++) {
        const st_block *k = s->blocks[i];
        st_buf_u64(&b, k->off);
        st_buf_reserve(&b, ST_BLK_PREFIX + k->meta_len);
        r = st_pread_all(s->fd, b.p + b.len, ST_BLK_PREFIX + k->meta_len, k->off);
        b.len += ST_BLK_PREFIX + k->meta_len;
    }
    st_buf_u32(&b, st_crc32c(0, b.p, b.len));
    char *tmp = NULL;
    if (asprintf(&tmp, "%s.tmp", s->idx_path) < 0) abort();
    int fd = r ? -1 : open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (!r && fd < 0) r = -errno;
    if (!r) r = st_write_all(fd, b.p, b.len);
    if (!r && dofsync && fsync(fd) < 0) r = -errno;
    if (fd >= 0) close(fd);
    if (!r && rename(tmp, s->idx_path) < 0) r = -errno;
    if (!r && dofsync) r = st_fsync_dir(dir);
    if (r) unlink(tmp);
    else s->closed = true;
    free(tmp);
    st_buf_free(&b);
    return r;
}

int st_segment_truncate_seq(st_segment *s, uint64_t seq) {
    uint32_t i = 0;
    while (i < s->nblocks && s->blocks[i]->seq < seq) i++;
    if (i == s->nblocks) return 0;
    uint64_t cut = s->blocks[i]->off;
    for (uint32_t j = i; j < s->nblocks; j++) free(s->blocks[j]);
    s->nblocks = i;
    s->min_ts = INT64_MAX;
    s->max_ts = INT64_MIN;
    for (uint32_t j = 0; j < i; j++) {
        if (s->blocks[j]->min_ts < s->min_ts) s->min_ts = s->blocks[j]->min_ts;
        if (s->blocks[j]->max_ts > s->max_ts) s->max_ts = s->blocks[j]->max_ts;
    }
    s->size = cut;
    unlink(s->idx_path); /* never valid for a cut segment */
    s->closed = false;
    if (ftruncate(s->fd, (off_t)cut) < 0 || fsync(s->fd) < 0) return -errno;
    return 0;
}
