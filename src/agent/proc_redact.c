/* proc_redact.c — masks secrets with libtrail's rules (redact_wrap.h):
 * whole fields whose key contains a secret key (libtrail's defaults:
 * password, token, secret, ... matched case-insensitively as substrings, so
 * DB_PASSWORD too; plus `keys`), and secret shapes inside the message, the
 * raw line, string fields and raw JSON fields (bearer, jwt, aws, card,
 * key_value by default; email on request, as in libtrail). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redact_wrap.h"

typedef struct redact_conf {
    ta_strlist keys;
    bool default_keys;
    ta_strlist shapes;
    const char *replacement;
} redact_conf;

static const ta_option redact_options[] = {
    {"keys", TA_OPT_STRLIST, NULL, offsetof(redact_conf, keys),
     "more secret keys: a field whose key contains one (case-insensitive) is replaced whole, as are key=value "
     "pairs in text",
     NULL, false},
    {"default_keys", TA_OPT_BOOL, "true", offsetof(redact_conf, default_keys),
     "also libtrail's default secret keys (password, passwd, passphrase, secret, token, authorization, api_key, "
     "apikey, cookie, private_key, credential, session, ...: docs/redaction.md)",
     NULL, false},
    {"shapes", TA_OPT_STRLIST, "bearer,jwt,aws,card,key_value", offsetof(redact_conf, shapes),
     "value shapes masked inside the message, the raw line and string fields (bearer, jwt, aws, card, email, "
     "key_value)",
     NULL, false},
    {"replacement", TA_OPT_STR, "[REDACTED]", offsetof(redact_conf, replacement), "text put in place of a secret",
     NULL, false},
    TA_OPTIONS_END,
};

typedef struct redact_proc {
    ta_processor base;
    ta_redactor *rd;
} redact_proc;

/* Points s and n at the masked text when something is masked; -1 when out of memory. */
static int mask(const redact_proc *p, bool raw, const char **s, size_t *n, ta_arena *a) {
    const char *o;
    size_t on;
    int m = ta_redact_text(p->rd, raw, *s, *n, a, &o, &on);
    if (m > 0) {
        *s = o;
        *n = on;
    }
    return m;
}

static int redact_process(ta_processor *self, ta_record *r, ta_arena *a) {
    redact_proc *p = (redact_proc *)self;
    const char *repl = ta_redact_replacement(p->rd);
    for (uint32_t i = 0; i < r->nfields; i++) {
        ta_field *f = &r->fields[i];
        if (f->kind != TA_NULL && ta_redact_key(p->rd, f->key)) {
            f->val = repl;
            f->val_len = (uint32_t)strlen(repl);
            f->kind = TA_STR;
        } else if (f->kind == TA_STR || f->kind == TA_RAW) {
            const char *s = f->val;
            size_t n = f->val_len;
            if (mask(p, f->kind == TA_RAW, &s, &n, a) < 0) return TA_DROP; /* never let a secret through */
            f->val = s;
            f->val_len = (uint32_t)n;
        }
    }
    if (r->message) {
        const char *s = r->message;
        size_t n = strlen(s);
        if (mask(p, false, &s, &n, a) < 0) return TA_DROP;
        r->message = s;
    }
    const char *s = r->line; /* the raw line too: it may be shipped as is */
    size_t n = r->line_len;
    if (s && mask(p, false, &s, &n, a) < 0) return TA_DROP;
    r->line = s;
    r->line_len = (uint32_t)n;
    return TA_KEEP;
}

static int redact_create(const void *conf, ta_processor **out, char *err, size_t errlen) {
    const redact_conf *c = conf;
    unsigned shapes = 0;
    for (uint32_t i = 0; i < c->shapes.n; i++) {
        unsigned s = ta_redact_shape(c->shapes.v[i]);
        if (!s && *c->shapes.v[i]) {
            snprintf(err, errlen, "shapes: unknown shape '%s' (%s)", c->shapes.v[i], ta_redact_shape_names());
            return -EINVAL;
        }
        shapes |= s;
    }
    const char **keys = calloc(c->keys.n + 1, sizeof *keys);
    redact_proc *p = calloc(1, sizeof *p);
    if (!keys || !p) goto oom;
    for (uint32_t i = 0; i < c->keys.n; i++) keys[i] = c->keys.v[i];
    p->rd = ta_redactor_new(shapes, keys, !c->default_keys, c->replacement);
    if (!p->rd) goto oom;
    free(keys);
    *out = &p->base;
    return 0;
oom:
    free(keys);
    free(p);
    return -ENOMEM;
}

static void redact_destroy(ta_processor *self) {
    redact_proc *p = (redact_proc *)self;
    ta_redactor_free(p->rd);
    free(p);
}

const ta_processor_type ta_proc_redact = {
    .name = "redact",
    .options = redact_options,
    .conf_size = sizeof(redact_conf),
    .help = "masks secrets with libtrail's rules: fields by key, and bearer tokens, JWTs, AWS keys, card numbers, "
            "key=value secrets (and e-mails on request) inside text",
    .create = redact_create,
    .process = redact_process,
    .destroy = redact_destroy,
};
