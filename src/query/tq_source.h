/* tq_source.h — what the query engine reads from: a scan over entries with
 * push-down hints. The embedded store implements it (store_source.c); tests
 * use an in-memory one (mem_source.c). */
#ifndef TRAIL_TQ_SOURCE_H
#define TRAIL_TQ_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "logql_ast.h"

typedef struct tq_label {
    const char *name;
    const char *value;
} tq_label;

/* One log entry as a source hands it over. Everything is valid only during
 * the callback. labels are the stream labels, sorted by name. */
typedef struct tq_entry {
    int64_t ts;              /* unix ns */
    const char *line;
    size_t len;
    const tq_label *labels;
    size_t nlabels;
    uint64_t stream_id;      /* identifies the label set (0 = unknown); lets the engine
                              * skip rebuilding a stream's key for every entry */
    const tq_label *meta;    /* structured metadata (may be NULL): visible to label
                              * filters and line_format, not part of the stream labels
                              * (a `| json` extracting the same name makes it one) */
    size_t nmeta;
} tq_entry;

/* Push-down hints. A source must return every entry in [start, end] whose
 * stream matches sel; it MAY skip entries that cannot satisfy the hints
 * (blocks whose bloom filter lacks a key), never entries that might. */
typedef struct tq_scan {
    int64_t start, end;              /* inclusive, unix ns */
    const tq_selector *sel;
    const tq_label *field_eq;        /* every entry shown has field name == value */
    size_t nfield_eq;
    const char *const *contains;     /* every entry's line contains each literal */
    size_t ncontains;
    int backward;                    /* a hint only: the engine sorts anyway */
} tq_scan;

/* Return nonzero from the callback to stop the scan early. */
typedef int (*tq_entry_cb)(void *arg, const tq_entry *e);
typedef void (*tq_name_cb)(void *arg, const char *name);
typedef void (*tq_series_cb)(void *arg, const tq_label *labels, size_t n);

typedef struct tq_source {
    void *ctx;
    /* 0 or a negative errno. */
    int (*scan)(void *ctx, const tq_scan *s, tq_entry_cb cb, void *arg);
    /* Distinct label names (values when name != NULL) of streams with data
     * in [start, end]. May report duplicates; the caller dedups. */
    int (*labels)(void *ctx, const char *name, int64_t start, int64_t end, tq_name_cb cb, void *arg);
    /* Streams matching sel with data in [start, end]. */
    int (*series)(void *ctx, const tq_selector *sel, int64_t start, int64_t end, tq_series_cb cb, void *arg);
    /* Appends entries (e.g. from /loki/api/v1/push). Optional (NULL = read-only).
     * Returns the number accepted (>= 0) or a negative errno. */
    int (*push)(void *ctx, const tq_label *labels, size_t nlabels, const tq_entry *entries, size_t n);
    /* Makes what push accepted durable (called once per push request, before
     * it is acknowledged). Optional: NULL when push is durable by itself. */
    int (*sync)(void *ctx);
    /* Non-zero when scan hands entries over in time order (reversed for
     * backward scans), so a log query can stop once it has `limit`. */
    int ordered;
} tq_source;

/* Does a sorted label set match the selector? */
int tq_selector_matches(const tq_selector *sel, const tq_label *labels, size_t n);

#endif
