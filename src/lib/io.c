/* io.c — the one write wrapper every handler uses, so that disk-full and I/O
 * errors can be injected in tests (SQLite-style fault injection) and so that
 * EINTR and short writes are handled in one place. */
#include "handler_impl.h"

#include <errno.h>
#include <unistd.h>

/* Pending injected faults: the next `inject_count` writes fail with
 * `inject_err`. Atomics because tests set them from another thread than the
 * writer. */
static int inject_err;
static int inject_count;

void trail__io_inject(int err, int count) {
    __atomic_store_n(&inject_err, err, __ATOMIC_RELAXED);
    __atomic_store_n(&inject_count, count > 0 ? count : 0, __ATOMIC_RELEASE);
}

/* Consumes one injected fault; returns its errno or 0. */
static int take_injected(void) {
    int n = __atomic_load_n(&inject_count, __ATOMIC_ACQUIRE);
    while (n > 0) {
        if (__atomic_compare_exchange_n(&inject_count, &n, n - 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            return __atomic_load_n(&inject_err, __ATOMIC_RELAXED);
    }
    return 0;
}

/* Returns len when everything was written. When an error stops it after some
 * bytes went out, returns that (smaller) count so the caller does not write
 * them twice; the next call reports the error. Nothing written: -errno. */
long trail__io_write(int fd, const void *buf, size_t len) {
    const char *p = buf;
    size_t done = 0;
    while (done < len) {
        int err = take_injected();
        if (err) return done ? (long)done : -err;
        ssize_t n = write(fd, p + done, len - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return done ? (long)done : -errno;
        }
        if (n == 0) return done ? (long)done : -EIO;
        done += (size_t)n;
    }
    return (long)done;
}
