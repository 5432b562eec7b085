/* ring.c — ring allocation, the registry the backend walks, overflow
 * (drop or bounded block), thread exit and the memory budget. */
#include "ring.h"
#include "core_impl.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define HUGE_PAGE ((size_t)2 << 20)

_Thread_local trail__ring *trail__tl_ring __attribute__((tls_model("initial-exec")));

static pthread_mutex_t ring_mu = PTHREAD_MUTEX_INITIALIZER;
static trail__ring *rings;    /* registry; pushed at the head, removed by the backend */
static size_t ring_memory;    /* bytes of ring buffers allocated */
static pthread_key_t ring_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
/* Counters of rings already freed, and of entries dropped without a ring. */
static uint64_t retired_dropped, retired_blocked, retired_high_water;
static uint64_t ringless_dropped, ringless_reported;

/* Ring buffers are their own mappings, aligned to 2 MiB when that large so
 * the kernel can back them with huge pages: with 4 KiB pages a producer
 * crossing into a page missing from the TLB was the slow call in every ~22
 * (measured in trail_bench). MADV_HUGEPAGE is a hint; 4 KiB pages otherwise. */
static char *map_buffer(size_t size) {
    size_t align = size >= HUGE_PAGE ? HUGE_PAGE : 4096;
    char *p = mmap(NULL, size + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    char *a = (char *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
    if (a > p) munmap(p, (size_t)(a - p));
    munmap(a + size, (size_t)(p + size + align - (a + size)));
    if (align == HUGE_PAGE) madvise(a, size, MADV_HUGEPAGE);
    return a;
}

static void free_ring(trail__ring *r) {
    ring_memory -= r->size;
    munmap(r->buf, r->size);
    free(r);
}

static void retire_counters(trail__ring *r) {
    retired_dropped += __atomic_load_n(&r->dropped, __ATOMIC_RELAXED);
    retired_blocked += __atomic_load_n(&r->blocked, __ATOMIC_RELAXED);
    uint64_t hw = __atomic_load_n(&r->high_water, __ATOMIC_RELAXED);
    if (hw > retired_high_water) retired_high_water = hw;
}

/* pthread key destructor: the owner thread exits. The backend drains the
 * ring and frees it; a ring detached at shutdown is freed here. */
static void on_thread_exit(void *p) {
    trail__ring *r = p;
    if (trail__tl_ring == r) trail__tl_ring = NULL;
    pthread_mutex_lock(&ring_mu);
    if (r->detached) {
        free_ring(r);
    } else {
        __atomic_store_n(&r->closed, 1, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&ring_mu);
    trail__backend_wake();
}

static void make_key(void) { pthread_key_create(&ring_key, on_thread_exit); }

static uint64_t pow2_at_least(uint64_t v) {
    uint64_t p = 4096;
    while (p < v && p < (1ull << 31)) p <<= 1;
    return p;
}

trail__ring *trail__ring_attach(void) {
    pthread_once(&key_once, make_key);
    trail__ring *old = trail__tl_ring;
    if (old) { /* a ring from before trail_shutdown: ours alone now */
        pthread_mutex_lock(&ring_mu);
        if (old->detached) free_ring(old);
        pthread_mutex_unlock(&ring_mu);
        trail__tl_ring = NULL;
        pthread_setspecific(ring_key, NULL);
    }
    uint64_t size = pow2_at_least(trail__rt.ring_bytes);
    pthread_mutex_lock(&ring_mu);
    if (ring_memory + size > trail__rt.max_ring_memory) {
        pthread_mutex_unlock(&ring_mu);
        trail__report_once("ring-budget", "ring memory budget (%zu bytes) spent: entries of new threads are dropped "
                                          "and counted; raise max_ring_memory",
                           trail__rt.max_ring_memory);
        return NULL;
    }
    ring_memory += size;
    pthread_mutex_unlock(&ring_mu);
    trail__ring *r = NULL;
    char *buf = NULL;
    if (posix_memalign((void **)&r, 64, sizeof *r) != 0 || !(buf = map_buffer(size))) {
        free(r);
        pthread_mutex_lock(&ring_mu);
        ring_memory -= size;
        pthread_mutex_unlock(&ring_mu);
        return NULL;
    }
    memset(r, 0, sizeof *r);
    memset(buf, 0, size); /* fault the pages in now, not on the hot path */
    r->buf = r->cbuf = buf;
    r->size = size;
    r->mask = r->cmask = size - 1;
    r->max_record = size / 2;
    r->half = size / 2;
    r->woke_at = UINT64_MAX;
    r->epoch = trail__rt.epoch;
    r->tid = (uint32_t)gettid();
    pthread_mutex_lock(&ring_mu);
    r->next = rings;
    __atomic_store_n(&rings, r, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&ring_mu);
    pthread_setspecific(ring_key, r);
    trail__tl_ring = r;
    return r;
}

void trail__ring_count_ringless(void) { __atomic_fetch_add(&ringless_dropped, 1, __ATOMIC_RELAXED); }

void trail__ring_high_water(trail__ring *r, uint64_t used) {
    uint64_t hw = __atomic_load_n(&r->high_water, __ATOMIC_RELAXED);
    while (used > hw && !__atomic_compare_exchange_n(&r->high_water, &hw, used, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
}

void trail__ring_note(trail__ring *r) {
    r->cached_tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
    uint64_t used = r->next_head - r->cached_tail;
    if (used <= r->half) return;
    trail__ring_high_water(r, used);
    /* Once per drain: the backend moves tail when it has woken up. */
    if (r->woke_at != r->cached_tail) {
        r->woke_at = r->cached_tail;
        trail__backend_wake();
    }
}

static int fits(trail__ring *r, uint32_t size) {
    uint64_t h = r->next_head;
    uint64_t room = r->size - (h & r->mask);
    uint64_t end = h + (room >= size ? size : room + size);
    return end - r->cached_tail <= r->size;
}

static int64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *trail__ring_full(trail__ring *r, uint32_t size, int level) {
    r->cached_tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
    if (fits(r, size)) return trail__ring_reserve(r, size, level);
    /* Block (bounded) for important levels; never on the backend thread,
     * which would wait for itself. */
    if (level >= trail__rt.overflow_block_from && !trail__backend_is_self() && trail__backend_running()) {
        __atomic_fetch_add(&r->blocked, 1, __ATOMIC_RELAXED);
        int64_t deadline = mono_ms() + trail__rt.block_timeout_ms;
        for (unsigned spin = 0;; spin++) {
            trail__backend_wake();
            if (spin < 16) {
                sched_yield();
            } else {
                struct timespec ts = {0, 50000};
                nanosleep(&ts, NULL);
            }
            r->cached_tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
            if (fits(r, size)) return trail__ring_reserve(r, size, level);
            if ((spin & 15) == 15 && mono_ms() >= deadline) break;
        }
    }
    __atomic_fetch_add(&r->dropped, 1, __ATOMIC_RELAXED);
    return NULL;
}

/* ------------------------------------------------------------- backend side */

void trail__rings_lock(void) { pthread_mutex_lock(&ring_mu); }
int trail__rings_trylock(void) { return pthread_mutex_trylock(&ring_mu); }
void trail__rings_unlock(void) { pthread_mutex_unlock(&ring_mu); }
trail__ring *trail__rings_first(void) { return __atomic_load_n(&rings, __ATOMIC_ACQUIRE); }

void trail__rings_reap(void) {
    pthread_mutex_lock(&ring_mu);
    for (trail__ring **p = &rings; *p;) {
        trail__ring *r = *p;
        if (__atomic_load_n(&r->closed, __ATOMIC_ACQUIRE) &&
            __atomic_load_n(&r->tail, __ATOMIC_RELAXED) == __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) &&
            r->dropped_reported == __atomic_load_n(&r->dropped, __ATOMIC_RELAXED)) {
            *p = r->next;
            retire_counters(r);
            free_ring(r);
        } else {
            p = &r->next;
        }
    }
    pthread_mutex_unlock(&ring_mu);
}

void trail__rings_totals(trail__ring_totals *t) {
    pthread_mutex_lock(&ring_mu);
    t->dropped = retired_dropped + __atomic_load_n(&ringless_dropped, __ATOMIC_RELAXED);
    t->blocked = retired_blocked;
    t->high_water = retired_high_water;
    t->threads = 0;
    for (trail__ring *r = rings; r; r = r->next) {
        t->dropped += __atomic_load_n(&r->dropped, __ATOMIC_RELAXED);
        t->blocked += __atomic_load_n(&r->blocked, __ATOMIC_RELAXED);
        uint64_t hw = __atomic_load_n(&r->high_water, __ATOMIC_RELAXED);
        if (hw > t->high_water) t->high_water = hw;
        if (!__atomic_load_n(&r->closed, __ATOMIC_RELAXED)) t->threads++;
    }
    pthread_mutex_unlock(&ring_mu);
}

uint64_t trail__rings_take_ringless(void) {
    uint64_t now = __atomic_load_n(&ringless_dropped, __ATOMIC_RELAXED);
    uint64_t n = now - ringless_reported;
    ringless_reported = now;
    return n;
}

void trail__rings_shutdown(void) {
    pthread_mutex_lock(&ring_mu);
    trail__ring *mine = trail__tl_ring;
    while (rings) {
        trail__ring *r = rings;
        rings = r->next;
        retire_counters(r);
        if (r == mine || __atomic_load_n(&r->closed, __ATOMIC_ACQUIRE)) free_ring(r);
        else r->detached = 1; /* its thread still runs: it frees the ring itself */
    }
    if (mine) {
        trail__tl_ring = NULL;
        pthread_setspecific(ring_key, NULL);
    }
    retired_dropped = retired_blocked = retired_high_water = 0;
    __atomic_store_n(&ringless_dropped, 0, __ATOMIC_RELAXED);
    ringless_reported = 0;
    pthread_mutex_unlock(&ring_mu);
}

void trail__rings_after_fork_child(void) {
    /* The mutex was taken in the prepare handler; it is re-initialised below. */
    trail__ring *mine = trail__tl_ring;
    for (trail__ring *r = rings; r; r = r->next) {
        uint64_t h = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
        /* Queued records were logged by the parent, which writes them. */
        __atomic_store_n(&r->tail, h, __ATOMIC_RELEASE);
        r->dropped_reported = __atomic_load_n(&r->dropped, __ATOMIC_RELAXED);
        if (r == mine) {
            r->cached_tail = h;
            r->next_head = h;
            r->woke_at = UINT64_MAX;
            r->tid = (uint32_t)gettid();
        } else {
            /* Its thread does not exist in the child. A record it was
             * writing at the fork is never committed, so head is final. */
            __atomic_store_n(&r->closed, 1, __ATOMIC_RELEASE);
        }
    }
    ringless_reported = __atomic_load_n(&ringless_dropped, __ATOMIC_RELAXED);
    pthread_mutex_init(&ring_mu, NULL);
}
