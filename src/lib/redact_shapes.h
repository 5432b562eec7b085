/* redact_shapes.h — finds secret-shaped substrings in text, in linear time.
 * Owned by redact_shapes.c; used by redact.c and by traild's redaction
 * processor so both mask the same things.
 *
 * Shapes (TRAIL_REDACT_* bits): bearer/basic credentials, JWTs (three or
 * more base64url parts, the first two starting "eyJ"), AWS access key ids
 * (AKIA/ASIA + 16) and AWS secret keys (40 chars after a "...secret..."
 * key), card numbers (13-19 digits, single spaces or dashes between groups,
 * first digit 2-6, Luhn-valid), e-mail addresses, and key=value pairs whose
 * key is secret-named (needs a key predicate). No regex: each scanner starts
 * only at a word boundary and reads each run of characters once. */
#ifndef TRAIL_REDACT_SHAPES_H
#define TRAIL_REDACT_SHAPES_H

#include "trail.h"

/* Whether key[0..len) names a secret ("password", "db_token", ...). */
typedef int (*trail__key_pred)(const char *key, size_t len, void *ud);

typedef struct trail__shape_cfg {
    unsigned shapes;           /* TRAIL_REDACT_* */
    trail__key_pred secret_key; /* for TRAIL_REDACT_KEY_VALUE; NULL disables it */
    void *key_ud;
    const char *repl; /* replacement text */
    size_t repl_len;
} trail__shape_cfg;

/* Finds the first shape at or after from in s[0..n); returns 1 with the
 * secret's span [*ms, *me) (for "Bearer x" and "key=x" only the x), 0 when
 * there is none. */
int trail__shape_next(const trail__shape_cfg *cfg, const char *s, size_t n, size_t from, size_t *ms, size_t *me);

/* The same for repeated searches over one text: trail__shapes_possible()
 * once (an O(n) prefilter), then trail__shape_next_in() from each position,
 * linear in all. */
unsigned trail__shapes_possible(const trail__shape_cfg *cfg, const char *s, size_t n);
int trail__shape_next_in(const trail__shape_cfg *cfg, unsigned possible, const char *s, size_t n, size_t from,
                         size_t *ms, size_t *me);

/* Appends s with every shape replaced by cfg->repl to out. Returns the number
 * of replacements; when 0, nothing is appended (the caller keeps s).
 * -ENOMEM if out cannot grow. */
long trail__redact_text(const trail__shape_cfg *cfg, const char *s, size_t n, trail_buf *out);

/* Luhn check over n ASCII digits. */
int trail__luhn_ok(const char *digits, size_t n);

#endif
