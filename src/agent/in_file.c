/* in_file.c — the file input: glob discovery (at start, on inotify events
 * and by periodic rescan), tailing with file identity, rotation handling,
 * optional multiline joining, and positions committed through checkpoint.h.
 *
 * Positions: `scan` is the next byte to read; entries are emitted only when
 * complete (a last line without '\n' is re-read later, never shipped half);
 * `committed` moves only when the pipeline reports every output acked.
 *
 * Rotation, as seen from here:
 *  - rename/create, dateext: the open fd keeps the old inode; it is drained
 *    to EOF (and kept while its new name still matches the glob); the new
 *    file at the path is discovered and read from 0.
 *  - copytruncate: size < scan on the same inode → a new incarnation (new
 *    source id) read from 0; a new file whose fingerprint equals that of the
 *    truncated one (the copy, if the glob covers it) starts where we were.
 *  - delaycompress: .gz/.zst/.xz/.bz2 are excluded by default.
 *  - deleted while open: drained to EOF, then closed.
 *  - inode reuse: checkpoint entry with the same (dev, ino) but another
 *    fingerprint → a new file, read from 0. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <libgen.h>
#include <regex.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_log.h"
#include "fileid.h"
#include "input.h"
#include "proc_util.h"
#include "timefmt.h"

typedef struct file_conf {
    ta_strlist paths;
    ta_strlist exclude;
    int start_at;            /* 0 beginning, 1 end */
    int64_t rescan_interval;
    int64_t poll_interval;
    int64_t close_after;
    uint64_t max_line_bytes;
    uint64_t read_buffer;
    const char *multiline_start;
    int64_t multiline_timeout;
    uint64_t multiline_max_bytes;
} file_conf;

static const ta_option file_options[] = {
    {"paths", TA_OPT_STRLIST, NULL, offsetof(file_conf, paths),
     "glob patterns of files to tail; include rotated names (app.log*) so a restart finds them", NULL, true},
    {"exclude", TA_OPT_STRLIST, "*.gz,*.zst,*.xz,*.bz2,*.zip", offsetof(file_conf, exclude),
     "glob patterns (matched on the base name) to skip, e.g. compressed rotations", NULL, false},
    {"start_at", TA_OPT_ENUM, "beginning", offsetof(file_conf, start_at),
     "where to start in files found at the very first start (later files always from the beginning)",
     "beginning|end", false},
    {"rescan_interval", TA_OPT_DURATION, "10s", offsetof(file_conf, rescan_interval),
     "periodic glob rescan, a safety net behind inotify", NULL, false},
    {"poll_interval", TA_OPT_DURATION, "250ms", offsetof(file_conf, poll_interval),
     "periodic size check of open files, a safety net behind inotify", NULL, false},
    {"close_after", TA_OPT_DURATION, "5s", offsetof(file_conf, close_after),
     "close a rotated-away or deleted file this long after it was drained and acknowledged", NULL, false},
    {"max_line_bytes", TA_OPT_SIZE, "256KiB", offsetof(file_conf, max_line_bytes),
     "longer lines are shipped in pieces of this size", NULL, false},
    {"read_buffer", TA_OPT_SIZE, "64KiB", offsetof(file_conf, read_buffer), "bytes per read()", NULL, false},
    {"multiline_start", TA_OPT_STR, NULL, offsetof(file_conf, multiline_start),
     "POSIX extended regex of a line that starts an entry; other lines join the previous entry", NULL, false},
    {"multiline_timeout", TA_OPT_DURATION, "1s", offsetof(file_conf, multiline_timeout),
     "ship a pending multiline entry after this long without a new line", NULL, false},
    {"multiline_max_bytes", TA_OPT_SIZE, "1MiB", offsetof(file_conf, multiline_max_bytes),
     "ship a multiline entry once it reaches this size", NULL, false},
    TA_OPTIONS_END,
};

typedef struct in_file in_file;

typedef struct tfile {
    struct tfile *next;
    int fd;
    char *path;
    ta_file_id id;
    ta_emit_src src;
    uint64_t scan;          /* next byte to read */
    uint64_t committed;     /* every byte before it is acked by all outputs */
    uint64_t size;          /* at the last fstat */
    bool matched;           /* seen by the last rescan */
    bool gone;              /* unlinked, or no longer matched by the globs */
    int64_t last_data;      /* mono ns of the last new data (or of going idle) */
    int64_t read_ns;        /* unix ns of the last read: the observed time of its lines */
    uint64_t tail_fp;       /* hash of the tail_len bytes before scan (copy detection) */
    uint32_t tail_len;
    ta_buf pend;            /* multiline entry being assembled */
    uint64_t pend_off, pend_end;
    bool has_pend;
} tfile;

/* Where a truncated file was, to start its copy (copytruncate) there. */
typedef struct trunc_mark {
    ta_file_id id;
    uint64_t scan;
    uint64_t committed;
    uint64_t tail_fp;
    uint32_t tail_len;
} trunc_mark;

struct in_file {
    file_conf c;
    ta_input_env env;
    tfile *files;
    int ifd;                /* inotify */
    bool need_rescan, need_read, initial;
    bool data_waiting;      /* inotify saw writes; reading deferred (see file_poll) */
    int64_t read_at;        /* ... until then at the latest (0: not yet set) */
    uint64_t pass_bytes;    /* bytes of the last read pass that found data */
    int64_t pass_ns;        /* ... gathered over this long (since the one before) */
    int64_t last_pass;
    bool fresh;             /* no checkpoint entries of this input at start */
    int64_t next_rescan, next_poll;
    char *buf;
    size_t buf_cap;
    regex_t ml_re;
    bool has_ml;
    trunc_mark marks[8];
    unsigned nmarks;
    uint64_t next_source;
};

/* Deferred reading gathers about this much at most (see file_poll). */
#define DEFER_BYTES (1024u << 10)

static uint64_t source_counter; /* unique per process, across inputs and reloads */

static const char *name_of(in_file *in) { return in->env.info->name; }

static bool hash_at(int fd, uint64_t off, uint32_t len, uint64_t *h);

static void commit_span(void *ctx, const ta_span *s) {
    in_file *in = ctx;
    for (tfile *f = in->files; f; f = f->next) {
        if (f->src.source != s->source) continue;
        if (s->end > f->committed) f->committed = s->end;
        ta_ckpt_put(in->env.ckpt, name_of(in), &f->id, f->committed, f->path);
        /* Remember the bytes before the position, so that after a restart a
         * copytruncate copy can be verified and continued, not re-read. */
        uint32_t tl = f->committed < 64 ? (uint32_t)f->committed : 64;
        uint64_t h;
        if (tl && hash_at(f->fd, f->committed - tl, tl, &h))
            ta_ckpt_set_tail(in->env.ckpt, name_of(in), f->id.dev, f->id.ino, h, tl);
        return;
    }
    /* The file was closed or restarted (truncated): nothing to record. */
}

static void set_src(in_file *in, tfile *f) {
    f->src.source = ++source_counter;
    f->src.info = in->env.info;
    f->src.path = f->path;
    f->src.id = f->id;
    f->src.commit = commit_span;
    f->src.ctx = in;
    f->src.parser = in->env.parser;
    f->src.procs = in->env.procs;
    f->src.nprocs = in->env.nprocs;
    f->src.stats = in->env.stats;
}

static void emit(in_file *in, tfile *f, const char *p, size_t n, uint64_t off, uint64_t end) {
    ta_pipeline_emit(in->env.pipeline, &f->src, p, n, off, end, f->read_ns);
}

static void flush_pend(in_file *in, tfile *f) {
    if (!f->has_pend) return;
    emit(in, f, f->pend.p, f->pend.len, f->pend_off, f->pend_end);
    f->has_pend = false;
    f->pend.len = 0;
}

static void on_line(in_file *in, tfile *f, const char *p, size_t n, uint64_t off, uint64_t end) {
    if (n && p[n - 1] == '\r') n--; /* CRLF files */
    if (!in->has_ml) {
        emit(in, f, p, n, off, end);
        return;
    }
    regmatch_t m = {.rm_so = 0, .rm_eo = (regoff_t)n};
    bool start = regexec(&in->ml_re, p, 1, &m, REG_STARTEND) == 0;
    if (start || !f->has_pend) {
        flush_pend(in, f);
        f->has_pend = true;
        f->pend_off = off;
        f->pend.len = 0;
        ta_buf_put(&f->pend, p, n);
    } else {
        ta_buf_put(&f->pend, "\n", 1);
        ta_buf_put(&f->pend, p, n);
    }
    f->pend_end = end;
    if (f->pend.len >= in->c.multiline_max_bytes) flush_pend(in, f);
}

static void note_truncation(in_file *in, tfile *f, uint64_t size) {
    ta_warn("input %s: %s shrank to %llu bytes below our position %llu: truncated (copytruncate?), "
            "reading it again from the start", name_of(in), f->path, (unsigned long long)size,
            (unsigned long long)f->scan);
    atomic_fetch_add(&in->env.stats->truncations, 1);
    flush_pend(in, f);
    trunc_mark *m = &in->marks[in->nmarks++ % 8];
    m->id = f->id;
    m->scan = f->scan;
    m->committed = f->committed;
    m->tail_fp = f->tail_fp;
    m->tail_len = f->tail_len;
    f->scan = f->committed = 0;
    f->tail_len = 0;
    ta_file_identify(f->fd, &f->id, NULL);
    set_src(in, f); /* new incarnation: late commits of the old one are ignored */
    ta_ckpt_put(in->env.ckpt, name_of(in), &f->id, 0, f->path);
}

/* Reads what is new in f, within *budget. Returns true if data is left. */
static bool read_file(in_file *in, tfile *f, size_t *budget) {
    struct stat st;
    if (fstat(f->fd, &st) < 0) return false;
    if (st.st_nlink == 0 && !f->gone) {
        f->gone = true;
        ta_debug("input %s: %s was deleted; draining it", name_of(in), f->path);
    }
    uint64_t size = (uint64_t)st.st_size;
    /* Truncated and rewritten past our position between two looks: the size
     * cannot tell, the first bytes can. */
    if (size < f->scan || (f->scan && f->id.fp_len && !ta_file_id_matches(&f->id, f->fd))) note_truncation(in, f, size);
    f->size = size;
    if (f->id.fp_len < TA_FP_BYTES && size > f->id.fp_len) {
        ta_file_identify(f->fd, &f->id, NULL); /* identity grows with the file */
        f->src.id = f->id;
    }
    bool more = false;
    while (f->scan < size) {
        if (!*budget || !ta_pipeline_accepting(in->env.pipeline)) {
            more = true;
            break;
        }
        size_t want = in->buf_cap;
        if (want > size - f->scan) want = (size_t)(size - f->scan);
        ssize_t n = pread(f->fd, in->buf, want, (off_t)f->scan);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) continue;
            break;
        }
        f->last_data = ta_mono_ns();
        f->read_ns = ta_now_ns(); /* once per read, not per line */
        size_t start = 0;
        for (;;) {
            if (!ta_pipeline_accepting(in->env.pipeline)) {
                more = true;
                break;
            }
            char *nl = memchr(in->buf + start, '\n', (size_t)n - start);
            if (!nl) break;
            size_t end = (size_t)(nl - in->buf) + 1;
            on_line(in, f, in->buf + start, end - 1 - start, f->scan + start, f->scan + end);
            start = end;
        }
        if (start == 0 && more) break;
        if (start == 0) {
            /* No newline in what we read. */
            if ((size_t)n < want || f->scan + (uint64_t)n >= size) {
                if ((uint64_t)n < in->c.max_line_bytes) break; /* a partial last line: wait */
            }
            if (in->buf_cap < in->c.max_line_bytes) { /* grow and read again */
                in->buf_cap = in->buf_cap * 2 > in->c.max_line_bytes ? in->c.max_line_bytes : in->buf_cap * 2;
                in->buf = realloc(in->buf, in->buf_cap);
                if (!in->buf) abort();
                continue;
            }
            /* A line longer than max_line_bytes: ship it in pieces. */
            on_line(in, f, in->buf, (size_t)n, f->scan, f->scan + (uint64_t)n);
            start = (size_t)n;
        }
        if (start) {
            f->tail_len = start < 64 ? (uint32_t)start : 64;
            f->tail_fp = ta_hash64(in->buf + start - f->tail_len, f->tail_len);
        }
        f->scan += start;
        *budget = *budget > start ? *budget - start : 0;
    }
    return more;
}

static bool excluded(in_file *in, const char *path) {
    char *copy = strdup(path);
    const char *base = basename(copy);
    bool ex = false;
    for (uint32_t i = 0; i < in->c.exclude.n && !ex; i++)
        ex = fnmatch(in->c.exclude.v[i], base, 0) == 0 || fnmatch(in->c.exclude.v[i], path, 0) == 0;
    free(copy);
    return ex;
}

/* Start offset of the last complete line at or before size (start_at: end). */
static uint64_t last_line_start(int fd, uint64_t size) {
    char b[4096];
    uint64_t pos = size;
    while (pos > 0) {
        size_t n = pos > sizeof b ? sizeof b : (size_t)pos;
        ssize_t r = pread(fd, b, n, (off_t)(pos - n));
        if (r != (ssize_t)n) return size;
        for (size_t i = n; i-- > 0;)
            if (b[i] == '\n') return pos - n + i + 1;
        pos -= n;
        if (size - pos > (1u << 20)) return size;
    }
    return 0;
}

static void watch_dir_of(in_file *in, const char *path) {
    if (in->ifd < 0) return;
    char *copy = strdup(path);
    const char *dir = dirname(copy);
    if (!strpbrk(dir, "*?[")) {
        if (inotify_add_watch(in->ifd, dir, IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_MODIFY |
                                                IN_CLOSE_WRITE | IN_ATTRIB) < 0 &&
            errno != ENOENT)
            ta_debug("input %s: cannot watch %s: %s", name_of(in), dir, strerror(errno));
    }
    free(copy);
}

/* Hash of len bytes at off in fd (len <= 256); false on a short read. */
static bool hash_at(int fd, uint64_t off, uint32_t len, uint64_t *h) {
    char b[256];
    if (len > sizeof b || pread(fd, b, len, (off_t)off) != (ssize_t)len) return false;
    *h = ta_hash64(b, len);
    return true;
}

/* Does fd (another inode) start with the bytes `id` fingerprints? */
static bool head_matches(int fd, uint64_t ino, const ta_file_id *id) {
    if (id->ino == ino || id->fp_len < 64) return false;
    ta_file_id probe = *id;
    probe.ino = ino;
    return ta_file_id_matches(&probe, fd);
}

/* Is the new file fd a copy of a file holding `id` whose first `off` bytes
 * we shipped? Its head must match id's fingerprint, and the bytes before
 * off must be verified too: either the fingerprint covers all of them, or
 * the hash of the last tail_len bytes before off matches. Anything less and
 * we read the file from 0 (duplicates rather than a possible loss). */
static bool is_copy(int fd, uint64_t ino, uint64_t size, const ta_file_id *id, uint64_t off, uint64_t tail_fp,
                    uint32_t tail_len) {
    /* A short fingerprint proves little when every line starts alike. */
    uint64_t need = off < TA_FP_BYTES ? off : TA_FP_BYTES;
    if (id->ino == ino || off == 0 || off > size || id->fp_len < 64 || id->fp_len < need) return false;
    char nl;
    if (pread(fd, &nl, 1, (off_t)off - 1) != 1 || nl != '\n') return false; /* positions are line ends */
    ta_file_id probe = *id;
    probe.ino = ino;
    if (!ta_file_id_matches(&probe, fd)) return false;
    if (off <= id->fp_len) return true;
    uint64_t h;
    return tail_len == 64 && hash_at(fd, off - tail_len, tail_len, &h) && h == tail_fp;
}

/* A copy still being written (cp in progress): its head matches a file we
 * know but it is still shorter than our position there. Opening it now
 * would read it from 0; wait for it while it keeps changing (2 s). */
static bool copy_in_progress(in_file *in, int fd, uint64_t ino, uint64_t size) {
    struct stat st;
    if (fstat(fd, &st) < 0 || ta_now_ns() - ((int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec) > 2000000000LL)
        return false;
    for (unsigned i = 0; i < in->nmarks && i < 8; i++)
        if (size < in->marks[i].scan && head_matches(fd, ino, &in->marks[i].id)) return true;
    for (tfile *o = in->files; o; o = o->next)
        if (size < o->scan && head_matches(fd, ino, &o->id)) return true;
    return false;
}

/* copytruncate: continue a copy of a file we tail, just saw truncated, or
 * had checkpointed (the rotation happened while traild was down). The copy
 * is read from where we were (*scan), but its saved position starts at what
 * was acknowledged (*committed): bytes still in flight from the original
 * are then read again from the copy after a crash instead of being lost.
 * (Commits are in order, so once a span of the copy commits, the
 * original's earlier spans have too.) */
static bool copy_offset(in_file *in, int fd, uint64_t ino, uint64_t size, uint64_t *scan, uint64_t *committed) {
    for (unsigned i = 0; i < in->nmarks && i < 8; i++) {
        trunc_mark *m = &in->marks[i];
        if (is_copy(fd, ino, size, &m->id, m->scan, m->tail_fp, m->tail_len)) {
            *scan = m->scan;
            *committed = m->committed;
            return true;
        }
    }
    for (tfile *o = in->files; o; o = o->next)
        if (is_copy(fd, ino, size, &o->id, o->scan, o->tail_fp, o->tail_len)) {
            *scan = o->scan;
            *committed = o->committed < o->scan ? o->committed : o->scan;
            return true;
        }
    for (size_t i = 0; i < ta_ckpt_count(in->env.ckpt); i++) {
        const ta_ckpt_entry *e = ta_ckpt_at(in->env.ckpt, i);
        if (!strcmp(e->input, name_of(in)) && is_copy(fd, ino, size, &e->id, e->offset, e->tail_fp, e->tail_len)) {
            *scan = *committed = e->offset;
            return true;
        }
    }
    return false;
}

static void open_new(in_file *in, const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT) ta_warn("input %s: cannot open %s: %s", name_of(in), path, strerror(errno));
        return;
    }
    tfile *f = calloc(1, sizeof *f);
    if (!f) abort();
    f->fd = fd;
    f->path = strdup(path);
    uint64_t size = 0;
    if (ta_file_identify(fd, &f->id, &size) < 0) {
        close(fd);
        free(f->path);
        free(f);
        return;
    }
    if (copy_in_progress(in, fd, f->id.ino, size)) {
        close(fd);
        free(f->path);
        free(f);
        in->need_rescan = true; /* look again soon */
        return;
    }
    const char *how = "new file, from the beginning";
    bool copy = false;
    ta_ckpt_entry *e = ta_ckpt_find(in->env.ckpt, name_of(in), f->id.dev, f->id.ino);
    if (e && ta_file_id_matches(&e->id, fd)) {
        f->scan = e->offset <= size ? e->offset : 0;
        how = e->offset <= size ? "resuming at the saved position" : "shorter than the saved position";
    } else {
        if (e) {
            ta_info("input %s: %s is not the file we knew under its inode (truncated and rewritten, or the inode "
                    "was reused); reading it as new", name_of(in), path);
            /* Its old content may live on in a copytruncate copy: remember it. */
            trunc_mark *m = &in->marks[in->nmarks++ % 8];
            *m = (trunc_mark){e->id, e->offset, e->offset, e->tail_fp, e->tail_len};
            ta_ckpt_forget(in->env.ckpt, name_of(in), f->id.dev, f->id.ino);
        }
        uint64_t committed = 0;
        copy = copy_offset(in, fd, f->id.ino, size, &f->scan, &committed);
        if (copy) {
            how = "copy of a (truncated) file we tail, continuing where we were";
            f->committed = committed;
        }
        if (!copy && in->initial && in->fresh && in->c.start_at == 1) {
            f->scan = last_line_start(fd, size);
            how = "start_at: end";
        }
    }
    if (!copy) f->committed = f->scan;
    f->matched = true;
    f->last_data = ta_mono_ns();
    set_src(in, f);
    ta_ckpt_put(in->env.ckpt, name_of(in), &f->id, f->committed, f->path);
    f->next = in->files;
    in->files = f;
    atomic_fetch_add(&in->env.stats->files_watched, 1);
    if (!in->initial) atomic_fetch_add(&in->env.stats->rotations, 1);
    watch_dir_of(in, path);
    ta_debug("input %s: tailing %s (%s, offset %llu)", name_of(in), path, how, (unsigned long long)f->scan);
}

static void rescan(in_file *in) {
    for (tfile *f = in->files; f; f = f->next) f->matched = false;
    for (uint32_t i = 0; i < in->c.paths.n; i++) {
        glob_t g;
        int r = glob(in->c.paths.v[i], GLOB_NOSORT, NULL, &g);
        if (r != 0) {
            if (r != GLOB_NOMATCH) ta_warn("input %s: glob %s failed", name_of(in), in->c.paths.v[i]);
            continue;
        }
        for (size_t k = 0; k < g.gl_pathc; k++) {
            const char *p = g.gl_pathv[k];
            if (excluded(in, p)) continue;
            struct stat st;
            if (stat(p, &st) < 0 || !S_ISREG(st.st_mode)) continue;
            tfile *f;
            for (f = in->files; f; f = f->next)
                if (f->id.dev == (uint64_t)st.st_dev && f->id.ino == (uint64_t)st.st_ino) break;
            if (f) {
                if (strcmp(f->path, p) != 0) { /* renamed, still matched (app.log → app.log.1) */
                    free(f->path);
                    f->path = strdup(p);
                    f->src.path = f->path;
                }
                f->matched = true;
                f->gone = false;
                ta_ckpt_touch(in->env.ckpt, name_of(in), f->id.dev, f->id.ino);
            } else {
                open_new(in, p);
            }
        }
        globfree(&g);
    }
    for (tfile *f = in->files; f; f = f->next)
        if (!f->matched) f->gone = true;
    in->initial = false;
}

static void close_drained(in_file *in, int64_t now) {
    for (tfile **pp = &in->files; *pp;) {
        tfile *f = *pp;
        bool drained = f->scan >= f->size && !f->has_pend && f->committed >= f->scan;
        if (f->gone && drained && now - f->last_data >= in->c.close_after) {
            *pp = f->next;
            ta_debug("input %s: closing %s (rotated away or deleted, fully shipped)", name_of(in), f->path);
            ta_ckpt_forget(in->env.ckpt, name_of(in), f->id.dev, f->id.ino);
            close(f->fd);
            ta_buf_free(&f->pend);
            free(f->path);
            free(f);
            atomic_fetch_sub(&in->env.stats->files_watched, 1);
            continue;
        }
        pp = &f->next;
    }
}

static void drain_inotify(in_file *in) {
    if (in->ifd < 0) return;
    _Alignas(struct inotify_event) char b[8192];
    for (int rounds = 0; rounds < 64; rounds++) {
        ssize_t n = read(in->ifd, b, sizeof b);
        if (n <= 0) break;
        for (char *p = b; p < b + n;) {
            struct inotify_event *ev = (struct inotify_event *)p;
            if (ev->mask & (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_Q_OVERFLOW | IN_ATTRIB)) {
                in->need_rescan = true;
                in->need_read = true;
            } else {
                in->data_waiting = true; /* plain writes: read now or with the batch (file_poll) */
            }
            p += sizeof *ev + ev->len;
        }
    }
}

static bool file_poll(ta_input *self, size_t budget) {
    in_file *in = (in_file *)self;
    int64_t now = ta_mono_ns();
    drain_inotify(in);
    if (in->need_rescan || now >= in->next_rescan) {
        in->need_rescan = false;
        rescan(in);
        in->next_rescan = now + in->c.rescan_interval;
        in->need_read = true;
    }
    /* Wake-up batching: a writer appending every few ms would otherwise
     * wake us for a handful of lines each time, with cold caches. While a
     * batch is open, new lines cannot ship before it does, so they are read
     * when its deadline comes (just before the flush): same delivery time,
     * one read per batch. With no batch open, read at once (that opens one).
     * At high rates a batch period would pile up megabytes (and fill every
     * in-flight batch at once): the wait is also cut to what the last read
     * pass's rate brings in DEFER_BYTES. */
    if (in->data_waiting) {
        if (!in->read_at) {
            int64_t wait = INT64_MAX / 4;
            if (in->pass_bytes) wait = (int64_t)(DEFER_BYTES * (uint64_t)in->pass_ns / in->pass_bytes);
            in->read_at = now + wait;
        }
        int64_t d = ta_pipeline_deadline(in->env.pipeline);
        if (d == INT64_MAX || now >= d || now >= in->read_at) {
            in->data_waiting = false;
            in->read_at = 0;
            in->need_read = true;
        }
    }
    bool more = false;
    if (in->need_read || now >= in->next_poll) {
        in->need_read = false;
        in->next_poll = now + in->c.poll_interval;
        size_t budget0 = budget;
        for (tfile *f = in->files; f; f = f->next)
            if (read_file(in, f, &budget)) more = true;
        if (budget < budget0) {
            in->pass_bytes = budget0 - budget;
            in->pass_ns = in->last_pass ? now - in->last_pass : 0;
            in->last_pass = now;
        }
        if (more) in->need_read = true;
    }
    int64_t lag = 0;
    for (tfile *f = in->files; f; f = f->next) {
        if (f->has_pend && now - f->last_data >= in->c.multiline_timeout && f->scan >= f->size) flush_pend(in, f);
        lag += (int64_t)(f->size - (f->committed < f->size ? f->committed : f->size));
    }
    atomic_store(&in->env.stats->lag_bytes, lag);
    close_drained(in, now);
    return more;
}

static int64_t file_deadline(ta_input *self) {
    in_file *in = (in_file *)self;
    int64_t d = in->next_rescan < in->next_poll ? in->next_rescan : in->next_poll;
    if (in->data_waiting) {
        int64_t b = ta_pipeline_deadline(in->env.pipeline);
        if (b == INT64_MAX) return 0; /* the batch shipped early: read now */
        if (b < d) d = b;
        if (in->read_at && in->read_at < d) d = in->read_at;
    }
    return in->need_read || in->need_rescan ? 0 : d;
}

static bool file_deferring(ta_input *self) { return ((in_file *)self)->data_waiting; }

static int file_fd(ta_input *self) { return ((in_file *)self)->ifd; }

static void file_destroy(ta_input *self) {
    in_file *in = (in_file *)self;
    if (!in) return;
    for (tfile *f = in->files, *n; f; f = n) {
        n = f->next;
        close(f->fd);
        ta_buf_free(&f->pend);
        free(f->path);
        free(f);
        atomic_fetch_sub(&in->env.stats->files_watched, 1);
    }
    if (in->ifd >= 0) close(in->ifd);
    if (in->has_ml) regfree(&in->ml_re);
    free(in->buf);
    free(in);
}



static int file_create(const void *conf, const ta_input_env *env, ta_input **out, char *err, size_t errlen) {
    in_file *in = calloc(1, sizeof *in);
    if (!in) return -ENOMEM;
    in->c = *(const file_conf *)conf;
    in->env = *env;
    if (in->c.multiline_start) {
        if (ta_regex_compile(&in->ml_re, in->c.multiline_start, "multiline_start", err, errlen) < 0) {
            free(in);
            return -EINVAL;
        }
        in->has_ml = true;
    }
    if (in->c.max_line_bytes < 64) in->c.max_line_bytes = 64;
    in->buf_cap = in->c.read_buffer < 4096 ? 4096 : in->c.read_buffer;
    if (in->buf_cap > in->c.max_line_bytes) in->buf_cap = in->c.max_line_bytes;
    in->buf = malloc(in->buf_cap);
    in->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (in->ifd < 0) ta_warn("input %s: inotify unavailable (%s); polling only", env->info->name, strerror(errno));
    for (uint32_t i = 0; i < in->c.paths.n; i++) watch_dir_of(in, in->c.paths.v[i]);
    in->initial = true;
    in->need_rescan = true;
    in->fresh = !ta_ckpt_has_input(env->ckpt, env->info->name);
    *out = (ta_input *)in;
    return 0;
}

static int file_validate(const void *conf, char *err, size_t errlen) {
    const file_conf *c = conf;
    if (!c->multiline_start) return 0;
    regex_t re;
    if (ta_regex_compile(&re, c->multiline_start, "multiline_start", err, errlen) < 0) return -EINVAL;
    regfree(&re);
    return 0;
}

const ta_input_type ta_input_file = {
    .name = "file",
    .options = file_options,
    .conf_size = sizeof(file_conf),
    .help = "tails files matched by glob patterns",
    .create = file_create,
    .fd = file_fd,
    .poll = file_poll,
    .deadline = file_deadline,
    .deferring = file_deferring,
    .destroy = file_destroy,
    .validate = file_validate,
};
