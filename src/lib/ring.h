/* ring.h — per-thread single-producer/single-consumer byte rings.
 *
 * The owning thread appends records (record.h) and publishes them by a
 * release store of `head`; the backend reads up to `head` and frees space by
 * a release store of `tail`. Positions grow forever (64-bit); the offset is
 * pos & mask. A record never wraps: when it does not fit before the end, a
 * padding record fills the gap and the record starts at offset 0.
 * Producer and consumer fields sit on separate cache lines and the producer
 * caches the consumer's position, so the common append touches no shared
 * line but its own. */
#ifndef TRAIL_RING_H
#define TRAIL_RING_H

#include "record.h"
#include "runtime.h"

#include <stdint.h>

typedef struct trail__ring {
    /* Producer's private line: never read by the backend while it runs. */
    _Alignas(64) uint64_t next_head; /* end of the record being written */
    uint64_t cached_tail;            /* last tail seen */
    uint64_t half;                   /* size / 2: commit calls trail__ring_note above it */
    uint64_t woke_at;                /* tail when the producer last woke the backend */
    char *buf;
    uint64_t mask;
    uint64_t size;
    uint32_t epoch;
    uint32_t tid;
    /* Published end of committed records: the one line both sides touch on
     * every record (release store by the producer, acquire load by the backend). */
    _Alignas(64) uint64_t head;
    /* Written by the producer, read by stats and the backend (relaxed atomics). */
    _Alignas(64) uint64_t dropped;
    uint64_t blocked;
    uint64_t high_water;
    /* Consumer's line. */
    _Alignas(64) uint64_t tail;     /* release-stored by the backend */
    uint64_t dropped_reported;      /* backend only */
    char *cbuf;                     /* the backend's copies of buf and mask */
    uint64_t cmask;
    /* Registry (under the ring mutex). */
    _Alignas(64) struct trail__ring *next;
    int closed;   /* atomic: the owner thread has exited */
    int detached; /* removed from the registry at shutdown while its thread lives */
    uint64_t max_record;
} trail__ring;

extern _Thread_local trail__ring *trail__tl_ring __attribute__((tls_model("initial-exec")));

/* Attaches a ring to the calling thread (allocates and registers it);
 * NULL when the memory budget is spent (the caller drops and counts). */
trail__ring *trail__ring_attach(void);
/* Slow path of reserve: no room. Drops or blocks according to level. */
char *trail__ring_full(trail__ring *r, uint32_t size, int level);
/* Slow path of commit: the ring looks more than half full (by the cached
 * tail): refresh it, note the high-water mark, wake the backend. */
void trail__ring_note(trail__ring *r);
/* Raises r->high_water to used (producer and backend both call it). */
void trail__ring_high_water(trail__ring *r, uint64_t used);
/* Entries dropped because a thread could not get a ring. */
void trail__ring_count_ringless(void);

/* PREFETCHW fetches the line in the exclusive state (a plain prefetch gets it
 * shared, and the store still waits for the other core to let it go). CPUs
 * without it execute the 0F 0D opcode as a NOP. */
static inline void trail__prefetch_write(const void *p) {
#if defined(__x86_64__)
    __asm__ volatile("prefetchw %0" : : "m"(*(const char *)p));
#else
    __builtin_prefetch(p, 1, 3);
#endif
}

static inline void trail__ring_pad(char *at, uint64_t bytes) {
    trail__rec *pad = (trail__rec *)(void *)at;
    pad->size = (uint32_t)bytes;
    pad->kind = TRAIL__REC_PAD;
}

/* Room for size bytes (a multiple of 8) or NULL (dropped and counted). */
static inline char *trail__ring_reserve(trail__ring *r, uint32_t size, int level) {
    uint64_t h = r->next_head; /* == head between calls; the producer's own copy */
    uint64_t off = h & r->mask;
    uint64_t room = r->size - off;
    uint64_t end = h + (room >= size ? size : room + size);
    if (TRAIL_UNLIKELY(end - r->cached_tail > r->size)) return trail__ring_full(r, size, level);
    if (TRAIL_UNLIKELY(room < size)) {
        trail__ring_pad(r->buf + off, room);
        off = 0;
    }
    r->next_head = end;
    return r->buf + off;
}

static inline void trail__ring_commit(trail__ring *r) {
    __atomic_store_n(&r->head, r->next_head, __ATOMIC_RELEASE);
    if (TRAIL_UNLIKELY(r->next_head - r->cached_tail > r->half)) trail__ring_note(r);
    /* Take ownership of the next record's cache lines now (the backend read
     * them a lap ago, from the other core), so the next call does not wait
     * for them. A prefetch never faults. */
    const char *next = r->buf + (r->next_head & r->mask);
    trail__prefetch_write(next);
    trail__prefetch_write(next + 64);
    trail__prefetch_write(next + 128);
    trail__prefetch_write(next + 192);
}

/* Backend side. */
typedef struct trail__ring_totals {
    uint64_t dropped, blocked, high_water, threads;
} trail__ring_totals;

/* Walks the registry under the ring mutex. */
void trail__rings_lock(void);
int trail__rings_trylock(void); /* 0 when taken */
void trail__rings_unlock(void);
trail__ring *trail__rings_first(void);
/* Frees rings whose thread exited and that are empty (backend). */
void trail__rings_reap(void);
/* Sums the counters of live and retired rings. */
void trail__rings_totals(trail__ring_totals *t);
/* trail_shutdown: frees every ring it can, detaches the others. */
void trail__rings_shutdown(void);
/* fork child: records queued before the fork belong to the parent. */
void trail__rings_after_fork_child(void);
/* Entries dropped without a ring, not yet reported (backend). */
uint64_t trail__rings_take_ringless(void);

#endif
