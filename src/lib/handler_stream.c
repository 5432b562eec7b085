/* handler_stream.c — stdout, stderr or any fd the caller keeps open.
 *
 * Lines are buffered and written once per batch. The fd is what the console
 * formatter checks for colour (tty_fd, via bind_fd). A reader that went away
 * (EPIPE) must not kill a service: SIGPIPE is blocked on this thread for the
 * write and a pending one is consumed. Failed writes are counted and
 * reported once; up to STREAM_PENDING_MAX bytes are kept for the next batch
 * (EAGAIN on a non-blocking pipe), newer lines are dropped. */
#include "core_impl.h"
#include "fork_gen.h"
#include "formatter_impl.h"
#include "handler_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define STREAM_FLUSH_AT (64u * 1024)
#define STREAM_PENDING_MAX (1024u * 1024)

typedef struct stream_handler {
    trail_handler base;
    int fd;
    int failing;
    unsigned fork_gen; /* a forked child drops the parent's buffered lines */
    trail_buf pending;
    unsigned long long dropped_lines;
    char report_key[32]; /* "trail.stream:<fd>" */
} stream_handler;

/* write() with SIGPIPE blocked on this thread; a SIGPIPE raised by this
 * write is consumed so it is never delivered later. */
static long write_no_sigpipe(int fd, const char *p, size_t n) {
    sigset_t pipe_set, old;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    int was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    long rc = trail__io_write(fd, p, n);
    if (rc < 0 && rc == -EPIPE && !was_pending) {
        struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR) {}
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

static void check_fork(stream_handler *s) {
    if (TRAIL_LIKELY(s->fork_gen == trail__fork_generation())) return;
    s->fork_gen = trail__fork_generation();
    s->pending.len = 0;
}

static int stream_flush(trail_handler *h) {
    stream_handler *s = (stream_handler *)h;
    check_fork(s);
    trail_buf *p = &s->pending;
    if (p->len == 0) return 0;
    size_t off = 0;
    int rc = 0;
    while (off < p->len) {
        long n = write_no_sigpipe(s->fd, p->data + off, p->len - off);
        if (n < 0) {
            rc = (int)n;
            break;
        }
        off += (size_t)n;
    }
    trail__stat_add(TRAIL__STAT_BYTES, off);
    memmove(p->data, p->data + off, p->len - off);
    p->len -= off;
    if (rc < 0) {
        trail__stat_add(TRAIL__STAT_WRITE_ERRORS, 1);
        if (!s->failing)
            trail__report_once(s->report_key, "cannot write to fd %d: %s — lines are dropped and counted", s->fd,
                               trail_strerror(rc));
        s->failing = 1;
    } else if (s->failing) {
        s->failing = 0;
        trail__report_clear(s->report_key);
    }
    return rc;
}

static int stream_write(trail_handler *h, const trail_entry *e, const char *line, size_t len) {
    (void)e;
    stream_handler *s = (stream_handler *)h;
    check_fork(s);
    if ((s->pending.len && s->pending.len + len > STREAM_PENDING_MAX) || trail_buf_put(&s->pending, line, len)) {
        s->dropped_lines++;
        return 0;
    }
    if (!s->failing && s->pending.len >= STREAM_FLUSH_AT) stream_flush(h);
    return 0;
}

static void stream_destroy(trail_handler *h) {
    stream_handler *s = (stream_handler *)h;
    trail__report_clear(s->report_key);
    trail_buf_free(&s->pending);
}

static const struct trail_handler_ops stream_ops = {
    .write = stream_write, .flush = stream_flush, .reopen = NULL, .destroy = stream_destroy};

int trail_handler_stream(trail_handler **out, int fd) {
    if (!out) return trail__error(-EINVAL, "trail_handler_stream: out is required");
    *out = NULL;
    if (fd < 0 || fcntl(fd, F_GETFL) < 0)
        return trail__error(-EBADF, "trail_handler_stream: fd %d is not open — pass 1 (stdout), 2 (stderr) or an open fd",
                            fd);
    stream_handler *s = (stream_handler *)trail__handler_new(sizeof *s, &stream_ops, trail_formatter_console(NULL));
    if (!s) return trail__error(-ENOMEM, "trail_handler_stream: out of memory");
    s->fd = fd;
    s->base.tty_fd = fd;
    trail__fork_gen_init();
    s->fork_gen = trail__fork_generation();
    snprintf(s->report_key, sizeof s->report_key, "trail.stream:%d", fd);
    if (s->base.formatter && s->base.formatter->bind_fd) s->base.formatter->bind_fd(s->base.formatter, fd);
    *out = &s->base;
    return 0;
}
