/* metrics_http.c — /metrics (Prometheus text exposition format 0.0.4) and
 * /ready on a loopback port, served by libmicrohttpd's own thread. Values
 * come from the process-wide counter registry (stats.c), which is never
 * freed, so a scrape during a reload reads valid memory. */
#ifdef TA_HAVE_MHD
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics_http.h"
#include "pipeline.h"
#include "timefmt.h"

struct ta_metrics_server {
    struct MHD_Daemon *d;
    int port;
};

/* Label values: backslash, double quote and newline are escaped (0.0.4). */
static void put_label(ta_buf *b, const char *name, const char *v) {
    ta_buf_put(b, name, strlen(name));
    ta_buf_put(b, "=\"", 2);
    for (const char *p = v ? v : ""; *p; p++) {
        if (*p == '\\') ta_buf_put(b, "\\\\", 2);
        else if (*p == '"') ta_buf_put(b, "\\\"", 2);
        else if (*p == '\n') ta_buf_put(b, "\\n", 2);
        else ta_buf_put(b, p, 1);
    }
    ta_buf_put(b, "\"", 1);
}

static void putf(ta_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(ta_buf *b, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0) ta_buf_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* One metric family per counter; each family visits the registry once. */
typedef enum { F_COUNTER, F_GAUGE } fkind;
typedef struct family {
    const char *kind;   /* "input" / "output" */
    const char *name;
    fkind type;
    const char *help;
    size_t off;         /* offset of the atomic in ta_input_stats / ta_output_stats */
    int width;          /* 64 (uint64/int64) or 32 (int) */
    bool is_signed;
    double scale;       /* multiply (ns -> s); 0 = as is */
} family;

#define IN(m) offsetof(ta_input_stats, m)
#define OUT(m) offsetof(ta_output_stats, m)
static const family families[] = {
    {"input", "traild_input_lines_total", F_COUNTER, "Entries read per input.", IN(lines), 64, false, 0},
    {"input", "traild_input_bytes_total", F_COUNTER, "Bytes read per input.", IN(bytes), 64, false, 0},
    {"input", "traild_input_dropped_total", F_COUNTER, "Entries dropped by input processors.", IN(dropped), 64, false, 0},
    {"input", "traild_input_parse_errors_total", F_COUNTER, "Entries the parser could not parse (shipped raw).",
     IN(parse_errors), 64, false, 0},
    {"input", "traild_input_rotations_total", F_COUNTER, "File rotations (rename/create) noticed.", IN(rotations), 64,
     false, 0},
    {"input", "traild_input_truncations_total", F_COUNTER, "File truncations (copytruncate) noticed.",
     IN(truncations), 64, false, 0},
    {"input", "traild_input_files_watched", F_GAUGE, "Files open for tailing.", IN(files_watched), 64, true, 0},
    {"input", "traild_input_lag_bytes", F_GAUGE, "Bytes in watched files not yet acknowledged by every output.",
     IN(lag_bytes), 64, true, 0},
    {"output", "traild_output_batches_total", F_COUNTER, "Batches done (delivered, or declared invalid).",
     OUT(batches), 64, false, 0},
    {"output", "traild_output_shipped_records_total", F_COUNTER, "Records delivered and acknowledged.", OUT(records),
     64, false, 0},
    {"output", "traild_output_shipped_bytes_total", F_COUNTER, "Payload bytes sent (encoded, before compression).",
     OUT(bytes), 64, false, 0},
    {"output", "traild_output_dropped_records_total", F_COUNTER,
     "Records the destination rejected as invalid (final, never retried).", OUT(records_invalid), 64, false, 0},
    {"output", "traild_output_retries_total", F_COUNTER, "Attempts that failed and will be retried.", OUT(retries),
     64, false, 0},
    {"output", "traild_output_failed_total", F_COUNTER, "Failed attempts of any kind.", OUT(errors), 64, false, 0},
    {"output", "traild_output_inflight_batches", F_GAUGE, "Batches submitted and not yet done.", OUT(inflight), 64,
     true, 0},
    {"output", "traild_output_held", F_GAUGE, "1 while the output holds data waiting for an operator (401/403).",
     OUT(held), 32, true, 0},
    {"output", "traild_output_last_success_timestamp_seconds", F_GAUGE, "Unix time of the last delivery.",
     OUT(last_ok_ns), 64, true, 1e-9},
};

typedef struct visit_ctx {
    ta_buf *b;
    const family *f;
} visit_ctx;

static void visit(void *arg, const char *kind, const char *name, const char *type, const void *stats) {
    visit_ctx *c = arg;
    const family *f = c->f;
    if (strcmp(kind, f->kind) != 0) return;
    const char *p = (const char *)stats + f->off;
    ta_buf_put(c->b, f->name, strlen(f->name));
    ta_buf_put(c->b, "{", 1);
    put_label(c->b, f->kind, name);
    if (type) {
        ta_buf_put(c->b, ",", 1);
        put_label(c->b, "type", type);
    }
    ta_buf_put(c->b, "} ", 2);
    if (f->width == 32) putf(c->b, "%d\n", atomic_load((_Atomic int *)p));
    else if (f->scale != 0) putf(c->b, "%.3f\n", (double)atomic_load((_Atomic int64_t *)p) * f->scale);
    else if (f->is_signed) putf(c->b, "%" PRId64 "\n", atomic_load((_Atomic int64_t *)p));
    else putf(c->b, "%" PRIu64 "\n", atomic_load((_Atomic uint64_t *)p));
}

/* Resident set size from /proc/self/statm (pages). */
static uint64_t rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, res = 0;
    if (f) {
        if (fscanf(f, "%lu %lu", &size, &res) != 2) res = 0;
        fclose(f);
    }
    return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

void ta_metrics_render(ta_buf *b) {
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
        const family *f = &families[i];
        putf(b, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, f->type == F_COUNTER ? "counter" : "gauge");
        visit_ctx c = {b, f};
        ta_stats_visit(visit, &c);
    }
    int64_t saved = ta_stats_checkpoint_saved_ns();
    putf(b, "# HELP traild_checkpoint_age_seconds Seconds since positions were last written (-1: not yet).\n"
            "# TYPE traild_checkpoint_age_seconds gauge\ntraild_checkpoint_age_seconds %.3f\n",
         saved ? (double)(ta_now_ns() - saved) / 1e9 : -1.0);
    putf(b, "# HELP traild_process_resident_memory_bytes Resident memory of the traild process.\n"
            "# TYPE traild_process_resident_memory_bytes gauge\ntraild_process_resident_memory_bytes %" PRIu64 "\n",
         rss_bytes());
    putf(b, "# HELP traild_ready 1 when config, checkpoint and inputs are up.\n"
            "# TYPE traild_ready gauge\ntraild_ready %d\n",
         ta_agent_ready() ? 1 : 0);
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *ctype, const char *body,
                             size_t len) {
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", ctype);
    enum MHD_Result ok = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                              const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    (void)cls;
    (void)version;
    (void)upload;
    (void)con_cls;
    if (*upload_size) { /* no bodies expected: swallow them */
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "GET only\n", 9);
    if (strcmp(url, "/metrics") == 0) {
        ta_buf b = {0};
        ta_metrics_render(&b);
        enum MHD_Result r = reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", b.p, b.len);
        ta_buf_free(&b);
        return r;
    }
    if (strcmp(url, "/ready") == 0) {
        bool ok = ta_agent_ready();
        return ok ? reply(conn, MHD_HTTP_OK, "text/plain", "ready\n", 6)
                  : reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", "not ready\n", 10);
    }
    return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain", "not found: try /metrics or /ready\n", 34);
}

/* "host:port" with an IPv4 host ("localhost" allowed), or ":port" (loopback). */
static int parse_listen(const char *listen, struct sockaddr_in *sa, char *err, size_t errlen) {
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    const char *colon = strrchr(listen, ':');
    char *end;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || colon[1] == 0 || *end || port < 0 || port > 65535) {
        snprintf(err, errlen, "metrics_listen \"%s\": expected host:port, e.g. 127.0.0.1:9180", listen);
        return -EINVAL;
    }
    char host[64];
    size_t hl = (size_t)(colon - listen);
    if (hl >= sizeof host) hl = sizeof host - 1;
    memcpy(host, listen, hl);
    host[hl] = 0;
    if (!*host || strcmp(host, "localhost") == 0) strcpy(host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
        snprintf(err, errlen, "metrics_listen \"%s\": \"%s\" is not an IPv4 address", listen, host);
        return -EINVAL;
    }
    sa->sin_port = htons((uint16_t)port);
    return 0;
}

ta_metrics_server *ta_metrics_start(const char *listen, char *err, size_t errlen) {
    struct sockaddr_in sa;
    if (parse_listen(listen, &sa, err, errlen) < 0) return NULL;
    ta_metrics_server *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, NULL, NULL, handle, m,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_LIMIT, 16u,
                            MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
    if (!m->d) {
        snprintf(err, errlen, "cannot listen on %s (port in use?)", listen);
        free(m);
        return NULL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_BIND_PORT);
    m->port = di ? (int)di->port : (int)ntohs(sa.sin_port);
    return m;
}

int ta_metrics_port(const ta_metrics_server *m) { return m ? m->port : 0; }

void ta_metrics_stop(ta_metrics_server *m) {
    if (!m) return;
    MHD_stop_daemon(m->d);
    free(m);
}
#endif /* TA_HAVE_MHD */
