/* api_server.c — the HTTP server: libmicrohttpd set-up, limits, bearer
 * auth, body collection and routing to the api_*.c handlers.
 *
 * One thread per connection: queries may take a while and /tail streams
 * block between polls; a connection limit (total and per IP) and an idle
 * timeout bound what slow or hostile clients can hold.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "api_impl.h"

#ifndef TRAIL_VERSION_STRING
#define TRAIL_VERSION_STRING "0.1.0"
#endif

typedef struct conn_state {
    tq_buf body;
    bool too_large;
} conn_state;

void api_text(api_resp *o, unsigned status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    o->status = status;
    o->type = "text/plain; charset=utf-8";
    o->body.len = 0;
    tq_buf_puts(&o->body, msg);
    tq_buf_putc(&o->body, '\n');
}


/* ------------------------------------------------------------ params */

static int unhex(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes a form body into key\0value\0 pairs. */
static void decode_form(api_req *r) {
    tq_buf out = {0};
    const char *p = r->body, *e = r->body + r->body_len;
    while (p < e) {
        const char *amp = memchr(p, '&', (size_t)(e - p));
        if (!amp) amp = e;
        const char *eq = memchr(p, '=', (size_t)(amp - p));
        for (int part = 0; part < 2; part++) {
            const char *s = part == 0 ? p : (eq ? eq + 1 : amp);
            const char *se = part == 0 ? (eq ? eq : amp) : amp;
            while (s < se) {
                if (*s == '+') { tq_buf_putc(&out, ' '); s++; }
                else if (*s == '%' && se - s >= 3 && unhex(s[1]) >= 0 && unhex(s[2]) >= 0) {
                    tq_buf_putc(&out, (char)(unhex(s[1]) * 16 + unhex(s[2])));
                    s += 3;
                } else tq_buf_putc(&out, *s++);
            }
            tq_buf_putc(&out, 0);
        }
        p = amp + 1;
    }
    r->form = out.p;
    r->form_len = out.len;
}

const char *api_param(const api_req *r, const char *name) {
    const char *v = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
    if (v) return v;
    for (size_t i = 0; r->form && i < r->form_len;) {
        const char *k = r->form + i;
        const char *val = k + strlen(k) + 1;
        if (strcmp(k, name) == 0) return val;
        i = (size_t)(val - r->form) + strlen(val) + 1;
    }
    return NULL;
}

typedef struct each_ctx {
    const char *name;
    void (*fn)(void *, const char *);
    void *arg;
} each_ctx;

static enum MHD_Result each_kv(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
    (void)kind;
    each_ctx *c = cls;
    if (key && value && strcmp(key, c->name) == 0) c->fn(c->arg, value);
    return MHD_YES;
}

void api_param_each(const api_req *r, const char *name, void (*fn)(void *, const char *), void *arg) {
    each_ctx c = {name, fn, arg};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, each_kv, &c);
    for (size_t i = 0; r->form && i < r->form_len;) {
        const char *k = r->form + i;
        const char *val = k + strlen(k) + 1;
        if (strcmp(k, name) == 0) fn(arg, val);
        i = (size_t)(val - r->form) + strlen(val) + 1;
    }
}

/* ------------------------------------------------------------ routing */

static bool token_ok(tq_api *api, struct MHD_Connection *c) {
    if (!api->token) return true;
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || strncasecmp(h, "Bearer ", 7) != 0) return false;
    const char *t = h + 7;
    size_t a = strlen(t), b = strlen(api->token);
    /* Constant time in the token's length: no early exit on a mismatch. */
    unsigned diff = (unsigned)(a != b);
    for (size_t i = 0; i < b; i++) diff |= (unsigned)(unsigned char)api->token[i] ^ (unsigned)(unsigned char)(i < a ? t[i] : 0);
    return diff == 0;
}

static void buildinfo(tq_api *api, api_resp *o) {
    o->status = 200;
    o->type = "application/json";
    tq_buf_puts(&o->body, "{\"version\":");
    tq_buf_json_str(&o->body, api->version, strlen(api->version));
    tq_buf_puts(&o->body, ",\"revision\":\"\",\"branch\":\"\",\"buildUser\":\"trail\",\"buildDate\":\"\","
                          "\"goVersion\":\"\"}");
}

static void route(api_req *r, api_resp *o) {
    const char *u = r->url;
    bool get = strcmp(r->method, "GET") == 0, post = strcmp(r->method, "POST") == 0;
    static const char pre[] = "/loki/api/v1/";
    if (strcmp(u, "/ready") == 0) {
        api_text(o, 200, "ready");
        return;
    }
    if (!token_ok(r->api, r->conn)) {
        api_text(o, 401, "unauthorized: send the configured token as `Authorization: Bearer <token>`");
        return;
    }
    if (strncmp(u, pre, sizeof pre - 1) != 0) {
        api_text(o, 404, "404 page not found");
        return;
    }
    const char *p = u + sizeof pre - 1;
    if (strcmp(p, "push") == 0) {
        if (!post) { api_text(o, 405, "push needs POST"); return; }
        api_push(r, o);
        return;
    }
    if (!get && !post) {
        api_text(o, 405, "method %s not allowed", r->method);
        return;
    }
    if (post) {
        const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        if (ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0) decode_form(r);
    }
    if (strcmp(p, "query") == 0) api_query(r, o, false);
    else if (strcmp(p, "query_range") == 0) api_query(r, o, true);
    else if (strcmp(p, "labels") == 0 || strcmp(p, "label") == 0) api_labels(r, o, NULL);
    else if (strncmp(p, "label/", 6) == 0) {
        const char *name = p + 6;
        const char *slash = strchr(name, '/');
        if (!slash || strcmp(slash, "/values") != 0 || slash == name) {
            api_text(o, 404, "404 page not found");
            return;
        }
        char nm[256];
        size_t n = (size_t)(slash - name);
        if (n >= sizeof nm) { api_text(o, 400, "label name too long"); return; }
        memcpy(nm, name, n);
        nm[n] = 0;
        api_labels(r, o, nm);
    } else if (strcmp(p, "series") == 0) api_series(r, o);
    else if (strcmp(p, "tail") == 0) api_tail(r, o);
    else if (strcmp(p, "status/buildinfo") == 0) buildinfo(r->api, o);
    else if (strcmp(p, "index/stats") == 0) api_index_stats(r, o);
    else api_text(o, 404, "404 page not found");
}

static enum MHD_Result send_resp(struct MHD_Connection *c, api_resp *o) {
    struct MHD_Response *resp = o->raw;
    if (!resp) {
        resp = MHD_create_response_from_buffer(o->body.len, o->body.p ? o->body.p : (void *)"", MHD_RESPMEM_MUST_COPY);
        if (!resp) return MHD_NO;
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, o->type ? o->type : "text/plain");
    }
    enum MHD_Result rc = MHD_queue_response(c, o->status, resp);
    MHD_destroy_response(resp);
    tq_buf_free(&o->body);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    (void)version;
    tq_api *api = cls;
    conn_state *st = *con_cls;
    if (!st) {
        st = calloc(1, sizeof *st);
        if (!st) return MHD_NO;
        *con_cls = st;
        /* Refuse an announced oversized body before reading it. */
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > api->cfg.max_body_bytes) {
            api_resp o = {0};
            api_text(&o, 413, "request body too large: limit is %zu bytes", api->cfg.max_body_bytes);
            return send_resp(c, &o);
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (!st->too_large) {
            if (st->body.len + *upload_size > api->cfg.max_body_bytes) {
                st->too_large = true;
                tq_buf_free(&st->body);
            } else {
                tq_buf_add(&st->body, upload, *upload_size);
            }
        }
        *upload_size = 0;
        return MHD_YES;
    }
    api_resp o = {0};
    if (st->too_large) {
        api_text(&o, 413, "request body too large: limit is %zu bytes", api->cfg.max_body_bytes);
        return send_resp(c, &o);
    }
    api_req r = {.api = api, .conn = c, .method = method, .url = url, .body = st->body.p ? st->body.p : "",
                 .body_len = st->body.len};
    route(&r, &o);
    free(r.form);
    return send_resp(c, &o);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
    (void)cls;
    (void)c;
    (void)toe;
    conn_state *st = *con_cls;
    if (st) {
        tq_buf_free(&st->body);
        free(st);
        *con_cls = NULL;
    }
}

/* ------------------------------------------------------------ start/stop */

static int is_loopback(const struct sockaddr *sa) {
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(a);
    }
    return 0;
}

int tq_api_start(const tq_api_config *cfg_in, const tq_source *src, tq_api **out, char *err, size_t errlen) {
    char dummy[1];
    if (!err || !errlen) { err = dummy; errlen = 1; }
    *out = NULL;
    tq_api_config cfg = cfg_in ? *cfg_in : (tq_api_config){0};
    const char *listen = cfg.listen && *cfg.listen ? cfg.listen : "127.0.0.1:3100";
    char host[256];
    const char *port;
    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (!close || close[1] != ':' || (size_t)(close - listen - 1) >= sizeof host) goto bad_listen;
        memcpy(host, listen + 1, (size_t)(close - listen - 1));
        host[close - listen - 1] = 0;
        port = close + 2;
    } else {
        const char *colon = strrchr(listen, ':');
        if (!colon || (size_t)(colon - listen) >= sizeof host) goto bad_listen;
        memcpy(host, listen, (size_t)(colon - listen));
        host[colon - listen] = 0;
        port = colon + 1;
    }
    char *pend;
    long pn = strtol(port, &pend, 10);
    if (!*port || *pend || pn < 0 || pn > 65535) goto bad_listen;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV | AI_PASSIVE}, *ai = NULL;
    int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
    if (gai != 0 || !ai) {
        snprintf(err, errlen, "api listen %s: cannot resolve host: %s", listen, gai_strerror(gai));
        return -EINVAL;
    }
    if (!is_loopback(ai->ai_addr) && !(cfg.bearer_token && *cfg.bearer_token)) {
        freeaddrinfo(ai);
        snprintf(err, errlen, "api listen %s is not a loopback address: set a bearer token (api token) or listen on "
                              "127.0.0.1", listen);
        return -EPERM;
    }
    if (!cfg.max_body_bytes) cfg.max_body_bytes = 16u << 20;
    if (!cfg.max_connections) cfg.max_connections = 64;
    if (!cfg.max_per_ip) cfg.max_per_ip = 32;
    if (!cfg.idle_timeout_s) cfg.idle_timeout_s = 30;
    if (!cfg.max_query_limit) cfg.max_query_limit = 5000;
    if (!cfg.query_timeout_s) cfg.query_timeout_s = 60;
    tq_api *api = calloc(1, sizeof *api);
    if (!api) { freeaddrinfo(ai); return -ENOMEM; }
    api->src = *src;
    api->cfg = cfg;
    api->cfg.listen = NULL;
    api->token = cfg.bearer_token && *cfg.bearer_token ? strdup(cfg.bearer_token) : NULL;
    api->version = strdup(cfg.version ? cfg.version : TRAIL_VERSION_STRING);
    api->cfg.bearer_token = NULL;
    api->cfg.version = NULL;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL | MHD_ALLOW_UPGRADE;
    if (ai->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
    api->d = MHD_start_daemon(flags, (uint16_t)pn, NULL, NULL, on_request, api,
                              MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                              MHD_OPTION_NOTIFY_COMPLETED, on_completed, api,
                              MHD_OPTION_CONNECTION_LIMIT, cfg.max_connections,
                              MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg.max_per_ip,
                              MHD_OPTION_CONNECTION_TIMEOUT, cfg.idle_timeout_s,
                              MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536,
                              MHD_OPTION_LISTENING_ADDRESS_REUSE, 1,
                              MHD_OPTION_END);
    int e = errno;
    freeaddrinfo(ai);
    if (!api->d) {
        snprintf(err, errlen, "api listen %s: cannot start the HTTP server (%s)", listen,
                 e ? strerror(e) : "address in use?");
        free(api->token);
        free(api->version);
        free(api);
        return e ? -e : -EADDRINUSE;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(api->d, MHD_DAEMON_INFO_BIND_PORT);
    api->port = info ? info->port : (uint16_t)pn;
    *out = api;
    return 0;
bad_listen:
    snprintf(err, errlen, "api listen \"%s\": expected host:port (e.g. 127.0.0.1:3100)", listen);
    return -EINVAL;
}

uint16_t tq_api_port(const tq_api *api) { return api ? api->port : 0; }

void tq_api_stop(tq_api *api) {
    if (!api) return;
    atomic_store(&api->stopping, 1);
    MHD_stop_daemon(api->d);
    free(api->token);
    free(api->version);
    free(api);
}
