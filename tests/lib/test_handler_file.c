/* test_handler_file.c — the file handler: appending, modes, clear errors for
 * unwritable paths, and disk-full / EIO behaviour (injected): the process
 * goes on, errors are counted and reported once, writing recovers. */
#include "handler_test_util.h"

#include <errno.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

TEST(writes_lines_in_order) {
    const char *path = ht_path("app.jsonl");
    trail_handler *h = ht_file(path, NULL);
    uint64_t bytes0 = trail__stat_read(TRAIL__STAT_BYTES);
    CHECK_INT(ht_log(h, "one"), ==, 1);
    CHECK_INT(ht_log(h, "two"), ==, 1);
    /* Buffered until the end of the batch. */
    char *before = test_read_file(path, NULL);
    CHECK_STR(before, "");
    free(before);
    CHECK_INT(trail__handler_flush(h), ==, 0);
    CHECK_INT(ht_log(h, "three"), ==, 1);
    trail_handler_release(h); /* flushes */
    char *got = test_read_file(path, NULL);
    CHECK_STR(got, "one\ntwo\nthree\n");
    CHECK_INT(trail__stat_read(TRAIL__STAT_BYTES) - bytes0, ==, strlen(got));
    free(got);
}

TEST(appends_to_an_existing_file) {
    const char *path = ht_path("app.log");
    FILE *f = fopen(path, "w");
    fputs("old\n", f);
    fclose(f);
    trail_handler *h = ht_file(path, NULL);
    ht_log(h, "new");
    trail_handler_release(h);
    char *got = test_read_file(path, NULL);
    CHECK_STR(got, "old\nnew\n");
    free(got);
}

TEST(mode_for_new_files_and_close_on_exec) {
    umask(0);
    trail_file_opts o = {.mode = 0600};
    trail_handler *h = ht_file(ht_path("a.log"), &o);
    struct stat st;
    CHECK_INT(stat(ht_path("a.log"), &st), ==, 0);
    CHECK_INT(st.st_mode & 0777, ==, 0600);
    trail_handler_release(h);
    h = ht_file(ht_path("b.log"), NULL);
    CHECK_INT(stat(ht_path("b.log"), &st), ==, 0);
    CHECK_INT(st.st_mode & 0777, ==, 0640); /* the default */
    /* Every fd the handler holds is close-on-exec. */
    int found = 0;
    for (int fd = 3; fd < 256; fd++) {
        int fl = fcntl(fd, F_GETFD);
        if (fl < 0) continue;
        char link[64], target[1024];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n <= 0) continue;
        target[n] = 0;
        if (strstr(target, "b.log")) {
            found = 1;
            CHECK(fl & FD_CLOEXEC);
        }
    }
    CHECK(found);
    trail_handler_release(h);
}

TEST(missing_directory_is_a_clear_error) {
    trail_handler *h = (trail_handler *)1;
    int rc = trail_handler_file(&h, ht_path("no/such/dir/app.jsonl"), NULL);
    CHECK_INT(rc, ==, -ENOENT);
    CHECK(h == NULL);
    CHECK_CONTAINS(trail_last_error(), "cannot open");
    CHECK_CONTAINS(trail_last_error(), "no/such/dir/app.jsonl");
    CHECK_CONTAINS(trail_last_error(), "does not exist");
    CHECK_CONTAINS(trail_last_error(), "TRAIL_FILE");
}

TEST(directory_path_is_a_clear_error) {
    trail_handler *h = NULL;
    CHECK_INT(trail_handler_file(&h, test_tmpdir(), NULL), ==, -EISDIR);
    CHECK_CONTAINS(trail_last_error(), "is a directory");
}

TEST(permission_denied_is_a_clear_error) {
    if (geteuid() == 0) {
        /* root ignores modes; a read-only file system still refuses. */
        trail_handler *h = NULL;
        int rc = trail_handler_file(&h, "/proc/trail-test.jsonl", NULL);
        CHECK(rc < 0);
        CHECK(h == NULL);
        CHECK_CONTAINS(trail_last_error(), "cannot open /proc/trail-test.jsonl");
        return;
    }
    const char *dir = ht_path("ro");
    CHECK_INT(mkdir(dir, 0500), ==, 0);
    trail_handler *h = NULL;
    char path[1100];
    snprintf(path, sizeof path, "%s/app.jsonl", dir);
    CHECK_INT(trail_handler_file(&h, path, NULL), ==, -EACCES);
    CHECK_CONTAINS(trail_last_error(), "permission denied");
    chmod(dir, 0700);
}

TEST(null_and_empty_arguments) {
    trail_handler *h = NULL;
    CHECK_INT(trail_handler_file(NULL, ht_path("x"), NULL), ==, -EINVAL);
    CHECK_INT(trail_handler_file(&h, NULL, NULL), ==, -EINVAL);
    CHECK_INT(trail_handler_file(&h, "", NULL), ==, -EINVAL);
    CHECK_CONTAINS(trail_last_error(), "path");
    trail_file_opts bad = {.compress = (trail_compress)7};
    CHECK_INT(trail_handler_file(&h, ht_path("x"), &bad), ==, -EINVAL);
}

/* Disk full: each failed batch is counted, the first failure is reported
 * once, nothing is lost while the backlog is small, and writing resumes. */
TEST(disk_full_counted_reported_once_and_recovers) {
    const char *err = ht_capture_stderr();
    const char *path = ht_path("app.jsonl");
    trail_handler *h = ht_file(path, NULL);
    uint64_t e0 = trail__stat_read(TRAIL__STAT_WRITE_ERRORS);
    trail__io_inject(ENOSPC, 3);
    ht_log(h, "a");
    CHECK_INT(trail__handler_flush(h), ==, -ENOSPC);
    ht_log(h, "b");
    CHECK_INT(trail__handler_flush(h), ==, -ENOSPC);
    ht_log(h, "c");
    CHECK_INT(trail__handler_flush(h), ==, -ENOSPC);
    CHECK_INT(trail__stat_read(TRAIL__STAT_WRITE_ERRORS) - e0, ==, 3);
    char *file = test_read_file(path, NULL);
    CHECK_STR(file, "");
    free(file);
    /* Space is back. */
    ht_log(h, "d");
    CHECK_INT(trail__handler_flush(h), ==, 0);
    file = test_read_file(path, NULL);
    CHECK_STR(file, "a\nb\nc\nd\n");
    free(file);
    char *rep = test_read_file(err, NULL);
    CHECK_INT(ht_count(rep, "cannot write"), ==, 1);
    CHECK_CONTAINS(rep, "No space left on device");
    CHECK_CONTAINS(rep, "writable again");
    free(rep);
    /* A new failure after recovery is reported again. */
    trail__io_inject(EIO, 1);
    ht_log(h, "e");
    CHECK_INT(trail__handler_flush(h), ==, -EIO);
    CHECK_INT(trail__handler_flush(h), ==, 0);
    rep = test_read_file(err, NULL);
    CHECK_INT(ht_count(rep, "cannot write"), ==, 2);
    CHECK_CONTAINS(rep, "Input/output error");
    free(rep);
    trail_handler_release(h);
    file = test_read_file(path, NULL);
    CHECK_STR(file, "a\nb\nc\nd\ne\n");
    free(file);
}

/* A long outage: the backlog stays bounded (newest lines dropped and
 * counted), the file gets whole lines only, in order, once space returns. */
TEST(long_outage_keeps_memory_bounded) {
    const char *err = ht_capture_stderr();
    const char *path = ht_path("app.jsonl");
    trail_handler *h = ht_file(path, NULL);
    trail__io_inject(ENOSPC, 1 << 30);
    char line[128];
    const int total = 80000; /* ~8 MB of lines, more than the backlog bound */
    for (int i = 0; i < total; i++) {
        snprintf(line, sizeof line, "%08d %s", i, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        ht_log(h, line);
        if (i % 1000 == 999) CHECK_INT(trail__handler_flush(h), ==, -ENOSPC);
    }
    trail__io_inject(0, 0);
    CHECK_INT(trail__handler_flush(h), ==, 0);
    size_t len = 0;
    char *file = test_read_file(path, &len);
    size_t n = ht_count_lines(file);
    CHECK(n > 1000);
    CHECK(n < (size_t)total);
    CHECK(len <= 4u * 1024 * 1024);
    /* The kept lines are exactly the first n, whole. */
    char *p = file;
    for (size_t i = 0; i < n; i++) {
        CHECK_INT(atoi(p), ==, (int)i);
        char *nl = strchr(p, '\n');
        CHECK(nl && nl - p == 8 + 1 + 87);
        p = nl + 1;
    }
    free(file);
    char *rep = test_read_file(err, NULL);
    CHECK_INT(ht_count(rep, "cannot write"), ==, 1);
    char want[64];
    snprintf(want, sizeof want, "%zu lines", (size_t)total - n);
    CHECK_CONTAINS(rep, want);
    CHECK_CONTAINS(rep, "dropped");
    free(rep);
    trail_handler_release(h);
}

TEST(fsync_each_batch_writes_through) {
    trail_file_opts o = {.fsync_each_batch = 1};
    const char *path = ht_path("audit.log");
    trail_handler *h = ht_file(path, &o);
    ht_log(h, "audited");
    CHECK_INT(trail__handler_flush(h), ==, 0);
    char *got = test_read_file(path, NULL);
    CHECK_STR(got, "audited\n");
    free(got);
    trail_handler_release(h);
}

/* The file was deleted under us (e.g. by an admin or a retention job of
 * another writer): the next batch goes to a fresh file at the path. */
TEST(deleted_file_is_recreated) {
    const char *path = ht_path("app.log");
    trail_handler *h = ht_file(path, NULL);
    ht_log(h, "lost-with-the-file");
    trail__handler_flush(h);
    CHECK_INT(unlink(path), ==, 0);
    ht_log(h, "after");
    CHECK_INT(trail__handler_flush(h), ==, 0);
    char *got = test_read_file(path, NULL);
    CHECK_STR(got, "after\n");
    free(got);
    trail_handler_release(h);
}

TEST(level_filters_entries) {
    const char *path = ht_path("lvl.log");
    trail_handler *h = ht_file(path, NULL);
    trail_handler_set_level(h, TRAIL_WARNING);
    CHECK_INT(ht_log(h, "info is below"), ==, 0);
    trail_handler_release(h);
    char *got = test_read_file(path, NULL);
    CHECK_STR(got, "");
    free(got);
}

TEST(default_formatter_is_json_lines) {
    const char *path = ht_path("app.jsonl");
    trail_handler *h = NULL;
    CHECK_INT(trail_handler_file(&h, path, NULL), ==, 0);
    ht_log(h, "hello \"json\"\nnext");
    trail_handler_release(h);
    char *got = test_read_file(path, NULL);
    CHECK(got && got[0] == '{');
    CHECK_INT(ht_count_lines(got), ==, 1); /* the newline in the message is escaped */
    CHECK_CONTAINS(got, "\"message\":\"hello \\\"json\\\"\\nnext\"");
    free(got);
}

/* A real full disk, where the machine allows it: a 64 KiB tmpfs in a private
 * mount namespace (this case runs in its own process). Writing fails with
 * ENOSPC, the process goes on, and once space is freed every line is there,
 * whole and in order. Skipped without the privilege to mount. */
TEST(real_disk_full_on_a_tiny_tmpfs) {
    const char *dir = ht_path("small");
    CHECK_INT(mkdir(dir, 0755), ==, 0);
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount("tmpfs", dir, "tmpfs", 0, "size=64k") != 0) {
        fprintf(stderr, "  (skipped: cannot mount a tmpfs here)\n");
        return;
    }
    const char *err = ht_capture_stderr();
    char filler[1100], path[1100], line[128];
    snprintf(filler, sizeof filler, "%s/filler", dir);
    snprintf(path, sizeof path, "%s/app.log", dir);
    FILE *f = fopen(filler, "w");
    static char block[32 * 1024];
    memset(block, 'f', sizeof block);
    CHECK_INT(fwrite(block, 1, sizeof block, f), ==, sizeof block);
    CHECK_INT(fclose(f), ==, 0);
    trail_handler *h = ht_file(path, NULL);
    uint64_t e0 = trail__stat_read(TRAIL__STAT_WRITE_ERRORS);
    int logged = 0, failed_at = -1;
    for (; logged < 5000 && (failed_at < 0 || logged < failed_at + 200); logged++) {
        snprintf(line, sizeof line, "%06d %s", logged, "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy");
        ht_log(h, line);
        if (logged % 10 == 9) {
            int rc = trail__handler_flush(h);
            if (rc < 0) {
                CHECK_INT(rc, ==, -ENOSPC);
                if (failed_at < 0) failed_at = logged;
            }
        }
    }
    CHECK(failed_at > 0); /* the disk did fill up */
    CHECK(trail__stat_read(TRAIL__STAT_WRITE_ERRORS) > e0);
    CHECK_INT(unlink(filler), ==, 0); /* space comes back */
    CHECK_INT(trail__handler_flush(h), ==, 0);
    trail_handler_release(h);
    size_t len;
    char *file = test_read_file(path, &len);
    CHECK_INT(ht_count_lines(file), ==, logged);
    char *p = file;
    for (int i = 0; i < logged; i++) {
        CHECK_INT(atoi(p), ==, i);
        char *nl = strchr(p, '\n');
        CHECK(nl && nl - p == 6 + 1 + 90);
        p = nl + 1;
    }
    free(file);
    char *rep = test_read_file(err, NULL);
    CHECK_INT(ht_count(rep, "cannot write"), ==, 1);
    CHECK_CONTAINS(rep, "writable again");
    free(rep);
}

/* fork() while lines wait for a full disk: the child neither writes the
 * parent's backlog a second time nor shares its open file. */
TEST(forked_child_does_not_duplicate_the_backlog) {
    ht_capture_stderr();
    const char *path = ht_path("app.log");
    trail_handler *h = ht_file(path, NULL);
    trail__io_inject(ENOSPC, 1);
    ht_log(h, "parent-backlog");
    CHECK_INT(trail__handler_flush(h), ==, -ENOSPC);
    pid_t pid = fork();
    if (pid == 0) {
        ht_log(h, "child");
        int rc = trail__handler_flush(h);
        trail_handler_release(h);
        _exit(rc == 0 ? 0 : 1);
    }
    int st = 0;
    CHECK_INT(waitpid(pid, &st, 0), ==, pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ht_log(h, "parent");
    CHECK_INT(trail__handler_flush(h), ==, 0);
    trail_handler_release(h);
    char *got = test_read_file(path, NULL);
    CHECK_STR(got, "child\nparent-backlog\nparent\n");
    free(got);
}
