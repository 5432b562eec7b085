/* pipeline.h — traild's internal interfaces: records, batches, the
 * input / parser / processor / output plug-in interfaces, acknowledgement,
 * option tables and counters.
 *
 * Data path (one event-loop thread drives everything up to submit):
 *
 *   input (file tail) ─ complete lines ─► parser ─► input processors
 *        ─► batch (arena-owned records) ─► per-output processors
 *        ─► output->submit()  ...later, any thread...  ta_batch_done()
 *        ─► when every output is done with a batch AND with every earlier
 *           batch, the batch's spans are committed: input->commit(), which
 *           is what moves checkpointed read positions.
 *
 * Why positions wait for the slowest output: a position saved before the
 * data is durable elsewhere is a line lost on kill -9 (the classic bug of
 * Fluent Bit, Promtail, Fluentd, rsyslog). Commits are in batch order, so a
 * restart re-reads at most the batches still in flight (at-least-once; the
 * duplicates carry their original timestamps so Loki drops them).
 *
 * Back-pressure: the pipeline keeps at most `max_inflight` batches (config
 * `pipeline.max_inflight_batches`, bytes capped too) between emit and commit;
 * when full, inputs are not polled. Memory is bounded by that, so outputs
 * never need their own unbounded queue: an output may always accept what is
 * submitted (its queue need hold at most max_inflight batches).
 *
 * Conventions: int returns are 0 or a negative errno; err/errlen buffers get
 * an actionable message. Names: ta_<noun>_<verb>. Stability: additive
 * changes only (new fields at the end of structs, new functions).
 */
#ifndef TRAILD_PIPELINE_H
#define TRAILD_PIPELINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------ arena */

/* A bump allocator; every string and array of a batch lives in the batch's
 * arena and is freed at once when the batch is released. Not thread-safe:
 * only the event-loop thread allocates (parsers, processors). Outputs treat
 * a submitted batch as read-only. */
typedef struct ta_arena ta_arena;
void *ta_arena_alloc(ta_arena *a, size_t n);                   /* 8-aligned; aborts on OOM */
char *ta_arena_strndup(ta_arena *a, const char *s, size_t n);  /* NUL-terminated copy */

/* ------------------------------------------------------------ fields */

/* How a field value renders in JSON. Numbers are kept as their (valid JSON)
 * literal text so nothing is lost converting; TA_RAW is a JSON object or
 * array text rendered verbatim. */
typedef enum ta_kind {
    TA_STR = 0, /* UTF-8 text (already unescaped); rendered as a JSON string */
    TA_INT,     /* e.g. "200" */
    TA_FLOAT,   /* e.g. "0.0123" */
    TA_BOOL,    /* "true" / "false" */
    TA_NULL,    /* "null" */
    TA_RAW      /* "{...}" or "[...]" */
} ta_kind;

typedef struct ta_field {
    const char *key;  /* NUL-terminated; ECS-style dotted names ("http.request.method") */
    const char *val;  /* NUL-terminated text (STR may also contain NUL bytes: use val_len) */
    uint32_t val_len;
    uint8_t kind;     /* ta_kind */
    uint8_t plain;    /* TA_PLAIN_*: set by parsers, see ta_field_plain_val() */
    uint16_t key_len; /* strlen(key) when plain has TA_PLAIN_KEY */
} ta_field;

/* A parser that knows a key or value is printable ASCII without '"' or
 * '\\' says so in ta_field.plain, and renderers then copy it as it is
 * instead of escaping it. The mark is trusted only while the string still
 * lies in the record's parser copy (ta_record.own), so a processor that
 * points key or val elsewhere can never leave a stale mark behind. */
enum { TA_PLAIN_VAL = 1, TA_PLAIN_KEY = 2 };

typedef struct ta_label {
    const char *name;
    const char *value;
} ta_label;

/* -------------------------------------------------------- file identity */

/* How many leading bytes are hashed for the fingerprint. A file shorter than
 * this has fp_len < TA_FP_BYTES and its fingerprint is re-taken as it grows. */
#define TA_FP_BYTES 1024

/* Identity of a tailed file: (device, inode) plus a hash of its first bytes,
 * so inode reuse after delete+create is recognised as a new file. */
typedef struct ta_file_id {
    uint64_t dev;
    uint64_t ino;
    uint64_t fp;      /* 64-bit hash of the first fp_len bytes (0 when fp_len == 0) */
    uint32_t fp_len;  /* bytes hashed, <= TA_FP_BYTES */
} ta_file_id;

/* ------------------------------------------------------------ inputs */

/* What an input is, shared by all its records: name, category and static
 * labels from the config. Valid until every batch holding records of it is
 * released (a config reload keeps the old ones alive as long as needed). */
typedef struct ta_input_info {
    const char *name;      /* config name of the input ("nginx", "app") */
    const char *type;      /* input type ("file") */
    const char *category;  /* "app", "access" or a user-chosen name */
    const ta_label *labels;/* static labels (service, host, ...) */
    uint32_t nlabels;
} ta_input_info;

/* A span: the byte range of one source file covered by one batch. Spans are
 * what acknowledgement commits; a record filtered out by a processor still
 * counts in its span (so dropped lines are not re-read forever). */
typedef struct ta_span {
    uint64_t source;       /* the input's id of the open file; unique per traild run */
    const ta_input_info *input;
    const char *path;      /* path when read (arena copy; may be stale after a rename) */
    ta_file_id id;
    uint64_t begin;        /* first byte of the first line in this batch */
    uint64_t end;          /* byte after the last complete line (its newline) */
} ta_span;

/* The input plug-in interface (file tailing today) is in input.h: inputs
 * hand complete entries to the pipeline and get commit() calls back. */

/* ------------------------------------------------------------ records */

/* OTel severity numbers: TRACE 1, DEBUG 5, INFO 9, WARN 13, ERROR 17, FATAL 21;
 * 0 = unknown. */
enum { TA_SEV_UNKNOWN = 0, TA_SEV_TRACE = 1, TA_SEV_DEBUG = 5, TA_SEV_INFO = 9,
       TA_SEV_WARN = 13, TA_SEV_ERROR = 17, TA_SEV_FATAL = 21 };

typedef struct ta_record {
    int64_t ts_ns;          /* event time, unix ns: parsed from the line, else observed_ns.
                             * Kept on re-reads after a crash, so a deduplicating store
                             * recognises a resent entry. */
    int64_t observed_ns;    /* when traild read the line (unix ns) */
    const char *line;       /* the raw entry without its trailing newline; multiline
                             * entries are joined with '\n'. Not NUL-terminated. */
    uint32_t line_len;
    uint8_t severity;       /* TA_SEV_*, 0 when unknown */
    bool parse_error;       /* the parser could not parse the line (it is kept raw) */
    uint16_t span;          /* index into the batch's spans[] */
    const char *level;      /* normalised lowercase level ("info", "warning"), or NULL */
    const char *message;    /* parsed message, or NULL (then the line is the message) */
    ta_field *fields;       /* parsed fields (not including ts/level/message), in order */
    uint32_t nfields;
    uint32_t fields_cap;
    uint64_t offset;        /* byte offset of the entry's first byte in its file */
    const ta_input_info *input;
    const char *own;        /* the parser's private copy of the line, which plain-marked
                             * field strings point into (ta_field.plain), or NULL */
    uint32_t own_len;
    uint32_t message_len;   /* the parser's message length and plainness (TA_PLAIN_VAL), */
    uint8_t message_plain;  /* trusted only while message lies in own */
    uint64_t key_bloom;     /* ta_key_bit() of every field key (a superset: see below) */
} ta_record;

/* One bit per key name in ta_record.key_bloom, a filter of the record's
 * field keys: a lookup whose bit is clear needs not read the fields (cold
 * memory for an output's thread; Loki looks up labels and metadata that most
 * entries lack). record.c keeps it up to date; code that renames a key in
 * place uses ta_record_rename(). Bits are never cleared (a deleted key's
 * bit only costs a scan); 0 means "not kept" (a record built by hand), so
 * every lookup scans. */
static inline uint64_t ta_key_bit(const char *k, size_t n) {
    return n ? 1ull << (((unsigned char)k[0] * 7u + (unsigned char)k[n - 1] * 31u + (unsigned)n) & 63) : 1;
}
static inline bool ta_record_may_have(const ta_record *r, const char *k, size_t n) {
    return !r->key_bloom || (r->key_bloom & ta_key_bit(k, n)) != 0;
}

static inline bool ta_in_own(const ta_record *r, const char *s, size_t n) {
    return r->own && s >= r->own && s + n <= r->own + r->own_len;
}
/* The field's value needs no JSON escaping (see TA_PLAIN_VAL). */
static inline bool ta_field_plain_val(const ta_record *r, const ta_field *f) {
    return (f->plain & TA_PLAIN_VAL) && ta_in_own(r, f->val, f->val_len);
}
/* The message needs no JSON escaping and is message_len bytes long. */
static inline bool ta_message_plain(const ta_record *r) {
    return r->message && r->message_plain && ta_in_own(r, r->message, r->message_len) &&
           !r->message[r->message_len];
}
/* The field's key needs no JSON escaping and is key_len bytes long. */
static inline bool ta_field_plain_key(const ta_record *r, const ta_field *f) {
    return (f->plain & TA_PLAIN_KEY) && ta_in_own(r, f->key, f->key_len) && !f->key[f->key_len];
}

/* Field helpers (record.c). Strings are copied into the arena. add appends
 * (no duplicate check); set replaces the first field with that key or adds. */
ta_field *ta_record_add(ta_record *r, ta_arena *a, const char *key, const char *val,
                        size_t len, ta_kind kind);
ta_field *ta_record_set(ta_record *r, ta_arena *a, const char *key, const char *val,
                        size_t len, ta_kind kind);
ta_field *ta_record_get(const ta_record *r, const char *key);
/* add without copying: key (key_len bytes) and val (NUL-terminated) already
 * live in `a` (or outlive the batch). For parsers' hot paths. */
ta_field *ta_record_add_owned(ta_record *r, ta_arena *a, const char *key, size_t key_len, const char *val,
                              size_t len, ta_kind kind);
bool ta_record_del(ta_record *r, const char *key);
/* Gives field f (of r) the name key (which must outlive the batch). */
void ta_record_rename(ta_record *r, ta_field *f, const char *key);

/* ------------------------------------------------------------ batches */

/* A batch as one output sees it. Each output gets its own ta_batch (records
 * after that output's processors) sharing one arena and one span table with
 * the other outputs' copies. Read-only for the output. */
typedef struct ta_batch {
    uint64_t seq;             /* pipeline-wide, increasing; same in every output's copy */
    ta_record *recs;
    uint32_t nrecs;
    const ta_span *spans;
    uint32_t nspans;
    size_t bytes;             /* sum of line_len, for size-based limits */
    struct ta_batch_group *group; /* private to pipeline.c */
} ta_batch;

/* Outcome an output reports for a batch. */
typedef enum ta_result {
    TA_DONE = 0,    /* delivered (or, with n_invalid > 0, partly declared invalid by the
                     * destination: final, never retried; the invalid ones are counted) */
    TA_ABANDONED    /* not delivered and given up (shutdown deadline passed): positions do
                     * not advance, the data is re-read next start */
} ta_result;

/* An output calls this exactly once per submitted batch, from any thread,
 * when it is done with it; the output must not touch b afterwards.
 * n_invalid: records the destination rejected as invalid (counted in
 * stats->records_invalid by the pipeline). Thread-safe; wakes the loop. */
void ta_batch_done(ta_batch *b, ta_result r, uint32_t n_invalid);

/* ------------------------------------------------------------ options */

/* Option tables drive YAML parsing, validation (errors with line:column),
 * defaults and docs/traild-config.md (`traild --print-options`). Each
 * plug-in type declares its table and a conf struct; the loader fills the
 * struct at `offset`. Strings live as long as the config generation. */
typedef enum ta_opt_type {
    TA_OPT_STR,       /* const char * */
    TA_OPT_INT,       /* int64_t */
    TA_OPT_BOOL,      /* bool */
    TA_OPT_SIZE,      /* uint64_t bytes; "64KiB", "1MB", "512" */
    TA_OPT_DURATION,  /* int64_t ns; "250ms", "5s", "1m", "2h" */
    TA_OPT_ENUM,      /* int index into `choices` ("a|b|c") */
    TA_OPT_STRLIST,   /* ta_strlist; a YAML sequence, or a single string */
    TA_OPT_MAP        /* ta_labels; a YAML mapping of string to string */
} ta_opt_type;

typedef struct ta_strlist {
    const char **v;
    uint32_t n;
} ta_strlist;

typedef struct ta_labels {
    ta_label *v;
    uint32_t n;
} ta_labels;

typedef struct ta_option {
    const char *key;
    ta_opt_type type;
    const char *def;      /* default as YAML text; NULL = no default (required if `required`) */
    size_t offset;        /* offsetof(conf struct, member) */
    const char *help;     /* one line for the docs */
    const char *choices;  /* TA_OPT_ENUM: "json|protobuf" */
    bool required;
} ta_option;
#define TA_OPTIONS_END { NULL, 0, NULL, 0, NULL, NULL, false }

/* ------------------------------------------------------------ counters */

/* Counters are relaxed atomics, written by the loop or by output threads,
 * read by /metrics at scrape time. They are keyed by input/output name and
 * live for the whole process, so a reload keeps counting (and a scrape never
 * sees freed memory). */
typedef struct ta_input_stats {
    _Atomic uint64_t lines;          /* entries read */
    _Atomic uint64_t bytes;          /* bytes read */
    _Atomic uint64_t dropped;        /* entries dropped by processors */
    _Atomic uint64_t parse_errors;
    _Atomic uint64_t rotations;      /* renames/creates noticed */
    _Atomic uint64_t truncations;    /* copytruncate / size < offset */
    _Atomic int64_t files_watched;   /* gauge: open files */
    _Atomic int64_t lag_bytes;       /* gauge: file sizes minus committed positions */
} ta_input_stats;

typedef struct ta_output_stats {
    _Atomic uint64_t batches;        /* batches done (delivered or invalid) */
    _Atomic uint64_t records;        /* records delivered */
    _Atomic uint64_t bytes;          /* payload bytes sent (after encoding, before compression) */
    _Atomic uint64_t records_invalid;/* rejected as invalid by the destination (final) */
    _Atomic uint64_t retries;        /* attempts that will be retried */
    _Atomic uint64_t errors;         /* failed attempts of any kind */
    _Atomic int64_t inflight;        /* gauge: batches submitted, not yet done */
    _Atomic int64_t last_ok_ns;      /* unix ns of the last success */
    _Atomic int held;                /* 1 while holding data after e.g. 401/403 */
} ta_output_stats;

/* Process-wide registry (stats.c). get() creates on first use. */
ta_input_stats *ta_stats_input(const char *name);
ta_output_stats *ta_stats_output(const char *name, const char *type);
/* Visits every input then every output (in creation order) under a lock;
 * for /metrics. kind is "input" or "output"; type NULL for inputs. */
typedef void (*ta_stats_visitor)(void *ctx, const char *kind, const char *name,
                                 const char *type, const void *stats);
void ta_stats_visit(ta_stats_visitor fn, void *ctx);
/* Ready = config loaded, inputs started, checkpoint read (for /ready). */
bool ta_agent_ready(void);

/* /metrics and /ready: implemented in metrics_http.c (libmicrohttpd), reading
 * ta_stats_visit() and ta_agent_ready(). listen is "127.0.0.1:9180" (config
 * `metrics_listen`). traild calls these when metrics_http.c exists. */
typedef struct ta_metrics_server ta_metrics_server;
ta_metrics_server *ta_metrics_start(const char *listen, char *err, size_t errlen);
void ta_metrics_stop(ta_metrics_server *m);
/* The port actually bound (useful with port 0). */
int ta_metrics_port(const ta_metrics_server *m);

/* Unix ns of the last successful checkpoint write, 0 before the first
 * (checkpoint.c sets it; /metrics shows the age). */
void ta_stats_checkpoint_saved(int64_t now_ns);
int64_t ta_stats_checkpoint_saved_ns(void);

/* ------------------------------------------------------------ outputs */

/* Every output embeds this first. Filled by the pipeline before create()
 * returns to it (name, type, stats are valid inside create). */
typedef struct ta_output {
    const struct ta_output_type *type;
    const char *name;          /* config name */
    ta_output_stats *stats;
} ta_output;

typedef struct ta_output_type {
    const char *name;          /* YAML `type:` value: "file", "stdout", "loki" */
    const ta_option *options;  /* option table (terminated by TA_OPTIONS_END) */
    size_t conf_size;          /* size of the conf struct the table fills */
    const char *help;          /* one line for the docs */
    /* Builds the output from its filled conf (valid until destroy). Allocates
     * the object (first member ta_output) and returns it in *out; the
     * pipeline then fills base fields. May start threads. */
    int (*create)(const void *conf, ta_output **out, char *err, size_t errlen);
    /* Takes b until ta_batch_done(b, ...). Must not block for long (queue it
     * and return); called on the loop thread. Batches of one output must be
     * delivered in submit order per source (keep it FIFO). */
    int (*submit)(ta_output *o, ta_batch *b);
    /* Shutdown: keep trying to deliver what is queued until deadline_ns
     * (CLOCK_MONOTONIC), then ta_batch_done(..., TA_ABANDONED) the rest.
     * Returns when every submitted batch is done. */
    void (*drain)(ta_output *o, int64_t deadline_ns);
    void (*destroy)(ta_output *o);
    /* Optional: checks a filled conf without creating anything, so
     * `traild --check-config` reports errors with their line:column.
     * 0, or -EINVAL with an actionable message in err. */
    int (*validate)(const void *conf, char *err, size_t errlen);
} ta_output_type;

/* Registry by type name. Each output type lives in src/agent/out_<name>.c
 * and defines `const ta_output_type ta_output_<name>;` — CMake generates the
 * registry from those file names (names without a further underscore, so
 * out_loki_proto.c is a helper file, not a type). */
const ta_output_type *ta_output_type_find(const char *name);
/* NULL-terminated list of all registered types (for --print-options). */
const ta_output_type *const *ta_output_types(void);

/* Retry helper for outputs: exponential back-off with full jitter.
 * Returns the delay in ns before attempt `attempt` (1-based):
 * random in [base/2, min(max, base * 2^(attempt-1))]. Thread-safe. */
int64_t ta_backoff_ns(int attempt, int64_t base_ns, int64_t max_ns);

/* ------------------------------------------------------------ parsers */

typedef struct ta_parser {
    const struct ta_parser_type *type;
} ta_parser;

typedef struct ta_parser_type {
    const char *name;          /* "json", "nginx", "nginx_json", "caddy", "plain" */
    const ta_option *options;
    size_t conf_size;
    const char *help;
    int (*create)(const void *conf, ta_parser **out, char *err, size_t errlen);
    /* rec->line/line_len/observed_ns/input are set; fills ts_ns (leave as
     * observed_ns when absent), severity, level, message, fields — strings
     * from `a`. Returns 0, or -EINVAL when the line does not parse (the
     * record is still shipped raw with parse_error set). Never reads past
     * line_len; any bytes are possible. */
    int (*parse)(ta_parser *p, ta_record *rec, ta_arena *a);
    void (*destroy)(ta_parser *p);
} ta_parser_type;

const ta_parser_type *ta_parser_type_find(const char *name);
const ta_parser_type *const *ta_parser_types(void);

/* ------------------------------------------------------------ processors */

typedef struct ta_processor {
    const struct ta_processor_type *type;
} ta_processor;

enum { TA_KEEP = 0, TA_DROP = 1 };

typedef struct ta_processor_type {
    const char *name;          /* "filter", "drop", "redact", "labels", "rename", "shape" */
    const ta_option *options;
    size_t conf_size;
    const char *help;
    int (*create)(const void *conf, ta_processor **out, char *err, size_t errlen);
    /* Returns TA_KEEP or TA_DROP. May change the record (new strings from a). */
    int (*process)(ta_processor *p, ta_record *rec, ta_arena *a);
    void (*destroy)(ta_processor *p);
} ta_processor_type;

const ta_processor_type *ta_processor_type_find(const char *name);
const ta_processor_type *const *ta_processor_types(void);

/* ------------------------------------------------------------ rendering */

/* Appends rec as one JSON object (no newline) to a growable buffer:
 * {"timestamp":"<RFC3339 ns>","ts_ns":"<ns>","category":..,"input":..,
 *  "labels":{..},"level":..,"message":..,<fields>,"log.file.path":..,
 *  "log.offset":..}. Always valid JSON whatever bytes the line holds.
 * The buffer is realloc'd; *buf may be NULL initially. (render.c) */
typedef struct ta_buf {
    char *p;
    size_t len, cap;
} ta_buf;
void ta_buf_put(ta_buf *b, const void *s, size_t n);
/* Room for n more bytes and a NUL after them (doubling; aborts on OOM). */
void ta_buf_reserve(ta_buf *b, size_t n);
void ta_buf_free(ta_buf *b);
void ta_render_json(ta_buf *out, const ta_batch *b, const ta_record *rec);
/* Appends s as a JSON string (quotes included); invalid UTF-8 becomes U+FFFD. */
void ta_render_json_str(ta_buf *out, const char *s, size_t n);

#endif
