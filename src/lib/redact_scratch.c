/* redact_scratch.c — where rewritten entries live.
 *
 * trail_entry's msg, fields and ctx are const pointers into the caller's
 * record, so the redaction filter never writes into them: it builds
 * replacements in a scratch arena and points the entry (the mutable copy
 * the chain passes around) at them. The arena belongs to one (thread,
 * filter) pair and is reset the next time the same filter runs on the same
 * thread. A dispatch — filters, then formatting, then the write — is
 * single-threaded and finishes before that thread runs the filter again, so
 * the storage outlives every use of the entry. Two arenas alternate, and an
 * arena the incoming entry still points into is not emptied, so an entry
 * filtered again by the same filter never reads overwritten output.
 *
 * Several redact filters in one chain get separate slots (keyed by a filter
 * id that is never reused), so a later one does not clobber an earlier
 * one's output. Slots are freed with their thread (pthread key destructor)
 * or when the filter is freed on this thread; a thread keeps at most REDACT_SLOTS
 * (the least recently used is recycled; a chain with more than REDACT_SLOTS redact
 * filters is not supported). */
#include "redact_impl.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct scratch {
    trail__rslot s[REDACT_SLOTS];
    uint64_t tick;
} scratch;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static uint64_t next_filter_id = 1;

uint64_t trail__redact_new_id(void) { return __atomic_fetch_add(&next_filter_id, 1, __ATOMIC_RELAXED); }

static void slot_release(trail__rslot *sl) {
    for (int a = 0; a < 2; a++)
        for (trail__chunk *c = sl->chunks[a], *n; c; c = n) {
            n = c->next;
            free(c);
        }
    trail_buf_free(&sl->tmp);
    memset(sl, 0, sizeof *sl);
}

static void scratch_destroy(void *p) {
    scratch *sc = p;
    for (int i = 0; i < REDACT_SLOTS; i++) slot_release(&sc->s[i]);
    free(sc);
}

static void scratch_key_init(void) { pthread_key_create(&scratch_key, scratch_destroy); }

static scratch *thread_scratch(int create) {
    pthread_once(&scratch_once, scratch_key_init);
    scratch *sc = pthread_getspecific(scratch_key);
    if (!sc && create) {
        sc = calloc(1, sizeof *sc);
        if (sc && pthread_setspecific(scratch_key, sc) != 0) {
            free(sc);
            sc = NULL;
        }
    }
    return sc;
}

static int in_arena(const trail__chunk *c, const void *p) {
    for (; c && p; c = c->next)
        if ((uintptr_t)p >= (uintptr_t)c->data && (uintptr_t)p < (uintptr_t)c->data + c->cap) return 1;
    return 0;
}

static int fields_in_arena(const trail__chunk *c, const trail_field *f, size_t n) {
    if (in_arena(c, f)) return 1;
    for (size_t i = 0; i < n; i++)
        if ((f[i].type == TRAIL_T_STR || f[i].type == TRAIL_T_JSON) && in_arena(c, f[i].v.s)) return 1;
    return 0;
}

/* Whether e still points into arena c: the same entry filtered again by
 * the same filter. Then c must not be emptied under it. */
static int entry_in_arena(const trail__chunk *c, const trail_entry *e) {
    return c && (in_arena(c, e->msg) || fields_in_arena(c, e->fields, e->nfields) ||
                 fields_in_arena(c, e->ctx, e->nctx));
}

/* This thread's arena for filter id, emptied: what it held belonged to the
 * previous entry this filter rewrote on this thread. */
trail__rslot *trail__rslot_for(uint64_t id, const trail_entry *e) {
    scratch *sc = thread_scratch(1);
    if (!sc) return NULL;
    trail__rslot *victim = &sc->s[0];
    for (int i = 0; i < REDACT_SLOTS; i++) {
        if (sc->s[i].owner == id) {
            victim = &sc->s[i];
            goto found;
        }
        if (sc->s[i].last_use < victim->last_use) victim = &sc->s[i];
    }
    /* A slot taken over from another filter: its verdicts are not ours. */
    memset(victim->keys, 0, sizeof victim->keys);
    memset(victim->msgs, 0, sizeof victim->msgs);
    victim->owner = id;
found:
    victim->last_use = ++sc->tick;
    /* Switch arenas: the other one holds the previous run's output, which
     * may be this run's input (the same entry filtered twice). */
    victim->cur ^= 1;
    trail__chunk *head = victim->chunks[victim->cur];
    /* Keep only the newest chunk (the biggest): steady state is one chunk, no malloc. */
    if (head && !entry_in_arena(head, e)) {
        for (trail__chunk *c = head->next, *n; c; c = n) {
            n = c->next;
            free(c);
        }
        head->next = NULL;
        head->used = 0;
    }
    return victim;
}

/* Fault injection for tests (trail__redact_set_alloc): arena chunks come
 * from here. */
static void *(*chunk_malloc)(size_t) = malloc;
void trail__redact_set_alloc(void *(*fn)(size_t)) { chunk_malloc = fn ? fn : malloc; }

void *trail__rslot_alloc(trail__rslot *sl, size_t n) {
    n = (n + 15) & ~(size_t)15;
    trail__chunk *c = sl->chunks[sl->cur];
    if (!c || c->cap - c->used < n) {
        size_t cap = c ? c->cap * 2 : 4096;
        while (cap < n) cap *= 2;
        trail__chunk *nc = chunk_malloc(sizeof *nc + cap);
        if (!nc) return NULL;
        nc->next = c;
        nc->cap = cap;
        nc->used = 0;
        sl->chunks[sl->cur] = c = nc;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

const char *trail__rslot_copy(trail__rslot *sl, const char *s, size_t n) {
    char *p = trail__rslot_alloc(sl, n ? n : 1);
    if (p && n) memcpy(p, s, n);
    return p;
}

void trail__rslot_drop(uint64_t id) {
    scratch *sc = thread_scratch(0);
    if (sc)
        for (int i = 0; i < REDACT_SLOTS; i++)
            if (sc->s[i].owner == id) slot_release(&sc->s[i]);
}
