/* test_rotate.c — rotation by size, by time (with an injected clock and
 * entry timestamps), both; retention by count and by age; the naming scheme
 * and that names sort oldest first. */
#include "handler_test_util.h"
#include "rotate.h"

#include <errno.h>
#include <sys/stat.h>
#include <time.h>

#define NS 1000000000LL

static int64_t fake_now_ns;
static int64_t fake_clock(void) { return fake_now_ns; }

/* 2026-11-28T20:59:58Z */
static const int64_t T0 = 1795899598LL;

/* Concatenation of the rotated files of name (sorted by name) and then the
 * current file. */
static char *read_all_in_order(const char *name, size_t *nfiles) {
    size_t stem = strchr(name, '.') ? (size_t)(strchr(name, '.') - name) : strlen(name);
    char prefix[256];
    snprintf(prefix, sizeof prefix, "%.*s.", (int)stem, name);
    ht_names r = ht_list(test_tmpdir(), prefix);
    trail_buf all = {0};
    size_t files = 0;
    for (size_t i = 0; i < r.n; i++) {
        if (!strcmp(r.v[i], name) || !trail__rotate_match(name, r.v[i], NULL)) continue;
        char *s = test_read_file(ht_path(r.v[i]), NULL);
        trail_buf_put(&all, s, strlen(s));
        free(s);
        files++;
    }
    char *cur = test_read_file(ht_path(name), NULL);
    if (cur) trail_buf_put(&all, cur, strlen(cur));
    free(cur);
    trail_buf_put(&all, "", 1);
    ht_names_free(&r);
    if (nfiles) *nfiles = files;
    return all.data;
}

TEST(names_sort_and_match) {
    char a[256], b[256], c[256];
    CHECK_INT(trail__rotate_format(a, sizeof a, "/var/log/app.jsonl", T0, 0), ==, 0);
    CHECK_STR(a, "/var/log/app.2026-11-28T20-59-58.jsonl");
    trail__rotate_format(b, sizeof b, "/var/log/app.jsonl", T0, 1);
    CHECK_STR(b, "/var/log/app.2026-11-28T20-59-58_0001.jsonl");
    trail__rotate_format(c, sizeof c, "/var/log/app.jsonl", T0 + 1, 0);
    CHECK(strcmp(a, b) < 0);
    CHECK(strcmp(b, c) < 0);
    trail__rotate_format(a, sizeof a, "noext", T0, 0);
    CHECK_STR(a, "noext.2026-11-28T20-59-58");
    trail__rotate_format(a, sizeof a, ".hidden", T0, 0);
    CHECK_STR(a, ".hidden.2026-11-28T20-59-58");
    size_t key;
    CHECK(trail__rotate_match("app.jsonl", "app.2026-11-28T20-59-58.jsonl", &key));
    CHECK_INT(key, ==, strlen("app.2026-11-28T20-59-58.jsonl"));
    CHECK(trail__rotate_match("app.jsonl", "app.2026-11-28T20-59-58_0012.jsonl.gz", &key));
    CHECK_INT(key, ==, strlen("app.2026-11-28T20-59-58_0012.jsonl"));
    CHECK(trail__rotate_match("app.jsonl", "app.2026-11-28T20-59-58.jsonl.zst", NULL));
    CHECK(!trail__rotate_match("app.jsonl", "app.jsonl", NULL));
    CHECK(!trail__rotate_match("app.jsonl", "app.2026-11-28T20-59-58.jsonl.bak", NULL));
    CHECK(!trail__rotate_match("app.jsonl", "app.2026-11-28T20-59-58.log", NULL));
    CHECK(!trail__rotate_match("app.jsonl", "other.2026-11-28T20-59-58.jsonl", NULL));
    CHECK(!trail__rotate_match("app.jsonl", "app.2026-11-28T20-59.jsonl", NULL));
    CHECK(!trail__rotate_match("app.jsonl", ".app.2026-11-28T20-59-58.jsonl.gz.tmp1.0", NULL));
    CHECK(!trail__rotate_match("app.jsonl", "app.2026-11-28T20-59-58_.jsonl", NULL));
}

TEST(period_start_aligns_to_utc) {
    CHECK_INT(trail__rotate_period_start(T0, TRAIL_ROTATE_HOURLY), ==, T0 - 59 * 60 - 58);
    CHECK_INT(trail__rotate_period_start(T0, TRAIL_ROTATE_DAILY) % 86400, ==, 0);
    CHECK_INT(T0 - trail__rotate_period_start(T0, TRAIL_ROTATE_DAILY), ==, 20 * 3600 + 59 * 60 + 58);
    CHECK_INT(trail__rotate_period_start(T0, 600), ==, T0 - 9 * 60 - 58);
    CHECK_INT(trail__rotate_period_start(T0, 0), ==, T0);
}

TEST(size_rotation_keeps_every_line_once_in_order) {
    const char *path = ht_path("app.jsonl");
    trail_file_opts o = {.max_bytes = 100};
    uint64_t r0 = trail__stat_read(TRAIL__STAT_ROTATIONS);
    trail_handler *h = ht_file(path, &o);
    trail_buf want = {0};
    char line[64];
    for (int i = 0; i < 50; i++) {
        snprintf(line, sizeof line, "line %04d of the size test", i); /* 27 bytes with \n */
        ht_log(h, line);
        trail_buf_put(&want, line, strlen(line));
        trail_buf_put(&want, "\n", 1);
        if (i % 7 == 0) trail__handler_flush(h);
    }
    trail_handler_release(h);
    trail_buf_put(&want, "", 1);
    size_t files;
    char *all = read_all_in_order("app.jsonl", &files);
    CHECK_STR(all, want.data);
    /* 3 lines (81 bytes) fit in 100: 50 lines make 17 files, 16 rotated. */
    CHECK_INT(files, ==, 16);
    CHECK_INT(trail__stat_read(TRAIL__STAT_ROTATIONS) - r0, ==, 16);
    /* No file is over the limit. */
    ht_names r = ht_list(test_tmpdir(), "app.");
    for (size_t i = 0; i < r.n; i++) {
        struct stat st;
        stat(ht_path(r.v[i]), &st);
        CHECK(st.st_size <= 100);
        CHECK(st.st_size > 0);
    }
    ht_names_free(&r);
    free(all);
    trail_buf_free(&want);
}

TEST(a_line_bigger_than_max_bytes_gets_a_file_of_its_own) {
    const char *path = ht_path("big.log");
    trail_file_opts o = {.max_bytes = 10};
    trail_handler *h = ht_file(path, &o);
    ht_log(h, "this line is longer than ten bytes");
    ht_log(h, "and so is this one");
    trail_handler_release(h);
    size_t files;
    char *all = read_all_in_order("big.log", &files);
    CHECK_STR(all, "this line is longer than ten bytes\nand so is this one\n");
    CHECK_INT(files, ==, 1);
    free(all);
}

static int64_t at(int64_t s) { return s * NS; }

TEST(time_rotation_hourly_by_entry_time) {
    fake_now_ns = at(T0);
    trail__rotate_set_clock(fake_clock);
    trail_file_opts o = {.interval_s = TRAIL_ROTATE_HOURLY};
    trail_handler *h = ht_file(ht_path("app.jsonl"), &o);
    ht_log_at(h, "20:59:58", at(T0));
    ht_log_at(h, "20:59:59", at(T0 + 1));
    trail__handler_flush(h);
    ht_log_at(h, "21:00:00", at(T0 + 2));
    ht_log_at(h, "21:30:00", at(T0 + 2 + 1800));
    ht_log_at(h, "22:00:01", at(T0 + 2 + 3601));
    trail_handler_release(h);
    char *a = test_read_file(ht_path("app.2026-11-28T20-00-00.jsonl"), NULL);
    char *b = test_read_file(ht_path("app.2026-11-28T21-00-00.jsonl"), NULL);
    char *c = test_read_file(ht_path("app.jsonl"), NULL);
    CHECK_STR(a, "20:59:58\n20:59:59\n");
    CHECK_STR(b, "21:00:00\n21:30:00\n");
    CHECK_STR(c, "22:00:01\n");
    free(a), free(b), free(c);
}

TEST(time_rotation_custom_interval_and_quiet_periods) {
    fake_now_ns = at(T0);
    trail__rotate_set_clock(fake_clock);
    trail_file_opts o = {.interval_s = 600};
    trail_handler *h = ht_file(ht_path("app.jsonl"), &o);
    ht_log_at(h, "a", at(T0));              /* 20:59:58, period 20:50 */
    ht_log_at(h, "b", at(T0 + 2));          /* 21:00:00 */
    ht_log_at(h, "c", at(T0 + 2 + 3 * 600)); /* 21:30: periods in between had no lines */
    trail_handler_release(h);
    char *a = test_read_file(ht_path("app.2026-11-28T20-50-00.jsonl"), NULL);
    char *b = test_read_file(ht_path("app.2026-11-28T21-00-00.jsonl"), NULL);
    char *c = test_read_file(ht_path("app.jsonl"), NULL);
    CHECK_STR(a, "a\n");
    CHECK_STR(b, "b\n");
    CHECK_STR(c, "c\n");
    free(a), free(b), free(c);
    ht_names r = ht_list(test_tmpdir(), "app.");
    CHECK_INT(r.n, ==, 3);
    ht_names_free(&r);
}

TEST(daily_rotation_of_a_file_left_from_yesterday) {
    const char *path = ht_path("app.jsonl");
    FILE *f = fopen(path, "w");
    fputs("yesterday\n", f);
    fclose(f);
    struct timespec t[2] = {{T0 - 86400, 0}, {T0 - 86400, 0}};
    utimensat(AT_FDCWD, path, t, 0);
    fake_now_ns = at(T0);
    trail__rotate_set_clock(fake_clock);
    trail_file_opts o = {.interval_s = TRAIL_ROTATE_DAILY};
    trail_handler *h = ht_file(path, &o);
    ht_log_at(h, "today", at(T0));
    trail_handler_release(h);
    char *y = test_read_file(ht_path("app.2026-11-27T00-00-00.jsonl"), NULL);
    char *c = test_read_file(path, NULL);
    CHECK_STR(y, "yesterday\n");
    CHECK_STR(c, "today\n");
    free(y), free(c);
}

TEST(size_and_time_together) {
    fake_now_ns = at(T0);
    trail__rotate_set_clock(fake_clock);
    trail_file_opts o = {.interval_s = TRAIL_ROTATE_HOURLY, .max_bytes = 20};
    trail_handler *h = ht_file(ht_path("app.jsonl"), &o);
    ht_log_at(h, "first-20:59:58", at(T0));      /* 15 bytes */
    ht_log_at(h, "second-20:59:58", at(T0));     /* size: new file begun at 20:59:58 */
    ht_log_at(h, "third-20:59:59", at(T0 + 1));  /* size again */
    ht_log_at(h, "fourth-21:00:05", at(T0 + 7)); /* time */
    trail_handler_release(h);
    /* The first file of the hour is named by its period, later ones by the
     * moment they were begun. */
    char *a = test_read_file(ht_path("app.2026-11-28T20-00-00.jsonl"), NULL);
    char *b = test_read_file(ht_path("app.2026-11-28T20-59-58.jsonl"), NULL);
    char *c = test_read_file(ht_path("app.2026-11-28T20-59-59.jsonl"), NULL);
    char *d = test_read_file(ht_path("app.jsonl"), NULL);
    CHECK_STR(a, "first-20:59:58\n");
    CHECK_STR(b, "second-20:59:58\n");
    CHECK_STR(c, "third-20:59:59\n");
    CHECK_STR(d, "fourth-21:00:05\n");
    free(a), free(b), free(c), free(d);
}

TEST(many_rotations_in_one_second_are_numbered_and_sorted) {
    fake_now_ns = at(T0);
    trail__rotate_set_clock(fake_clock);
    trail_file_opts o = {.max_bytes = 4};
    trail_handler *h = ht_file(ht_path("n.log"), &o);
    char line[16];
    trail_buf want = {0};
    for (int i = 0; i < 30; i++) {
        snprintf(line, sizeof line, "%c", 'a' + i % 26);
        ht_log_at(h, line, at(T0));
        trail_buf_put(&want, line, 1);
        trail_buf_put(&want, "\n", 1);
    }
    trail_handler_release(h);
    trail_buf_put(&want, "", 1);
    size_t files;
    char *all = read_all_in_order("n.log", &files);
    CHECK_STR(all, want.data); /* sorted names = chronological order */
    CHECK_INT(files, ==, 14);
    char *first = test_read_file(ht_path("n.2026-11-28T20-59-58.log"), NULL);
    char *second = test_read_file(ht_path("n.2026-11-28T20-59-58_0001.log"), NULL);
    CHECK_STR(first, "a\nb\n");
    CHECK_STR(second, "c\nd\n");
    free(first), free(second), free(all);
    trail_buf_free(&want);
}

TEST(retention_by_count_keeps_the_newest) {
    const char *path = ht_path("app.jsonl");
    trail_file_opts o = {.max_bytes = 8, .max_files = 3};
    trail_handler *h = ht_file(path, &o);
    char line[16];
    for (int i = 0; i < 20; i++) {
        snprintf(line, sizeof line, "l%03d", i); /* 5 bytes: one line per file */
        ht_log(h, line);
    }
    trail_handler_release(h);
    size_t files;
    char *all = read_all_in_order("app.jsonl", &files);
    CHECK_INT(files, ==, 3);
    CHECK_STR(all, "l016\nl017\nl018\nl019\n");
    free(all);
}

TEST(retention_by_age_deletes_only_old_rotated_files) {
    fake_now_ns = at(T0);
    trail__rotate_set_clock(fake_clock);
    const char *names[] = {"app.2026-11-20T00-00-00.jsonl.gz", "app.2026-11-21T00-00-00.jsonl",
                           "app.2026-11-28T19-00-00.jsonl", "app.2026-11-01T00-00-00.jsonl.bak",
                           "other.2026-11-01T00-00-00.jsonl"};
    int64_t mtimes[] = {T0 - 8 * 86400, T0 - 7 * 86400, T0 - 7200, T0 - 30 * 86400, T0 - 30 * 86400};
    for (int i = 0; i < 5; i++) {
        FILE *f = fopen(ht_path(names[i]), "w");
        fputs("x\n", f);
        fclose(f);
        struct timespec t[2] = {{mtimes[i], 0}, {mtimes[i], 0}};
        utimensat(AT_FDCWD, ht_path(names[i]), t, 0);
    }
    trail_file_opts o = {.max_age_s = 2 * 86400, .interval_s = TRAIL_ROTATE_HOURLY};
    trail_handler *h = ht_file(ht_path("app.jsonl"), &o); /* prunes at open too */
    struct stat st;
    CHECK_INT(stat(ht_path(names[0]), &st), ==, -1);
    CHECK_INT(stat(ht_path(names[1]), &st), ==, -1);
    CHECK_INT(stat(ht_path(names[2]), &st), ==, 0);
    CHECK_INT(stat(ht_path(names[3]), &st), ==, 0); /* not ours */
    CHECK_INT(stat(ht_path(names[4]), &st), ==, 0);
    /* 47 hours later the 19:00 file (last written 18:59:58) is over two
     * days old; the next rotation prunes it. */
    ht_log_at(h, "now", at(T0));
    trail__handler_flush(h);
    struct timespec t[2] = {{T0, 0}, {T0, 0}};
    utimensat(AT_FDCWD, ht_path("app.jsonl"), t, 0); /* written at fake T0 */
    fake_now_ns = at(T0 + 47 * 3600);
    ht_log_at(h, "later", at(T0 + 47 * 3600));
    trail__handler_flush(h);
    CHECK_INT(stat(ht_path(names[2]), &st), ==, -1);
    CHECK_INT(stat(ht_path("app.2026-11-28T20-00-00.jsonl"), &st), ==, 0); /* just rotated, "now" */
    trail_handler_release(h);
}

TEST(rotation_never_overwrites_an_existing_name) {
    fake_now_ns = at(T0);
    trail__rotate_set_clock(fake_clock);
    /* Someone already has the name this rotation would take. */
    FILE *f = fopen(ht_path("app.2026-11-28T20-59-58.jsonl"), "w");
    fputs("precious\n", f);
    fclose(f);
    f = fopen(ht_path("app.2026-11-28T20-59-58_0001.jsonl.gz"), "w");
    fputs("also precious\n", f);
    fclose(f);
    trail_file_opts o = {.max_bytes = 4};
    trail_handler *h = ht_file(ht_path("app.jsonl"), &o);
    ht_log_at(h, "one", at(T0));
    ht_log_at(h, "two", at(T0));
    trail_handler_release(h);
    char *p = test_read_file(ht_path("app.2026-11-28T20-59-58.jsonl"), NULL);
    char *q = test_read_file(ht_path("app.2026-11-28T20-59-58_0002.jsonl"), NULL);
    CHECK_STR(p, "precious\n");
    CHECK_STR(q, "one\n");
    free(p), free(q);
}

TEST(relative_path_in_the_current_directory) {
    CHECK_INT(chdir(test_tmpdir()), ==, 0);
    trail_file_opts o = {.max_bytes = 6, .max_files = 2, .compress = TRAIL_COMPRESS_GZIP};
    trail_handler *h = ht_file("rel.log", &o);
    CHECK_INT(chdir("/"), ==, 0); /* the application moves on; its log stays put */
    ht_log(h, "one");
    ht_log(h, "two");
    ht_log(h, "three");
    ht_log(h, "four");
    trail_handler_release(h);
    ht_names r = ht_list(test_tmpdir(), "rel.");
    size_t rotated = 0;
    for (size_t i = 0; i < r.n; i++) rotated += trail__rotate_match("rel.log", r.v[i], NULL);
    ht_names_free(&r);
    CHECK(rotated >= 2 && rotated <= 4); /* 3 rotated, pruned to 2 (+ their .gz forms while compressing) */
    char *cur = test_read_file(ht_path("rel.log"), NULL);
    CHECK_STR(cur, "four\n");
    free(cur);
}

/* While the disk is full, size rotation waits: no storm of new files; after
 * recovery every line is there once, in order. */
TEST(no_rotation_storm_while_writes_fail) {
    const char *err = ht_capture_stderr();
    (void)err;
    trail_file_opts o = {.max_bytes = 100};
    trail_handler *h = ht_file(ht_path("full.log"), &o);
    ht_log(h, "first line before the disk fills");
    trail__handler_flush(h);
    trail__io_inject(ENOSPC, 1 << 30);
    trail_buf want = {0};
    trail_buf_put(&want, "first line before the disk fills\n", 33);
    char line[64];
    for (int i = 0; i < 200; i++) {
        snprintf(line, sizeof line, "during %03d", i);
        ht_log(h, line);
        trail_buf_put(&want, line, strlen(line));
        trail_buf_put(&want, "\n", 1);
        if (i % 10 == 9) trail__handler_flush(h);
    }
    ht_names r = ht_list(test_tmpdir(), "full.");
    CHECK(r.n <= 3);
    ht_names_free(&r);
    trail__io_inject(0, 0);
    CHECK_INT(trail__handler_flush(h), ==, 0);
    trail_handler_release(h);
    trail_buf_put(&want, "", 1);
    char *all = read_all_in_order("full.log", NULL);
    CHECK_STR(all, want.data);
    free(all);
    trail_buf_free(&want);
}
