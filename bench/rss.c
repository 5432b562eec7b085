/* rss.c — every case runs in its own forked child, so the peak RSS we read
 * (VmHWM) is that case's alone and a crash fails one case, not the run. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

long bench_peak_rss_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    long kb = -1;
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "VmHWM: %ld kB", &kb) == 1) break;
        fclose(f);
    }
    if (kb < 0) {
        struct rusage ru;
        if (!getrusage(RUSAGE_SELF, &ru)) kb = ru.ru_maxrss;
    }
    return kb;
}

static int write_all(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

void bench_run_forked(bench_case_fn fn, const bench_peer *p, const bench_opts *o, int threads,
                      const char *path, bench_result *r) {
    int fds[2];
    fflush(NULL); /* nothing buffered twice */
    if (pipe(fds)) {
        r->rc = -errno;
        return;
    }
    pid_t pid = fork();
    if (pid < 0) {
        r->rc = -errno;
        close(fds[0]);
        close(fds[1]);
        return;
    }
    if (pid == 0) {
        close(fds[0]);
        fn(p, o, threads, path, r);
        r->rss_kb = bench_peak_rss_kb();
        _exit(write_all(fds[1], r, sizeof(*r)) ? 3 : 0);
    }
    close(fds[1]);
    bench_result got;
    size_t have = 0;
    while (have < sizeof(got)) {
        ssize_t n = read(fds[0], (char *)&got + have, sizeof(got) - have);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        have += (size_t)n;
    }
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (have == sizeof(got)) {
        *r = got;
    } else {
        r->rc = -ECHILD;
        if (WIFSIGNALED(status)) r->signal = WTERMSIG(status);
    }
}
