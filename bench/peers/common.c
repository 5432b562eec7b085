/* common.c — what all peers share: static fields, request ids, fsync, and
 * the "empty" peer that measures the timer itself. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "peer.h"

bench_static_fields bench_static;

void bench_make_request_id(int thread_idx, char out[40]) {
    /* Fixed shape of a UUID so every peer copies the same 36 bytes. */
    snprintf(out, 40, "%08x-4e1d-4c2a-9b7f-%012x", 0x5eed0000u + (unsigned)thread_idx,
             (unsigned)getpid());
}

int bench_fsync_path(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    int rc = fsync(fd) ? -errno : 0;
    close(fd);
    return rc;
}

static int empty_open(const bench_peer_cfg *cfg) {
    (void)cfg;
    return 0;
}
static void empty_thread_start(int idx) { (void)idx; }
static void empty_latency(uint32_t *samples, size_t n, const bench_pace *pace) {
    BENCH_LATENCY_LOOP(samples, n, pace, i, (void)0);
}
static void empty_log_n(uint64_t first, uint64_t n) {
    (void)first;
    (void)n;
}
static int empty_close(bench_peer_stats *st) {
    (void)st;
    return 0;
}

const bench_peer bench_peer_empty = {
    "timer", "empty statement between the two rdtscp: the timer's own cost",
    empty_open, empty_thread_start, empty_latency, empty_log_n, empty_close};
