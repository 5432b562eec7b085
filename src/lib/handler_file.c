/* handler_file.c — appends formatted lines to a file, rotating by size
 * and/or time, with retention and background compression (rotate.c,
 * compress.c).
 *
 * Lines are buffered and written with one write() per batch (flush); after
 * a batch of 256 KiB or more the kernel is asked to start writing it back
 * (sync_file_range, no waiting). When
 * writes fail (disk full, EIO) the handler keeps up to PENDING_MAX unwritten
 * bytes and retries at every batch; newer lines beyond that are dropped and
 * counted. The first failure is reported once on stderr; recovery clears the
 * report and says how many lines were lost.
 *
 * Several writers (handlers in one process, or processes) may share a path:
 * each batch is appended (O_APPEND) under a shared flock after checking the
 * file still has a name, and a rotation holds the flock exclusively and
 * renames only if the path still names the file it rotates. So a line never
 * lands in a file that was deleted or compressed away. */
#include "compress.h"
#include "core_impl.h"
#include "fork_gen.h"
#include "handler_impl.h"
#include "rotate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define PENDING_FLUSH_AT (256u * 1024)   /* write early inside a large batch */
#define PENDING_MAX (4u * 1024 * 1024)   /* unwritten bytes kept while writes fail */

typedef struct file_handler {
    trail_handler base;
    char *path;
    char *report_key;  /* report-once key: "trail.file:<path>" */
    trail_file_opts opts;
    int fd;            /* -1 when (re)opening failed; retried at each flush */
    uint64_t size;     /* bytes in the current file as far as this writer knows */
    int64_t start_s;   /* when the current file began (names it once rotated) */
    int64_t period;    /* start of the current file's time period */
    int64_t seq_s;     /* start_s the sequence below belongs to */
    unsigned seq;      /* next _NNNN to try for files begun in the same second */
    trail_buf pending; /* formatted lines not written yet */
    int failing;       /* the last write failed */
    unsigned fork_gen; /* fork generation the fd and the buffer belong to */
    uint64_t dropped_lines, dropped_bytes;
} file_handler;

static int64_t now_s(void) { return trail__rotate_now_ns() / 1000000000; }

/* Opens path for appending and derives the current file's start: now for a
 * new or empty file, else its last modification (so a file left from an
 * earlier period rotates before the first line of this one). */
static int open_path(file_handler *fh) {
    int fd = open(fh->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, fh->opts.mode);
    if (fd < 0) return -errno;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    int64_t now = now_s();
    int64_t begun = (st.st_size > 0 && (int64_t)st.st_mtime < now) ? (int64_t)st.st_mtime : now;
    fh->fd = fd;
    fh->size = (uint64_t)st.st_size;
    fh->period = trail__rotate_period_start(begun, fh->opts.interval_s);
    fh->start_s = fh->opts.interval_s ? fh->period : begun;
    return 0;
}

static int reopen_or_report(file_handler *fh) {
    int rc = open_path(fh);
    if (rc < 0)
        trail__report_once(fh->report_key, "cannot reopen %s: %s — lines are kept (up to %u KiB) and retried",
                           fh->path, trail_strerror(rc), PENDING_MAX / 1024);
    return rc;
}

static void close_fd(file_handler *fh) {
    if (fh->fd >= 0) close(fh->fd);
    fh->fd = -1;
}

static void lock(int fd, int op) {
    while (flock(fd, op) != 0 && errno == EINTR) {}
}

/* Takes the shared append lock on a file that still has a name: a file that
 * retention or compression unlinked is replaced by a fresh open of path. */
static int lock_live_file(file_handler *fh) {
    for (int tries = 0; tries < 4; tries++) {
        if (fh->fd < 0 && reopen_or_report(fh) < 0) return -EIO;
        lock(fh->fd, LOCK_SH);
        struct stat st;
        if (fstat(fh->fd, &st) == 0 && st.st_nlink > 0) return 0;
        lock(fh->fd, LOCK_UN);
        close_fd(fh);
    }
    return -EIO;
}

static void on_write_error(file_handler *fh, int err) {
    trail__stat_add(TRAIL__STAT_WRITE_ERRORS, 1);
    if (!fh->failing)
        trail__report_once(fh->report_key,
                           "cannot write %s: %s — keeping up to %u KiB and retrying at every batch; "
                           "later lines are dropped and counted (trail_stats.write_errors)",
                           fh->path, trail_strerror(err), PENDING_MAX / 1024);
    fh->failing = 1;
}

static void on_recovery(file_handler *fh) {
    fh->failing = 0;
    trail__report_clear(fh->report_key);
    static const char key[] = "trail.file.recovered";
    trail__report_once(key, "%s is writable again; %llu lines (%llu bytes) were dropped while it was not", fh->path,
                       (unsigned long long)fh->dropped_lines, (unsigned long long)fh->dropped_bytes);
    trail__report_clear(key);
    fh->dropped_lines = fh->dropped_bytes = 0;
}

/* Writes the pending bytes. On error keeps what was not written. */
static int flush_pending(file_handler *fh) {
    trail_buf *p = &fh->pending;
    if (p->len == 0) return 0;
    int rc = lock_live_file(fh);
    if (rc < 0) {
        on_write_error(fh, rc);
        return rc;
    }
    size_t off = 0;
    while (off < p->len) {
        long n = trail__io_write(fh->fd, p->data + off, p->len - off);
        if (n < 0) {
            rc = (int)n;
            break;
        }
        off += (size_t)n;
    }
    lock(fh->fd, LOCK_UN);
#if defined(SYNC_FILE_RANGE_WRITE)
    /* A big batch: start writing it back now, without waiting (as RocksDB's
     * bytes_per_sync does), so dirty pages do not pile up into a long
     * stall in a later write() or in the caller's fsync. A hint only: its
     * errors show up in the writes and syncs that follow. */
    if (off >= PENDING_FLUSH_AT) (void)sync_file_range(fh->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
#endif
    fh->size += off;
    trail__stat_add(TRAIL__STAT_BYTES, off);
    memmove(p->data, p->data + off, p->len - off);
    p->len -= off;
    if (rc < 0) {
        on_write_error(fh, -rc);
        return rc;
    }
    if (fh->failing) on_recovery(fh);
    return 0;
}

/* Moves the current file to its rotated name and starts a new one that
 * begins at new_start. */
static void rotate(file_handler *fh, int64_t new_start) {
    flush_pending(fh); /* on failure the bytes go to the new file */
    char rotated[8192];
    int moved = 0;
    if (fh->fd >= 0) {
        lock(fh->fd, LOCK_EX);
        struct stat a, b;
        /* Rename only if path still names our file: another writer may have
         * rotated it already, or logrotate moved it. */
        if (stat(fh->path, &a) == 0 && fstat(fh->fd, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
            if (fh->seq_s != fh->start_s) {
                fh->seq_s = fh->start_s;
                fh->seq = 0;
            }
            int rc = trail__rotate_move(fh->path, fh->start_s, &fh->seq, rotated, sizeof rotated);
            if (rc == 0) moved = 1;
            else
                trail__report_once(fh->report_key, "cannot rotate %s: %s — still writing to it", fh->path,
                                   trail_strerror(rc));
        }
    }
    int old = fh->fd;
    fh->fd = -1;
    if (reopen_or_report(fh) == 0) {
        /* Opened before the old file is unlocked, so a writer waiting on it
         * sees the new file in place. */
        if (moved || fh->opts.interval_s) {
            fh->start_s = new_start;
            fh->period = trail__rotate_period_start(new_start, fh->opts.interval_s);
        }
    }
    if (old >= 0) {
        lock(old, LOCK_UN);
        close(old);
    }
    if (moved) {
        trail__stat_add(TRAIL__STAT_ROTATIONS, 1);
        if (fh->opts.compress) {
            int rc = trail__compress_submit(rotated, fh->opts.compress);
            if (rc < 0)
                trail__report_once("trail.compress.queue", "cannot queue %s for compression: %s", rotated,
                                   trail_strerror(rc));
        }
    }
    trail__rotate_prune(fh->path, fh->opts.max_files, fh->opts.max_age_s, now_s());
}

/* In a forked child: the backlog is the parent's to write, and the child
 * gets its own open file (flock belongs to the open file description). */
static void after_fork(file_handler *fh) {
    fh->fork_gen = trail__fork_generation();
    fh->pending.len = 0;
    fh->failing = 0;
    fh->dropped_lines = fh->dropped_bytes = 0;
    close_fd(fh);
    reopen_or_report(fh);
}

static int file_write(trail_handler *h, const trail_entry *e, const char *line, size_t len) {
    file_handler *fh = (file_handler *)h;
    if (TRAIL_UNLIKELY(fh->fork_gen != trail__fork_generation())) after_fork(fh);
    int64_t ts = (e && e->ts_ns > 0) ? e->ts_ns / 1000000000 : now_s();
    if (fh->opts.interval_s && trail__rotate_period_start(ts, fh->opts.interval_s) > fh->period)
        rotate(fh, trail__rotate_period_start(ts, fh->opts.interval_s));
    else if (fh->opts.max_bytes && !fh->failing) {
        /* Not while writes fail: the backlog would make every line rotate
         * into a new, still unwritable, file. */
        uint64_t used = fh->size + fh->pending.len;
        if (used > 0 && used + len > fh->opts.max_bytes) rotate(fh, ts);
    }
    if (fh->pending.len && fh->pending.len + len > PENDING_MAX) {
        fh->dropped_lines++;
        fh->dropped_bytes += len;
        return 0;
    }
    if (trail_buf_put(&fh->pending, line, len) != 0) {
        fh->dropped_lines++;
        fh->dropped_bytes += len;
        return -ENOMEM;
    }
    /* While failing, retry only once per batch (in flush), not per line. */
    if (!fh->failing && fh->pending.len >= PENDING_FLUSH_AT) flush_pending(fh);
    return 0;
}

static int file_flush(trail_handler *h) {
    file_handler *fh = (file_handler *)h;
    if (TRAIL_UNLIKELY(fh->fork_gen != trail__fork_generation())) after_fork(fh);
    int had = fh->pending.len > 0;
    int rc = flush_pending(fh);
    if (rc == 0 && had && fh->opts.fsync_each_batch && fh->fd >= 0 && fdatasync(fh->fd) != 0) {
        rc = -errno;
        on_write_error(fh, errno);
    }
    return rc;
}

/* logrotate moved the file (or asked us to reopen): the buffered lines
 * belong to the old file; new ones go to a fresh file at path. */
static void file_reopen(trail_handler *h) {
    file_handler *fh = (file_handler *)h;
    flush_pending(fh);
    close_fd(fh);
    reopen_or_report(fh);
}

static void file_destroy(trail_handler *h) {
    file_handler *fh = (file_handler *)h;
    flush_pending(fh);
    if (fh->report_key && (fh->pending.len || fh->dropped_lines))
        trail__report_once(fh->report_key, "%s: %llu lines dropped and %zu bytes unwritten at close", fh->path,
                           (unsigned long long)fh->dropped_lines, fh->pending.len);
    close_fd(fh);
    if (fh->report_key) trail__report_clear(fh->report_key);
    trail_buf_free(&fh->pending);
    free(fh->path);
    free(fh->report_key);
}

static const struct trail_handler_ops file_ops = {
    .write = file_write, .flush = file_flush, .reopen = file_reopen, .destroy = file_destroy};

/* A message that says what to do about an open failure. */
static int open_error(const char *path, int err) {
    const char *hint = "set TRAIL_FILE to a writable path";
    switch (-err) {
    case ENOENT: hint = "its directory does not exist — create it or set TRAIL_FILE to a writable path"; break;
    case EISDIR: hint = "it is a directory — give a file name"; break;
    case EACCES:
    case EPERM: hint = "permission denied — fix the permissions or set TRAIL_FILE to a writable path"; break;
    case EROFS: hint = "read-only file system — set TRAIL_FILE to a writable path"; break;
    default: break;
    }
    return trail__error(err, "cannot open %s for writing: %s — %s", path, trail_strerror(err), hint);
}

/* The path made absolute once, so a later chdir() by the application does
 * not move where rotation, retention and compression work. */
static char *absolute_path(const char *path) {
    char cwd[4096];
    if (path[0] == '/' || !getcwd(cwd, sizeof cwd)) return strdup(path);
    size_t n = strlen(cwd) + strlen(path) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", cwd, path);
    return p;
}

int trail_handler_file(trail_handler **out, const char *path, const trail_file_opts *opts) {
    if (!out) return trail__error(-EINVAL, "trail_handler_file: out is required");
    *out = NULL;
    if (!path || !*path) return trail__error(-EINVAL, "trail_handler_file: a file path is required");
    if (opts && (opts->compress < TRAIL_COMPRESS_NONE || opts->compress > TRAIL_COMPRESS_ZSTD))
        return trail__error(-EINVAL, "trail_handler_file: unknown compression %d", (int)opts->compress);
    file_handler *fh = (file_handler *)trail__handler_new(sizeof *fh, &file_ops, trail_formatter_json());
    if (!fh) return trail__error(-ENOMEM, "trail_handler_file: out of memory");
    if (opts) fh->opts = *opts;
    if (!fh->opts.mode) fh->opts.mode = 0640;
    fh->fd = -1;
    fh->seq_s = -1;
    trail__fork_gen_init();
    fh->fork_gen = trail__fork_generation();
    fh->path = absolute_path(path);
    size_t klen = strlen(path) + 16;
    fh->report_key = malloc(klen);
    if (!fh->path || !fh->report_key) {
        trail_handler_release(&fh->base);
        return trail__error(-ENOMEM, "trail_handler_file: out of memory");
    }
    snprintf(fh->report_key, klen, "trail.file:%s", path);
    int rc = open_path(fh);
    if (rc < 0) {
        trail_handler_release(&fh->base);
        return open_error(path, rc);
    }
    trail__rotate_cleanup_temps(fh->path);
    if (fh->opts.compress) trail__rotate_resume_compression(fh->path, fh->opts.compress);
    trail__rotate_prune(fh->path, fh->opts.max_files, fh->opts.max_age_s, now_s());
    *out = &fh->base;
    return 0;
}
