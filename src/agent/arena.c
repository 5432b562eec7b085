/* arena.c — bump allocator for a batch's records and strings. Chunks grow
 * geometrically; everything is freed at once with the batch. */
#include "arena.h"

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

ta_arena *ta_arena_new(void) {
    ta_arena *a = calloc(1, sizeof *a);
    if (!a) abort();
    return a;
}

void ta_arena_free(ta_arena *a) {
    if (!a) return;
    for (struct chunk *c = a->head, *n; c; c = n) {
        n = c->next;
        free(c);
    }
    free(a);
}

size_t ta_arena_size(const ta_arena *a) { return a->total; }

void *ta_arena_alloc(ta_arena *a, size_t n) {
    n = (n + 7) & ~(size_t)7;
    struct chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = c ? c->cap * 2 : 16384;
        if (cap > (1u << 20)) cap = 1u << 20;
        if (cap < n) cap = n;
        struct chunk *nc = malloc(sizeof *nc + cap);
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
