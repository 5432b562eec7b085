/* compress.c — gzip (zlib) or zstd compression of rotated files on one
 * low-priority background thread. The file handler only queues a path; all
 * I/O happens here. A file is replaced by its compressed form atomically:
 * temp file, fsync, rename, directory fsync, then unlink of the original. */
#include "compress.h"
#include "core_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define CHUNK (64 * 1024)
#define QUEUE_MAX 256

const char *trail__compress_suffix(trail_compress type) {
    switch (type) {
    case TRAIL_COMPRESS_GZIP: return ".gz";
    case TRAIL_COMPRESS_ZSTD: return ".zst";
    default: return "";
    }
}

/* ------------------------------------------------------------ encoders */

typedef struct encoder {
    trail_compress type;
    int out_fd;
    z_stream z;
    ZSTD_CCtx *zc;
    unsigned char out[CHUNK];
} encoder;

static int write_all(int fd, const unsigned char *p, size_t n) {
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

static int enc_init(encoder *e, trail_compress type, int out_fd) {
    e->type = type;
    e->out_fd = out_fd;
    if (type == TRAIL_COMPRESS_GZIP) {
        memset(&e->z, 0, sizeof e->z);
        /* windowBits 15 + 16: gzip wrapper instead of zlib's. */
        return deflateInit2(&e->z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK ? 0 : -ENOMEM;
    }
    e->zc = ZSTD_createCCtx();
    if (!e->zc) return -ENOMEM;
    ZSTD_CCtx_setParameter(e->zc, ZSTD_c_compressionLevel, 3);
    ZSTD_CCtx_setParameter(e->zc, ZSTD_c_checksumFlag, 1);
    return 0;
}

/* Compresses n bytes (finish = last call) and writes the output. */
static int enc_feed(encoder *e, const void *data, size_t n, int finish) {
    if (e->type == TRAIL_COMPRESS_GZIP) {
        e->z.next_in = (Bytef *)(uintptr_t)data;
        e->z.avail_in = (uInt)n;
        int zr;
        do {
            e->z.next_out = e->out;
            e->z.avail_out = CHUNK;
            zr = deflate(&e->z, finish ? Z_FINISH : Z_NO_FLUSH);
            if (zr == Z_STREAM_ERROR) return -EIO;
            int rc = write_all(e->out_fd, e->out, CHUNK - e->z.avail_out);
            if (rc) return rc;
        } while (e->z.avail_out == 0 || (finish && zr != Z_STREAM_END));
        return 0;
    }
    ZSTD_inBuffer in = {data, n, 0};
    size_t left;
    do {
        ZSTD_outBuffer out = {e->out, CHUNK, 0};
        left = ZSTD_compressStream2(e->zc, &out, &in, finish ? ZSTD_e_end : ZSTD_e_continue);
        if (ZSTD_isError(left)) return -EIO;
        int rc = write_all(e->out_fd, e->out, out.pos);
        if (rc) return rc;
    } while (finish ? left != 0 : in.pos < in.size);
    return 0;
}

static void enc_end(encoder *e) {
    if (e->type == TRAIL_COMPRESS_GZIP) deflateEnd(&e->z);
    else ZSTD_freeCCtx(e->zc);
}

/* Reads fd to its end through the encoder. */
static int feed_until_eof(encoder *e, int fd, unsigned char *buf) {
    for (;;) {
        ssize_t r = read(fd, buf, CHUNK);
        if (r < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        if (r == 0) return 0;
        int rc = enc_feed(e, buf, (size_t)r, 0);
        if (rc) return rc;
    }
}

static void fsync_dir_of(const char *path) {
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == path) snprintf(dir, sizeof dir, "/");
    else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int trail__compress_file(const char *path, trail_compress type) {
    if (!path || (type != TRAIL_COMPRESS_GZIP && type != TRAIL_COMPRESS_ZSTD)) return -EINVAL;
    static unsigned long counter;
    char dst[4096], tmp[4200];
    if (snprintf(dst, sizeof dst, "%s%s", path, trail__compress_suffix(type)) >= (int)sizeof dst) return -ENAMETOOLONG;
    /* Hidden temp name in the same directory: not matched by `*` globs. */
    const char *slash = strrchr(dst, '/');
    int dlen = slash ? (int)(slash - dst + 1) : 0;
    snprintf(tmp, sizeof tmp, "%.*s.%s.tmp%ld.%lu", dlen, dst, dst + dlen, (long)getpid(),
             __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));

    int in = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (in < 0) return -errno;
    struct stat st;
    if (fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(in);
        return -EINVAL;
    }
    int out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 0777);
    if (out < 0) {
        int err = -errno;
        close(in);
        return err;
    }
    unsigned char *buf = malloc(CHUNK);
    encoder *e = malloc(sizeof *e);
    int rc = (!buf || !e) ? -ENOMEM : enc_init(e, type, out);
    int have_enc = rc == 0;
    if (rc == 0) rc = feed_until_eof(e, in, buf);
    /* A late writer that still had this file open appends under a shared
     * flock; take it exclusively and read what came in meanwhile. */
    if (rc == 0) {
        while (flock(in, LOCK_EX) != 0 && errno == EINTR) {}
        rc = feed_until_eof(e, in, buf);
    }
    if (rc == 0) rc = enc_feed(e, NULL, 0, 1);
    if (have_enc) enc_end(e);
    if (rc == 0 && fsync(out) != 0) rc = -errno;
    if (rc == 0 && fstat(in, &st) == 0) {
        struct timespec times[2] = {st.st_atim, st.st_mtim}; /* keep the age retention sees */
        futimens(out, times);
    }
    if (close(out) != 0 && rc == 0) rc = -errno;
    if (rc == 0 && rename(tmp, dst) != 0) rc = -errno;
    if (rc == 0) {
        fsync_dir_of(dst);
        if (unlink(path) != 0 && errno != ENOENT) rc = -errno;
    } else {
        unlink(tmp);
    }
    close(in); /* drops the flock after the original is gone */
    free(buf);
    free(e);
    return rc;
}

/* -------------------------------------------------------------- worker */

typedef struct job {
    char *path;
    trail_compress type;
} job;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t idle_cv = PTHREAD_COND_INITIALIZER;
static job queue[QUEUE_MAX];
static size_t q_head, q_len;
static int busy;           /* the worker is compressing a file */
static int worker_running; /* in this process */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void atfork_prepare(void) { pthread_mutex_lock(&mu); }
static void atfork_parent(void) { pthread_mutex_unlock(&mu); }
/* The child has no worker; the parent compresses what was queued. */
static void atfork_child(void) {
    for (size_t i = 0; i < q_len; i++) free(queue[(q_head + i) % QUEUE_MAX].path);
    q_head = q_len = 0;
    busy = 0;
    worker_running = 0;
    pthread_mutex_unlock(&mu);
}

static void register_atfork(void) { pthread_atfork(atfork_prepare, atfork_parent, atfork_child); }

static void *worker_main(void *arg) {
    (void)arg;
    int failed = 0;
    setpriority(PRIO_PROCESS, (id_t)gettid(), 19); /* per-thread nice on Linux */
    pthread_mutex_lock(&mu);
    for (;;) {
        while (q_len == 0) pthread_cond_wait(&work_cv, &mu);
        job j = queue[q_head];
        q_head = (q_head + 1) % QUEUE_MAX;
        q_len--;
        busy = 1;
        pthread_mutex_unlock(&mu);
        int rc = trail__compress_file(j.path, j.type);
        if (rc < 0 && rc != -ENOENT) {
            trail__report_once("trail.compress", "cannot compress %s: %s (the file is kept uncompressed)", j.path,
                               trail_strerror(rc));
            failed = 1;
        } else if (rc == 0 && failed) {
            failed = 0;
            trail__report_clear("trail.compress"); /* report the next failure again */
        }
        free(j.path);
        pthread_mutex_lock(&mu);
        busy = 0;
        if (q_len == 0) pthread_cond_broadcast(&idle_cv);
    }
    return NULL;
}

/* Called with mu held. Signals are blocked in the worker so signal handlers
 * (SIGHUP reopen, fatal-signal drain) run on the application's threads. */
static int start_worker(void) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t t;
    int rc = pthread_create(&t, &attr, worker_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (rc) return -rc;
    worker_running = 1;
    return 0;
}

int trail__compress_submit(const char *path, trail_compress type) {
    if (!path || (type != TRAIL_COMPRESS_GZIP && type != TRAIL_COMPRESS_ZSTD)) return -EINVAL;
    pthread_once(&atfork_once, register_atfork);
    char *copy = strdup(path);
    if (!copy) return -ENOMEM;
    pthread_mutex_lock(&mu);
    int rc = 0;
    if (q_len == QUEUE_MAX) rc = -EAGAIN;
    else if (!worker_running) rc = start_worker();
    if (rc == 0) {
        queue[(q_head + q_len) % QUEUE_MAX] = (job){copy, type};
        q_len++;
        pthread_cond_signal(&work_cv);
    }
    pthread_mutex_unlock(&mu);
    if (rc) free(copy);
    return rc;
}

int trail__compress_wait(int timeout_ms) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    int rc = 0;
    pthread_mutex_lock(&mu);
    while ((q_len || busy) && rc == 0)
        if (pthread_cond_timedwait(&idle_cv, &mu, &deadline) == ETIMEDOUT) rc = -ETIMEDOUT;
    if (rc == -ETIMEDOUT && !q_len && !busy) rc = 0;
    pthread_mutex_unlock(&mu);
    return rc;
}
