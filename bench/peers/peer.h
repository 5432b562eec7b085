/* peer.h — the C ABI every logger under test implements (trail, spdlog,
 * fprintf). Every peer writes the same entry: message "order placed", a
 * request id from the producer's context, qty (int), price (double) and sku
 * (short string), as one JSON object per line to cfg->path. */
#ifndef BENCH_PEER_H
#define BENCH_PEER_H

#include <stddef.h>
#include <stdint.h>

#include "../latency.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bench_peer_cfg {
    const char *path; /* JSONL output file (truncated) */
    int threads;      /* producer threads that will log */
    size_t ring_bytes; /* libtrail's per-thread ring size; 0 = its default */
} bench_peer_cfg;

typedef struct bench_peer_stats {
    uint64_t dropped; /* entries the logger itself says it dropped (0 when it cannot tell) */
    uint64_t blocked; /* producer waits on a full queue, when the logger counts them */
} bench_peer_stats;

typedef struct bench_peer {
    const char *name; /* "trail-async", "spdlog-async", ... */
    const char *note; /* one line: mode, queue, overflow policy */
    /* Process-wide set-up; 0 or a negative errno. */
    int (*open)(const bench_peer_cfg *cfg);
    /* Called on each producer thread before it logs: sets the request id. */
    void (*thread_start)(int thread_idx);
    /* Times n calls with BENCH_LATENCY_LOOP into samples (TSC cycles). */
    void (*latency)(uint32_t *samples, size_t n, const bench_pace *pace);
    /* Logs entries first..first+n-1 untimed (throughput). */
    void (*log_n)(uint64_t first, uint64_t n);
    /* Writes everything queued and makes it durable (flush + fsync);
     * fills st; returns 0 or a negative errno. */
    int (*close)(bench_peer_stats *st);
} bench_peer;

/* Timer overhead only: an empty statement between the two rdtscp. */
extern const bench_peer bench_peer_empty;
extern const bench_peer bench_peer_fprintf;
extern const bench_peer bench_peer_spdlog_async;
extern const bench_peer bench_peer_spdlog_async_overrun;
extern const bench_peer bench_peer_spdlog_sync;
extern const bench_peer bench_peer_trail_async;
extern const bench_peer bench_peer_trail_sync;
extern const bench_peer bench_peer_trail_disabled; /* latency only */

/* libtrail's JSON formatter alone on the benchmark's entry, n times:
 * wall seconds taken (and the thread's CPU seconds in *cpu_s), negative on
 * error (the backend's rendering ceiling). */
double bench_trail_render(uint64_t n, double *cpu_s);
/* Monotonic seconds. */
double bench_now_s(void);

/* Static fields every peer writes, so lines carry the same data: filled
 * once by the harness before any peer opens. */
typedef struct bench_static_fields {
    char service[32];
    char version[32];
    char machine_id[64];
    char container_id[80];
    char region[32];
} bench_static_fields;
extern bench_static_fields bench_static;

/* Per-thread request id ("req-<thread>-<uuid-like>"), 36 chars + NUL. */
void bench_make_request_id(int thread_idx, char out[40]);

/* fsync(path) through a fresh descriptor: the data of every descriptor on
 * the file reaches the disk. 0 or -errno. */
int bench_fsync_path(const char *path);

#ifdef __cplusplus
}
#endif
#endif
