/* bench.h — the harness: options, one result per (peer, workload, threads),
 * and the three workloads (latency, throughput, peak RSS via fork). */
#ifndef BENCH_H
#define BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "latency.h"
#include "peers/peer.h"

#define BENCH_MAX_THREAD_CFGS 4

typedef struct bench_opts {
    int json;
    int thread_cfgs[BENCH_MAX_THREAD_CFGS]; /* latency runs: producer thread counts */
    int n_thread_cfgs;
    size_t count;      /* timed calls per producer thread */
    size_t warmup;     /* untimed calls per thread before timing */
    uint64_t lines;    /* throughput: entries in all */
    int tput_threads;  /* throughput: producer threads */
    size_t ring_bytes; /* libtrail ring size (0 = default) */
    bench_pace pace;
    double cycles_per_ns;
    char dir[256];     /* scratch directory for the output files */
} bench_opts;

typedef struct bench_result {
    char peer[32];
    char kind[16]; /* "latency" or "throughput" */
    int threads;
    int rc;            /* 0 or a negative errno (setup, flush or fsync failed) */
    int signal;        /* the case's child died of this signal */
    bench_pcts lat;    /* latency */
    uint64_t entries;  /* entries logged */
    uint64_t lines;    /* lines found in the file afterwards */
    uint64_t bytes;    /* file size */
    double producer_s; /* time until the producers returned from their last call */
    double total_s;    /* time until every line was on disk (flush + fsync) */
    double cpu_s;      /* CPU time of the case's process (all its threads) over the same span */
    uint64_t dropped, blocked;
    long rss_kb;       /* peak RSS of the case's process (VmHWM) */
} bench_result;

/* Runs the latency workload in the calling process. */
int bench_latency_run(const bench_peer *p, const bench_opts *o, int threads, const char *path,
                      bench_result *r);
/* Runs the throughput workload in the calling process with `threads` producers. */
int bench_throughput_run(const bench_peer *p, const bench_opts *o, int threads, const char *path,
                         bench_result *r);

/* CPU time of this process (user + system, all threads), seconds. */
double bench_cpu_s(void);

/* Counts '\n' in path and its size; 0 or -errno. */
int bench_count_lines(const char *path, uint64_t *lines, uint64_t *bytes);

/* Peak resident set of this process in KiB (VmHWM, ru_maxrss fallback). */
long bench_peak_rss_kb(void);

typedef int (*bench_case_fn)(const bench_peer *p, const bench_opts *o, int threads, const char *path,
                             bench_result *r);
/* Runs fn in a forked child so its memory (and any crash) is its own; the
 * child's result, with its peak RSS, comes back through a pipe. */
void bench_run_forked(bench_case_fn fn, const bench_peer *p, const bench_opts *o, int threads,
                      const char *path, bench_result *r);

/* The "render" workload: bench_trail_render in the calling process. */
int bench_render_run(const bench_peer *p, const bench_opts *o, int threads, const char *path, bench_result *r);

#endif
