/* api.h — trail's Loki-compatible HTTP API (libmicrohttpd).
 *
 * Endpoints: POST /loki/api/v1/push (JSON, gzip'd JSON, protobuf+snappy);
 * GET|POST /loki/api/v1/query, /query_range; GET /loki/api/v1/labels,
 * /label/<name>/values, /series; GET /loki/api/v1/tail (WebSocket like Loki,
 * or a chunked NDJSON stream for plain HTTP clients); GET /index/stats;
 * GET /ready;
 * GET /loki/api/v1/status/buildinfo. Shapes and parameters: docs/api.md.
 *
 * Security: binds 127.0.0.1:3100 by default. Binding any other address
 * requires a bearer token (tq_api_start fails otherwise); with a token every
 * endpoint but /ready needs `Authorization: Bearer <token>`. Request bodies,
 * header sizes, connection counts (total and per IP) and idle time are
 * bounded; violations get 4xx answers, never a crash.
 *
 * Thread-safety: the API runs its own threads (one per connection) and calls
 * the tq_source from them concurrently; the source must allow that (the
 * store and tq_mem do).
 */
#ifndef TRAIL_API_H
#define TRAIL_API_H

#include <stddef.h>
#include <stdint.h>

#include "tq_source.h"

typedef struct tq_api_config {
    const char *listen;          /* "host:port"; NULL = "127.0.0.1:3100"; port 0 = ephemeral */
    const char *bearer_token;    /* required unless listen is a loopback address */
    size_t max_body_bytes;       /* push body after decompression; 0 = 16 MiB */
    unsigned max_connections;    /* 0 = 64 */
    unsigned max_per_ip;         /* 0 = 32 */
    unsigned idle_timeout_s;     /* 0 = 30: slow or idle clients are dropped */
    size_t max_query_limit;      /* 0 = 5000 entries per log query */
    unsigned query_timeout_s;    /* 0 = 60: longer queries answer 504 */
    const char *version;         /* reported by buildinfo; NULL = the project version */
} tq_api_config;

typedef struct tq_api tq_api;

/* Starts serving src. 0, or a negative errno with a message in err. */
int tq_api_start(const tq_api_config *cfg, const tq_source *src, tq_api **out, char *err, size_t errlen);
/* The bound port (useful with port 0). */
uint16_t tq_api_port(const tq_api *api);
/* Stops accepting, ends open tails, joins the threads. NULL is a no-op. */
void tq_api_stop(tq_api *api);

#endif
