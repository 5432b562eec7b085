/* redact_impl.h — internals of the redaction filter, shared by redact.c
 * (the filter and its keys), redact_scratch.c (where rewritten entries
 * live) and redact_json.c (raw JSON fields). Owned by redact.c. */
#ifndef TRAIL_REDACT_IMPL_H
#define TRAIL_REDACT_IMPL_H

#include "redact_shapes.h"

#include <stdint.h>

typedef struct redactor {
    uint64_t id;
    trail__shape_cfg shapes; /* repl = plain replacement */
    char *repl;              /* plain */
    char *json_repl;         /* as a JSON string literal, quotes included */
    size_t json_repl_len;
    char *inner_json_repl;   /* JSON-escaped, no quotes: inside a JSON string */
    size_t inner_json_repl_len;
    char **keys; /* lowercase */
    size_t *key_len;
    size_t nkeys;
    int has_short_key;        /* a 1-byte key: the bigram prefilter cannot see it */
    uint64_t bigram[65536 / 64]; /* (first, second) lowercase bytes of every key */
} redactor;

/* Whether key[0..len) contains a configured key (case-insensitive); ud is
 * the redactor. */
int trail__redact_key(const char *key, size_t len, void *ud);

/* Rewrites raw JSON (see redact_json.c); returns the number of
 * replacements (out gets the text only if > 0) or -ENOMEM. */
long trail__redact_json(const redactor *r, const char *s, size_t n, trail_buf *out);

/* ------------------------------------------------------------ scratch */

#define REDACT_SLOTS 8

typedef struct trail__chunk {
    struct trail__chunk *next;
    size_t cap, used;
    _Alignas(16) unsigned char data[];
} trail__chunk;

/* Caches of verdicts, per slot (so per thread and filter: no locking).
 * Entries hold a copy of what they describe and are checked with memcmp,
 * so a stale pointer or a reused buffer can never return a wrong verdict. */
#define KEY_CACHE 64
#define KEY_CACHE_MAX 30
#define MSG_CACHE 64
#define MSG_CACHE_MAX 120

typedef struct key_verdict {
    uint8_t len; /* 0 = empty */
    uint8_t secret;
    char key[KEY_CACHE_MAX];
} key_verdict;

typedef struct msg_verdict { /* call-site messages known to hold no shape */
    const char *ptr;
    uint32_t len;
    char copy[MSG_CACHE_MAX];
} msg_verdict;

typedef struct trail__rslot {
    uint64_t owner; /* filter id, 0 = free */
    key_verdict keys[KEY_CACHE];
    msg_verdict msgs[MSG_CACHE];
    uint64_t last_use;
    trail__chunk *chunks[2]; /* two arenas, used in turn; each newest (largest) chunk first */
    int cur;          /* the arena of the current run */
    trail_buf tmp;    /* staging for text rewrites */
} trail__rslot;

/* This thread's slot for filter id, its current arena emptied unless e
 * still points into it. NULL when out of memory. */
trail__rslot *trail__rslot_for(uint64_t id, const trail_entry *e);
/* n bytes (16-aligned) in the slot's current arena; NULL when out of memory. */
void *trail__rslot_alloc(trail__rslot *sl, size_t n);
const char *trail__rslot_copy(trail__rslot *sl, const char *s, size_t n);
/* Frees this thread's slot of filter id (the filter is being freed). */
void trail__rslot_drop(uint64_t id);
/* Tests only: the allocator behind the scratch arenas (NULL restores
 * malloc), to check that a failed rewrite drops the entry instead of
 * letting the secret through. */
void trail__redact_set_alloc(void *(*fn)(size_t));
/* A new filter id, never reused. */
uint64_t trail__redact_new_id(void);

#endif
