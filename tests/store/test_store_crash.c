/* Crash safety: a child appends batches (random timestamps, two
 * categories), syncs, then reports the batch as acknowledged on a pipe; the
 * parent kills it with SIGKILL at a random moment — often mid-seal, since
 * blocks, heads and segments are tiny — then reopens the store (recovery)
 * and checks that every acknowledged entry is there exactly once and that
 * nothing else is garbage. Bounded: RUNS kills. */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store_test_util.h"

#define RUNS 24
#define BATCH 50
#define MAXACK 400000
#define PER_RUN (MAXACK / RUNS * 4) /* entries one child writes at most */

static trail_store_config small_cfg(void) {
    trail_store_config c = {.block_bytes = 2048, .head_bytes = 8192, .segment_bytes = 32768,
                            .seal_interval_ns = 3000000, .dedupe_window = 4096};
    return c;
}

static void child(const char *d, int run, int fd, unsigned flags) {
    trail_store_config c = small_cfg();
    c.dir = d;
    c.flags = flags;
    trail_store *s = NULL;
    char err[256];
    if (trail_store_open(&c, &s, err, sizeof err)) _exit(3);
    unsigned seed = (unsigned)run * 7919u + 1;
    char lines[BATCH][96];
    char rids[BATCH][32];
    trail_store_label l[1] = {{"service", "svc"}};
    trail_store_entry e[BATCH];
    /* Bounded, and within what the checker's seen[] holds, on any machine
     * speed: a fast one reaches the cap and waits for its kill. */
    for (int b = 0; (b + 1) * BATCH <= PER_RUN; b++) {
        for (int i = 0; i < BATCH; i++) {
            int seq = b * BATCH + i;
            snprintf(rids[i], sizeof rids[i], "r%d-%d", run, seq / 3);
            snprintf(lines[i], sizeof lines[i], "{\"run\":%d,\"seq\":%d,\"request_id\":\"%s\"}", run, seq, rids[i]);
            int64_t ts = 1800000000LL * SEC + ((int64_t)run * 1000000 + seq) * 1000 - (int64_t)(rand_r(&seed) % 50000);
            e[i] = (trail_store_entry){.category = seq % 3 ? "app" : "access", .labels = l, .nlabels = 1,
                                       .ts_ns = ts, .line = lines[i], .line_len = (uint32_t)strlen(lines[i])};
        }
        if (trail_store_append(s, e, BATCH, NULL) || trail_store_sync(s)) _exit(4);
        int32_t acked = (b + 1) * BATCH;
        if (write(fd, &acked, sizeof acked) != sizeof acked) _exit(5);
    }
    for (;;) pause();
}

static void sleep_us(long us) {
    struct timespec t = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&t, NULL);
}

static void crash_runs(unsigned flags) {
    char d[512];
    snprintf(d, sizeof d, "%s/crash", test_tmpdir());
    static int32_t acked_per_run[RUNS];
    unsigned seed = (unsigned)time(NULL);
    fprintf(stderr, "  seed %u\n", seed);
    for (int run = 0; run < RUNS; run++) {
        int pfd[2];
        CHECK(pipe(pfd) == 0);
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            close(pfd[0]);
            child(d, run, pfd[1], flags);
        }
        close(pfd[1]);
        sleep_us(20000 + rand_r(&seed) % 150000);
        kill(pid, SIGKILL);
        int st;
        waitpid(pid, &st, 0);
        CHECK(WIFSIGNALED(st)); /* it must not have died on its own */
        int32_t a, last = 0;
        while (read(pfd[0], &a, sizeof a) == sizeof a) last = a;
        close(pfd[0]);
        acked_per_run[run] = last;

        /* reopen (recovery) and verify everything so far */
        trail_store_config c = small_cfg();
        trail_store *s = ts_open(d, TRAIL_STORE_NO_BACKGROUND, &c);
        static unsigned char seen[RUNS][PER_RUN];
        memset(seen, 0, sizeof seen);
        trail_store_query q = {0};
        trail_store_iter *it;
        CHECK_INT(trail_store_iter_open(s, &q, &it), ==, 0);
        const trail_store_entry *e;
        int r;
        int64_t prev = INT64_MIN;
        long total = 0;
        while ((r = trail_store_iter_next(it, &e)) == 1) {
            int er, es;
            char rid[32];
            char line[128];
            CHECK(e->line_len < sizeof line);
            memcpy(line, e->line, e->line_len);
            line[e->line_len] = 0;
            CHECK(sscanf(line, "{\"run\":%d,\"seq\":%d,", &er, &es) == 2);
            CHECK(er >= 0 && er <= run && es >= 0 && es < (int)sizeof seen[0]);
            CHECK_STR(e->category, es % 3 ? "app" : "access");
            snprintf(rid, sizeof rid, "r%d-%d", er, es / 3);
            CHECK_STR(e->request_id, rid);
            CHECK(e->ts_ns >= prev);
            prev = e->ts_ns;
            CHECK_INT(seen[er][es], ==, 0); /* exactly once */
            seen[er][es] = 1;
            total++;
        }
        CHECK_INT(r, ==, 0);
        trail_store_iter_close(it);
        if (getenv("STORE_DEBUG")) {
            fprintf(stderr, "  total %ld\n", total);
            int shown = 0;
            for (int i = 0; i < acked_per_run[run] && shown < 20; i++)
                if (!seen[run][i]) { fprintf(stderr, "   missing %d\n", i); shown++; }
        }
        for (int k = 0; k <= run; k++)
            for (int i = 0; i < acked_per_run[k]; i++)
                if (!seen[k][i]) test__fail(__FILE__, __LINE__, "run %d: acked entry %d/%d missing", k, i, acked_per_run[k]);
        trail_store_stats stt;
        trail_store_get_stats(s, &stt);
        fprintf(stderr, "  run %2d: acked %5d, present %ld, torn bytes %llu, corrupt %llu\n", run, last, total,
                (unsigned long long)stt.torn_bytes, (unsigned long long)stt.corrupt_blocks);
        CHECK_INT(stt.corrupt_blocks, ==, 0);
        trail_store_close(s);
    }
}

TEST(kill9_loses_no_acked_entry) { crash_runs(TRAIL_STORE_NO_FSYNC); }

/* Same with real fsyncs (fewer entries per run, but the code path acks use). */
TEST(kill9_with_fsync) { crash_runs(0); }

/* A torn tail as power loss can leave it: the WAL and the active segment
 * end in a partial record plus garbage. Reopen drops exactly that and keeps
 * every synced entry. */
TEST(torn_tails_are_dropped) {
    char d[512];
    snprintf(d, sizeof d, "%s/torn", test_tmpdir());
    pid_t pid = fork();
    if (pid == 0) {
        trail_store_config c = small_cfg();
        trail_store *s = ts_open(d, TRAIL_STORE_NO_BACKGROUND, &c);
        for (int i = 0; i < 300; i++) {
            char line[64];
            snprintf(line, sizeof line, "{\"seq\":%d}", i);
            if (ts_put(s, "app", "svc", "info", i * SEC, line, NULL) != 1) _exit(2);
            if (i == 199 && trail_store_flush(s)) _exit(3);
        }
        if (trail_store_sync(s)) _exit(4);
        _exit(0); /* no close: like a crash right after the acks */
    }
    int st;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    char path[600];
    snprintf(path, sizeof path, "%s/app", d);
    /* garbage after the last block and the last WAL record */
    char cmd[1400];
    snprintf(cmd, sizeof cmd,
             "cd %s && for f in seg-*.dat wal-*.log; do printf 'TBLK \\000\\000\\000garbage' >> $f; done",
             path);
    CHECK_INT(system(cmd), ==, 0);
    trail_store_config c = small_cfg();
    trail_store *s = ts_open(d, TRAIL_STORE_NO_BACKGROUND, &c);
    trail_store_stats stt;
    trail_store_get_stats(s, &stt);
    CHECK_INT(stt.torn_bytes, ==, 2 * 15);
    CHECK_INT(stt.entries, ==, 300);
    trail_store_query q = {0};
    gotlist g = ts_collect(s, &q);
    CHECK_INT(g.n, ==, 300);
    for (size_t i = 0; i < g.n; i++) CHECK_INT(g.v[i].ts, ==, (int64_t)i * SEC);
    ts_free(&g);
    trail_store_close(s);
}
