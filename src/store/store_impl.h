/* store_impl.h — the store's internal structures, shared by its files.
 *
 * Locking (per category partition):
 *   part->mu  serialises writers: append, sync, seal, segment roll, retention.
 *   part->rw  guards what readers look at: the stream table, the segment and
 *             block lists, and the head. Writers take it in write mode only to
 *             publish (add head entries, swap a sealed head for its blocks,
 *             remove a deleted segment); readers take it in read mode while
 *             they choose blocks and copy matching head entries.
 *   Order: store->rw, then part->mu, then part->rw.
 * Published blocks and streams are immutable; a segment (with its blocks)
 * is reference-counted so an iterator can keep reading a deleted one.
 */
#ifndef TRAIL_STORE_IMPL_H
#define TRAIL_STORE_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include "store.h"
#include "store_util.h"

/* ------------------------------------------------------------ on disk */

#define ST_SEG_MAGIC "TRSEG001"  /* segment .dat header: magic + u64 first_seq */
#define ST_IDX_MAGIC "TRIDX001"
#define ST_WAL_MAGIC "TRWAL001"  /* WAL header: magic + u64 seq */
#define ST_STR_MAGIC "TRSTR001"  /* streams file header */
#define ST_BLK_MAGIC 0x4b4c4254u /* "TBLK" little-endian */
#define ST_FILE_HDR 16
#define ST_BLK_PREFIX 24         /* magic, meta_len, data_len, meta_crc, data_crc, prefix_crc */
#define ST_ID_ABSENT 0xffffu
#define ST_MAX_ID 1024           /* longer ids are cut (they are keys, not text) */
/* Two blooms per block: ids (request/user/trace) at ~7e-5 false positives,
 * so a request-id story over 10M entries opens almost only its own blocks;
 * line tokens at ~1% (they are many; filters on them prune less anyway). */
#define ST_BLOOM_IDS 0
#define ST_BLOOM_TOKENS 1
#define ST_ID_BITS_PER_KEY 20
#define ST_ID_K 14
#define ST_TOK_BITS_PER_KEY 10
#define ST_TOK_K 7

/* ------------------------------------------------------------ streams */

typedef struct st_stream {
    trail_store_stream pub;   /* min_ts/max_ts change under part->rw (write) */
} st_stream;

typedef struct st_stream_table {
    st_stream **v;            /* in creation order */
    uint32_t n, cap;
    st_stream **map;          /* open addressing by id */
    uint32_t map_cap;         /* power of two */
} st_stream_table;

st_stream *st_streams_find(const st_stream_table *t, uint64_t id);
/* Adds a stream (labels sorted, `category` included); returns it. */
st_stream *st_streams_add(st_stream_table *t, uint64_t id, const char *category,
                          const trail_store_label *labels, uint32_t n);
void st_streams_free(st_stream_table *t);
/* Sorted labels -> stream id. */
uint64_t st_stream_id(const trail_store_label *sorted, uint32_t n);
/* Streams file record for a stream. */
void st_streams_encode(st_buf *out, const st_stream *s);
/* Parses records from buf[0..n) (after the header), adding unknown streams;
 * returns the length of the valid prefix. */
size_t st_streams_parse(st_stream_table *t, const char *category, const uint8_t *buf, size_t n);

/* ------------------------------------------------------------ keys */

/* The distinct bloom keys of a block being built: open addressing, 0 is an
 * empty slot (a key hash of 0 is stored as 1, as st_bloom_has reads it). */
typedef struct st_keyset {
    uint64_t *v;
    uint32_t n, cap;
} st_keyset;

void st_keyset_grow(st_keyset *k);
void st_keyset_clear(st_keyset *k);
void st_keyset_free(st_keyset *k);
static inline void st_keyset_add(st_keyset *k, uint64_t h) {
    if (!h) h = 1;
    if ((k->n + 1) * 2 > k->cap) st_keyset_grow(k);
    uint32_t mask = k->cap - 1, j = (uint32_t)h & mask;
    while (k->v[j]) {
        if (k->v[j] == h) return;
        j = (j + 1) & mask;
    }
    k->v[j] = h;
    k->n++;
}
/* Adds the key of every token of a line (the token rule in store.h), as
 * st_key_unmixed values. */
void st_index_line_tokens(st_keyset *k, const char *s, size_t n);
/* The same, byte by byte: the reference the fast scan is tested against. */
void st_index_line_tokens_ref(st_keyset *k, const char *s, size_t n);

/* ------------------------------------------------------------ blocks */

typedef struct st_block {
    uint64_t seq;
    uint64_t off;             /* of the block record in the .dat file */
    uint32_t meta_len, data_len, data_crc;
    int64_t min_ts, max_ts;
    uint32_t count, raw_len;
    uint64_t line_bytes;
    uint32_t nstreams;
    uint64_t *streams;        /* sorted */
    uint32_t bloom_bits[2];   /* ST_BLOOM_IDS, ST_BLOOM_TOKENS; a multiple of 64 */
    uint32_t bloom_k[2];
    uint8_t *bloom[2];
} st_block;

/* One entry while building or after decoding a block. */
typedef struct st_ent {
    uint64_t stream_id;
    int64_t ts;
    const char *line;
    uint32_t line_len;
    uint16_t id_len[3];       /* ST_ID_ABSENT when absent */
    const char *id[3];        /* request_id, user_id, trace_id */
} st_ent;

int st_ent_cmp(const st_ent *a, const st_ent *b);  /* (ts, stream, line) */

/* What building blocks needs, kept by the sealer between blocks and seals
 * so that sealing does not allocate (and page-fault) megabytes each time. */
typedef struct st_builder {
    void *zcctx;              /* ZSTD_CCtx */
    st_keyset keys, idkeys;
    st_buf a, idb, raw;
    uint64_t *ids;
    size_t idscap;
    struct st_ent *ents;      /* the head's entries, sorted, during a seal */
    size_t entcap;
    struct st_ent *ents2;     /* st_sort_entries' other buffer */
    size_t ents2cap;
    struct skey *skeys;
    size_t skeycap;
} st_builder;
/* Sorts n entries (in b->ents) by st_ent_cmp; returns the sorted array,
 * b->ents afterwards (it may swap buffers with b->ents2). */
st_ent *st_sort_entries(st_builder *b, st_ent *e, size_t n);
void st_builder_free(st_builder *b);
/* Builds one block record (prefix + meta + zstd data) from entries sorted
 * by st_ent_cmp, appending it to out. */
void st_block_build(st_buf *out, uint64_t seq, const st_ent *e, size_t n, st_builder *bld, int zlevel);
/* Parses a block prefix + meta at p (len bytes available, at least the
 * prefix and meta). Returns a malloc'd block or NULL when invalid. off is
 * stored in it. */
st_block *st_block_parse(const uint8_t *p, size_t len, uint64_t off);
/* Size of the prefix check: fills meta_len/data_len; false if bad. */
bool st_block_prefix(const uint8_t *p, uint32_t *meta_len, uint32_t *data_len);
bool st_bloom_has(const st_block *b, int which, uint64_t key_hash);
/* Decompresses and decodes a block's data (data_len bytes at data) into
 * entries pointing into *raw (malloc'd, caller frees). Returns count or -errno. */
int st_block_decode(const st_block *b, const uint8_t *data, uint8_t **raw, st_ent **ents);

/* ------------------------------------------------------------ tokens */

/* Finds "name":"value" in a JSON line; returns value pointer/len (raw, not unescaped). */
bool st_json_find_str(const char *line, size_t n, const char *name, const char **v, size_t *vlen);

/* ------------------------------------------------------------ segments */

typedef struct st_segment {
    char *dat_path, *idx_path;
    uint64_t first_seq;
    int fd;
    uint64_t size;            /* valid bytes (end of the last good block) */
    st_block **blocks;
    uint32_t nblocks, cap;
    int64_t min_ts, max_ts;
    int64_t opened_mono;      /* when the writer created it (for segment_span) */
    bool closed;              /* has a valid .idx; never written again */
    atomic_int refs;
} st_segment;

void st_segment_ref(st_segment *s);
void st_segment_unref(st_segment *s);
void st_segment_add_block(st_segment *s, st_block *b);
/* Opens an existing segment, loading its blocks from the .idx or by walking
 * the .dat; writable: truncate a torn tail. corrupt/torn counters are added to. */
st_segment *st_segment_load(const char *dir, uint64_t first_seq, bool writable,
                            uint64_t *corrupt, uint64_t *torn);
/* Walks new blocks past s->size (read-only refresh). */
void st_segment_scan_more(st_segment *s, uint64_t *corrupt);
st_segment *st_segment_create(const char *dir, uint64_t first_seq, bool dofsync, int *err);
/* Writes the .idx sidecar (tmp, fsync, rename, fsync dir) and marks closed. */
int st_segment_close(st_segment *s, const char *dir, bool dofsync);
/* Cuts the segment back to before its first block with seq >= seq. */
int st_segment_truncate_seq(st_segment *s, uint64_t seq);

/* ------------------------------------------------------------ dedupe */

/* Two generations of fingerprints; a lookup checks both, so at least the
 * last `window` insertions are remembered. */
typedef struct st_dedupe {
    uint64_t *gen[2];
    uint32_t n[2];
    uint32_t cap;             /* slots per generation (power of two, 2 x window) */
    uint32_t window;
} st_dedupe;

void st_dedupe_init(st_dedupe *d, uint32_t window);
void st_dedupe_free(st_dedupe *d);
bool st_dedupe_has(const st_dedupe *d, uint64_t fp);
void st_dedupe_add(st_dedupe *d, uint64_t fp);
/* st_dedupe_has, and st_dedupe_add when absent; true if it was there. */
bool st_dedupe_check_add(st_dedupe *d, uint64_t fp);
void st_dedupe_del(st_dedupe *d, uint64_t fp);  /* undo an add (rolled back append) */
static inline void st_dedupe_prefetch(const st_dedupe *d, uint64_t fp) {
    __builtin_prefetch(&d->gen[0][(uint32_t)fp & (d->cap - 1)]);
    __builtin_prefetch(&d->gen[1][(uint32_t)fp & (d->cap - 1)]);
}
uint64_t st_fingerprint(uint64_t stream_id, int64_t ts, const char *line, size_t n);

/* ------------------------------------------------------------ partitions */

typedef struct st_hent {      /* an entry of the head: data in part->hdata */
    uint64_t stream_id;
    int64_t ts;
    uint64_t off;             /* line, then ids, in hdata */
    uint32_t line_len;
    uint16_t id_len[3];
} st_hent;

typedef struct st_partition {
    trail_store *store;
    char *name, *dir;
    pthread_mutex_t mu;
    pthread_rwlock_t rw;
    st_stream_table streams;
    int streams_fd;
    uint64_t streams_size;    /* valid bytes read/written */
    bool streams_dirty;
    st_segment **segs;        /* by first_seq */
    uint32_t nsegs, segcap;
    uint64_t next_seq;        /* seq of the next block */
    int wal_fd;
    uint64_t wal_seq, wal_size;
    bool wal_dirty;
    st_hent *head;
    size_t nhead, headcap;
    st_buf hdata;
    int64_t head_since;       /* monotonic ns of the oldest unsealed entry */
    st_dedupe dd;
    st_buf scratch;
    st_builder bld;           /* the sealer's (writers only) */
    st_buf sealed;            /* the blocks of one seal, before they are written */
    uint64_t view_cutoff;     /* blocks with seq >= this are not shown: a read-only
                               * handle shows them from the WAL instead (UINT64_MAX
                               * for the writer) */
} st_partition;

struct trail_store {
    trail_store_config cfg;   /* defaults filled; strings owned */
    bool ro, dofsync;
    int lock_fd;
    pthread_rwlock_t rw;      /* parts[] */
    st_partition **parts;
    uint32_t nparts, partcap;
    pthread_t bg;
    bool bg_running, stop;
    pthread_mutex_t bg_mu;
    pthread_cond_t bg_cv;
    atomic_uint_fast64_t duplicates, segments_deleted, corrupt_blocks, torn_bytes;
};

int st_part_open(trail_store *s, const char *name, bool create, st_partition **out);
void st_part_free(st_partition *p);
/* Under p->mu. */
int st_part_append(st_partition *p, const trail_store_entry *const *e, size_t n,
                   trail_store_append_result *res);
int st_part_sync(st_partition *p);
int st_part_seal(st_partition *p);
int st_part_retire(st_partition *p, int64_t cutoff_ns); /* deletes segments with max_ts < cutoff */
int st_part_delete_oldest(st_partition *p, uint64_t *freed);
int st_part_refresh(st_partition *p);
/* Read-only handles: loads the newest WAL as the head (entries not sealed
 * yet), and hides blocks the WAL covers. */
void st_part_ro_wal(st_partition *p);
uint64_t st_part_disk_bytes(st_partition *p);
int st_part_load_streams_more(st_partition *p, bool writable);
char *st_wal_path(const st_partition *p, uint64_t seq);
void st_part_add_segment(st_partition *p, st_segment *s);
/* Adds an entry to the head (takes p->rw for writing). */
void st_part_head_add(st_partition *p, const st_ent *e, uint64_t fp);
/* Creates wal-<seq> and makes it the WAL (the previous one is removed). */
int st_part_wal_create(st_partition *p, uint64_t seq);
st_partition *st_store_part(trail_store *s, const char *name, bool create, int *err);
bool st_category_ok(const char *c);
int64_t st_retention_for(const trail_store *s, const char *category);

#endif
