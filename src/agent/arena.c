/* arena.c — bump allocator for a batch's records and strings. Chunks grow
 * geometrically; everything is freed at once with the batch. Freed chunks
 * of the usual sizes are kept in a small cache (bounded, a few MiB) for the
 * next batches: returning them to the kernel and faulting them in again
 * cost a fifth of the parsing time. */
#include "arena.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct chunk {
    struct chunk *next;
    size_t used, cap;
    _Alignas(16) char data[];
};

struct ta_arena {
    struct chunk *head;
    size_t total;
};

#define MIN_CHUNK 16384u
#define MAX_CHUNK (1u << 20)
#define CLASSES 7                       /* 16 KiB .. 1 MiB */
#define CACHE_BYTES (6u << 20)

/* Under AddressSanitizer chunks are really freed, so a use after
 * ta_arena_free() is still caught instead of landing in a recycled chunk. */
#if defined(__SANITIZE_ADDRESS__)
#define ARENA_NO_CACHE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_NO_CACHE 1
#endif
#endif

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static struct chunk *cache[CLASSES];
static size_t cache_bytes;

static int size_class(size_t cap) {
#ifdef ARENA_NO_CACHE
    (void)cap;
    return -1;
#endif
    for (int k = 0; k < CLASSES; k++)
        if (cap == (size_t)MIN_CHUNK << k) return k;
    return -1;
}

static struct chunk *chunk_get(size_t cap) {
    int k = size_class(cap);
    struct chunk *c = NULL;
    if (k >= 0) {
        pthread_mutex_lock(&cache_mu);
        if ((c = cache[k])) {
            cache[k] = c->next;
            cache_bytes -= cap;
        }
        pthread_mutex_unlock(&cache_mu);
    }
    return c ? c : malloc(sizeof *c + cap);
}

static void chunk_put(struct chunk *c) {
    int k = size_class(c->cap);
    if (k >= 0) {
        pthread_mutex_lock(&cache_mu);
        if (cache_bytes + c->cap <= CACHE_BYTES) {
            c->next = cache[k];
            cache[k] = c;
            cache_bytes += c->cap;
            c = NULL;
        }
        pthread_mutex_unlock(&cache_mu);
    }
    free(c);
}

ta_arena *ta_arena_new(void) {
    ta_arena *a = calloc(1, sizeof *a);
    if (!a) abort();
    return a;
}

void ta_arena_free(ta_arena *a) {
    if (!a) return;
    for (struct chunk *c = a->head, *n; c; c = n) {
        n = c->next;
        chunk_put(c);
    }
    free(a);
}

size_t ta_arena_size(const ta_arena *a) { return a->total; }

void *ta_arena_alloc(ta_arena *a, size_t n) {
    n = (n + 7) & ~(size_t)7;
    struct chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = c ? c->cap * 2 : MIN_CHUNK;
        if (cap > MAX_CHUNK) cap = MAX_CHUNK;
        if (cap < n) cap = n;
        struct chunk *nc = chunk_get(cap);
        if (!nc) {
            fprintf(stderr, "traild: out of memory\n");
            abort();
        }
        nc->cap = cap;
        nc->used = 0;
        nc->next = c;
        a->head = c = nc;
        a->total += cap;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

char *ta_arena_strndup(ta_arena *a, const char *s, size_t n) {
    char *p = ta_arena_alloc(a, n + 1);
    if (n) memcpy(p, s, n);
    p[n] = 0;
    return p;
}
