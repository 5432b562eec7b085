/* parse_nginx_json.c — nginx `log_format ... escape=json '{"k":"$var",...}'`
 * lines. nginx quotes every variable, so numbers arrive as strings; the
 * `fields` map names which JSON member is which nginx variable, and known
 * variables become ECS fields with proper types. Members not in the map are
 * kept under their own name. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_util.h"
#include "timefmt.h"

typedef struct nj_conf {
    ta_labels fields;
} nj_conf;

static const ta_option nj_options[] = {
    {"fields", TA_OPT_MAP, NULL, offsetof(nj_conf, fields),
     "JSON member → nginx variable (without $), e.g. {ip: remote_addr, t: time_iso8601}; "
     "members named like the variable need no entry", NULL, false},
    TA_OPTIONS_END,
};

typedef struct nj_parser {
    ta_parser base;
    nj_conf c;
} nj_parser;

typedef struct walk {
    nj_parser *p;
    ta_record *r;
    ta_arena *a;
} walk;

static void put_ns(ta_record *r, ta_arena *a, const char *key, const char *s, size_t n) {
    int64_t ns;
    if (ta_seconds_to_ns(s, n, &ns) < 0) return;
    char b[24];
    int bn = snprintf(b, sizeof b, "%lld", (long long)ns);
    ta_record_set(r, a, key, b, (size_t)bn, TA_INT);
}

/* Applies one nginx variable's value. Returns false if var is not known. */
static bool apply(ta_record *r, ta_arena *a, const char *var, const char *s, size_t n) {
    int64_t ns;
    if (!strcmp(var, "time_iso8601")) {
        if (ta_time_parse_iso(s, n, &ns) == 0) r->ts_ns = ns;
    } else if (!strcmp(var, "time_local")) {
        if (ta_time_parse_clf(s, n, &ns) == 0) r->ts_ns = ns;
    } else if (!strcmp(var, "msec")) {
        if (ta_seconds_to_ns(s, n, &ns) == 0) r->ts_ns = ns;
    } else if (!strcmp(var, "remote_addr")) ta_record_set(r, a, "client.ip", s, n, TA_STR);
    else if (!strcmp(var, "remote_user")) {
        if (n) ta_record_set(r, a, "user.name", s, n, TA_STR);
    } else if (!strcmp(var, "request")) ta_set_request_line(r, a, s, n);
    else if (!strcmp(var, "request_method")) ta_record_set(r, a, "http.request.method", s, n, TA_STR);
    else if (!strcmp(var, "request_uri")) ta_record_set(r, a, "url.original", s, n, TA_STR);
    else if (!strcmp(var, "status")) ta_set_number(r, a, "http.response.status_code", s, n);
    else if (!strcmp(var, "body_bytes_sent")) ta_set_number(r, a, "http.response.body.bytes", s, n);
    else if (!strcmp(var, "bytes_sent")) ta_set_number(r, a, "http.response.bytes", s, n);
    else if (!strcmp(var, "request_length")) ta_set_number(r, a, "http.request.bytes", s, n);
    else if (!strcmp(var, "request_time")) put_ns(r, a, "event.duration", s, n);
    else if (!strcmp(var, "upstream_response_time")) put_ns(r, a, "traild.upstream_duration", s, n);
    else if (!strcmp(var, "http_user_agent")) {
        if (n) ta_record_set(r, a, "user_agent.original", s, n, TA_STR);
    } else if (!strcmp(var, "http_referer")) {
        if (n) ta_record_set(r, a, "http.request.referrer", s, n, TA_STR);
    } else if (!strcmp(var, "host")) ta_record_set(r, a, "url.domain", s, n, TA_STR);
    else if (!strcmp(var, "server_protocol")) {
        if (n > 5 && !memcmp(s, "HTTP/", 5)) ta_record_set(r, a, "http.version", s + 5, n - 5, TA_STR);
    } else if (!strcmp(var, "request_id")) ta_record_set(r, a, "request_id", s, n, TA_STR);
    else return false;
    return true;
}

static int member(void *ctx, const char *k, size_t kl, const ta_json_val *v) {
    walk *w = ctx;
    const char *key, *val = v->p;
    size_t keyn, valn = v->n;
    if (ta_json_unescape(k, kl, w->a, &key, &keyn) < 0) return 0;
    if (v->kind == TA_STR && ta_json_unescape(v->p, v->n, w->a, &val, &valn) < 0) return 0;
    const char *var = key;
    for (uint32_t i = 0; i < w->p->c.fields.n; i++)
        if (!strcmp(w->p->c.fields.v[i].name, key)) var = w->p->c.fields.v[i].value;
    if (apply(w->r, w->a, var, val, valn)) return 0;
    ta_json_set_field(w->r, w->a, key, v);
    return 0;
}

static int nj_parse(ta_parser *self, ta_record *r, ta_arena *a) {
    walk w = {(nj_parser *)self, r, a};
    if (ta_json_object_each(r->line, r->line_len, member, &w) < 0) {
        r->nfields = 0;
        r->ts_ns = r->observed_ns;
        return -22;
    }
    return 0;
}

static int nj_create(const void *conf, ta_parser **out, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    nj_parser *p = calloc(1, sizeof *p);
    if (!p) return -12;
    p->c = *(const nj_conf *)conf;
    *out = &p->base;
    return 0;
}

static void nj_destroy(ta_parser *p) { free(p); }

const ta_parser_type ta_parser_nginx_json = {
    .name = "nginx_json",
    .options = nj_options,
    .conf_size = sizeof(nj_conf),
    .help = "nginx access log written with log_format escape=json (a JSON object per line); ECS fields",
    .create = nj_create,
    .parse = nj_parse,
    .destroy = nj_destroy,
};
