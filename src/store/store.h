/* store.h — trail's embedded log store: append-only, compressed, indexed,
 * crash-safe. The write side is used by traild's "store" output; the read
 * side by the query engine (LogQL), the Loki-compatible HTTP API and the
 * `trail` CLI. File formats and the crash-safety argument: docs/store.md.
 *
 * Model
 *   An entry is (category, stream labels, ts_ns, line, request_id, user_id,
 *   trace_id). A stream is a sorted set of label name=value pairs; the store
 *   always adds the label `category` (the entry's category) to it, so
 *   `{category="access"}` selects a category. stream id = 64-bit hash of the
 *   sorted labels (category included).
 *   Each category is a partition (a sub-directory) with its own write-ahead
 *   log, segments of zstd blocks, retention and dedupe window.
 *
 * Durability
 *   trail_store_append() puts entries in the write-ahead log (not yet
 *   durable); trail_store_sync() fsyncs it. Only after sync returns 0 are the
 *   appended entries durable: a kill -9 (or power loss) afterwards loses
 *   none of them. Acknowledge to the collector only after sync.
 *
 * Ordering and duplicates
 *   Any timestamp is accepted, in any order (late entries go to a later
 *   block whose time range overlaps older ones; readers merge). Readers
 *   always return entries in the total order (ts_ns, stream_id, line bytes)
 *   — or its exact reverse for backward iteration.
 *   An exact duplicate — same stream, ts_ns and line — of an entry among the
 *   last `dedupe_window` entries of its category (default 131072, covering
 *   traild's re-sent in-flight batches after a crash many times over) is
 *   dropped at append. Duplicates are recognised by a 64-bit hash of
 *   (stream id, ts, line) plus the ts itself; see docs/store.md.
 *
 * Concurrency
 *   One store handle may be used from any number of threads: appends and
 *   syncs are serialised per category; iterators are independent and run in
 *   parallel with the writer (each iterator is used by one thread at a time).
 *   In-process readers see every appended entry (sealed blocks and the
 *   unsealed head). Another process may open the same directory read-only
 *   (TRAIL_STORE_READONLY) while the writer runs: it sees every entry the
 *   writer had synced (sealed blocks, and the WAL for the rest) when it
 *   opened, and what was synced since after trail_store_refresh(). Only one
 *   writer may open a directory (an flock on <dir>/LOCK; -EBUSY otherwise).
 *
 * Conventions: int returns are 0 (or a documented positive value) or a
 * negative errno; err/errlen, where given, receive an actionable message.
 * Strings passed in are copied; pointers handed out are valid as documented.
 * Stability: additive changes only.
 */
#ifndef TRAIL_STORE_H
#define TRAIL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ types */

typedef struct trail_store trail_store;
typedef struct trail_store_iter trail_store_iter;

typedef struct trail_store_label {
    const char *name;   /* NUL-terminated, non-empty */
    const char *value;  /* NUL-terminated (may be empty) */
} trail_store_label;

/* An entry, for appending and as returned by iterators. */
typedef struct trail_store_entry {
    const char *category;           /* partition: [a-z0-9_-]{1,64}; required on append */
    const trail_store_label *labels;/* stream labels (any order on append; sorted by name
                                     * when returned, `category` included) */
    uint32_t nlabels;
    uint64_t stream_id;             /* ignored on append; set by iterators */
    int64_t ts_ns;                  /* unix ns */
    const char *line;               /* the log line (JSON usually); any bytes */
    uint32_t line_len;              /* at most TRAIL_STORE_MAX_LINE */
    /* High-cardinality fields, indexed by the block bloom filters. NUL-
     * terminated or NULL when absent. On append, when all three are NULL, the
     * store extracts them from the line's top-level JSON string fields
     * "request_id", "user_id", "trace_id" (if the line is JSON). */
    const char *request_id;
    const char *user_id;
    const char *trace_id;
} trail_store_entry;

#define TRAIL_STORE_MAX_LINE (16u << 20)
#define TRAIL_STORE_MAX_LABELS 64

/* Retention for one category. */
typedef struct trail_store_retention {
    const char *category;
    int64_t max_age_ns;  /* a segment whose newest entry is older than this is deleted; 0 = keep */
} trail_store_retention;

enum {
    TRAIL_STORE_READONLY = 1 << 0,  /* read-only, no lock, never writes; may run in another
                                     * process while a writer has the directory open */
    TRAIL_STORE_NO_FSYNC = 1 << 1,  /* tests/benchmarks only: skip fsync (kill -9 safe, not
                                     * power-loss safe) */
    TRAIL_STORE_NO_BACKGROUND = 1 << 2 /* no background thread: call trail_store_maintain() */
};

/* Options; zero-initialise and set what you need: 0 / NULL means the default. */
typedef struct trail_store_config {
    const char *dir;                 /* required; created (with parents) unless read-only */
    unsigned flags;                  /* TRAIL_STORE_* */
    /* Retention: per category (defaults: access 731 days, app 90 days), and for
     * categories not listed `default_max_age_ns` (default 90 days; <0 = keep). */
    const trail_store_retention *retention;
    uint32_t nretention;
    int64_t default_max_age_ns;
    uint64_t max_bytes;              /* total size cap over all categories; 0 = none.
                                      * Oldest whole segments (by newest entry) go first. */
    uint32_t block_bytes;            /* raw bytes per block (default 256 KiB) */
    uint32_t head_bytes;             /* raw bytes buffered before sealing (default 4 MiB) */
    uint64_t segment_bytes;          /* a segment file is closed past this size (default 64 MiB) */
    int64_t segment_span_ns;         /* ... or when it has been open this long (default 1 h),
                                      * so retention can delete at that granularity */
    int64_t seal_interval_ns;        /* seal a non-empty head at least this often (default 2 s) */
    uint32_t dedupe_window;          /* entries per category remembered for dedupe (default 128 Ki;
                                      * 2 x 16 bytes of memory per entry) */
    int zstd_level;                  /* default 1 (on JSONL it compresses as well as 3, faster) */
    int64_t maintain_interval_ns;    /* background retention pass period (default 10 s) */
} trail_store_config;

/* ------------------------------------------------------------ open/close */

/* Opens (creating if needed) the store in cfg->dir. A writer recovers the
 * previous run: validates every category's WAL and active segment, drops a
 * torn tail (never an entry acknowledged by a successful sync) and replays
 * the WAL. Corrupt bytes never crash the open: damaged blocks are skipped
 * (and counted in stats.corrupt_blocks). */
int trail_store_open(const trail_store_config *cfg, trail_store **out, char *err, size_t errlen);

/* Writer: syncs and seals the heads (so other processes see everything),
 * stops the background thread, closes files. NULL is a no-op. */
void trail_store_close(trail_store *s);

/* ------------------------------------------------------------ writing */

typedef struct trail_store_append_result {
    uint32_t stored;      /* entries added */
    uint32_t duplicates;  /* exact duplicates dropped */
} trail_store_append_result;

/* Appends n entries (to the WAL; durable after trail_store_sync). Entries of
 * a call may mix categories. -EINVAL for a bad category/label/line (nothing
 * of the call is appended then), -EROFS if read-only, -EIO/-ENOSPC on write
 * errors (each category's part of the call is rolled back whole; other
 * categories' parts may be in: retrying the call is safe, duplicates are
 * dropped). res may be NULL. */
int trail_store_append(trail_store *s, const trail_store_entry *e, size_t n,
                       trail_store_append_result *res);

/* Makes every entry appended so far durable (fsync of the WAL and stream
 * tables). 0 or -errno. */
int trail_store_sync(trail_store *s);

/* Seals every head into blocks now (tests, shutdown of a reader-facing
 * process, benchmarks). Not needed for durability. */
int trail_store_flush(trail_store *s);

/* One retention pass (what the background thread runs): deletes segments of
 * categories past their age, then oldest segments while over max_bytes;
 * also seals heads older than seal_interval. now_ns is the wall clock to
 * judge age by (0 = CLOCK_REALTIME now). Returns segments deleted. */
int trail_store_maintain(trail_store *s, int64_t now_ns);

/* ------------------------------------------------------------ reading */

/* A stream as handed to matchers and listings. Pointers stay valid while the
 * store is open. */
typedef struct trail_store_stream {
    uint64_t id;
    const char *category;
    const trail_store_label *labels;  /* sorted by name, `category` included */
    uint32_t nlabels;
    int64_t min_ts, max_ts;           /* approximate time range of its data */
} trail_store_stream;

/* Returns true to include the stream. Called from the iterating thread. */
typedef bool (*trail_store_stream_match)(void *ctx, const trail_store_stream *st);

/* Bloom keys: a block is skipped unless it may contain every key given. */
typedef enum trail_store_key_kind {
    TRAIL_STORE_KEY_REQUEST_ID = 'r', /* entries are also filtered exactly: request_id == value */
    TRAIL_STORE_KEY_USER_ID = 'u',    /* ... user_id == value */
    TRAIL_STORE_KEY_TRACE_ID = 't',   /* ... trace_id == value */
    TRAIL_STORE_KEY_TOKEN = 'w'       /* a whole token of the line (see trail_store_tokens);
                                       * only skips blocks, entries are not filtered */
} trail_store_key_kind;

typedef struct trail_store_key {
    trail_store_key_kind kind;
    const char *value;
    size_t len;
} trail_store_key;

typedef struct trail_store_query {
    int64_t from_ns, to_ns;           /* [from_ns, to_ns); 0 = unbounded on that side */
    bool backward;                    /* newest first */
    const char *const *categories;    /* NULL = every category */
    uint32_t ncategories;
    trail_store_stream_match match;   /* NULL = every stream */
    void *match_ctx;
    const trail_store_key *keys;      /* all must be present (AND); copied */
    uint32_t nkeys;
} trail_store_query;

/* Starts an iteration. Sees what was appended before the call (in-process)
 * or sealed before open/refresh (read-only). Safe against concurrent
 * appends, seals and retention (deleted files stay readable until the
 * iterator is closed). */
int trail_store_iter_open(trail_store *s, const trail_store_query *q, trail_store_iter **out);

/* Next entry: returns 1 and sets *e (valid until the next call or close), 0
 * at the end. A block that cannot be read or fails its CRC is skipped and
 * counted in stats.corrupt_blocks (the iteration goes on); should a future
 * version report it, it returns -EIO and the caller may keep calling next. */
int trail_store_iter_next(trail_store_iter *it, const trail_store_entry **e);

/* How many blocks the iteration skipped by index (time/stream/bloom) and
 * decompressed so far: for tests, benchmarks and EXPLAIN-style output. */
void trail_store_iter_counts(const trail_store_iter *it, uint64_t *skipped, uint64_t *read);

void trail_store_iter_close(trail_store_iter *it);

/* Visits every stream that may have data in [from_ns, to_ns) (to_ns 0 = no
 * bound), optionally only those `match` accepts. Stops early and returns
 * the visitor's value if it returns non-zero. */
typedef int (*trail_store_stream_visit)(void *ctx, const trail_store_stream *st);
int trail_store_streams(trail_store *s, int64_t from_ns, int64_t to_ns,
                        trail_store_stream_visit fn, void *ctx);

/* Distinct label names / values of one label over the streams with data in
 * [from_ns, to_ns), sorted, each once. Returns a malloc'd array of
 * malloc'd strings in *out (free with trail_store_strings_free) and its size
 * in *n. */
int trail_store_label_names(trail_store *s, int64_t from_ns, int64_t to_ns, char ***out, size_t *n);
int trail_store_label_values(trail_store *s, const char *name, int64_t from_ns, int64_t to_ns,
                             char ***out, size_t *n);
void trail_store_strings_free(char **v, size_t n);

/* Read-only handles: picks up streams, segments, blocks and WAL records
 * written since open or the last refresh (safe while iterators run). No-op
 * (0) for the writer's own handle. */
int trail_store_refresh(trail_store *s);

/* ------------------------------------------------------------ tokens */

/* The line-token rule of the token bloom: a token is a maximal run of bytes
 * in [A-Za-z0-9] or >= 0x80, at least 3 bytes long, not only digits, and
 * not a JSON object key (directly followed by `":`); case matters.
 * trail_store_filter_tokens() gives the tokens that any line CONTAINING the
 * substring s must have as whole tokens: those inside s bounded on both
 * sides by a non-token byte of s, not only digits, and not followed by `"`
 * then `:` or the end of s (e.g. "id=ab12-cd34-ef56" gives "ab12" and
 * "cd34": "id" is too short and "ef56" may continue in the line).
 * Use them as TRAIL_STORE_KEY_TOKEN keys for a `|= "s"` line filter. Calls
 * fn for each (not NUL-terminated); returns how many. */
typedef void (*trail_store_token_fn)(void *ctx, const char *tok, size_t len);
size_t trail_store_filter_tokens(const char *s, size_t n, trail_store_token_fn fn, void *ctx);

/* ------------------------------------------------------------ stats */

typedef struct trail_store_stats {
    uint64_t entries;          /* entries stored (sealed + head) */
    uint64_t duplicates;       /* dropped as exact duplicates since open */
    uint64_t raw_bytes;        /* sum of line bytes stored */
    uint64_t disk_bytes;       /* bytes of all files (segments, indexes, WAL, streams) */
    uint64_t blocks, segments, streams;
    uint64_t head_entries;     /* not yet sealed */
    uint64_t segments_deleted; /* by retention / size cap since open */
    uint64_t corrupt_blocks;   /* skipped as unreadable */
    uint64_t torn_bytes;       /* dropped from torn tails at open */
} trail_store_stats;

void trail_store_get_stats(trail_store *s, trail_store_stats *st);

/* Human text for a store error code (a negative errno). */
const char *trail_store_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif
