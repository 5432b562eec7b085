/* record.c — decoding a record (record.h) into the trail_entry that filters,
 * formatters and handlers see; the mirror image of capture.c. */
#include "ctx_impl.h"
#include "logger.h"
#include "record.h"
#include "runtime.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int trail__record_decode(const trail__rec *r, trail_entry *e, trail__decode_scratch *s) {
    const char *base = (const char *)r;
    const trail_logger *lg = r->lg;
    e->ts_ns = trail__tsc_to_ns(r->ts);
    e->level = r->level;
    e->logger = lg->name;
    if (r->site) {
        e->msg = r->site->msg ? r->site->msg : "";
        e->msg_len = r->site->msg ? r->site->msg_len : 0;
        e->file = r->site->file;
        e->line = r->site->line;
        e->func = r->site->func;
    } else {
        e->msg = base + r->msg_off;
        e->msg_len = r->msg_len;
        e->file = NULL;
        e->line = 0;
        e->func = NULL;
    }
    e->tid = r->tid;
    e->flags = r->flags;
    e->nctx = r->ctx_len ? trail__ctx_decode((const unsigned char *)base + sizeof(trail__rec) +
                                                 r->nfields * sizeof(trail_field),
                                             r->ctx_len, s->ctx, TRAIL__REC_MAX_CTX)
                         : 0;
    e->ctx = s->ctx;
    const trail_field *in = (const trail_field *)(const void *)(base + sizeof(trail__rec));
    if (!lg->nbound) { /* the record's own array: string values already point into it */
        e->fields = in;
        e->nfields = r->nfields;
        return 0;
    }
    size_t total = r->nfields + lg->nbound;
    if (total > s->cap) {
        size_t cap = total < 32 ? 32 : total;
        trail_field *f = realloc(s->fields, cap * sizeof *f);
        if (!f) {
            e->fields = in;
            e->nfields = r->nfields;
            return -ENOMEM;
        }
        s->fields = f;
        s->cap = cap;
    }
    memcpy(s->fields, in, r->nfields * sizeof(trail_field));
    memcpy(s->fields + r->nfields, lg->bound, lg->nbound * sizeof(trail_field));
    e->fields = s->fields;
    e->nfields = total;
    return 0;
}

void trail__decode_scratch_free(trail__decode_scratch *s) {
    free(s->fields);
    s->fields = NULL;
    s->cap = 0;
}
