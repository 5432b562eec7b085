/* redact_wrap.h — the one seam to libtrail's redaction shapes. Today it
 * carries its own shape scanners; when src/lib/redact_shapes.h exists,
 * redact_wrap.c is where it gets called instead, so traild and libtrail
 * mask the same things. */
#ifndef TRAILD_REDACT_WRAP_H
#define TRAILD_REDACT_WRAP_H
#include "pipeline.h"

enum { TA_SHAPE_EMAIL = 1, TA_SHAPE_CARD = 2, TA_SHAPE_BEARER = 4, TA_SHAPE_JWT = 8 };

/* Shape bit of a name ("email"), 0 if unknown. */
unsigned ta_redact_shape(const char *name);
/* Masks every occurrence of the shapes in s[0..n); when something was
 * masked returns true with the new text (arena) in out and outn. */
bool ta_redact_text(unsigned shapes, const char *repl, const char *s, size_t n, ta_arena *a, const char **out,
                    size_t *outn);

#endif
