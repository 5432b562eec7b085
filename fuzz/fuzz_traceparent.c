/* fuzz_traceparent.c — traceparent parsing and trail_ctx_from_headers on
 * arbitrary bytes. Whatever is accepted must round-trip exactly through
 * format (the parser is strict), and the context it sets must only ever
 * hold safe values: a request id of [A-Za-z0-9._:-]{1,128}, 32/16 lowercase
 * hex trace and span ids. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "trail.h"

static int all_in(const char *s, const char *set) {
    for (; *s; s++)
        if (!strchr(set, *s)) return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    trail_traceparent tp;
    if (trail_traceparent_parse(text, &tp) == 0) {
        char out[56];
        trail_traceparent_format(&tp, out);
        if (strcmp(out, text) != 0) abort();
    }
    /* Two headers: split at the first NUL or the middle. */
    size_t half = strlen(text) < size ? strlen(text) : size / 2;
    char *rid = strndup(text, half);
    const char *tph = half < size ? text + half + (text[half] == '\0') : "";
    trail_ctx *c = trail_ctx_new();
    if (trail_ctx_from_headers(c, rid, tph) != 0) abort();
    trail_ctx_attach(c);
    char v[200];
    int n = trail_ctx_get("request_id", v, sizeof v);
    if (n < 1 || n > 128 || !all_in(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-")) abort();
    if (trail_ctx_get("trace_id", v, sizeof v) != 32 || !all_in(v, "0123456789abcdef")) abort();
    if (trail_ctx_get("span_id", v, sizeof v) != 16 || !all_in(v, "0123456789abcdef")) abort();
    char orid[200], otp[56];
    if (trail_ctx_outgoing_headers(orid, sizeof orid, otp) != 0) abort();
    if (trail_traceparent_parse(otp, &tp) != 0) abort();
    trail_ctx_attach(NULL);
    trail_ctx_free(c);
    free(rid);
    free(text);
    return 0;
}
