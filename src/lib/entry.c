/* entry.c — helpers on decoded entries. */
#include "trail.h"

#include <string.h>

const trail_field *trail_entry_ctx(const trail_entry *e, const char *key) {
    if (!e || !key) return NULL;
    for (size_t i = 0; i < e->nctx; i++)
        if (e->ctx[i].key && strcmp(e->ctx[i].key, key) == 0) return &e->ctx[i];
    return NULL;
}
