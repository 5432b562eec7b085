/* Store basics: write then read back in time order (both directions), from
 * the head and from sealed blocks, after reopen, label listings, request-id
 * lookups that skip blocks, and argument errors. */
#include <errno.h>

#include "store_test_util.h"

static const char *dir(void) {
    static char d[512];
    snprintf(d, sizeof d, "%s/store", test_tmpdir());
    return d;
}

TEST(write_read_time_order) {
    trail_store *s = ts_open(dir(), TRAIL_STORE_NO_FSYNC, NULL);
    /* out of order on purpose */
    int64_t ts[] = {5, 1, 4, 2, 3};
    for (int i = 0; i < 5; i++) {
        char line[64];
        snprintf(line, sizeof line, "{\"message\":\"m%lld\"}", (long long)ts[i]);
        CHECK_INT(ts_put(s, "app", "api", "info", ts[i] * SEC, line, NULL), ==, 1);
    }
    trail_store_query q = {0};
    gotlist g = ts_collect(s, &q); /* from the head */
    CHECK_INT(g.n, ==, 5);
    for (size_t i = 0; i < g.n; i++) CHECK_INT(g.v[i].ts, ==, (int64_t)(i + 1) * SEC);
    CHECK_STR(g.v[0].cat, "app");
    CHECK_STR(g.v[0].service, "api");
    ts_free(&g);
    CHECK_INT(trail_store_flush(s), ==, 0);
    q.backward = true;
    g = ts_collect(s, &q); /* from a block */
    CHECK_INT(g.n, ==, 5);
    for (size_t i = 0; i < g.n; i++) CHECK_INT(g.v[i].ts, ==, (int64_t)(5 - i) * SEC);
    CHECK_STR(g.v[0].line, "{\"message\":\"m5\"}");
    ts_free(&g);
    trail_store_close(s);
}

TEST(time_range_and_reopen) {
    trail_store *s = ts_open(dir(), TRAIL_STORE_NO_FSYNC, NULL);
    for (int i = 0; i < 100; i++) CHECK_INT(ts_put(s, "app", "api", "info", i * SEC, "{\"x\":1}", NULL), ==, 1);
    CHECK_INT(trail_store_flush(s), ==, 0);
    for (int i = 100; i < 150; i++) CHECK_INT(ts_put(s, "app", "api", "info", i * SEC, "{\"x\":1}", NULL), ==, 1);
    CHECK_INT(trail_store_sync(s), ==, 0);
    trail_store_query q = {.from_ns = 90 * SEC, .to_ns = 110 * SEC};
    gotlist g = ts_collect(s, &q); /* spans a block and the head */
    CHECK_INT(g.n, ==, 20);
    CHECK_INT(g.v[0].ts, ==, 90 * SEC);
    CHECK_INT(g.v[19].ts, ==, 109 * SEC);
    ts_free(&g);
    trail_store_close(s);
    s = ts_open(dir(), TRAIL_STORE_NO_FSYNC, NULL);
    g = ts_collect(s, &q);
    CHECK_INT(g.n, ==, 20);
    ts_free(&g);
    trail_store_stats st;
    trail_store_get_stats(s, &st);
    CHECK_INT(st.entries, ==, 150);
    trail_store_close(s);
}

TEST(categories_and_labels) {
    trail_store *s = ts_open(dir(), TRAIL_STORE_NO_FSYNC, NULL);
    CHECK_INT(ts_put(s, "app", "api", "info", 1 * SEC, "a", NULL), ==, 1);
    CHECK_INT(ts_put(s, "app", "worker", "error", 2 * SEC, "b", NULL), ==, 1);
    CHECK_INT(ts_put(s, "access", "nginx", "info", 3 * SEC, "c", NULL), ==, 1);
    char **v;
    size_t n;
    CHECK_INT(trail_store_label_names(s, 0, 0, &v, &n), ==, 0);
    CHECK_INT(n, ==, 3);
    CHECK_STR(v[0], "category");
    CHECK_STR(v[1], "level");
    CHECK_STR(v[2], "service");
    trail_store_strings_free(v, n);
    CHECK_INT(trail_store_label_values(s, "service", 0, 0, &v, &n), ==, 0);
    CHECK_INT(n, ==, 3);
    CHECK_STR(v[0], "api");
    CHECK_STR(v[2], "worker");
    trail_store_strings_free(v, n);
    CHECK_INT(trail_store_label_values(s, "service", 0, 2 * SEC, &v, &n), ==, 0);
    CHECK_INT(n, ==, 1); /* only api has data before 2s */
    trail_store_strings_free(v, n);
    CHECK_INT(trail_store_label_values(s, "category", 0, 0, &v, &n), ==, 0);
    CHECK_INT(n, ==, 2);
    CHECK_STR(v[0], "access");
    trail_store_strings_free(v, n);
    const char *cats[] = {"access"};
    trail_store_query q = {.categories = cats, .ncategories = 1};
    gotlist g = ts_collect(s, &q);
    CHECK_INT(g.n, ==, 1);
    CHECK_STR(g.v[0].line, "c");
    ts_free(&g);
    trail_store_close(s);
}

static bool only_worker(void *ctx, const trail_store_stream *st) {
    (void)ctx;
    for (uint32_t i = 0; i < st->nlabels; i++)
        if (!strcmp(st->labels[i].name, "service")) return !strcmp(st->labels[i].value, "worker");
    return false;
}

TEST(stream_matcher_and_request_id) {
    trail_store_config c = {.block_bytes = 4096};
    trail_store *s = ts_open(dir(), TRAIL_STORE_NO_FSYNC, &c);
    for (int i = 0; i < 2000; i++) {
        char line[128], rid[32];
        snprintf(rid, sizeof rid, "req-x%04d", i / 4);
        snprintf(line, sizeof line, "{\"message\":\"step %d\",\"request_id\":\"%s\"}", i, rid);
        CHECK_INT(ts_put(s, "app", i % 2 ? "worker" : "api", "info", i * SEC, line, NULL), ==, 1);
    }
    CHECK_INT(trail_store_flush(s), ==, 0);
    trail_store_query q = {.match = only_worker};
    gotlist g = ts_collect(s, &q);
    CHECK_INT(g.n, ==, 1000);
    for (size_t i = 0; i < g.n; i++) CHECK_STR(g.v[i].service, "worker");
    ts_free(&g);
    /* request id extracted from the line; other blocks skipped by bloom */
    trail_store_key k = {TRAIL_STORE_KEY_REQUEST_ID, "req-x0123", 9};
    trail_store_query q2 = {.keys = &k, .nkeys = 1};
    g = ts_collect(s, &q2);
    CHECK_INT(g.n, ==, 4);
    for (size_t i = 0; i < g.n; i++) CHECK_STR(g.v[i].rid, "req-x0123");
    CHECK(g.skipped > 20);
    CHECK(g.read <= 3);
    ts_free(&g);
    /* token keys skip blocks too */
    trail_store_key t = {TRAIL_STORE_KEY_TOKEN, "x0123", 5};
    trail_store_query q3 = {.keys = &t, .nkeys = 1};
    g = ts_collect(s, &q3);
    CHECK(g.n >= 4);
    CHECK(g.skipped > 20);
    ts_free(&g);
    trail_store_close(s);
}

static void tok(void *ctx, const char *t, size_t n) {
    char *out = ctx;
    strncat(out, t, n);
    strcat(out, "|");
}

TEST(filter_tokens_rule) {
    char out[256] = "";
    CHECK_INT(trail_store_filter_tokens("id=ab12-cd34-ef56", 17, tok, out), ==, 2);
    CHECK_STR(out, "ab12|cd34|");
    out[0] = 0;
    CHECK_INT(trail_store_filter_tokens(" connection refused ", 20, tok, out), ==, 2);
    CHECK_STR(out, "connection|refused|");
    CHECK_INT(trail_store_filter_tokens("abc", 3, tok, out), ==, 0);
    out[0] = 0; /* numbers and JSON keys are not indexed */
    const char *f1 = " 12345 \"level\":\"error\"", *f2 = " 12345 \"level\":\"error\" ";
    CHECK_INT(trail_store_filter_tokens(f1, strlen(f1), tok, out), ==, 0);
    CHECK_INT(trail_store_filter_tokens(f2, strlen(f2), tok, out), ==, 1);
    CHECK_STR(out, "error|");
}

TEST(bad_arguments) {
    trail_store *s = ts_open(dir(), TRAIL_STORE_NO_FSYNC, NULL);
    CHECK_INT(ts_put(s, "Bad Category", "a", "b", 1, "x", NULL), ==, -EINVAL);
    CHECK_INT(ts_put(s, "", "a", "b", 1, "x", NULL), ==, -EINVAL);
    trail_store_label l[2] = {{"a", "1"}, {"a", "2"}};
    trail_store_entry e = {.category = "app", .labels = l, .nlabels = 2, .line = "x", .line_len = 1};
    CHECK_INT(trail_store_append(s, &e, 1, NULL), ==, -EINVAL);
    trail_store_label wrong = {"category", "access"};
    e.labels = &wrong;
    e.nlabels = 1;
    CHECK_INT(trail_store_append(s, &e, 1, NULL), ==, -EINVAL);
    /* a second writer is refused */
    trail_store_config c = {.dir = dir()};
    trail_store *s2 = NULL;
    char err[256];
    CHECK_INT(trail_store_open(&c, &s2, err, sizeof err), ==, -EBUSY);
    CHECK_CONTAINS(err, "LOCK");
    trail_store_close(s);
    c.dir = NULL;
    CHECK_INT(trail_store_open(&c, &s2, err, sizeof err), ==, -EINVAL);
}

TEST(readonly_sees_sealed_blocks) {
    trail_store *w = ts_open(dir(), TRAIL_STORE_NO_FSYNC, NULL);
    CHECK_INT(ts_put(w, "app", "api", "info", 1 * SEC, "one", NULL), ==, 1);
    CHECK_INT(trail_store_flush(w), ==, 0);
    trail_store *r = ts_open(dir(), TRAIL_STORE_READONLY, NULL);
    trail_store_query q = {0};
    gotlist g = ts_collect(r, &q);
    CHECK_INT(g.n, ==, 1);
    ts_free(&g);
    CHECK_INT(ts_put(w, "app", "api", "info", 2 * SEC, "two", NULL), ==, 1);
    CHECK_INT(ts_put(w, "access", "nginx", "info", 3 * SEC, "three", NULL), ==, 1);
    CHECK_INT(trail_store_flush(w), ==, 0);
    CHECK_INT(trail_store_refresh(r), ==, 0);
    g = ts_collect(r, &q);
    CHECK_INT(g.n, ==, 3);
    CHECK_STR(g.v[2].line, "three");
    ts_free(&g);
    CHECK_INT(ts_put(r, "app", "api", "info", 1, "x", NULL), ==, -EROFS);
    trail_store_close(r);
    trail_store_close(w);
}

TEST(readonly_sees_synced_unsealed_entries) {
    /* another process (here: another handle) sees what the writer synced
     * but has not sealed yet, from the WAL, without duplicates when the
     * writer then seals */
    trail_store *w = ts_open(dir(), TRAIL_STORE_NO_FSYNC | TRAIL_STORE_NO_BACKGROUND, NULL);
    for (int i = 0; i < 10; i++) CHECK_INT(ts_put(w, "app", "api", "info", (i + 1) * SEC, "{\"x\":1}", NULL), ==, 1);
    CHECK_INT(trail_store_flush(w), ==, 0);
    for (int i = 10; i < 15; i++) CHECK_INT(ts_put(w, "app", "api", "info", (i + 1) * SEC, "{\"x\":2}", NULL), ==, 1);
    CHECK_INT(ts_put(w, "audit", "api", "info", 100 * SEC, "new category", NULL), ==, 1);
    CHECK_INT(trail_store_sync(w), ==, 0);
    trail_store *r = ts_open(dir(), TRAIL_STORE_READONLY, NULL);
    trail_store_query q = {0};
    gotlist g = ts_collect(r, &q);
    CHECK_INT(g.n, ==, 16);
    for (size_t i = 1; i < g.n; i++) CHECK(g.v[i - 1].ts < g.v[i].ts);
    ts_free(&g);
    CHECK_INT(trail_store_flush(w), ==, 0); /* sealed now: the reader's view must not double */
    CHECK_INT(ts_put(w, "app", "api", "info", 50 * SEC, "{\"x\":3}", NULL), ==, 1);
    CHECK_INT(trail_store_sync(w), ==, 0);
    g = ts_collect(r, &q); /* before refresh: the old snapshot */
    CHECK_INT(g.n, ==, 16);
    ts_free(&g);
    CHECK_INT(trail_store_refresh(r), ==, 0);
    g = ts_collect(r, &q);
    CHECK_INT(g.n, ==, 17);
    ts_free(&g);
    trail_store_stats st;
    trail_store_get_stats(r, &st);
    CHECK_INT(st.entries, ==, 17);
    trail_store_close(r);
    trail_store_close(w);
}
