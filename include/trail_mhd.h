/* trail_mhd.h — request-id middleware for libmicrohttpd servers (the
 * optional part of libtrail: link libtrail_mhd and libmicrohttpd).
 *
 * For every request it reads X-Request-ID and traceparent (generating them
 * when missing or invalid), makes them the request context of the thread that
 * runs your handler (so every entry your handler logs carries request_id,
 * trace_id and span_id), echoes X-Request-ID and traceparent in the response,
 * and logs one access entry when the request completes (ECS-style fields:
 * http.request.method, url.original, http.response.status_code,
 * http.response.body.bytes, client.ip, user_agent.original, event.duration).
 *
 *   trail_mhd *mw = trail_mhd_new(&(trail_mhd_opts){.handler = my_handler});
 *   MHD_start_daemon(flags, port, NULL, NULL, trail_mhd_access, mw,
 *                    MHD_OPTION_NOTIFY_COMPLETED, trail_mhd_completed, mw,
 *                    MHD_OPTION_END);
 *   ... inside my_handler: return trail_mhd_respond(conn, 200, resp);
 *
 * Thread-safety: any MHD threading mode. The handler must queue responses
 * with trail_mhd_respond() (it records the status for the access entry and
 * adds the echo headers), and each response object must belong to one
 * request (headers are added to it). */
#ifndef TRAIL_MHD_H
#define TRAIL_MHD_H

#include <microhttpd.h>

#include "trail.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct trail_mhd_opts {
    /* Your access handler and its closure; it sees its own *req_cls. */
    MHD_AccessHandlerCallback handler;
    void *handler_cls;
    /* Logger for access entries; NULL = trail_get("http.access"). */
    trail_logger *access_logger;
    /* 1: ignore an incoming X-Request-ID and always generate one (for
     * servers facing untrusted clients). Default 0: accept valid ids. */
    int ignore_incoming_id;
} trail_mhd_opts;

typedef struct trail_mhd trail_mhd;

/* NULL when opts or opts->handler is NULL, or out of memory. */
trail_mhd *trail_mhd_new(const trail_mhd_opts *opts);
/* After MHD_stop_daemon. */
void trail_mhd_free(trail_mhd *mw);

/* Pass as MHD's access handler with cls = the trail_mhd. */
enum MHD_Result trail_mhd_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                 const char *version, const char *upload_data, size_t *upload_data_size,
                                 void **req_cls);
/* Pass as MHD_OPTION_NOTIFY_COMPLETED with cls = the trail_mhd. */
void trail_mhd_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe);

/* Queues resp with the request's X-Request-ID and traceparent added and
 * remembers status and body size for the access entry. Use it instead of
 * MHD_queue_response from a handler wrapped by trail_mhd. */
enum MHD_Result trail_mhd_respond(struct MHD_Connection *conn, unsigned int status, struct MHD_Response *resp);

/* Convenience: copies data into a new response with the given Content-Type
 * (may be NULL), queues it like trail_mhd_respond and records its size. */
enum MHD_Result trail_mhd_respond_data(struct MHD_Connection *conn, unsigned int status, const char *content_type,
                                       const void *data, size_t len);

/* The request id of the request the calling thread is handling, or NULL
 * outside a wrapped handler. Valid until the handler returns. */
const char *trail_mhd_request_id(void);

#ifdef __cplusplus
}
#endif
#endif
