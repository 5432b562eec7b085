/* throughput.c — sustained rate: `lines` entries as fast as the producers
 * can log them, timed until every line is on disk (the peer's flush, then
 * fsync), then the file is read back to check that no line is missing. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

double bench_cpu_s(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru)) return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec * 1e-6;
}

double bench_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int bench_count_lines(const char *path, uint64_t *lines, uint64_t *bytes) {
    *lines = *bytes = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    enum { CHUNK = 1 << 20 };
    char *buf = malloc(CHUNK);
    if (!buf) {
        close(fd);
        return -ENOMEM;
    }
    ssize_t n;
    while ((n = read(fd, buf, CHUNK)) > 0) {
        *bytes += (uint64_t)n;
        for (const char *q = buf, *end = buf + n; (q = memchr(q, '\n', (size_t)(end - q))); q++) ++*lines;
    }
    int rc = n < 0 ? -errno : 0;
    free(buf);
    close(fd);
    return rc;
}

typedef struct tput_thread {
    const bench_peer *peer;
    int idx;
    uint64_t first, n;
    pthread_barrier_t *start;
} tput_thread;

static void *tput_main(void *arg) {
    tput_thread *t = arg;
    t->peer->thread_start(t->idx);
    pthread_barrier_wait(t->start);
    t->peer->log_n(t->first, t->n);
    return NULL;
}

int bench_throughput_run(const bench_peer *p, const bench_opts *o, int threads, const char *path,
                         bench_result *r) {
    if (threads < 1 || threads > 16) return r->rc = -EINVAL;
    bench_peer_cfg cfg = {path, threads, o->ring_bytes};
    int rc = p->open(&cfg);
    if (rc) return r->rc = rc;
    tput_thread ts[16];
    pthread_t tids[16];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
    uint64_t per = o->lines / (uint64_t)threads;
    for (int i = 0; i < threads; i++) {
        ts[i] = (tput_thread){p, i, per * (uint64_t)i, i == threads - 1 ? o->lines - per * (uint64_t)i : per,
                              &start};
        pthread_create(&tids[i], NULL, tput_main, &ts[i]);
    }
    pthread_barrier_wait(&start);
    double c0 = bench_cpu_s();
    double t0 = bench_now_s();
    for (int i = 0; i < threads; i++) pthread_join(tids[i], NULL);
    r->producer_s = bench_now_s() - t0;
    bench_peer_stats st = {0};
    r->rc = p->close(&st);
    r->total_s = bench_now_s() - t0;
    r->cpu_s = bench_cpu_s() - c0;
    pthread_barrier_destroy(&start);
    r->entries = o->lines;
    r->dropped = st.dropped;
    r->blocked = st.blocked;
    int crc = bench_count_lines(path, &r->lines, &r->bytes);
    if (!r->rc) r->rc = crc;
    return r->rc;
}

int bench_render_run(const bench_peer *p, const bench_opts *o, int threads, const char *path, bench_result *r) {
    (void)p;
    (void)threads;
    (void)path;
    double cpu = 0;
    double s = bench_trail_render(o->lines, &cpu);
    if (s < 0) return r->rc = -EIO;
    r->entries = o->lines;
    r->producer_s = r->total_s = s;
    r->cpu_s = cpu;
    return 0;
}
