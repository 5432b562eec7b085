/* demo worker: takes jobs from the backend over a UNIX socket, one line per
 * job ("<request_id> <traceparent> <item>\n"), and answers "ok\n" or
 * "err <reason>\n". Every entry it logs carries the job's request id, so
 * `trail story <id>` shows the worker's part of a request next to the
 * frontend's and the backend's. Some items fail on purpose.
 *
 *   demo_worker <socket path> */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "trail.h"

static volatile sig_atomic_t stopping;
static void on_term(int sig) { (void)sig; stopping = 1; }

/* Items whose name ends in 7 are out of stock: the failure the demo shows. */
static int reserve(const char *item, char *why, size_t size) {
    size_t n = strlen(item);
    if (n && item[n - 1] == '7') {
        snprintf(why, size, "inventory reservation failed: %s out of stock", item);
        return -1;
    }
    return 0;
}

static void handle_job(trail_logger *lg, int fd) {
    char line[512];
    ssize_t n = read(fd, line, sizeof line - 1);
    if (n <= 0) return;
    line[n] = '\0';
    line[strcspn(line, "\n")] = '\0';
    char rid[130] = "", tp[60] = "", item[128] = "";
    if (sscanf(line, "%129s %59s %127s", rid, tp, item) != 3) {
        trail_warning(lg, "malformed job", TRAIL_STRN("job", line, (size_t)n));
        (void)!write(fd, "err malformed\n", 14);
        return;
    }
    /* The job's ids become this thread's context for every entry below. */
    trail_ctx_clear();
    trail_ctx_from_headers(NULL, rid, tp);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    trail_info(lg, "job started", TRAIL_STR("item", item));
    struct timespec work = {0, (rand() % 20 + 5) * 1000000L};
    nanosleep(&work, NULL);
    char why[256];
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int64_t took = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000000 + (t1.tv_nsec - t0.tv_nsec);
    if (reserve(item, why, sizeof why) < 0) {
        trail_error(lg, "job failed", TRAIL_STR("item", item), TRAIL_STR("error.message", why),
                    TRAIL_DURATION_NS("event.duration", took));
        char reply[300];
        int len = snprintf(reply, sizeof reply, "err %s\n", why);
        (void)!write(fd, reply, (size_t)len);
    } else {
        trail_success(lg, "job done", TRAIL_STR("item", item), TRAIL_DURATION_NS("event.duration", took));
        (void)!write(fd, "ok\n", 3);
    }
    trail_ctx_clear();
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: demo_worker <socket path>\n");
        return 2;
    }
    if (trail_init("worker") < 0) {
        fprintf(stderr, "demo_worker: %s\n", trail_last_error());
        return 1;
    }
    trail_logger *lg = trail_get("worker.jobs");
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", argv[1]);
    unlink(argv[1]);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0 || bind(s, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(s, 64) < 0) {
        trail_critical(lg, "cannot listen", TRAIL_STR("path", argv[1]), TRAIL_ERRNO("error", errno));
        trail_shutdown();
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_term};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    trail_info(lg, "worker ready", TRAIL_STR("socket", argv[1]));
    while (!stopping) {
        int c = accept(s, NULL, NULL);
        if (c < 0) continue; /* EINTR on SIGTERM: the loop condition decides */
        handle_job(lg, c);
        close(c);
    }
    trail_info(lg, "worker stopping");
    close(s);
    unlink(argv[1]);
    trail_shutdown();
    return 0;
}
