/* redact_wrap.c — see redact_wrap.h. A ta_redactor is a libtrail redaction
 * filter (trail_filter_redact) used for its redactor: its key list, its
 * shape configuration and its key predicate, so the two can never drift. */
#include "redact_wrap.h"

#include <stdlib.h>
#include <string.h>

#include "filter_impl.h" /* libtrail internals (src/lib): the filter's redactor */
#include "redact_impl.h"

struct ta_redactor {
    trail_filter *f;
    const redactor *r; /* f->ud */
};

static const struct {
    const char *name;
    unsigned bit;
} shape_names[] = {
    {"bearer", TRAIL_REDACT_BEARER}, {"jwt", TRAIL_REDACT_JWT},     {"aws", TRAIL_REDACT_AWS_KEY},
    {"card", TRAIL_REDACT_CARD},     {"email", TRAIL_REDACT_EMAIL}, {"key_value", TRAIL_REDACT_KEY_VALUE},
};

unsigned ta_redact_shape(const char *name) {
    for (size_t i = 0; i < sizeof shape_names / sizeof shape_names[0]; i++)
        if (!strcmp(name, shape_names[i].name)) return shape_names[i].bit;
    return 0;
}

const char *ta_redact_shape_names(void) { return "bearer, jwt, aws, card, email, key_value"; }

ta_redactor *ta_redactor_new(unsigned shapes, const char *const *extra, bool no_default_keys, const char *repl) {
    ta_redactor *rd = calloc(1, sizeof *rd);
    if (!rd) return NULL;
    trail_redact_opts o = {.keys = extra,
                           .no_default_keys = no_default_keys,
                           .shapes = shapes,
                           .no_default_shapes = 1,
                           .replacement = repl};
    rd->f = trail_filter_redact(&o);
    if (!rd->f) {
        free(rd);
        return NULL;
    }
    rd->r = rd->f->ud;
    return rd;
}

void ta_redactor_free(ta_redactor *rd) {
    if (!rd) return;
    trail_filter_free(rd->f);
    free(rd);
}

bool ta_redact_key(const ta_redactor *rd, const char *key) {
    return trail__redact_key(key, strlen(key), (void *)rd->r) != 0;
}

const char *ta_redact_replacement(const ta_redactor *rd) { return rd->r->repl; }

int ta_redact_text(const ta_redactor *rd, bool raw, const char *s, size_t n, ta_arena *a, const char **out,
                    size_t *outn) {
    trail_buf b = {0};
    long m = raw ? trail__redact_json(rd->r, s, n, &b) : trail__redact_text(&rd->r->shapes, s, n, &b);
    if (m <= 0 || b.len > UINT32_MAX) {
        trail_buf_free(&b);
        return m == 0 ? 0 : -1;
    }
    *out = ta_arena_strndup(a, b.data, b.len);
    *outn = b.len;
    trail_buf_free(&b);
    return 1;
}
