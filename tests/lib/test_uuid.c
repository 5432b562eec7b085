/* test_uuid.c — UUID v4/v7 format, version and variant bits, v7 ordering,
 * uniqueness over a bounded set, fork does not repeat ids. */
#include "test.h"
#include "trail.h"

#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void check_format(const char *u, char version) {
    CHECK_INT(strlen(u), ==, 36);
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            CHECK(u[i] == '-');
        else
            CHECK((u[i] >= '0' && u[i] <= '9') || (u[i] >= 'a' && u[i] <= 'f'));
    }
    CHECK(u[14] == version);
    CHECK(u[19] == '8' || u[19] == '9' || u[19] == 'a' || u[19] == 'b'); /* variant 10xx */
}

static int cmp(const void *a, const void *b) { return strcmp(a, b); }

#define N 20000
static char ids[N][37];

TEST(v4_format_and_unique) {
    for (int i = 0; i < N; i++) {
        trail_uuid_v4(ids[i]);
        check_format(ids[i], '4');
    }
    qsort(ids, N, 37, cmp);
    for (int i = 1; i < N; i++) CHECK(strcmp(ids[i - 1], ids[i]) != 0);
}

TEST(v7_format_ordered_unique) {
    for (int i = 0; i < N; i++) {
        trail_uuid_v7(ids[i]);
        check_format(ids[i], '7');
        if (i) CHECK(strcmp(ids[i - 1], ids[i]) < 0); /* strictly increasing, also within one ms */
    }
}

TEST(v7_timestamp_is_now) {
    char u[37];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t before = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    trail_uuid_v7(u);
    char hex[13];
    memcpy(hex, u, 8);
    memcpy(hex + 8, u + 9, 4);
    hex[12] = '\0';
    uint64_t ms = strtoull(hex, NULL, 16);
    CHECK(ms >= before);
    CHECK(ms < before + 60000); /* generous: a counter carry may advance it by a few ms */
}

TEST(null_out_is_ignored) {
    trail_uuid_v4(NULL);
    trail_uuid_v7(NULL);
}

TEST(fork_child_gets_different_ids) {
    char parent_first[37];
    trail_uuid_v4(parent_first); /* fills this thread's random buffer */
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        char u[37];
        trail_uuid_v4(u);
        ssize_t w = write(fds[1], u, 37);
        _exit(w == 37 ? 0 : 1);
    }
    char child[37], parent_next[37];
    CHECK(read(fds[0], child, 37) == 37);
    int st;
    waitpid(pid, &st, 0);
    trail_uuid_v4(parent_next);
    CHECK(strcmp(child, parent_next) != 0);
    close(fds[0]);
    close(fds[1]);
}
