/* render.h — helpers beyond pipeline.h's ta_render_json. */
#ifndef TRAILD_RENDER_H
#define TRAILD_RENDER_H
#include "pipeline.h"

/* Appends every record of b, one per line: ta_render_json objects, or the
 * original lines when raw. */
void ta_render_batch_jsonl(ta_buf *out, const ta_batch *b, bool raw);

/* Appends s with every invalid UTF-8 byte replaced by U+FFFD (for
 * destinations that require valid UTF-8 outside JSON, e.g. protobuf strings). */
void ta_utf8_sanitize(ta_buf *out, const char *s, size_t n);

/* Asks for a record's fields and parsed strings (and its raw line when
 * `line`) ahead of time: a batch is parsed on the loop thread and encoded on
 * an output's, so its memory is in another core's cache or further
 * (rendering took half as long with this). */
static inline void ta_prefetch_record(const ta_record *r, bool line) {
    const char *f = (const char *)r->fields, *o = r->own;
    for (uint32_t k = 0; f && k < r->nfields * sizeof *r->fields; k += 64) __builtin_prefetch(f + k);
    for (uint32_t k = 0; o && k < r->own_len; k += 64) __builtin_prefetch(o + k);
    for (uint32_t k = 0; line && k < r->line_len; k += 64) __builtin_prefetch(r->line + k);
}

#endif
