/* test_reopen.c — logrotate's scheme: mv the file, then ask for a reopen
 * (trail_handler_reopen or SIGHUP); lines written before the request stay in
 * the moved file, later lines go to a new file at the path. */
#include "handler_test_util.h"

#include <errno.h>
#include <signal.h>
#include <sys/stat.h>

static char *slurp(const char *name) {
    char *s = test_read_file(ht_path(name), NULL);
    return s ? s : strdup("(missing)");
}

TEST(reopen_on_request_after_mv) {
    trail_handler *h = ht_file(ht_path("app.log"), NULL);
    ht_log(h, "a");
    trail__handler_flush(h);
    CHECK_INT(rename(ht_path("app.log"), ht_path("app.log.1")), ==, 0);
    ht_log(h, "b"); /* still the old file: nobody asked for a reopen yet */
    trail_handler_reopen(h);
    ht_log(h, "c");
    trail__handler_flush(h);
    ht_log(h, "d");
    trail_handler_release(h);
    char *old = slurp("app.log.1"), *cur = slurp("app.log");
    CHECK_STR(old, "a\nb\n");
    CHECK_STR(cur, "c\nd\n");
    free(old), free(cur);
}

TEST(reopen_at_end_of_batch) {
    trail_handler *h = ht_file(ht_path("app.log"), NULL);
    ht_log(h, "a");
    CHECK_INT(rename(ht_path("app.log"), ht_path("app.log.1")), ==, 0);
    trail_handler_reopen(h);
    trail__handler_flush(h); /* writes "a" to the moved file, then reopens */
    ht_log(h, "b");
    trail_handler_release(h);
    char *old = slurp("app.log.1"), *cur = slurp("app.log");
    CHECK_STR(old, "a\n");
    CHECK_STR(cur, "b\n");
    free(old), free(cur);
}

static volatile sig_atomic_t prev_calls, prev_info_calls;
static void prev_handler(int sig) { prev_calls += sig == SIGHUP; }
static void prev_info_handler(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    prev_info_calls += sig == SIGHUP && si != NULL;
}

static void mv_hup_check(void) {
    trail_handler *h1 = ht_file(ht_path("a.log"), NULL);
    trail_handler *h2 = ht_file(ht_path("b.log"), NULL);
    ht_log(h1, "a1");
    ht_log(h2, "b1");
    trail__handler_flush(h1);
    trail__handler_flush(h2);
    CHECK_INT(rename(ht_path("a.log"), ht_path("a.log.1")), ==, 0);
    CHECK_INT(rename(ht_path("b.log"), ht_path("b.log.1")), ==, 0);
    CHECK_INT(raise(SIGHUP), ==, 0); /* would terminate the process without the handler */
    ht_log(h1, "a2");
    ht_log(h2, "b2");
    trail_handler_release(h1);
    trail_handler_release(h2);
    char *a1 = slurp("a.log.1"), *a2 = slurp("a.log"), *b1 = slurp("b.log.1"), *b2 = slurp("b.log");
    CHECK_STR(a1, "a1\n");
    CHECK_STR(a2, "a2\n");
    CHECK_STR(b1, "b1\n");
    CHECK_STR(b2, "b2\n");
    free(a1), free(a2), free(b1), free(b2);
}

TEST(sighup_reopens_every_file_handler) {
    CHECK_INT(trail_reopen_on_sighup(), ==, 0);
    CHECK_INT(trail_reopen_on_sighup(), ==, 0); /* idempotent, never chains to itself */
    mv_hup_check();
}

TEST(sighup_chains_to_the_previous_handler) {
    signal(SIGHUP, prev_handler);
    CHECK_INT(trail_reopen_on_sighup(), ==, 0);
    mv_hup_check();
    CHECK_INT(prev_calls, ==, 1);
}

TEST(sighup_chains_to_a_previous_siginfo_handler) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = prev_info_handler;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGHUP, &sa, NULL);
    CHECK_INT(trail_reopen_on_sighup(), ==, 0);
    mv_hup_check();
    CHECK_INT(prev_info_calls, ==, 1);
}

TEST(reopen_all_without_a_signal) {
    trail_handler *h = ht_file(ht_path("x.log"), NULL);
    ht_log(h, "1");
    trail__handler_flush(h);
    CHECK_INT(rename(ht_path("x.log"), ht_path("x.log.old")), ==, 0);
    trail_reopen_all();
    ht_log(h, "2");
    trail_handler_release(h);
    char *o = slurp("x.log.old"), *n = slurp("x.log");
    CHECK_STR(o, "1\n");
    CHECK_STR(n, "2\n");
    free(o), free(n);
}

/* The directory vanished with the file (reopen fails): lines are kept and
 * written once the path can be created again. */
TEST(reopen_failure_keeps_lines_until_the_path_is_back) {
    const char *err = ht_capture_stderr();
    const char *dir = ht_path("logs");
    char path[1100], moved[1100];
    snprintf(path, sizeof path, "%s/app.log", dir);
    snprintf(moved, sizeof moved, "%s/app.log.1", test_tmpdir());
    CHECK_INT(mkdir(dir, 0755), ==, 0);
    trail_handler *h = ht_file(path, NULL);
    ht_log(h, "before");
    trail__handler_flush(h);
    CHECK_INT(rename(path, moved), ==, 0);
    CHECK_INT(rmdir(dir), ==, 0);
    trail_handler_reopen(h);
    trail__handler_flush(h);
    ht_log(h, "while-gone");
    CHECK(trail__handler_flush(h) < 0);
    CHECK_INT(mkdir(dir, 0755), ==, 0);
    ht_log(h, "back");
    CHECK_INT(trail__handler_flush(h), ==, 0);
    trail_handler_release(h);
    char *cur = test_read_file(path, NULL);
    CHECK_STR(cur, "while-gone\nback\n");
    free(cur);
    char *rep = test_read_file(err, NULL);
    CHECK_CONTAINS(rep, "cannot reopen");
    free(rep);
}

/* Through the real core (async backend): logrotate moves the file, sends
 * SIGHUP, and the next entries land in a new file. */
TEST(sighup_through_the_async_core) {
    trail_options opts = {.service = "hup", .no_default_handlers = 1, .no_signal_handlers = 1};
    CHECK_INT(trail_setup(&opts), ==, 0);
    CHECK_INT(trail_reopen_on_sighup(), ==, 0);
    trail_handler *h = ht_file(ht_path("app.log"), NULL);
    CHECK_INT(trail_logger_add_handler(NULL, h), ==, 0);
    trail_handler_release(h);
    trail_info(NULL, "before");
    CHECK_INT(trail_flush(10000), ==, 0);
    CHECK_INT(rename(ht_path("app.log"), ht_path("app.log.1")), ==, 0);
    CHECK_INT(raise(SIGHUP), ==, 0); /* delivered to this thread before raise returns */
    trail_info(NULL, "after");
    CHECK_INT(trail_flush(10000), ==, 0);
    trail_shutdown();
    char *old = slurp("app.log.1"), *cur = slurp("app.log");
    CHECK_STR(old, "before\n");
    CHECK_STR(cur, "after\n");
    free(old), free(cur);
}
