/* Write failures: with RLIMIT_FSIZE the store's files cannot grow past a
 * limit (write() fails with EFBIG, as ENOSPC would), so appends and seals
 * fail part-way. The call reports the error, nothing half-written becomes
 * visible, and once space "returns" a retry of the same batches stores
 * each entry exactly once, before and after a reopen. Runs in a child so
 * the limit does not touch the harness. */
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store_test_util.h"

#define BATCHES 200
#define PER 50

static void batch(trail_store_entry *e, char lines[PER][128], trail_store_label *l, int b) {
    for (int i = 0; i < PER; i++) {
        int n = b * PER + i;
        snprintf(lines[i], 128, "{\"n\":%d,\"request_id\":\"rq%d\",\"pad\":\"%040d\"}", n, n / 7, n);
        e[i] = (trail_store_entry){.category = "app", .labels = l, .nlabels = 1, .ts_ns = 1800000000LL * SEC + n,
                                   .line = lines[i], .line_len = (uint32_t)strlen(lines[i])};
    }
}

static void run(const char *d) {
    signal(SIGXFSZ, SIG_IGN);
    trail_store_config c = {.block_bytes = 4096, .head_bytes = 16384, .segment_bytes = 1 << 20};
    trail_store *s = ts_open(d, TRAIL_STORE_NO_BACKGROUND, &c);
    trail_store_label l = {"service", "api"};
    trail_store_entry e[PER];
    static char lines[PER][128];
    /* prime: create files while writes are allowed */
    batch(e, lines, &l, 0);
    CHECK_INT(trail_store_append(s, e, PER, NULL), ==, 0);
    CHECK_INT(trail_store_sync(s), ==, 0);
    struct rlimit rl = {60000, RLIM_INFINITY};
    CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
    int failures = 0, ok = 1;
    for (int b = 1; b < BATCHES; b++) {
        batch(e, lines, &l, b);
        int r = trail_store_append(s, e, PER, NULL);
        if (r == 0) r = trail_store_sync(s);
        if (r) {
            CHECK(r == -EFBIG || r == -ENOSPC);
            failures++;
        } else {
            ok++;
        }
    }
    CHECK(failures > 0);
    /* everything visible is whole and in order */
    trail_store_query q = {0};
    gotlist g = ts_collect(s, &q);
    for (size_t i = 1; i < g.n; i++) CHECK(g.v[i - 1].ts < g.v[i].ts);
    for (size_t i = 0; i < g.n; i++) {
        int n = -1;
        CHECK(sscanf(g.v[i].line, "{\"n\":%d,", &n) == 1 && (int64_t)n + 1800000000LL * SEC == g.v[i].ts);
    }
    ts_free(&g);
    /* space returns: retry every batch (as traild would re-send) */
    rl.rlim_cur = RLIM_INFINITY;
    CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
    for (int b = 0; b < BATCHES; b++) {
        batch(e, lines, &l, b);
        CHECK_INT(trail_store_append(s, e, PER, NULL), ==, 0);
    }
    CHECK_INT(trail_store_sync(s), ==, 0);
    g = ts_collect(s, &q);
    CHECK_INT(g.n, ==, BATCHES * PER);
    for (size_t i = 0; i < g.n; i++) CHECK_INT(g.v[i].ts, ==, 1800000000LL * SEC + (int64_t)i);
    ts_free(&g);
    trail_store_close(s);
    s = ts_open(d, TRAIL_STORE_NO_BACKGROUND, &c);
    g = ts_collect(s, &q);
    CHECK_INT(g.n, ==, BATCHES * PER);
    ts_free(&g);
    trail_store_key k = {TRAIL_STORE_KEY_REQUEST_ID, "rq100", 5};
    trail_store_query qk = {.keys = &k, .nkeys = 1};
    g = ts_collect(s, &qk);
    CHECK_INT(g.n, ==, 7);
    ts_free(&g);
    trail_store_close(s);
    fprintf(stderr, "  %d batches failed, %d went in while the limit was on\n", failures, ok);
}

TEST(write_failures_roll_back_and_retry) {
    char d[512];
    snprintf(d, sizeof d, "%s/faults", test_tmpdir());
    pid_t pid = fork();
    if (pid == 0) {
        run(d);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st));
    CHECK_INT(WEXITSTATUS(st), ==, 0);
}
