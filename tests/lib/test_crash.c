/* Fatal signals and SIGTERM: what is queued reaches the output, then the
 * previously installed handler runs (or the default action: the exit
 * status shows the signal). Each case runs in a child process. */
#include "core_sink.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define QUEUED 200

static int out_fd = -1;
static int crash_in_handler;

/* A slow handler, so entries are still queued when the signal comes. */
static void slow_write(const trail_entry *e, const char *line, size_t len, void *ud) {
    (void)ud;
    if (crash_in_handler && e->line > 0) raise(SIGSEGV);
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
    ssize_t w = write(out_fd, line, len);
    (void)w;
}

static char *out_path(void) {
    static char path[512];
    snprintf(path, sizeof path, "%s/out.jsonl", test_tmpdir());
    return path;
}

static void child_log(void) {
    out_fd = open(out_path(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (out_fd < 0) _exit(90);
    trail_options o = {.no_default_handlers = 1};
    if (trail_setup(&o)) _exit(91);
    trail_handler *h;
    trail_handler_callback(&h, slow_write, NULL);
    trail_logger_add_handler(NULL, h);
    trail_handler_release(h);
    for (int i = 0; i < QUEUED; i++) trail_info(NULL, "queued", TRAIL_INT("i", i));
}

static int count_lines(void) {
    char *text = test_read_file(out_path(), NULL);
    int n = 0;
    for (char *p = text; p && *p; p++) n += *p == '\n';
    if (text) CHECK_CONTAINS(text, "\"i\":199");
    free(text);
    return n;
}

static int wait_child(pid_t pid) {
    int status = 0;
    CHECK_INT(waitpid(pid, &status, 0), ==, pid);
    return status;
}

static int marker_fd = -1;
static void previous_handler(int sig) {
    (void)sig;
    ssize_t w = write(marker_fd, "chained\n", 8);
    (void)w;
    _exit(42);
}

TEST(segv_drains_then_chains_to_previous_handler) {
    char marker[512];
    snprintf(marker, sizeof marker, "%s/marker", test_tmpdir());
    (void)out_path(); /* the temporary directory is made before the fork */
    pid_t pid = fork();
    if (pid == 0) {
        marker_fd = open(marker, O_WRONLY | O_CREAT, 0644);
        signal(SIGSEGV, previous_handler); /* the application's own, installed first */
        child_log();
        volatile uintptr_t bad = 16; /* a real fault, at an address the compiler cannot see */
        *(volatile int *)bad = 1;
        _exit(0);
    }
    int status = wait_child(pid);
    CHECK(WIFEXITED(status));
    CHECK_INT(WEXITSTATUS(status), ==, 42);
    CHECK_INT(count_lines(), ==, QUEUED);
    char *m = test_read_file(marker, NULL);
    CHECK_STR(m, "chained\n");
    free(m);
}

TEST(abort_drains_then_default_action) {
    (void)out_path(); /* the temporary directory is made before the fork */
    pid_t pid = fork();
    if (pid == 0) {
        child_log();
        abort();
    }
    int status = wait_child(pid);
    CHECK(WIFSIGNALED(status));
    CHECK_INT(WTERMSIG(status), ==, SIGABRT);
    CHECK_INT(count_lines(), ==, QUEUED);
}

TEST(sigterm_drains_then_terminates) {
    int ready[2];
    CHECK_INT(pipe(ready), ==, 0);
    (void)out_path(); /* the temporary directory is made before the fork */
    pid_t pid = fork();
    if (pid == 0) {
        child_log();
        ssize_t w = write(ready[1], "r", 1);
        (void)w;
        for (int i = 0; i < 1000; i++) pause();
        _exit(0);
    }
    char c;
    CHECK_INT(read(ready[0], &c, 1), ==, 1);
    kill(pid, SIGTERM);
    int status = wait_child(pid);
    CHECK(WIFSIGNALED(status));
    CHECK_INT(WTERMSIG(status), ==, SIGTERM);
    CHECK_INT(count_lines(), ==, QUEUED);
}

static volatile sig_atomic_t term_seen;
static void app_term_handler(int sig) {
    (void)sig;
    term_seen = 1;
}

TEST(sigterm_with_app_handler_keeps_running) {
    int ready[2];
    CHECK_INT(pipe(ready), ==, 0);
    (void)out_path(); /* the temporary directory is made before the fork */
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGTERM, app_term_handler);
        child_log();
        ssize_t w = write(ready[1], "r", 1);
        (void)w;
        for (int i = 0; i < 3000 && !term_seen; i++) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
        if (!term_seen) _exit(80);
        trail_info(NULL, "after SIGTERM");
        trail_flush(5000);
        _exit(7);
    }
    char c;
    CHECK_INT(read(ready[0], &c, 1), ==, 1);
    kill(pid, SIGTERM);
    int status = wait_child(pid);
    CHECK(WIFEXITED(status));
    CHECK_INT(WEXITSTATUS(status), ==, 7);
    CHECK_INT(count_lines(), ==, QUEUED + 1);
}

TEST(crash_inside_a_handler_does_not_hang) {
    (void)out_path(); /* the temporary directory is made before the fork */
    pid_t pid = fork();
    if (pid == 0) {
        crash_in_handler = 1;
        child_log();
        trail_flush(5000);
        _exit(0);
    }
    int status = wait_child(pid);
    CHECK(!(WIFEXITED(status) && WEXITSTATUS(status) == 0)); /* died of the fault, no hang */
}

TEST(exit_flushes_at_exit) {
    (void)out_path(); /* the temporary directory is made before the fork */
    pid_t pid = fork();
    if (pid == 0) {
        child_log();
        exit(0); /* atexit drains the rings */
    }
    int status = wait_child(pid);
    CHECK(WIFEXITED(status));
    CHECK_INT(WEXITSTATUS(status), ==, 0);
    CHECK_INT(count_lines(), ==, QUEUED);
}

TEST(shutdown_restores_previous_handlers) {
    signal(SIGTERM, app_term_handler);
    trail_options o = {.no_default_handlers = 1};
    CHECK_INT(trail_setup(&o), ==, 0);
    struct sigaction cur;
    sigaction(SIGTERM, NULL, &cur);
    CHECK(cur.sa_handler != app_term_handler);
    trail_shutdown();
    sigaction(SIGTERM, NULL, &cur);
    CHECK(cur.sa_handler == app_term_handler);
}

static void stuck_handler(const trail_entry *e, const char *line, size_t len, void *ud) {
    (void)e;
    (void)line;
    (void)len;
    (void)ud;
    for (;;) pause(); /* a handler that never returns */
}

TEST(stuck_handler_bounded_drain) {
    pid_t pid = fork();
    if (pid == 0) {
        trail_options o = {.no_default_handlers = 1};
        if (trail_setup(&o)) _exit(91);
        trail_handler *h;
        trail_handler_callback(&h, stuck_handler, NULL);
        trail_logger_add_handler(NULL, h);
        trail_handler_release(h);
        for (int i = 0; i < 100; i++) trail_info(NULL, "queued", TRAIL_INT("i", i));
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL); /* the backend is now stuck inside the handler */
        raise(SIGTERM);
        _exit(0);
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int status = wait_child(pid);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK(WIFSIGNALED(status));
    CHECK_INT(WTERMSIG(status), ==, SIGTERM);
    /* The drain gives up (2 s) rather than hanging; generous bound for slow machines. */
    CHECK_INT(t1.tv_sec - t0.tv_sec, <, 60);
}
