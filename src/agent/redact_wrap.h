/* redact_wrap.h — the one seam to libtrail's redaction, so traild masks
 * exactly what libtrail masks: the same shape scanners (trail__redact_text,
 * src/lib/redact_shapes.h), the same secret-key rule (case-insensitive
 * substring of libtrail's default keys plus extra ones, trail__redact_key)
 * and the same raw-JSON rewriting. */
#ifndef TRAILD_REDACT_WRAP_H
#define TRAILD_REDACT_WRAP_H
#include "pipeline.h"

typedef struct ta_redactor ta_redactor;

/* TRAIL_REDACT_* bit of a shape name (bearer, jwt, aws, card, email,
 * key_value), 0 if unknown. */
unsigned ta_redact_shape(const char *name);
/* The names ta_redact_shape() knows, for messages: "bearer, jwt, ...". */
const char *ta_redact_shape_names(void);

/* A redactor with libtrail's rules: shapes is a TRAIL_REDACT_* mask (used as
 * given), extra (NULL-terminated, may be NULL) is added to libtrail's default
 * secret keys unless no_default_keys, repl replaces every secret. NULL when
 * out of memory. */
ta_redactor *ta_redactor_new(unsigned shapes, const char *const *extra, bool no_default_keys, const char *repl);
void ta_redactor_free(ta_redactor *rd);

/* Whether a field of this name holds a secret as a whole. */
bool ta_redact_key(const ta_redactor *rd, const char *key);
/* Masks every shape in s[0..n) (raw: s is JSON text, rewritten by key and
 * shape as libtrail does for TRAIL_JSON fields). Returns 1 with the new text
 * (arena) in out and outn when something was masked, 0 when nothing was,
 * -1 when out of memory (the caller drops the record, as libtrail does). */
int ta_redact_text(const ta_redactor *rd, bool raw, const char *s, size_t n, ta_arena *a, const char **out,
                    size_t *outn);
const char *ta_redact_replacement(const ta_redactor *rd);

#endif
