/* loki_receiver.h — a local stand-in for Grafana Loki's push endpoint
 * (libmicrohttpd, 127.0.0.1) that enforces Loki's documented rules, so the
 * Loki output is tested against them rather than against itself:
 *   - POST /loki/api/v1/push, JSON (optionally Content-Encoding: gzip) or
 *     protobuf in a snappy block (Content-Type: application/x-protobuf);
 *   - timestamps must be strings of unix ns (a JSON number fails the whole
 *     request with 400, as Loki's decoder does);
 *   - label rules: at least one label, names [a-zA-Z_][a-zA-Z0-9_]* not
 *     starting with __, no duplicate names, <= 15 names, name <= 1024 and
 *     value <= 2048 bytes — a bad stream's entries are rejected;
 *   - per-stream ordering: an entry older than the stream's newest minus
 *     the window is rejected ("entry too far behind"; window 0 = strictly
 *     ordered, "entry out of order"), as are entries older than max_age,
 *     more than 10 min in the future, or lines longer than max_line;
 *   - an exact duplicate (same stream, timestamp and line) is dropped
 *     silently (still a success);
 *   - answers 204, or 400 when some entries were rejected (the others are
 *     stored) with Loki's ingester message per stream: "entry with timestamp
 *     .. ignored, reason: '..',\nuser '..', total ignored: N out of M for
 *     stream: {..}", 401 without the expected
 *     X-Scope-OrgID, 415 for an unknown encoding;
 *   - can be told to fail the next requests (429/500/503/260/401/400...) or
 *     to fail a percentage at random, and to stall before answering.
 * GET /ready answers 200; GET /stats answers the counters as text. */
#ifndef TRAILD_LOKI_RECEIVER_H
#define TRAILD_LOKI_RECEIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lr_conf {
    int port;              /* 0 = any free port */
    int64_t window_ns;     /* out-of-order window (Loki: max_chunk_age/2 = 1h); 0 = strict order */
    int64_t max_age_ns;    /* reject_old_samples_max_age (7d); 0 = off */
    size_t max_line;       /* max_line_size (256 KB) */
    const char *tenant;    /* required X-Scope-OrgID; NULL = not checked */
    bool keep_lines;       /* keep entries for lr_each (tests); off = hashes only (bench) */
} lr_conf;

typedef struct lr_stats {
    uint64_t requests;
    uint64_t status[600];   /* answers by code */
    uint64_t accepted;      /* entries stored */
    uint64_t duplicates;    /* exact duplicates dropped (not errors) */
    uint64_t rejected;      /* entries refused (counted in a 400's "total ignored") */
    uint64_t bad_requests;  /* whole requests refused (parse errors, 415) */
    uint64_t streams;
    uint64_t bytes;         /* request bodies as received */
    uint64_t gzip_requests, proto_requests;
} lr_stats;

typedef struct lr_entry {
    const char *labels;     /* canonical {a="b", c="d"}, names sorted */
    int64_t ts;
    const char *line;
    size_t line_len;
    const char *meta;       /* structured metadata as "k=v;k=v" (names sorted), "" if none */
} lr_entry;

typedef struct lr_server lr_server;

lr_server *lr_start(const lr_conf *c);  /* NULL on failure */
int lr_port(const lr_server *s);
void lr_stop(lr_server *s);
/* The next `count` push requests are answered `status` without storing
 * anything (a 400 says "total ignored: M out of M"). */
void lr_fail_next(lr_server *s, int status, int count);
/* From now on, percent of push requests answer `status` (random, seeded). */
void lr_fail_percent(lr_server *s, int status, int percent, unsigned seed);
/* From now on, percent of push requests answer 400 with every entry refused. */
void lr_invalid_percent(lr_server *s, int percent);
/* The next `count` requests (or percent of them, if count < 0) wait ms before answering. */
void lr_stall(lr_server *s, int ms, int count, int percent);
lr_stats lr_get_stats(lr_server *s);
/* Visits stored entries in arrival order (keep_lines only), under the lock. */
void lr_each(lr_server *s, void (*fn)(void *ctx, const lr_entry *e), void *ctx);

/* Visits the lines of refused entries (400s; keep_lines only). */
void lr_each_refused(lr_server *s, void (*fn)(void *ctx, const char *line), void *ctx);

#endif
