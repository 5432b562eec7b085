/* api_impl.h — internals shared by the api_*.c files. */
#ifndef TRAIL_API_IMPL_H
#define TRAIL_API_IMPL_H

#include <microhttpd.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "api.h"
#include "query.h"
#include "tq_buf.h"
#include "tq_time.h"

struct tq_api {
    struct MHD_Daemon *d;
    tq_source src;
    tq_api_config cfg;
    char *token;
    char *version;
    uint16_t port;
    atomic_int stopping;
};

/* One request as the handlers see it. */
typedef struct api_req {
    tq_api *api;
    struct MHD_Connection *conn;
    const char *method;
    const char *url;
    const char *body;      /* POST body (raw, as received) */
    size_t body_len;
    char *form;            /* decoded x-www-form-urlencoded body (key\0value\0...), or NULL */
    size_t form_len;
} api_req;

/* What a handler answers: a status, a content type and a body. */
typedef struct api_resp {
    unsigned status;
    const char *type;
    tq_buf body;
    struct MHD_Response *raw; /* when set, sent as is (streams, upgrades) */
} api_resp;

/* Parameter lookup: URL query first, then a form body. */
const char *api_param(const api_req *r, const char *name);
/* Calls fn for every value of a repeated parameter (match[]). */
void api_param_each(const api_req *r, const char *name, void (*fn)(void *, const char *), void *arg);

#define api_parse_time tq_parse_time
#define api_parse_step tq_parse_step
#define api_now_ns tq_now_ns

void api_text(api_resp *o, unsigned status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Handlers (return nothing: they fill o). */
void api_push(api_req *r, api_resp *o);
void api_query(api_req *r, api_resp *o, bool range);
void api_labels(api_req *r, api_resp *o, const char *name);
void api_series(api_req *r, api_resp *o);
void api_tail(api_req *r, api_resp *o);
void api_index_stats(api_req *r, api_resp *o);

/* Loki JSON rendering of a result: {"status":"success","data":{...}}. */
void api_render_result(const tq_result *res, tq_buf *b);
/* "stream":{...} object body for labels. */
void api_render_labels(const tq_label *l, size_t n, tq_buf *b);

#endif
