/* parse_json.c — JSON per line (trail JSONL and others): timestamp, level
 * and message are lifted into the record, every other member is kept as a
 * field (nested objects verbatim). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "json_walk.h"
#include "parse_util.h"

typedef struct json_conf {
    ta_strlist time_keys, level_keys, message_keys;
} json_conf;

static const ta_option json_options[] = {
    {"time_keys", TA_OPT_STRLIST, "timestamp,@timestamp,time,ts", offsetof(json_conf, time_keys),
     "members holding the event time (ISO 8601 string or unix seconds/ms/us/ns number); first found wins", NULL,
     false},
    {"level_keys", TA_OPT_STRLIST, "level,log.level,severity,lvl", offsetof(json_conf, level_keys),
     "members holding the level", NULL, false},
    {"message_keys", TA_OPT_STRLIST, "message,msg", offsetof(json_conf, message_keys),
     "members holding the message", NULL, false},
    TA_OPTIONS_END,
};

/* A configured key list with the lengths taken once (keys are compared
 * with every member of every line). */
typedef struct key_list {
    const char **v;
    size_t *len;
    uint32_t n;
} key_list;

typedef struct json_parser {
    ta_parser base;
    json_conf c;
    key_list time_keys, level_keys, message_keys;
} json_parser;

typedef struct walk {
    json_parser *p;
    ta_record *r;
    ta_arena *a;
    char *own; /* a copy of the line: strings are terminated (and unescaped) in place */
    bool have_time, have_level, have_msg;
} walk;

static bool in_list(const key_list *l, const char *k, size_t kl) {
    for (uint32_t i = 0; i < l->n; i++)
        if (l->len[i] == kl && memcmp(l->v[i], k, kl) == 0) return true;
    return false;
}

/* The string or literal at s[0..n) of the line, as a NUL-terminated string
 * in the copy at the same offset: the byte after it in the line is a quote,
 * comma, brace or space, never part of another value, so it can take the
 * NUL; unescaping only shrinks. Returns NULL on a bad escape. */
static const char *own_string(walk *w, const char *s, size_t n, bool esc, size_t *len) {
    char *o = w->own + (s - w->r->line);
    long l = (long)n;
    if (esc && (l = ta_json_unescape_to(s, n, o)) < 0) return NULL;
    o[l] = 0;
    *len = (size_t)l;
    return o;
}

static int member(void *ctx, const char *k, size_t kl, const ta_json_val *v) {
    walk *w = ctx;
    if (!w->have_time && in_list(&w->p->time_keys, k, kl) && ta_json_time(v, &w->r->ts_ns) == 0) {
        w->have_time = true;
        return 0;
    }
    size_t n = v->n;
    const char *s = NULL;
    if (v->kind == TA_STR && !(s = own_string(w, v->p, v->n, v->esc, &n))) return 0; /* bad escape: skipped */
    if (!w->have_level && s && in_list(&w->p->level_keys, k, kl)) {
        ta_set_level(w->r, w->a, s, n);
        w->have_level = true;
        return 0;
    }
    if (!w->have_msg && s && in_list(&w->p->message_keys, k, kl)) {
        w->r->message = s;
        w->r->message_len = (uint32_t)n;
        w->r->message_plain = !v->esc && !v->high;
        w->have_msg = true;
        return 0;
    }
    size_t keyn;
    const char *key = own_string(w, k, kl, v->key_esc, &keyn);
    if (!key) return 0;
    if (!s) s = own_string(w, v->p, v->n, false, &n); /* numbers, literals, nested objects as they are */
    /* record_add, not set: a JSON line's members are unique in practice and
     * this keeps parsing linear. */
    ta_field *f = ta_record_add_owned(w->r, w->a, key, keyn, s, n, v->kind);
    if (!v->key_esc && !v->key_high && keyn <= UINT16_MAX) {
        f->plain |= TA_PLAIN_KEY;
        f->key_len = (uint16_t)keyn;
    }
    if (v->kind == TA_STR && !v->esc && !v->high) f->plain |= TA_PLAIN_VAL;
    return 0;
}

static int json_parse(ta_parser *self, ta_record *r, ta_arena *a) {
    char *own = ta_arena_strndup(a, r->line, r->line_len);
    walk w = {(json_parser *)self, r, a, own, false, false, false};
    if (ta_json_walk(r->line, r->line_len, member, &w) < 0) {
        r->nfields = 0;
        r->message = NULL;
        r->level = NULL;
        r->severity = 0;
        r->ts_ns = r->observed_ns;
        return -22;
    }
    r->own = own;
    r->own_len = r->line_len;
    return 0;
}

static void json_destroy(ta_parser *self) {
    json_parser *p = (json_parser *)self;
    free(p->time_keys.len);
    free(p->level_keys.len);
    free(p->message_keys.len);
    free(p);
}

static int json_create(const void *conf, ta_parser **out, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    json_parser *p = calloc(1, sizeof *p);
    if (!p) return -12;
    p->c = *(const json_conf *)conf;
    const ta_strlist *src[3] = {&p->c.time_keys, &p->c.level_keys, &p->c.message_keys};
    key_list *dst[3] = {&p->time_keys, &p->level_keys, &p->message_keys};
    for (int i = 0; i < 3; i++) {
        dst[i]->v = src[i]->v;
        dst[i]->n = src[i]->n;
        dst[i]->len = calloc(src[i]->n ? src[i]->n : 1, sizeof *dst[i]->len);
        if (!dst[i]->len) {
            json_destroy(&p->base);
            return -12;
        }
        for (uint32_t k = 0; k < src[i]->n; k++) dst[i]->len[k] = strlen(src[i]->v[k]);
    }
    *out = &p->base;
    return 0;
}

const ta_parser_type ta_parser_json = {
    .name = "json",
    .options = json_options,
    .conf_size = sizeof(json_conf),
    .help = "one JSON object per line (trail JSONL and any JSON-per-line log)",
    .create = json_create,
    .parse = json_parse,
    .destroy = json_destroy,
};
