/* test_handler_stream.c — the stream handler: batches to an fd, binds the
 * fd for colour detection, survives a reader that went away. */
#include "formatter_impl.h"
#include "handler_test_util.h"

#include <errno.h>
#include <signal.h>

TEST(writes_batches_to_the_fd) {
    int p[2];
    CHECK_INT(pipe(p), ==, 0);
    trail_handler *h = NULL;
    CHECK_INT(trail_handler_stream(&h, p[1]), ==, 0);
    CHECK_INT(h->tty_fd, ==, p[1]);
    trail_handler_set_formatter(h, ht_plain());
    ht_log(h, "hello");
    ht_log(h, "world");
    CHECK_INT(trail__handler_flush(h), ==, 0);
    char buf[64] = {0};
    CHECK_INT(read(p[0], buf, sizeof buf - 1), ==, 12);
    CHECK_STR(buf, "hello\nworld\n");
    trail_handler_release(h);
    close(p[0]);
    close(p[1]);
}

static int bound_fd = -2;
static void record_bind(trail_formatter *f, int fd) {
    (void)f;
    bound_fd = fd;
}

TEST(formatter_is_bound_to_the_fd) {
    trail_handler *h = NULL;
    CHECK_INT(trail_handler_stream(&h, 2), ==, 0);
    CHECK(h->formatter != NULL); /* the console formatter by default */
    trail_formatter *f = ht_plain();
    f->bind_fd = record_bind;
    trail_handler_set_formatter(h, f);
    CHECK_INT(bound_fd, ==, 2);
    trail_handler_release(h);
}

TEST(bad_fd_is_a_clear_error) {
    trail_handler *h = NULL;
    CHECK_INT(trail_handler_stream(&h, -1), ==, -EBADF);
    CHECK_INT(trail_handler_stream(&h, 987), ==, -EBADF);
    CHECK_CONTAINS(trail_last_error(), "not open");
    CHECK_INT(trail_handler_stream(NULL, 1), ==, -EINVAL);
}

/* `app | head`: the reader exits; the app must neither die of SIGPIPE nor
 * stop logging elsewhere. */
TEST(closed_reader_is_counted_not_fatal) {
    const char *err = ht_capture_stderr();
    signal(SIGPIPE, SIG_DFL);
    int p[2];
    CHECK_INT(pipe(p), ==, 0);
    close(p[0]);
    trail_handler *h = NULL;
    CHECK_INT(trail_handler_stream(&h, p[1]), ==, 0);
    trail_handler_set_formatter(h, ht_plain());
    uint64_t e0 = trail__stat_read(TRAIL__STAT_WRITE_ERRORS);
    for (int i = 0; i < 3; i++) {
        ht_log(h, "into the void");
        CHECK_INT(trail__handler_flush(h), ==, -EPIPE);
    }
    CHECK_INT(trail__stat_read(TRAIL__STAT_WRITE_ERRORS) - e0, ==, 3);
    sigset_t pending;
    sigpending(&pending);
    CHECK(!sigismember(&pending, SIGPIPE));
    trail_handler_release(h);
    close(p[1]);
    char *rep = test_read_file(err, NULL);
    CHECK_INT(ht_count(rep, "cannot write to fd"), ==, 1);
    free(rep);
}
