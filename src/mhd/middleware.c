/* middleware.c — see include/trail_mhd.h. One request_state per request,
 * kept in MHD's *req_cls; the caller's own req_cls lives inside it. The
 * state is also published in a thread-local while the wrapped handler runs,
 * which is how trail_mhd_respond() finds it without an extra argument. */
#include "trail_mhd.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct trail_mhd {
    trail_mhd_opts opts;
};

typedef struct request_state {
    void *inner_cls;     /* the wrapped handler's *req_cls */
    trail_ctx *ctx;      /* request_id, trace_id, span_id */
    int64_t start_ns;
    unsigned int status; /* 0 until a response is queued */
    long long body_bytes; /* -1 when unknown */
    char method[16];
    char request_id[129];
    char traceparent[56];
    char client_ip[INET6_ADDRSTRLEN];
    char *url;
    char *user_agent;
} request_state;

static _Thread_local request_state *current;

static int64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

trail_mhd *trail_mhd_new(const trail_mhd_opts *opts) {
    if (!opts || !opts->handler) return NULL;
    trail_mhd *mw = calloc(1, sizeof *mw);
    if (!mw) return NULL;
    mw->opts = *opts;
    if (!mw->opts.access_logger) mw->opts.access_logger = trail_get("http.access");
    return mw;
}

void trail_mhd_free(trail_mhd *mw) { free(mw); }

static void client_ip(struct MHD_Connection *conn, char *out, size_t size) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    out[0] = '\0';
    if (!ci || !ci->client_addr) return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, (socklen_t)size);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out, (socklen_t)size);
}

static char *dup_capped(const char *s, size_t max) {
    if (!s) return NULL;
    size_t n = strnlen(s, max);
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* Builds the state on the first call of a request: ids from the headers
 * (or new ones), the fields the access entry needs later. */
static request_state *begin_request(const trail_mhd *mw, struct MHD_Connection *conn, const char *url,
                                    const char *method) {
    request_state *st = calloc(1, sizeof *st);
    if (!st) return NULL;
    st->ctx = trail_ctx_new();
    if (!st->ctx) {
        free(st);
        return NULL;
    }
    const char *rid = mw->opts.ignore_incoming_id ? NULL
                                                   : MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-ID");
    const char *tp = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "traceparent");
    trail_ctx_from_headers(st->ctx, rid, tp);
    st->start_ns = mono_ns();
    st->body_bytes = -1;
    snprintf(st->method, sizeof st->method, "%s", method ? method : "");
    st->url = dup_capped(url, 2048);
    st->user_agent = dup_capped(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT), 512);
    client_ip(conn, st->client_ip, sizeof st->client_ip);
    /* The ids as the context holds them, for the echo headers. */
    trail_ctx *prev = trail_ctx_attach(st->ctx);
    trail_ctx_get("request_id", st->request_id, sizeof st->request_id);
    char trace[33] = "", span[17] = "";
    if (trail_ctx_get("trace_id", trace, sizeof trace) == 32 && trail_ctx_get("span_id", span, sizeof span) == 16)
        snprintf(st->traceparent, sizeof st->traceparent, "00-%s-%s-01", trace, span);
    trail_ctx_attach(prev);
    return st;
}

enum MHD_Result trail_mhd_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                 const char *version, const char *upload_data, size_t *upload_data_size,
                                 void **req_cls) {
    trail_mhd *mw = cls;
    request_state *st = *req_cls;
    if (!st) {
        st = begin_request(mw, conn, url, method);
        if (!st) return MHD_NO; /* out of memory: MHD closes the connection */
        *req_cls = st;
    }
    trail_ctx *prev = trail_ctx_attach(st->ctx);
    request_state *prev_state = current;
    current = st;
    enum MHD_Result r = mw->opts.handler(mw->opts.handler_cls, conn, url, method, version, upload_data,
                                         upload_data_size, &st->inner_cls);
    current = prev_state;
    trail_ctx_attach(prev);
    return r;
}

enum MHD_Result trail_mhd_respond(struct MHD_Connection *conn, unsigned int status, struct MHD_Response *resp) {
    request_state *st = current;
    if (st && resp) {
        if (st->request_id[0]) MHD_add_response_header(resp, "X-Request-ID", st->request_id);
        if (st->traceparent[0]) MHD_add_response_header(resp, "traceparent", st->traceparent);
        st->status = status;
    }
    return MHD_queue_response(conn, status, resp);
}

enum MHD_Result trail_mhd_respond_data(struct MHD_Connection *conn, unsigned int status, const char *content_type,
                                       const void *data, size_t len) {
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
    if (!resp) return MHD_NO;
    if (content_type) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    enum MHD_Result r = trail_mhd_respond(conn, status, resp);
    if (current) current->body_bytes = (long long)len;
    MHD_destroy_response(resp);
    return r;
}

const char *trail_mhd_request_id(void) { return current ? current->request_id : NULL; }

static int access_level(unsigned int status, enum MHD_RequestTerminationCode toe) {
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK || status >= 500 || status == 0) return TRAIL_ERROR;
    if (status >= 400) return TRAIL_WARNING;
    return TRAIL_INFO;
}

void trail_mhd_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)conn;
    trail_mhd *mw = cls;
    request_state *st = req_cls ? *req_cls : NULL;
    if (!mw || !st) return;
    int level = access_level(st->status, toe);
    trail_ctx *prev = trail_ctx_attach(st->ctx);
    if (trail_enabled(mw->opts.access_logger, level)) {
        trail_field f[8];
        size_t n = 0;
        f[n++] = TRAIL_STR("http.request.method", st->method);
        f[n++] = TRAIL_STR("url.original", st->url ? st->url : "");
        f[n++] = TRAIL_I64("http.response.status_code", st->status);
        f[n++] = TRAIL_DURATION_NS("event.duration", mono_ns() - st->start_ns);
        f[n++] = TRAIL_STR("client.ip", st->client_ip);
        if (st->user_agent) f[n++] = TRAIL_STR("user_agent.original", st->user_agent);
        if (st->body_bytes >= 0) f[n++] = TRAIL_I64("http.response.body.bytes", st->body_bytes);
        if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
            f[n++] = TRAIL_I64("http.termination_code", (int64_t)toe);
        static const char msg[] = "request completed";
        trail_log_msg(mw->opts.access_logger, level, msg, sizeof msg - 1, f, n);
    }
    trail_ctx_attach(prev);
    trail_ctx_free(st->ctx);
    free(st->url);
    free(st->user_agent);
    free(st);
    *req_cls = NULL;
}
