/* Out-of-order entries are accepted and read back in order; an exact
 * duplicate (same stream, ts, line) is stored once — within one call,
 * across calls, across a seal and across a reopen — while entries that
 * differ in any of the three are all kept. Beyond the window a repeat is
 * stored again (documented). */
#include "store_test_util.h"

static const char *dir(void) {
    static char d[512];
    snprintf(d, sizeof d, "%s/store", test_tmpdir());
    return d;
}

static size_t count_all(trail_store *s) {
    trail_store_query q = {0};
    gotlist g = ts_collect(s, &q);
    size_t n = g.n;
    for (size_t i = 1; i < g.n; i++) CHECK(g.v[i - 1].ts <= g.v[i].ts);
    ts_free(&g);
    return n;
}

TEST(out_of_order_accepted) {
    trail_store_config c = {.block_bytes = 512, .head_bytes = 1024};
    trail_store *s = ts_open(dir(), TRAIL_STORE_NO_FSYNC | TRAIL_STORE_NO_BACKGROUND, &c);
    unsigned seed = 42;
    int64_t base = 1700000000LL * SEC;
    for (int i = 0; i < 3000; i++) {
        char line[64];
        snprintf(line, sizeof line, "entry %d", i);
        /* mostly increasing, with entries up to 10 minutes late, across seals */
        int64_t ts = base + i * SEC - (int64_t)(rand_r(&seed) % 600) * SEC;
        CHECK_INT(ts_put(s, "app", "api", "info", ts, line, NULL), ==, 1);
    }
    CHECK_INT(count_all(s), ==, 3000);
    trail_store_query q = {.backward = true};
    gotlist g = ts_collect(s, &q);
    CHECK_INT(g.n, ==, 3000);
    for (size_t i = 1; i < g.n; i++) CHECK(g.v[i - 1].ts >= g.v[i].ts);
    ts_free(&g);
    trail_store_close(s);
}

TEST(exact_duplicates_once) {
    trail_store *s = ts_open(dir(), TRAIL_STORE_NO_FSYNC | TRAIL_STORE_NO_BACKGROUND, NULL);
    trail_store_label l = {"service", "api"};
    trail_store_entry e[3];
    for (int i = 0; i < 3; i++)
        e[i] = (trail_store_entry){.category = "app", .labels = &l, .nlabels = 1, .ts_ns = 100, .line = "same",
                                   .line_len = 4};
    trail_store_append_result r;
    CHECK_INT(trail_store_append(s, e, 3, &r), ==, 0); /* within one call */
    CHECK_INT(r.stored, ==, 1);
    CHECK_INT(r.duplicates, ==, 2);
    CHECK_INT(trail_store_append(s, e, 1, &r), ==, 0); /* across calls (head) */
    CHECK_INT(r.stored, ==, 0);
    CHECK_INT(trail_store_flush(s), ==, 0);
    CHECK_INT(trail_store_append(s, e, 1, &r), ==, 0); /* after a seal */
    CHECK_INT(r.duplicates, ==, 1);
    /* differs in stream, ts or line: kept */
    trail_store_label l2 = {"service", "worker"};
    trail_store_entry d[3] = {e[0], e[0], e[0]};
    d[0].labels = &l2;
    d[1].ts_ns = 101;
    d[2].line = "samf";
    CHECK_INT(trail_store_append(s, d, 3, &r), ==, 0);
    CHECK_INT(r.stored, ==, 3);
    CHECK_INT(trail_store_sync(s), ==, 0);
    trail_store_close(s);
    s = ts_open(dir(), TRAIL_STORE_NO_FSYNC | TRAIL_STORE_NO_BACKGROUND, NULL);
    CHECK_INT(trail_store_append(s, e, 1, &r), ==, 0); /* after reopen (from blocks) */
    CHECK_INT(r.stored, ==, 0);
    CHECK_INT(trail_store_append(s, d, 3, &r), ==, 0);
    CHECK_INT(r.stored, ==, 0);
    CHECK_INT(count_all(s), ==, 4);
    trail_store_stats st;
    trail_store_get_stats(s, &st);
    CHECK_INT(st.duplicates, ==, 4); /* since this open */
    trail_store_close(s);
}

TEST(resent_batch_after_restart) {
    /* traild re-sends its in-flight batches after a crash with the same
     * timestamps: the store keeps one copy */
    trail_store *s = ts_open(dir(), TRAIL_STORE_NO_FSYNC | TRAIL_STORE_NO_BACKGROUND, NULL);
    for (int i = 0; i < 500; i++) {
        char line[64];
        snprintf(line, sizeof line, "{\"n\":%d}", i);
        CHECK_INT(ts_put(s, i % 2 ? "app" : "access", "api", "info", i * SEC, line, NULL), ==, 1);
    }
    trail_store_sync(s);
    trail_store_close(s);
    s = ts_open(dir(), TRAIL_STORE_NO_FSYNC | TRAIL_STORE_NO_BACKGROUND, NULL);
    for (int i = 400; i < 600; i++) {
        char line[64];
        snprintf(line, sizeof line, "{\"n\":%d}", i);
        CHECK_INT(ts_put(s, i % 2 ? "app" : "access", "api", "info", i * SEC, line, NULL), ==, i < 500 ? 0 : 1);
    }
    CHECK_INT(count_all(s), ==, 600);
    trail_store_close(s);
}

TEST(window_is_bounded) {
    trail_store_config c = {.dedupe_window = 100};
    trail_store *s = ts_open(dir(), TRAIL_STORE_NO_FSYNC | TRAIL_STORE_NO_BACKGROUND, &c);
    CHECK_INT(ts_put(s, "app", "api", "info", 1, "first", NULL), ==, 1);
    for (int i = 0; i < 99; i++) {
        char line[32];
        snprintf(line, sizeof line, "filler %d", i);
        ts_put(s, "app", "api", "info", 2 + i, line, NULL);
    }
    CHECK_INT(ts_put(s, "app", "api", "info", 1, "first", NULL), ==, 0); /* inside the window */
    for (int i = 0; i < 300; i++) {
        char line[32];
        snprintf(line, sizeof line, "more %d", i);
        ts_put(s, "app", "api", "info", 200 + i, line, NULL);
    }
    CHECK_INT(ts_put(s, "app", "api", "info", 1, "first", NULL), ==, 1); /* forgotten: stored again */
    trail_store_close(s);
}
