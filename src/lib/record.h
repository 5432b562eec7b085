/* record.h — the binary record one log call leaves in its thread's ring.
 *
 *   trail__rec header (56 bytes)
 *   trail_field[nfields]   copied from the call; keys stay pointers (string
 *                          literals); for STR/BYTES/JSON v.s points at the
 *                          copied bytes inside this record (records never
 *                          move while queued) and len is their stored length,
 *                          so the decoder hands this array out as it is
 *   ctx blob               ctx_len bytes, as trail__ctx_current() gave it
 *   message                msg_len bytes when site == NULL (trail_log_msg)
 *   string bytes           values of STR/BYTES/JSON fields
 *   padding to 8 bytes
 *
 * The header keeps pointers to the static call site and to the logger
 * (bound loggers' fields are added at decode time, which is why a released
 * bound logger is freed only after the backend has passed its records). */
#ifndef TRAIL_RECORD_H
#define TRAIL_RECORD_H

#include "trail.h"

#include <stdint.h>

enum { TRAIL__REC_ENTRY = 1, TRAIL__REC_PAD = 2 };

typedef struct trail__rec {
    uint32_t size;  /* whole record in bytes, a multiple of 8 */
    uint16_t kind;  /* TRAIL__REC_* */
    uint16_t level;
    uint32_t flags; /* TRAIL_ENTRY_* */
    uint32_t tid;
    uint32_t nfields;
    uint32_t ctx_len;
    uint32_t msg_len;
    uint32_t msg_off;
    uint64_t ts; /* raw timestamp: TSC ticks or ns (see tsc.c) */
    trail_logger *lg;
    const trail_site *site; /* NULL: dynamic message at msg_off */
} trail__rec;

#define TRAIL__REC_MAX_FIELDS 1024u
#define TRAIL__REC_MAX_CTX 128u

/* Scratch the decoder fills; pointers in the entry refer to the record and
 * to this scratch, valid until the next decode. */
typedef struct trail__decode_scratch {
    trail_field *fields;
    size_t cap;
    trail_field ctx[TRAIL__REC_MAX_CTX];
} trail__decode_scratch;

/* Builds e from r. Returns 0, or -ENOMEM (entry delivered without fields). */
int trail__record_decode(const trail__rec *r, trail_entry *e, trail__decode_scratch *s);
void trail__decode_scratch_free(trail__decode_scratch *s);

#endif
