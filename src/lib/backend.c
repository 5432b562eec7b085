/* backend.c — the one background thread of async mode.
 *
 * A pass: take the configuration mutex, drain every ring up to the head it
 * had when the pass reached it (so a pass is bounded even under a flood),
 * merging the rings by timestamp, decode each record, route it, report drops as an internal entry, flush the
 * handlers written to, release the mutex, free rings of exited threads and
 * released bound loggers. Passes are numbered: a flush waits for a pass that
 * started after it was called, which has then seen everything logged before.
 *
 * Between passes: a futex wait on wake_word, 2 ms after a small batch, 4 then
 * 10 ms when idle, so an idle process costs ~100 wake-ups a second, latency
 * stays bounded, and on a busy machine the backend interrupts producers
 * rarely; a big batch loops at once. Producers only wake it (one syscall)
 * when their ring is more than half full, or when they block, flush or exit. */
#include "core_impl.h"
#include "handler_impl.h"
#include "logger.h"
#include "record.h"
#include "ring.h"
#include "runtime.h"

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static pthread_t thread;
static int running;      /* atomic */
static int stop_req;     /* atomic */
static int backend_tid;  /* atomic */
static uint32_t wake_word;
static int sleeping;     /* atomic */
static uint64_t pass_started, pass_done;
static int in_pass;      /* guards against re-entry from a crash on this path */

static pthread_mutex_t grave_mu = PTHREAD_MUTEX_INITIALIZER;
static trail_logger *grave;

/* Writer state, used under the configuration mutex only. */
static trail__route_scratch route_scratch;
static trail__decode_scratch decode_scratch;

static long futex(uint32_t *addr, int op, uint32_t val, const struct timespec *ts) {
    return syscall(SYS_futex, addr, op, val, ts, NULL, 0);
}

void trail__backend_wake(void) {
    __atomic_fetch_add(&wake_word, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&sleeping, __ATOMIC_SEQ_CST)) futex(&wake_word, FUTEX_WAKE_PRIVATE, 1, NULL);
}

int trail__backend_is_self(void) {
    int t = __atomic_load_n(&backend_tid, __ATOMIC_RELAXED);
    return t && t == (int)gettid();
}

int trail__backend_running(void) { return __atomic_load_n(&running, __ATOMIC_ACQUIRE); }

void trail__write_record(const trail__rec *rec) {
    trail_entry e;
    trail__record_decode(rec, &e, &decode_scratch);
    trail__route(rec->lg, &e, &route_scratch);
}

void trail__write_flush(void) { trail__route_flush(&route_scratch); }

void trail__write_internal(uint32_t tid, uint64_t dropped) {
    char msg[64];
    int len = snprintf(msg, sizeof msg, "dropped %llu entries", (unsigned long long)dropped);
    trail_field f = TRAIL_U64("dropped", dropped);
    trail_entry e = {
        .ts_ns = trail__now_ns(),
        .level = TRAIL_WARNING,
        .logger = "",
        .msg = msg,
        .msg_len = (size_t)len,
        .fields = &f,
        .nfields = 1,
        .tid = tid,
        .flags = TRAIL_ENTRY_INTERNAL,
    };
    trail__route(&trail__root_logger, &e, &route_scratch);
}

void trail__write_free_scratch(void) {
    trail__route_scratch_free(&route_scratch);
    trail__decode_scratch_free(&decode_scratch);
}

/* Rings drained together in one pass are merged by timestamp, so lines of
 * different threads come out in time order (each thread's own order is the
 * ring's order either way). Up to MERGE_MAX rings at a time. */
#define MERGE_MAX 16

typedef struct cursor {
    trail__ring *r;
    uint64_t t, upto;
    const trail__rec *next; /* next entry record, NULL when done */
} cursor;

/* Moves c to its next entry record (skipping padding), freeing space behind. */
static void cursor_seek(cursor *c) {
    c->next = NULL;
    while (c->t < c->upto) {
        const trail__rec *rec = (const trail__rec *)(const void *)(c->r->cbuf + (c->t & c->r->cmask));
        if (rec->kind == TRAIL__REC_ENTRY) {
            c->next = rec;
            return;
        }
        c->t += rec->size;
        __atomic_store_n(&c->r->tail, c->t, __ATOMIC_RELEASE);
    }
}

static void cursor_open(cursor *c, trail__ring *r) {
    c->r = r;
    c->t = r->tail;
    c->upto = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
    /* The fill only grows between drains: its peak is what is there now. */
    if (c->upto - c->t > __atomic_load_n(&r->high_water, __ATOMIC_RELAXED)) trail__ring_high_water(r, c->upto - c->t);
    cursor_seek(c);
}

/* Writes every record of the k cursors, oldest first; returns the count. */
static size_t merge(cursor *cs, size_t k) {
    size_t n = 0;
    for (;;) {
        cursor *best = NULL;
        for (size_t i = 0; i < k; i++)
            if (cs[i].next && (!best || cs[i].next->ts < best->next->ts)) best = &cs[i];
        if (!best) return n;
        trail__write_record(best->next);
        n++;
        best->t += best->next->size;
        __atomic_store_n(&best->r->tail, best->t, __ATOMIC_RELEASE);
        cursor_seek(best);
    }
}

/* "dropped N entries" for what r dropped since the last report. */
static size_t report_drops(trail__ring *r) {
    uint64_t d = __atomic_load_n(&r->dropped, __ATOMIC_RELAXED);
    if (d == r->dropped_reported) return 0;
    trail__write_internal(r->tid, d - r->dropped_reported);
    r->dropped_reported = d;
    return 1;
}

static void free_graves(uint64_t done) {
    pthread_mutex_lock(&grave_mu);
    for (trail_logger **p = &grave; *p;) {
        trail_logger *lg = *p;
        if (lg->grave_ticket <= done) {
            *p = lg->grave_next;
            trail__logger_free_bound(lg);
        } else {
            p = &lg->grave_next;
        }
    }
    pthread_mutex_unlock(&grave_mu);
}

/* One pass over every ring; the caller holds the configuration mutex. */
static size_t pass_locked(uint64_t ticket) {
    size_t n = 0;
    in_pass = 1;
    cursor cs[MERGE_MAX];
    for (trail__ring *r = trail__rings_first(); r;) {
        size_t k = 0;
        for (; r && k < MERGE_MAX; r = r->next) cursor_open(&cs[k++], r);
        n += merge(cs, k);
        for (size_t i = 0; i < k; i++) n += report_drops(cs[i].r);
    }
    uint64_t ringless = trail__rings_take_ringless();
    if (ringless) {
        trail__write_internal(0, ringless);
        n++;
    }
    trail__write_flush();
    in_pass = 0;
    (void)ticket;
    return n;
}

static size_t pass(void) {
    /* An RMW: it reads the latest ticket, so a flush that took ticket-1 by
     * its own RMW synchronises with this pass and its records are seen. */
    uint64_t ticket = __atomic_add_fetch(&pass_started, 1, __ATOMIC_SEQ_CST);
    trail__cfg_lock();
    size_t n = pass_locked(ticket);
    trail__cfg_unlock();
    /* Done before reaping: a crash handler waiting for this pass must not
     * depend on the ring mutex, which the crashed thread may hold. */
    __atomic_store_n(&pass_done, ticket, __ATOMIC_RELEASE);
    trail__rings_reap();
    free_graves(ticket);
    return n;
}

static void *backend_main(void *arg) {
    (void)arg;
    __atomic_store_n(&backend_tid, (int)gettid(), __ATOMIC_RELAXED);
    unsigned idle = 0;
    int64_t last_resync = 0;
    while (!__atomic_load_n(&stop_req, __ATOMIC_ACQUIRE)) {
        uint32_t w = __atomic_load_n(&wake_word, __ATOMIC_SEQ_CST);
        size_t n = pass();
        int64_t now = trail__now_ns();
        if (now - last_resync > 1000000000) {
            trail__tsc_resync();
            last_resync = now;
        }
        /* Asked for (flush, blocked producer, ring half full) or a big
         * batch: go on at once. Otherwise sleep, so the next pass takes a
         * batch instead of chasing the producers record by record (which
         * would bounce their cache lines between the cores). */
        if (__atomic_load_n(&wake_word, __ATOMIC_SEQ_CST) != w || n >= 512) {
            idle = 0;
            continue;
        }
        idle = n ? 0 : idle + 1;
        long us = n ? 2000 : idle < 8 ? 4000 : 10000;
        struct timespec ts = {0, us * 1000};
        /* w is from before the pass: any wake since then returns at once. */
        __atomic_store_n(&sleeping, 1, __ATOMIC_SEQ_CST);
        if (!__atomic_load_n(&stop_req, __ATOMIC_ACQUIRE)) futex(&wake_word, FUTEX_WAIT_PRIVATE, w, &ts);
        __atomic_store_n(&sleeping, 0, __ATOMIC_SEQ_CST);
    }
    /* Final drain: whatever producers managed to queue before the stop. */
    for (int i = 0; i < 64 && pass(); i++) {
    }
    __atomic_store_n(&backend_tid, 0, __ATOMIC_RELAXED);
    return NULL;
}

int trail__backend_start(void) {
    __atomic_store_n(&stop_req, 0, __ATOMIC_RELEASE);
    /* The backend takes no asynchronous signals (SIGTERM must reach a thread
     * whose handler can wait for the backend); faults still reach it. */
    sigset_t all, old;
    sigfillset(&all);
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    sigdelset(&all, SIGFPE);
    sigdelset(&all, SIGILL);
    sigdelset(&all, SIGABRT);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&thread, NULL, backend_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) return trail__error(-rc, "cannot start the trail backend thread: %s", strerror(rc));
    __atomic_store_n(&running, 1, __ATOMIC_RELEASE);
    return 0;
}

void trail__backend_stop(void) {
    if (!__atomic_load_n(&running, __ATOMIC_ACQUIRE)) return;
    __atomic_store_n(&stop_req, 1, __ATOMIC_RELEASE);
    trail__backend_wake();
    pthread_join(thread, NULL);
    __atomic_store_n(&running, 0, __ATOMIC_RELEASE);
    free_graves(UINT64_MAX);
}

static int64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Async-signal-safe (atomics, futex, nanosleep, clock_gettime). */
int trail__backend_wait_pass(int timeout_ms) {
    if (!__atomic_load_n(&running, __ATOMIC_ACQUIRE)) return 0;
    if (trail__backend_is_self()) return -EDEADLK;
    uint64_t want = __atomic_fetch_add(&pass_started, 0, __ATOMIC_SEQ_CST) + 1;
    int64_t deadline = mono_ns() + (int64_t)(timeout_ms < 0 ? 0 : timeout_ms) * 1000000;
    for (unsigned i = 0;; i++) {
        trail__backend_wake();
        if (__atomic_load_n(&pass_done, __ATOMIC_ACQUIRE) >= want) return 0;
        if (mono_ns() >= deadline) return -ETIMEDOUT;
        struct timespec ts = {0, i < 10 ? 20000 : 200000};
        nanosleep(&ts, NULL);
    }
}

int trail__backend_drain_inline(void) {
    if (in_pass) return -EBUSY;
    if (pthread_mutex_trylock(&trail__cfg_mu) != 0) return -EBUSY;
    /* The ring mutex too: the backend frees exited threads' rings under it. */
    if (in_pass || trail__rings_trylock() != 0) {
        pthread_mutex_unlock(&trail__cfg_mu);
        return -EBUSY;
    }
    for (int i = 0; i < 4 && pass_locked(0); i++) {
    }
    trail__rings_unlock();
    pthread_mutex_unlock(&trail__cfg_mu);
    return 0;
}

void trail__backend_defer_free(trail_logger *lg) {
    lg->grave_ticket = __atomic_fetch_add(&pass_started, 0, __ATOMIC_SEQ_CST) + 1;
    pthread_mutex_lock(&grave_mu);
    lg->grave_next = grave;
    grave = lg;
    pthread_mutex_unlock(&grave_mu);
    trail__backend_wake();
}

void trail__backend_fork_prepare(void) { pthread_mutex_lock(&grave_mu); }
void trail__backend_fork_parent(void) { pthread_mutex_unlock(&grave_mu); }

void trail__backend_after_fork_child(void) {
    pthread_mutex_init(&grave_mu, NULL);
    /* No thread of the parent exists here; records referring to released
     * bound loggers were discarded with the parent's queue. */
    int was_running = __atomic_load_n(&running, __ATOMIC_RELAXED);
    __atomic_store_n(&running, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&sleeping, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&backend_tid, 0, __ATOMIC_RELAXED);
    in_pass = 0;
    free_graves(UINT64_MAX);
    if (was_running) trail__backend_start();
}
