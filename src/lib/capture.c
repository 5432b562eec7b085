/* capture.c — the logging hot path: trail_emit, trail_log_msg, trail_logf.
 *
 * A call copies what it must into one binary record (record.h): the site
 * pointer, a raw timestamp, the thread id, the fields (string bytes copied,
 * cut at max_entry_bytes with a marker) and the request-context blob. In
 * async mode the record goes into the thread's ring (no lock, no syscall, no
 * malloc); in sync mode it is built in a thread-local buffer and written at
 * once under the configuration mutex. record.c decodes what this encodes. */
#include "core_impl.h"
#include "ctx_impl.h"
#include "logger.h"
#include "record.h"
#include "ring.h"
#include "runtime.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MARKER "\xe2\x80\xa6[truncated]"
#define MARKER_LEN (sizeof(MARKER) - 1)
#define FAST_FIELDS 8

#define COPIED_TYPES ((1u << TRAIL_T_STR) | (1u << TRAIL_T_BYTES) | (1u << TRAIL_T_JSON))

static inline int copies_bytes(uint32_t type) { return type < 32 && ((COPIED_TYPES >> type) & 1u); }

/* memcpy for the short copies of the hot path (context blob, short string
 * values), inline and without a call: overlapping fixed-size moves, never
 * reading or writing outside [0, n). */
static inline void copy_bytes(char *dst, const char *src, size_t n) {
    if (n > 64) {
        memcpy(dst, src, n);
    } else if (n >= 32) {
        memcpy(dst, src, 32);
        memcpy(dst + n - 32, src + n - 32, 32);
    } else if (n >= 16) {
        memcpy(dst, src, 16);
        memcpy(dst + n - 16, src + n - 16, 16);
    } else if (n >= 8) {
        memcpy(dst, src, 8);
        memcpy(dst + n - 8, src + n - 8, 8);
    } else if (n >= 4) {
        memcpy(dst, src, 4);
        memcpy(dst + n - 4, src + n - 4, 4);
    } else if (n) {
        dst[0] = src[0];
        dst[n / 2] = src[n / 2];
        dst[n - 1] = src[n - 1];
    }
}

static inline size_t raw_len(const trail_field *f) {
    if (!f->v.s) return 0;
    return f->len == TRAIL_LEN_CSTR ? strlen(f->v.s) : f->len;
}

/* How many of s's raw bytes to keep under limit: text is cut on a UTF-8
 * character boundary so the marker follows whole characters. */
static size_t cut_point(const char *s, size_t limit, uint32_t type) {
    if (type == TRAIL_T_BYTES) return limit;
    size_t keep = limit > MARKER_LEN ? limit - MARKER_LEN : 0;
    for (int back = 0; back < 3 && keep > 0 && ((unsigned char)s[keep] & 0xC0) == 0x80; back++) keep--;
    return keep;
}

/* Bytes stored for a value of raw bytes: itself, or a cut plus marker. */
static inline size_t stored_len(const char *s, size_t raw, size_t limit, uint32_t type, uint32_t *flags) {
    if (TRAIL_LIKELY(raw <= limit)) return raw;
    *flags |= TRAIL_ENTRY_TRUNCATED;
    return cut_point(s, limit, type) + (type == TRAIL_T_BYTES ? 0 : MARKER_LEN);
}

/* Copies a value into the record: raw bytes, or the cut and the marker. */
static inline void put_value(char *dst, const char *s, size_t raw, size_t stored, uint32_t type) {
    if (TRAIL_LIKELY(stored == raw)) {
        copy_bytes(dst, s, raw);
        return;
    }
    size_t keep = type == TRAIL_T_BYTES ? stored : stored - MARKER_LEN;
    memcpy(dst, s, keep);
    if (type != TRAIL_T_BYTES) memcpy(dst + keep, MARKER, MARKER_LEN);
}

static _Thread_local uint32_t tl_tid __attribute__((tls_model("initial-exec")));
static _Thread_local char *tl_sync_buf;
static _Thread_local size_t tl_sync_cap;
static _Thread_local uint32_t tl_ringless_skip;

void trail__capture_after_fork(void) { tl_tid = 0; }

static uint32_t current_tid(void) {
    if (!tl_tid) tl_tid = (uint32_t)gettid();
    return tl_tid;
}

/* Sync mode: a thread-local buffer big enough for the record. */
static char *sync_buffer(size_t size) {
    if (size > tl_sync_cap) {
        char *b = realloc(tl_sync_buf, size);
        if (!b) return NULL;
        tl_sync_buf = b;
        tl_sync_cap = size;
    }
    return tl_sync_buf;
}

/* Encodes one call into r's ring (r != NULL) or the sync buffer (r == NULL). */
static inline __attribute__((always_inline)) void capture(trail__ring *r, trail_logger *lg, int level, const trail_site *site, const char *msg,
                           size_t msg_raw, const trail_field *fields, size_t n) {
    uint64_t ts = trail__ts_raw();
    size_t ctx_len = 0;
    const unsigned char *ctx = trail__ctx_current(&ctx_len);
    if (ctx_len > TRAIL_CTX_MAX_BYTES) ctx_len = 0;
    uint32_t flags = 0;
    if (TRAIL_UNLIKELY(n > TRAIL__REC_MAX_FIELDS)) {
        n = TRAIL__REC_MAX_FIELDS;
        flags |= TRAIL_ENTRY_TRUNCATED;
    }
    if (TRAIL_UNLIKELY(!fields)) n = 0;
    size_t limit = trail__rt.max_entry_bytes;
    uint64_t max_record = r ? r->max_record : UINT32_MAX / 2;
    uint32_t lens[FAST_FIELDS], raws[FAST_FIELDS];
    size_t msg_len, size;
    /* Sizing; when the whole record would not fit in the ring, the per-value
     * limit is halved until it does (each cut value is marked). */
    for (;;) {
        msg_len = msg ? stored_len(msg, msg_raw, limit, TRAIL_T_STR, &flags) : 0;
        size_t var = ctx_len + msg_len;
        for (size_t i = 0; i < n; i++) {
            if (!copies_bytes(fields[i].type)) continue;
            size_t raw = raw_len(&fields[i]);
            size_t st = stored_len(fields[i].v.s, raw, limit, fields[i].type, &flags);
            if (i < FAST_FIELDS) {
                lens[i] = (uint32_t)st;
                raws[i] = (uint32_t)(raw < UINT32_MAX ? raw : UINT32_MAX - 1);
            }
            var += st;
        }
        size = (sizeof(trail__rec) + n * sizeof(trail_field) + var + 7) & ~(size_t)7;
        if (TRAIL_LIKELY(size <= max_record) || limit < 64) break;
        limit /= 2;
    }
    if (TRAIL_UNLIKELY(size > max_record)) { /* too many fields even with empty values */
        n = 0;
        size = (sizeof(trail__rec) + ctx_len + msg_len + 7) & ~(size_t)7;
        flags |= TRAIL_ENTRY_TRUNCATED;
    }
    char *p = r ? trail__ring_reserve(r, (uint32_t)size, level) : sync_buffer(size);
    if (TRAIL_UNLIKELY(!p)) return;

    trail__rec *rec = (trail__rec *)(void *)p;
    rec->size = (uint32_t)size;
    rec->kind = TRAIL__REC_ENTRY;
    rec->level = (uint16_t)level;
    rec->flags = flags;
    rec->tid = r ? r->tid : current_tid();
    rec->nfields = (uint32_t)n;
    rec->ctx_len = (uint32_t)ctx_len;
    rec->ts = ts;
    rec->lg = lg;
    rec->site = site;
    trail_field *out = (trail_field *)(void *)(p + sizeof(trail__rec));
    size_t off = sizeof(trail__rec) + n * sizeof(trail_field);
    copy_bytes(p + off, (const char *)ctx, ctx_len);
    off += ctx_len;
    rec->msg_off = (uint32_t)off;
    rec->msg_len = (uint32_t)msg_len;
    if (msg_len) put_value(p + off, msg, msg_raw, msg_len, TRAIL_T_STR);
    off += msg_len;
    for (size_t i = 0; i < n; i++) {
        out[i] = fields[i];
        if (TRAIL_UNLIKELY(!out[i].key)) out[i].key = "(null)";
        if (!copies_bytes(fields[i].type)) continue;
        if (TRAIL_UNLIKELY(!fields[i].v.s)) {
            out[i].type = TRAIL_T_NULL;
            out[i].len = 0;
            continue;
        }
        size_t raw = i < FAST_FIELDS ? raws[i] : raw_len(&fields[i]);
        size_t st = i < FAST_FIELDS ? lens[i] : stored_len(fields[i].v.s, raw, limit, fields[i].type, &flags);
        put_value(p + off, fields[i].v.s, raw, st, fields[i].type);
        out[i].v.s = p + off;
        out[i].len = (uint32_t)st;
        off += st;
    }
    if (r) trail__ring_commit(r);
    else trail__sync_emit_record(rec);
}

/* The common case, kept short: a call-site message, at most FAST_FIELDS
 * fields, nothing to cut, nothing NULL. Same record layout as capture().
 * Returns 0 (having written nothing) when capture() must handle the call. */
static inline __attribute__((always_inline)) int capture_fast(trail__ring *r, trail_logger *lg, int level,
                                                              const trail_site *site, const trail_field *fields,
                                                              size_t n) {
    if (TRAIL_UNLIKELY(n > FAST_FIELDS || (n && !fields))) return 0;
    /* The backend reads head once a pass; ask for the line back now so the
     * store that publishes this record does not wait for it. */
    trail__prefetch_write(&r->head);
    uint64_t ts = trail__ts_raw();
    size_t ctx_len = 0;
    const unsigned char *ctx = trail__ctx_current(&ctx_len);
    size_t limit = trail__rt.max_entry_bytes;
    uint32_t raws[FAST_FIELDS] = {0};
    size_t var = ctx_len;
    for (size_t i = 0; i < n; i++) {
        if (TRAIL_UNLIKELY(!fields[i].key)) return 0;
        if (!copies_bytes(fields[i].type)) continue;
        const char *s = fields[i].v.s;
        if (TRAIL_UNLIKELY(!s)) return 0;
        size_t len = fields[i].len == TRAIL_LEN_CSTR ? strlen(s) : fields[i].len;
        if (TRAIL_UNLIKELY(len > limit)) return 0;
        raws[i] = (uint32_t)len;
        var += len;
    }
    size_t size = (sizeof(trail__rec) + n * sizeof(trail_field) + var + 7) & ~(size_t)7;
    if (TRAIL_UNLIKELY(size > r->max_record || ctx_len > TRAIL_CTX_MAX_BYTES)) return 0;
    char *p = trail__ring_reserve(r, (uint32_t)size, level);
    if (TRAIL_UNLIKELY(!p)) return 1; /* dropped and counted */
    trail__rec *rec = (trail__rec *)(void *)p;
    rec->size = (uint32_t)size;
    rec->kind = TRAIL__REC_ENTRY;
    rec->level = (uint16_t)level;
    rec->flags = 0;
    rec->tid = r->tid;
    rec->nfields = (uint32_t)n;
    rec->ctx_len = (uint32_t)ctx_len;
    rec->msg_len = 0;
    rec->ts = ts;
    rec->lg = lg;
    rec->site = site;
    trail_field *out = (trail_field *)(void *)(p + sizeof(trail__rec));
    size_t off = sizeof(trail__rec) + n * sizeof(trail_field);
    copy_bytes(p + off, (const char *)ctx, ctx_len);
    off += ctx_len;
    rec->msg_off = (uint32_t)off;
    for (size_t i = 0; i < n; i++) {
        out[i] = fields[i];
        if (!copies_bytes(fields[i].type)) continue;
        copy_bytes(p + off, fields[i].v.s, raws[i]);
        out[i].v.s = p + off;
        out[i].len = raws[i];
        off += raws[i];
    }
    trail__ring_commit(r);
    return 1;
}

/* First call on a thread, sync mode, not initialised, or a stale ring. */
static __attribute__((noinline)) void capture_slow(trail_logger *lg, int level, const trail_site *site,
                                                    const char *msg, size_t msg_raw, const trail_field *fields,
                                                    size_t n) {
    if (!__atomic_load_n(&trail__rt.initialized, __ATOMIC_ACQUIRE)) return;
    if (trail__rt.mode == TRAIL_SYNC) {
        if (trail__sync_busy()) return; /* logged from inside a handler: would re-enter it */
        capture(NULL, lg, level, site, msg, msg_raw, fields, n);
        return;
    }
    trail__ring *r = trail__tl_ring;
    if (!r || r->epoch != __atomic_load_n(&trail__rt.epoch, __ATOMIC_RELAXED)) {
        if (tl_ringless_skip) { /* budget was spent: retry now and then, not on every call */
            tl_ringless_skip--;
            trail__ring_count_ringless();
            return;
        }
        r = trail__ring_attach();
        if (!r) {
            tl_ringless_skip = 1024;
            trail__ring_count_ringless();
            return;
        }
    }
    capture(r, lg, level, site, msg, msg_raw, fields, n);
}

static __attribute__((noinline)) void capture_general(trail__ring *r, trail_logger *lg, int level,
                                                       const trail_site *site, const trail_field *fields, size_t n) {
    capture(r, lg, level, site, NULL, 0, fields, n);
}

void trail_emit(trail_logger *lg, int level, const trail_site *site, const trail_field *fields, size_t n) {
    if (!lg) lg = &trail__root_logger;
    trail__ring *r = trail__tl_ring;
    if (TRAIL_UNLIKELY(!r || r->epoch != __atomic_load_n(&trail__rt.epoch, __ATOMIC_RELAXED) || !site)) {
        if (!site) {
            trail_log_msg(lg, level, NULL, 0, fields, n);
            return;
        }
        capture_slow(lg, level, site, NULL, 0, fields, n);
        return;
    }
    if (TRAIL_LIKELY(capture_fast(r, lg, level, site, fields, n))) return;
    capture_general(r, lg, level, site, fields, n);
}

void trail_log_msg(trail_logger *lg, int level, const char *msg, size_t len, const trail_field *fields, size_t n) {
    if (!lg) lg = &trail__root_logger;
    if (!trail_enabled(lg, level)) return;
    if (!msg) {
        msg = "(null)";
        len = 6;
    }
    trail__ring *r = trail__tl_ring;
    if (TRAIL_UNLIKELY(!r || r->epoch != __atomic_load_n(&trail__rt.epoch, __ATOMIC_RELAXED))) {
        capture_slow(lg, level, NULL, msg, len, fields, n);
        return;
    }
    capture(r, lg, level, NULL, msg, len, fields, n);
}

void trail_logv(trail_logger *lg, int level, const char *fmt, va_list ap) {
    if (!lg) lg = &trail__root_logger;
    if (!trail_enabled(lg, level)) return;
    if (!fmt) {
        trail_log_msg(lg, level, NULL, 0, NULL, 0);
        return;
    }
    char small[512];
    va_list copy;
    va_copy(copy, ap);
    int len = vsnprintf(small, sizeof small, fmt, copy);
    va_end(copy);
    if (len < 0) return;
    if ((size_t)len < sizeof small) {
        trail_log_msg(lg, level, small, (size_t)len, NULL, 0);
        return;
    }
    char *big = malloc((size_t)len + 1);
    if (!big) {
        trail_log_msg(lg, level, small, sizeof small - 1, NULL, 0);
        return;
    }
    vsnprintf(big, (size_t)len + 1, fmt, ap);
    trail_log_msg(lg, level, big, (size_t)len, NULL, 0);
    free(big);
}

void trail_logf(trail_logger *lg, int level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    trail_logv(lg, level, fmt, ap);
    va_end(ap);
}
