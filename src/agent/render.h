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

#endif
