/* out_file.c — JSONL file output. A batch is one write() (after rendering
 * into one buffer); a failed or short write is rolled back by truncating to
 * the size before the attempt, so a retry never leaves a half batch. The
 * fault_* options inject failures and stalls for the correctness harness. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent_log.h"
#include "output_worker.h"
#include "out_file.h"
#include "render.h"

typedef struct file_conf {
    const char *path;
    int format;               /* 0 json, 1 raw */
    bool fsync;
    int64_t retry_base, retry_max;
    int64_t fault_fail_percent;
    int64_t fault_stall_percent;
    int64_t fault_stall;
    int64_t fault_invalid_percent;
} file_conf;

static const ta_option file_options[] = {
    {"path", TA_OPT_STR, NULL, offsetof(file_conf, path), "file to append JSONL to (created 0644)", NULL, true},
    {"format", TA_OPT_ENUM, "json", offsetof(file_conf, format),
     "json: one traild JSON object per entry; raw: the original line", "json|raw", false},
    {"fsync", TA_OPT_BOOL, "false", offsetof(file_conf, fsync),
     "fsync after each batch before acknowledging (survives power loss, not only kill -9)", NULL, false},
    {"retry_backoff", TA_OPT_DURATION, "100ms", offsetof(file_conf, retry_base), "first retry delay", NULL, false},
    {"retry_backoff_max", TA_OPT_DURATION, "30s", offsetof(file_conf, retry_max), "longest retry delay", NULL, false},
    {"fault_fail_percent", TA_OPT_INT, "0", offsetof(file_conf, fault_fail_percent),
     "testing: percent of attempts that fail (retried)", NULL, false},
    {"fault_stall_percent", TA_OPT_INT, "0", offsetof(file_conf, fault_stall_percent),
     "testing: percent of attempts that stall for fault_stall first", NULL, false},
    {"fault_stall", TA_OPT_DURATION, "200ms", offsetof(file_conf, fault_stall), "testing: stall length", NULL, false},
    {"fault_invalid_percent", TA_OPT_INT, "0", offsetof(file_conf, fault_invalid_percent),
     "testing: percent of batches answered 'invalid' (dropped, counted)", NULL, false},
    TA_OPTIONS_END,
};

typedef struct file_out {
    ta_output base;
    file_conf c;
    int fd;                   /* -1 for stdout-less file not yet open */
    bool is_stdout;
    ta_worker *w;
    ta_buf buf;
    unsigned seed;
} file_out;

static int pct(file_out *f, int64_t p) { return p > 0 && (int64_t)(rand_r(&f->seed) % 100) < p; }

static int write_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* A previous traild killed inside write() may have left half a batch: cut
 * the file back to its last complete line. That batch was never
 * acknowledged, so it is sent again in full. */
static void drop_torn_tail(int fd) {
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0) return;
    char b[4096];
    off_t end = st.st_size;
    while (end > 0) {
        size_t n = end > (off_t)sizeof b ? sizeof b : (size_t)end;
        if (pread(fd, b, n, end - (off_t)n) != (ssize_t)n) return;
        for (size_t i = n; i-- > 0;) {
            if (b[i] == '\n') {
                off_t keep = end - (off_t)n + (off_t)i + 1;
                if (keep != st.st_size && ftruncate(fd, keep) == 0)
                    ta_warn("output file: dropped %lld bytes of a torn last line (resent)", (long long)(st.st_size - keep));
                return;
            }
        }
        end -= (off_t)n;
    }
    if (ftruncate(fd, 0) == 0) ta_warn("output file: dropped a torn first line (resent)");
}

static int file_send(ta_output *o, ta_batch *b, uint32_t *n_invalid) {
    file_out *f = (file_out *)o;
    (void)n_invalid;
    if (pct(f, f->c.fault_stall_percent)) {
        struct timespec ts = {f->c.fault_stall / 1000000000, f->c.fault_stall % 1000000000};
        nanosleep(&ts, NULL);
    }
    if (pct(f, f->c.fault_fail_percent)) return TA_SEND_RETRY;
    if (pct(f, f->c.fault_invalid_percent)) return TA_SEND_INVALID;
    if (f->fd < 0) {
        f->fd = open(f->c.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (f->fd < 0) {
            ta_warn("output %s: cannot open %s: %s — will retry", o->name, f->c.path, strerror(errno));
            return errno == ENOSPC || errno == EACCES ? TA_SEND_HOLD : TA_SEND_RETRY;
        }
        drop_torn_tail(f->fd);
    }
    f->buf.len = 0;
    ta_render_batch_jsonl(&f->buf, b, f->c.format == 1);
    struct stat st;
    off_t before = !f->is_stdout && fstat(f->fd, &st) == 0 && S_ISREG(st.st_mode) ? st.st_size : -1;
    int r = write_all(f->fd, f->buf.p, f->buf.len);
    if (r == 0 && f->c.fsync && !f->is_stdout) r = fsync(f->fd) < 0 ? -errno : 0;
    if (r < 0) {
        ta_warn("output %s: write failed: %s — will retry", o->name, strerror(-r));
        if (before >= 0 && ftruncate(f->fd, before) < 0) { /* best effort: no half batch */ }
        return r == -ENOSPC ? TA_SEND_HOLD : TA_SEND_RETRY;
    }
    atomic_fetch_add_explicit(&o->stats->bytes, f->buf.len, memory_order_relaxed);
    if (f->buf.cap > (8u << 20)) ta_buf_free(&f->buf); /* do not keep a huge buffer */
    return TA_SEND_OK;
}

static int create_common(const file_conf *c, bool is_stdout, ta_output **out) {
    file_out *f = calloc(1, sizeof *f);
    if (!f) return -ENOMEM;
    f->c = *c;
    f->is_stdout = is_stdout;
    f->fd = is_stdout ? STDOUT_FILENO : -1;
    f->seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    *out = &f->base;
    return 0;
}

static int file_create(const void *conf, ta_output **out, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    return create_common(conf, false, out);
}

/* The worker starts lazily: base.name/stats are filled after create(). */
static int file_submit(ta_output *o, ta_batch *b) {
    file_out *f = (file_out *)o;
    if (!f->w) {
        ta_worker_conf wc = {f->c.retry_base, f->c.retry_max};
        f->w = ta_worker_start(o, file_send, &wc);
    }
    return ta_worker_submit(f->w, b);
}

static void file_drain(ta_output *o, int64_t deadline_ns) {
    file_out *f = (file_out *)o;
    if (f->w) ta_worker_drain(f->w, deadline_ns);
}

static void file_destroy(ta_output *o) {
    file_out *f = (file_out *)o;
    ta_worker_stop(f->w);
    if (f->fd >= 0 && !f->is_stdout) close(f->fd);
    ta_buf_free(&f->buf);
    free(f);
}

const ta_output_type ta_output_file = {
    .name = "file",
    .options = file_options,
    .conf_size = sizeof(file_conf),
    .help = "appends entries as JSON lines to a file",
    .create = file_create,
    .submit = file_submit,
    .drain = file_drain,
    .destroy = file_destroy,
};

/* For out_stdout.c: the same machinery aimed at fd 1. */
int ta_out_file_create_stdout(int format, ta_output **out) {
    file_conf c = {.path = "-", .format = format};
    return create_common(&c, true, out);
}
int ta_out_file_submit(ta_output *o, ta_batch *b) { return file_submit(o, b); }
void ta_out_file_drain(ta_output *o, int64_t deadline_ns) { file_drain(o, deadline_ns); }
void ta_out_file_destroy(ta_output *o) { file_destroy(o); }
