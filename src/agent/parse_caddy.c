/* parse_caddy.c — Caddy's JSON access log (logger http.log.access...):
 * ts (float seconds), level, msg, request{remote_ip, client_ip, method,
 * host, uri, proto, headers{User-Agent: [..]}}, status, size, duration
 * (float seconds), bytes_read, user_id → ECS fields. Members it does not
 * map are kept as fields. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "parse_util.h"

typedef struct caddy_parser {
    ta_parser base;
} caddy_parser;

typedef struct walk {
    ta_record *r;
    ta_arena *a;
    bool client_set;
} walk;

static void set_ns_field(ta_record *r, ta_arena *a, const char *key, const ta_json_val *v) {
    int64_t ns;
    if ((v->kind == TA_FLOAT || v->kind == TA_INT) && ta_seconds_to_ns(v->p, v->n, &ns) == 0) {
        char b[24];
        int bn = snprintf(b, sizeof b, "%lld", (long long)ns);
        ta_record_set(r, a, key, b, (size_t)bn, TA_INT);
    }
}

static int header(void *ctx, const char *k, size_t kl, const ta_json_val *v) {
    walk *w = ctx;
    ta_json_val s;
    if (ta_json_first_string(v, &s) < 0) return 0;
    if (ta_json_key_is(k, kl, "User-Agent")) ta_json_set_field(w->r, w->a, "user_agent.original", &s);
    else if (ta_json_key_is(k, kl, "Referer")) ta_json_set_field(w->r, w->a, "http.request.referrer", &s);
    return 0;
}

static int request(void *ctx, const char *k, size_t kl, const ta_json_val *v) {
    walk *w = ctx;
    if (ta_json_key_is(k, kl, "client_ip")) {
        ta_json_set_field(w->r, w->a, "client.ip", v);
        w->client_set = true;
    } else if (ta_json_key_is(k, kl, "remote_ip")) {
        if (!w->client_set) ta_json_set_field(w->r, w->a, "client.ip", v);
        ta_json_set_field(w->r, w->a, "source.ip", v);
    } else if (ta_json_key_is(k, kl, "remote_port")) ta_json_set_field(w->r, w->a, "source.port", v);
    else if (ta_json_key_is(k, kl, "method")) ta_json_set_field(w->r, w->a, "http.request.method", v);
    else if (ta_json_key_is(k, kl, "uri")) ta_json_set_field(w->r, w->a, "url.original", v);
    else if (ta_json_key_is(k, kl, "host")) ta_json_set_field(w->r, w->a, "url.domain", v);
    else if (ta_json_key_is(k, kl, "proto")) ta_json_set_field(w->r, w->a, "http.version", v);
    else if (ta_json_key_is(k, kl, "headers") && v->kind == TA_RAW) ta_json_object_each(v->p, v->n, header, w);
    return 0;
}

static int member(void *ctx, const char *k, size_t kl, const ta_json_val *v) {
    walk *w = ctx;
    if (ta_json_key_is(k, kl, "ts")) ta_json_time(v, &w->r->ts_ns);
    else if (ta_json_key_is(k, kl, "level") && v->kind == TA_STR) ta_set_level(w->r, w->a, v->p, v->n);
    else if (ta_json_key_is(k, kl, "msg") && v->kind == TA_STR) {
        size_t n;
        ta_json_unescape(v->p, v->n, w->a, &w->r->message, &n);
    } else if (ta_json_key_is(k, kl, "request") && v->kind == TA_RAW) ta_json_object_each(v->p, v->n, request, w);
    else if (ta_json_key_is(k, kl, "status")) ta_json_set_field(w->r, w->a, "http.response.status_code", v);
    else if (ta_json_key_is(k, kl, "size")) ta_json_set_field(w->r, w->a, "http.response.body.bytes", v);
    else if (ta_json_key_is(k, kl, "bytes_read")) ta_json_set_field(w->r, w->a, "http.request.body.bytes", v);
    else if (ta_json_key_is(k, kl, "duration")) set_ns_field(w->r, w->a, "event.duration", v);
    else if (ta_json_key_is(k, kl, "user_id")) {
        if (v->kind == TA_STR && v->n) ta_json_set_field(w->r, w->a, "user.name", v);
    } else if (ta_json_key_is(k, kl, "logger")) ta_json_set_field(w->r, w->a, "log.logger", v);
    else if (ta_json_key_is(k, kl, "resp_headers")) {
        /* verbose and high-cardinality: left out */
    } else {
        const char *key;
        size_t keyn;
        if (ta_json_unescape(k, kl, w->a, &key, &keyn) == 0) ta_json_set_field(w->r, w->a, key, v);
    }
    return 0;
}

static int caddy_parse(ta_parser *self, ta_record *r, ta_arena *a) {
    (void)self;
    walk w = {r, a, false};
    if (ta_json_object_each(r->line, r->line_len, member, &w) < 0) {
        r->nfields = 0;
        r->message = NULL;
        r->level = NULL;
        r->ts_ns = r->observed_ns;
        return -22;
    }
    return 0;
}

static int caddy_create(const void *conf, ta_parser **out, char *err, size_t errlen) {
    (void)conf;
    (void)err;
    (void)errlen;
    caddy_parser *p = calloc(1, sizeof *p);
    if (!p) return -12;
    *out = &p->base;
    return 0;
}

static void caddy_destroy(ta_parser *p) { free(p); }

static const ta_option caddy_options[] = {TA_OPTIONS_END};

const ta_parser_type ta_parser_caddy = {
    .name = "caddy",
    .options = caddy_options,
    .conf_size = 0,
    .help = "Caddy JSON access log; ECS fields",
    .create = caddy_create,
    .parse = caddy_parse,
    .destroy = caddy_destroy,
};
