/* fprintf_peer.c — baseline: the same JSON line with plain fprintf to one
 * shared FILE* (stdio's default buffering and its internal lock), timestamp
 * from clock_gettime + gmtime_r on every call. */
#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "peer.h"

static FILE *out;
static int pid;
static _Thread_local char rid[40];

static int fp_open(const bench_peer_cfg *cfg) {
    out = fopen(cfg->path, "w");
    if (!out) return -errno;
    pid = (int)getpid();
    return 0;
}

static void fp_thread_start(int idx) { bench_make_request_id(idx, rid); }

static inline void fp_log(int64_t qty) {
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    fprintf(out,
            "{\"timestamp\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"service\":\"%s\","
            "\"level\":\"info\",\"message\":\"order placed\",\"request_id\":\"%s\","
            "\"machine_id\":\"%s\",\"container_id\":\"%s\",\"version\":\"%s\",\"region\":\"%s\","
            "\"pid\":%d,\"qty\":%lld,\"price\":%g,\"sku\":\"%s\"}\n",
            tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
            ts.tv_nsec / 1000000, bench_static.service, rid, bench_static.machine_id,
            bench_static.container_id, bench_static.version, bench_static.region, pid,
            (long long)qty, 9.99, "A-1");
}

static void fp_latency(uint32_t *samples, size_t n, const bench_pace *pace) {
    BENCH_LATENCY_LOOP(samples, n, pace, i, fp_log((int64_t)i));
}

static void fp_log_n(uint64_t first, uint64_t n) {
    for (uint64_t i = first; i < first + n; i++) fp_log((int64_t)i);
}

static int fp_close(bench_peer_stats *st) {
    (void)st;
    int rc = 0;
    if (fflush(out)) rc = -errno;
    if (!rc && fsync(fileno(out))) rc = -errno;
    fclose(out);
    out = NULL;
    return rc;
}

const bench_peer bench_peer_fprintf = {
    "fprintf", "plain fprintf to one FILE* (stdio buffer, stdio lock), gmtime_r per call",
    fp_open, fp_thread_start, fp_latency, fp_log_n, fp_close};
