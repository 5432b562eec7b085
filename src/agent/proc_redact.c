/* proc_redact.c — masks secrets in the message and in string fields:
 * whole fields by key (password, token, ...) and value shapes found inside
 * text (e-mail addresses, card numbers passing Luhn, bearer tokens, JWTs).
 * The shapes are those of libtrail's redaction; when src/lib/redact_shapes.h
 * lands this file should call it through redact_wrap (one place). */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "redact_wrap.h"

typedef struct redact_conf {
    ta_strlist keys;
    ta_strlist shapes;
    const char *replacement;
} redact_conf;

static const ta_option redact_options[] = {
    {"keys", TA_OPT_STRLIST, "password,passwd,secret,token,access_token,api_key,apikey,authorization,cookie",
     offsetof(redact_conf, keys), "fields whose whole value is replaced (case-insensitive; also matches a.b.<key>)", NULL,
     false},
    {"shapes", TA_OPT_STRLIST, "email,card,bearer,jwt", offsetof(redact_conf, shapes),
     "value shapes masked inside the message and string fields", NULL, false},
    {"replacement", TA_OPT_STR, "[REDACTED]", offsetof(redact_conf, replacement), "text put in place of a secret",
     NULL, false},
    TA_OPTIONS_END,
};

typedef struct redact_proc {
    ta_processor base;
    redact_conf c;
    unsigned shapes;
} redact_proc;

static bool key_secret(const redact_proc *p, const char *key) {
    const char *last = strrchr(key, '.');
    last = last ? last + 1 : key;
    for (uint32_t i = 0; i < p->c.keys.n; i++)
        if (!strcasecmp(key, p->c.keys.v[i]) || !strcasecmp(last, p->c.keys.v[i])) return true;
    return false;
}

static int redact_process(ta_processor *self, ta_record *r, ta_arena *a) {
    redact_proc *p = (redact_proc *)self;
    size_t rl = strlen(p->c.replacement);
    for (uint32_t i = 0; i < r->nfields; i++) {
        ta_field *f = &r->fields[i];
        if (key_secret(p, f->key)) {
            f->val = p->c.replacement;
            f->val_len = (uint32_t)rl;
            f->kind = TA_STR;
        } else if (f->kind == TA_STR) {
            const char *o;
            size_t on;
            if (ta_redact_text(p->shapes, p->c.replacement, f->val, f->val_len, a, &o, &on)) {
                f->val = o;
                f->val_len = (uint32_t)on;
            }
        }
    }
    const char *msg = r->message ? r->message : r->line;
    size_t mn = r->message ? strlen(r->message) : r->line_len;
    const char *o;
    size_t on;
    if (ta_redact_text(p->shapes, p->c.replacement, msg, mn, a, &o, &on)) {
        if (r->message) r->message = o;
        else {
            r->line = o; /* the raw line too: it may be shipped as is */
            r->line_len = (uint32_t)on;
        }
    }
    if (r->message && ta_redact_text(p->shapes, p->c.replacement, r->line, r->line_len, a, &o, &on)) {
        r->line = o;
        r->line_len = (uint32_t)on;
    }
    return TA_KEEP;
}

static int redact_create(const void *conf, ta_processor **out, char *err, size_t errlen) {
    redact_proc *p = calloc(1, sizeof *p);
    if (!p) return -ENOMEM;
    p->c = *(const redact_conf *)conf;
    for (uint32_t i = 0; i < p->c.shapes.n; i++) {
        unsigned s = ta_redact_shape(p->c.shapes.v[i]);
        if (!s && *p->c.shapes.v[i]) {
            snprintf(err, errlen, "shapes: unknown shape '%s' (email, card, bearer, jwt)", p->c.shapes.v[i]);
            free(p);
            return -EINVAL;
        }
        p->shapes |= s;
    }
    *out = &p->base;
    return 0;
}

static void redact_destroy(ta_processor *p) { free(p); }

const ta_processor_type ta_proc_redact = {
    .name = "redact",
    .options = redact_options,
    .conf_size = sizeof(redact_conf),
    .help = "masks secrets: fields by key, and e-mails, card numbers, bearer tokens, JWTs inside text",
    .create = redact_create,
    .process = redact_process,
    .destroy = redact_destroy,
};
