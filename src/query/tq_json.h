/* tq_json.h — a small JSON reader (DOM in an arena) for push bodies and the
 * `| json` stage. Depth and size are bounded by the caller's input. */
#ifndef TRAIL_TQ_JSON_H
#define TRAIL_TQ_JSON_H

#include <stddef.h>

#include "tq_buf.h"

typedef enum tq_jtype { TQ_JNULL, TQ_JBOOL, TQ_JNUM, TQ_JSTR, TQ_JARR, TQ_JOBJ } tq_jtype;

typedef struct tq_jval tq_jval;
struct tq_jval {
    tq_jtype type;
    const char *s;  /* JSTR: unescaped text; JNUM/JBOOL: the literal text */
    size_t len;
    tq_jval *kids;  /* JARR / JOBJ: array of n values */
    const char **keys; /* JOBJ: key of each kid (unescaped, NUL-terminated) */
    size_t *keylens;
    size_t n;
};

/* Parses text (n bytes). Returns the root or NULL with a message in err.
 * Everything lives in the arena. max_depth bounds nesting. */
tq_jval *tq_json_parse(tq_arena *a, const char *text, size_t n, int max_depth, char *err, size_t errlen);
/* Member of an object by key, or NULL. */
const tq_jval *tq_json_get(const tq_jval *obj, const char *key);

#endif
