/* latency.c — per-call producer latency: N producer threads, each timing
 * every call with rdtscp (BENCH_LATENCY_LOOP in the peer), merged into one
 * distribution. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

void bench_pause(const bench_pace *pace) {
    if (!pace->pause_ns) return;
    if (pace->spin) {
        uint64_t end = bench_tsc() + pace->pause_cycles;
        while (bench_tsc() < end) __builtin_ia32_pause();
        return;
    }
    struct timespec ts = {(time_t)(pace->pause_ns / 1000000000u), (long)(pace->pause_ns % 1000000000u)};
    nanosleep(&ts, NULL);
}

static uint64_t raw_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double bench_tsc_calibrate(void) {
    /* Best of three 70 ms windows: the one least disturbed by preemption. */
    double best = 0;
    for (int k = 0; k < 3; k++) {
        uint64_t n0 = raw_ns(), c0 = bench_tsc();
        struct timespec ts = {0, 70 * 1000 * 1000};
        nanosleep(&ts, NULL);
        uint64_t c1 = bench_tsc(), n1 = raw_ns();
        double r = (double)(c1 - c0) / (double)(n1 - n0);
        if (k == 0 || r < best) best = r; /* preemption between reads only adds ns */
    }
    return best;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

void bench_percentiles(uint32_t *s, size_t n, double cpn, bench_pcts *out) {
    memset(out, 0, sizeof(*out));
    if (!n) return;
    qsort(s, n, sizeof(*s), cmp_u32);
    /* The sample at rank round(q * (n - 1)) of the sorted set. */
#define PCT(q) ((double)s[(size_t)((q) * (double)(n - 1) + 0.5)] / cpn)
    out->p50 = PCT(0.50);
    out->p99 = PCT(0.99);
    out->p999 = PCT(0.999);
    out->p9999 = PCT(0.9999);
#undef PCT
    out->max = (double)s[n - 1] / cpn;
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += s[i];
    out->mean = sum / (double)n / cpn;
    out->n = n;
}

typedef struct lat_thread {
    const bench_peer *peer;
    const bench_opts *opts;
    int idx;
    uint32_t *samples;
    pthread_barrier_t *start;
} lat_thread;

static void *lat_main(void *arg) {
    lat_thread *t = arg;
    t->peer->thread_start(t->idx);
    /* Warm-up: first-call costs (ring allocation, lazy init) are not steady-state. */
    if (t->opts->warmup) t->peer->latency(t->samples, t->opts->warmup, &t->opts->pace);
    pthread_barrier_wait(t->start);
    t->peer->latency(t->samples, t->opts->count, &t->opts->pace);
    return NULL;
}

int bench_latency_run(const bench_peer *p, const bench_opts *o, int threads, const char *path,
                      bench_result *r) {
    bench_peer_cfg cfg = {path, threads, o->ring_bytes};
    int rc = p->open(&cfg);
    if (rc) return r->rc = rc;
    size_t per = o->count > o->warmup ? o->count : o->warmup;
    uint32_t *samples = calloc((size_t)threads * per, sizeof(*samples));
    lat_thread *ts = calloc((size_t)threads, sizeof(*ts));
    pthread_t *tids = calloc((size_t)threads, sizeof(*tids));
    if (!samples || !ts || !tids) return r->rc = -ENOMEM;
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)threads);
    for (int i = 0; i < threads; i++) {
        ts[i] = (lat_thread){p, o, i, samples + (size_t)i * per, &start};
        pthread_create(&tids[i], NULL, lat_main, &ts[i]);
    }
    for (int i = 0; i < threads; i++) pthread_join(tids[i], NULL);
    pthread_barrier_destroy(&start);
    /* Samples of all threads side by side: compact, then one distribution. */
    for (int i = 1; i < threads; i++)
        memmove(samples + (size_t)i * o->count, samples + (size_t)i * per, o->count * sizeof(*samples));
    bench_percentiles(samples, (size_t)threads * o->count, o->cycles_per_ns, &r->lat);
    r->entries = (uint64_t)threads * (o->count + o->warmup);
    bench_peer_stats st = {0};
    r->rc = p->close(&st);
    r->dropped = st.dropped;
    r->blocked = st.blocked;
    if (p != &bench_peer_empty) bench_count_lines(path, &r->lines, &r->bytes);
    free(samples);
    free(ts);
    free(tids);
    return r->rc;
}
