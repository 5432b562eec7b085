/* parse_nginx.c — nginx `combined` access log:
 *   $remote_addr - $remote_user [$time_local] "$request" $status
 *   $body_bytes_sent "$http_referer" "$http_user_agent" [extra fields]
 * nginx's default escaping writes '"', '\' and bytes < 0x20 or >= 0x80 as
 * \xXX; it is undone here, before any UTF-8 handling (rendering replaces
 * invalid sequences). $remote_user may contain spaces, so the user field
 * ends at the " [" that is followed by a valid timestamp and "]". */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_util.h"
#include "timefmt.h"

typedef struct nginx_conf {
    ta_strlist extra;
} nginx_conf;

static const ta_option nginx_options[] = {
    {"extra_fields", TA_OPT_STRLIST, "", offsetof(nginx_conf, extra),
     "names of fields appended after the combined format, in order (quoted or bare); "
     "request_time becomes event.duration (ns), upstream_response_time too as traild.upstream_duration",
     NULL, false},
    TA_OPTIONS_END,
};

typedef struct nginx_parser {
    ta_parser base;
    nginx_conf c;
} nginx_parser;

static int hexv(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Undoes \xXX into the arena; returns the copy and its length. */
static const char *unx(ta_arena *a, const char *s, size_t n, size_t *outn) {
    if (!memchr(s, '\\', n)) {
        *outn = n;
        return ta_arena_strndup(a, s, n);
    }
    char *o = ta_arena_alloc(a, n + 1), *w = o;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 3 < n && s[i + 1] == 'x' && hexv(s[i + 2]) >= 0 && hexv(s[i + 3]) >= 0) {
            *w++ = (char)(hexv(s[i + 2]) * 16 + hexv(s[i + 3]));
            i += 3;
        } else *w++ = s[i];
    }
    *w = 0;
    *outn = (size_t)(w - o);
    return o;
}

static void set_unx(ta_record *r, ta_arena *a, const char *key, const char *s, size_t n) {
    if (n == 1 && s[0] == '-') return; /* nginx writes '-' for empty */
    size_t on;
    const char *v = unx(a, s, n, &on);
    ta_field *f = ta_record_set(r, a, key, NULL, 0, TA_STR);
    f->val = v;
    f->val_len = (uint32_t)on;
}

/* A quoted field at s[*i] == '"': ends at the next '"' (nginx escapes inner
 * quotes as \x22). */
static int quoted(const char *s, size_t n, size_t *i, const char **p, size_t *len) {
    if (*i >= n || s[*i] != '"') return -1;
    const char *q = memchr(s + *i + 1, '"', n - *i - 1);
    if (!q) return -1;
    *p = s + *i + 1;
    *len = (size_t)(q - *p);
    *i = (size_t)(q - s) + 1;
    return 0;
}

static int token(const char *s, size_t n, size_t *i, const char **p, size_t *len) {
    if (*i >= n) return -1;
    size_t st = *i;
    while (*i < n && s[*i] != ' ') (*i)++;
    *p = s + st;
    *len = *i - st;
    return *len ? 0 : -1;
}

static int sp(const char *s, size_t n, size_t *i) {
    if (*i >= n || s[*i] != ' ') return -1;
    (*i)++;
    return 0;
}

static void extra_field(ta_record *r, ta_arena *a, const char *name, const char *v, size_t n) {
    int64_t ns;
    if (strcmp(name, "request_time") == 0 && ta_seconds_to_ns(v, n, &ns) == 0) {
        char b[24];
        int bn = snprintf(b, sizeof b, "%lld", (long long)ns);
        ta_record_set(r, a, "event.duration", b, (size_t)bn, TA_INT);
        return;
    }
    if (strcmp(name, "upstream_response_time") == 0 && ta_seconds_to_ns(v, n, &ns) == 0) {
        char b[24];
        int bn = snprintf(b, sizeof b, "%lld", (long long)ns);
        ta_record_set(r, a, "traild.upstream_duration", b, (size_t)bn, TA_INT);
        return;
    }
    set_unx(r, a, name, v, n);
}

static int nginx_parse(ta_parser *self, ta_record *r, ta_arena *a) {
    nginx_parser *p = (nginx_parser *)self;
    const char *s = r->line, *v;
    size_t n = r->line_len, i = 0, vn;
    if (token(s, n, &i, &v, &vn) < 0 || sp(s, n, &i) < 0) goto bad;
    const char *addr = v;
    size_t addrn = vn;
    /* "- " then the user up to the " [<time>] " that parses */
    if (i + 2 > n || s[i] != '-' || s[i + 1] != ' ') goto bad;
    i += 2;
    size_t ustart = i, tpos = 0;
    int64_t ts = 0;
    for (size_t k = i; k + 1 < n; k++) {
        if (s[k] != '[' || (k > ustart && s[k - 1] != ' ')) continue;
        const char *close = memchr(s + k, ']', n - k);
        if (close && ta_time_parse_clf(s + k + 1, (size_t)(close - s - k - 1), &ts) == 0) {
            tpos = k;
            i = (size_t)(close - s) + 1;
            break;
        }
    }
    if (!tpos) goto bad;
    size_t un = tpos > ustart ? tpos - ustart - 1 : 0;
    if (sp(s, n, &i) < 0) goto bad;
    const char *req;
    size_t reqn;
    if (quoted(s, n, &i, &req, &reqn) < 0 || sp(s, n, &i) < 0) goto bad;
    const char *status, *bytes;
    size_t statusn, bytesn;
    if (token(s, n, &i, &status, &statusn) < 0 || sp(s, n, &i) < 0) goto bad;
    if (token(s, n, &i, &bytes, &bytesn) < 0) goto bad;
    const char *ref = NULL, *ua = NULL;
    size_t refn = 0, uan = 0;
    if (i < n) { /* `common` format ends here; combined has referer and agent */
        if (sp(s, n, &i) < 0 || quoted(s, n, &i, &ref, &refn) < 0) goto bad;
        if (sp(s, n, &i) < 0 || quoted(s, n, &i, &ua, &uan) < 0) goto bad;
    }
    r->ts_ns = ts;
    ta_record_set(r, a, "client.ip", addr, addrn, TA_STR);
    if (un) set_unx(r, a, "user.name", s + ustart, un);
    size_t rn;
    const char *rq = unx(a, req, reqn, &rn);
    ta_set_request_line(r, a, rq, rn);
    ta_set_number(r, a, "http.response.status_code", status, statusn);
    ta_set_number(r, a, "http.response.body.bytes", bytes, bytesn);
    if (ref) set_unx(r, a, "http.request.referrer", ref, refn);
    if (ua) set_unx(r, a, "user_agent.original", ua, uan);
    for (uint32_t k = 0; k < p->c.extra.n && i < n; k++) {
        if (sp(s, n, &i) < 0) break;
        if (i < n && s[i] == '"') {
            if (quoted(s, n, &i, &v, &vn) < 0) break;
        } else if (token(s, n, &i, &v, &vn) < 0) break;
        extra_field(r, a, p->c.extra.v[k], v, vn);
    }
    r->message = NULL;
    return 0;
bad:
    r->nfields = 0;
    r->ts_ns = r->observed_ns;
    return -22;
}

static int nginx_create(const void *conf, ta_parser **out, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    nginx_parser *p = calloc(1, sizeof *p);
    if (!p) return -12;
    p->c = *(const nginx_conf *)conf;
    /* An empty default list parses as one empty name: drop it. */
    if (p->c.extra.n == 1 && !*p->c.extra.v[0]) p->c.extra.n = 0;
    *out = &p->base;
    return 0;
}

static void nginx_destroy(ta_parser *p) { free(p); }

const ta_parser_type ta_parser_nginx = {
    .name = "nginx",
    .options = nginx_options,
    .conf_size = sizeof(nginx_conf),
    .help = "nginx combined (or common) access log with default \\xXX escaping; ECS fields",
    .create = nginx_create,
    .parse = nginx_parse,
    .destroy = nginx_destroy,
};
