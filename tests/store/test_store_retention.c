/* Retention: whole segments are deleted when their newest entry is older
 * than the category's max age (defaults access 731 d, app 90 d, custom per
 * category), and oldest-first while the store is over its size cap; by
 * trail_store_maintain() and by the background thread. */
#include <dirent.h>
#include <time.h>

#include "store_test_util.h"

#define DAY (86400LL * SEC)

static const char *dir(void) {
    static char d[512];
    snprintf(d, sizeof d, "%s/store", test_tmpdir());
    return d;
}

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * SEC + t.tv_nsec;
}

/* n entries at ts, then sealed (segment_bytes = 1: each seal rolls a segment) */
static void put_segment(trail_store *s, const char *cat, int64_t ts, int n) {
    for (int i = 0; i < n; i++) {
        char line[64];
        snprintf(line, sizeof line, "{\"i\":%d,\"pad\":\"%032d\"}", i, i);
        CHECK_INT(ts_put(s, cat, "svc", "info", ts + i, line, NULL), ==, 1);
    }
    CHECK_INT(trail_store_flush(s), ==, 0);
}

static size_t count_cat(trail_store *s, const char *cat) {
    const char *cats[1] = {cat};
    trail_store_query q = {.categories = cats, .ncategories = 1};
    gotlist g = ts_collect(s, &q);
    size_t n = g.n;
    ts_free(&g);
    return n;
}

static int seg_files(const char *cat) {
    char d[600];
    snprintf(d, sizeof d, "%s/%s", dir(), cat);
    DIR *x = opendir(d);
    if (!x) return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(x))) n += strstr(de->d_name, ".dat") != NULL;
    closedir(x);
    return n;
}

TEST(by_category_age) {
    trail_store_retention r[1] = {{"audit", 1 * DAY}};
    trail_store_config c = {.segment_bytes = 1, .retention = r, .nretention = 1};
    trail_store *s = ts_open(dir(), TRAIL_STORE_NO_FSYNC | TRAIL_STORE_NO_BACKGROUND, &c);
    int64_t now = now_ns();
    put_segment(s, "app", now - 100 * DAY, 10);    /* > 90 d: goes */
    put_segment(s, "app", now - 10 * DAY, 10);     /* stays */
    put_segment(s, "access", now - 100 * DAY, 10); /* < 731 d: stays */
    put_segment(s, "access", now - 800 * DAY, 10); /* goes */
    put_segment(s, "audit", now - 2 * DAY, 10);    /* custom 1 d: goes */
    put_segment(s, "audit", now - 3600 * SEC, 10); /* stays */
    CHECK_INT(seg_files("app"), ==, 2);
    int deleted = trail_store_maintain(s, now);
    CHECK_INT(deleted, ==, 3);
    CHECK_INT(count_cat(s, "app"), ==, 10);
    CHECK_INT(count_cat(s, "access"), ==, 10);
    CHECK_INT(count_cat(s, "audit"), ==, 10);
    CHECK_INT(seg_files("app"), ==, 1);
    CHECK_INT(seg_files("access"), ==, 1);
    CHECK_INT(seg_files("audit"), ==, 1);
    CHECK_INT(trail_store_maintain(s, now), ==, 0); /* idempotent */
    trail_store_close(s);
    /* still gone after reopen; the remaining entries are the recent ones */
    s = ts_open(dir(), TRAIL_STORE_NO_FSYNC | TRAIL_STORE_NO_BACKGROUND, &c);
    trail_store_query q = {.from_ns = now - 50 * DAY};
    gotlist g = ts_collect(s, &q);
    CHECK_INT(g.n, ==, 20);
    ts_free(&g);
    CHECK_INT(count_cat(s, "access"), ==, 10);
    trail_store_close(s);
}

TEST(by_size_cap_oldest_first) {
    trail_store_config c = {.segment_bytes = 1};
    trail_store *s = ts_open(dir(), TRAIL_STORE_NO_FSYNC | TRAIL_STORE_NO_BACKGROUND, &c);
    int64_t now = now_ns();
    for (int k = 0; k < 20; k++) put_segment(s, k % 2 ? "app" : "access", now - (20 - k) * 3600 * SEC, 200);
    trail_store_stats st;
    trail_store_get_stats(s, &st);
    uint64_t full = st.disk_bytes;
    trail_store_close(s);
    c.max_bytes = full / 2;
    s = ts_open(dir(), TRAIL_STORE_NO_FSYNC | TRAIL_STORE_NO_BACKGROUND, &c);
    int deleted = trail_store_maintain(s, now);
    CHECK(deleted >= 10 && deleted < 20);
    trail_store_get_stats(s, &st);
    CHECK(st.disk_bytes <= c.max_bytes);
    /* what is left is the newest data */
    trail_store_query q = {0};
    gotlist g = ts_collect(s, &q);
    CHECK_INT(g.n, ==, (20 - (size_t)deleted) * 200);
    CHECK(g.v[0].ts >= now - (int64_t)(20 - deleted) * 3600 * SEC);
    CHECK(g.v[g.n - 1].ts >= now - 3600 * SEC);
    ts_free(&g);
    trail_store_close(s);
}

TEST(background_thread_deletes) {
    trail_store_config c = {.segment_bytes = 1, .maintain_interval_ns = 20000000};
    trail_store *s = ts_open(dir(), TRAIL_STORE_NO_FSYNC, &c);
    int64_t now = now_ns();
    put_segment(s, "app", now - 100 * DAY, 10);
    put_segment(s, "app", now, 10);
    for (int i = 0; i < 250 && count_cat(s, "app") != 10; i++) {
        struct timespec t = {0, 20000000};
        nanosleep(&t, NULL);
    }
    CHECK_INT(count_cat(s, "app"), ==, 10);
    trail_store_stats st;
    trail_store_get_stats(s, &st);
    CHECK_INT(st.segments_deleted, ==, 1);
    trail_store_close(s);
}

TEST(reader_keeps_deleted_segment_readable) {
    trail_store_config c = {.segment_bytes = 1};
    trail_store *s = ts_open(dir(), TRAIL_STORE_NO_FSYNC | TRAIL_STORE_NO_BACKGROUND, &c);
    int64_t now = now_ns();
    put_segment(s, "app", now - 100 * DAY, 50);
    trail_store_query q = {0};
    trail_store_iter *it;
    CHECK_INT(trail_store_iter_open(s, &q, &it), ==, 0);
    CHECK_INT(trail_store_maintain(s, now), ==, 1);
    const trail_store_entry *e;
    int n = 0;
    while (trail_store_iter_next(it, &e) == 1) n++;
    CHECK_INT(n, ==, 50);
    trail_store_iter_close(it);
    CHECK_INT(count_cat(s, "app"), ==, 0);
    trail_store_close(s);
}
