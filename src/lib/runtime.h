/* runtime.h — state shared by the core's files (setup, capture, backend,
 * route, crash, fork, stats). Not used by handlers, formatters or filters. */
#ifndef TRAIL_RUNTIME_H
#define TRAIL_RUNTIME_H

#include "trail.h"

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* Options in force; written by trail_setup before any logging, then read-only. */
typedef struct trail__runtime {
    int initialized; /* atomic: 1 between trail_setup and trail_shutdown */
    int mode;        /* TRAIL_ASYNC / TRAIL_SYNC */
    size_t ring_bytes;
    size_t max_ring_memory;
    size_t max_entry_bytes;
    uint32_t block_timeout_ms;
    int overflow_block_from;
    uint32_t epoch; /* bumped by trail_shutdown: rings of an older epoch are stale */
} trail__runtime;

extern trail__runtime trail__rt;

/* The configuration mutex (recursive): logger tree, handler lists, and every
 * write to handlers (backend pass or sync-mode emit) happen under it. */
extern pthread_mutex_t trail__cfg_mu;
void trail__cfg_lock(void);
void trail__cfg_unlock(void);
void trail__cfg_reinit(void); /* fork child */

/* Counters kept by the writer side (route.c), read by trail_stats_get. */
void trail__stats_count_entry(int level);
void trail__stats_count_truncated(void);
void trail__stats_reset(void);

/* route.c: per-writer scratch state reused for every entry. */
typedef struct trail__route_scratch {
    trail_buf buf;              /* formatter output */
    trail_handler **touched;    /* handlers written since the last flush */
    size_t ntouched, cap_touched;
} trail__route_scratch;

/* Sends e (logged on lg, possibly a bound logger) through logger filters and
 * the handlers of lg and its ancestors while they propagate. Caller holds
 * the configuration mutex. */
void trail__route(trail_logger *lg, const trail_entry *e, trail__route_scratch *s);
/* Flushes every handler touched since the last call. */
void trail__route_flush(trail__route_scratch *s);
void trail__route_scratch_free(trail__route_scratch *s);

/* backend.c */
int trail__backend_start(void);
void trail__backend_stop(void);               /* final drain, join */
void trail__backend_wake(void);               /* async-signal-safe */
int trail__backend_wait_pass(int timeout_ms); /* waits for a pass that starts after the call */
int trail__backend_is_self(void);             /* called on the backend thread? */
int trail__backend_running(void);
/* Runs one drain pass on the calling thread (crash path when the backend
 * cannot); returns -EBUSY when the configuration mutex is taken. */
int trail__backend_drain_inline(void);
/* Release a bound logger once no queued record can refer to it. */
void trail__backend_defer_free(trail_logger *lg);
/* fork support */
void trail__backend_after_fork_child(void);

/* The writer (backend pass or sync-mode caller, configuration mutex held). */
struct trail__rec;
void trail__write_record(const struct trail__rec *rec);
void trail__write_internal(uint32_t tid, uint64_t dropped); /* "dropped N entries" */
void trail__write_flush(void);
void trail__write_free_scratch(void);
void trail__backend_fork_prepare(void);
void trail__backend_fork_parent(void);

/* sync.c */
void trail__sync_emit_record(const struct trail__rec *rec);
int trail__sync_busy(void); /* this thread is writing (re-entrant log from a handler) */
void trail__capture_after_fork(void);

/* crash.c */
int trail__crash_install(void);
void trail__crash_uninstall(void);

/* fork.c */
void trail__fork_install(void);

/* tsc.c: raw timestamps on the hot path, converted on the writer side. */
void trail__tsc_init(void);
void trail__tsc_resync(void);
int64_t trail__tsc_to_ns(uint64_t raw);
extern int trail__tsc_enabled;

static inline uint64_t trail__ts_raw(void) {
#if defined(__x86_64__) || defined(__i386__)
    if (TRAIL_LIKELY(trail__tsc_enabled)) return __builtin_ia32_rdtsc();
#endif
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
