/* The request-id middleware against a real libmicrohttpd daemon on
 * 127.0.0.1: ids are taken or generated, echoed, attached to the handler's
 * entries, and one access entry is logged per request. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "test.h"
#include "trail_mhd.h"

/* Every entry, rendered as "logger|level|message|request_id|status\n". */
static char captured[1 << 16];
static size_t captured_len;
static pthread_mutex_t captured_mu = PTHREAD_MUTEX_INITIALIZER;

static void capture(const trail_entry *e, const char *line, size_t len, void *ud) {
    (void)line, (void)len, (void)ud;
    const trail_field *rid = trail_entry_ctx(e, "request_id");
    long long status = -1;
    for (size_t i = 0; i < e->nfields; i++)
        if (!strcmp(e->fields[i].key, "http.response.status_code")) status = e->fields[i].v.i;
    pthread_mutex_lock(&captured_mu);
    int n = snprintf(captured + captured_len, sizeof captured - captured_len, "%s|%d|%.*s|%.*s|%lld\n", e->logger,
                     e->level, (int)e->msg_len, e->msg, rid ? (int)rid->len : 0, rid ? rid->v.s : "", status);
    if (n > 0 && (size_t)n < sizeof captured - captured_len) captured_len += (size_t)n;
    pthread_mutex_unlock(&captured_mu);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                               const char *version, const char *upload_data, size_t *upload_size, void **req_cls) {
    (void)cls, (void)method, (void)version, (void)upload_data, (void)upload_size, (void)req_cls;
    trail_info(trail_get("app"), "handling", TRAIL_STR("path", url));
    const char *body = "ok\n";
    return trail_mhd_respond_data(conn, strcmp(url, "/fail") ? 200 : 503, "text/plain", body, strlen(body));
}

typedef struct server {
    struct MHD_Daemon *d;
    trail_mhd *mw;
    unsigned port;
} server;

static void start(server *s, int ignore_incoming) {
    trail_options o = {.service = "mw-test", .mode = TRAIL_SYNC, .no_default_handlers = 1, .no_signal_handlers = 1};
    CHECK_INT(trail_setup(&o), ==, 0);
    trail_handler *h = NULL;
    CHECK_INT(trail_handler_callback(&h, capture, NULL), ==, 0);
    CHECK_INT(trail_logger_add_handler(trail_root(), h), ==, 0);
    s->mw = trail_mhd_new(&(trail_mhd_opts){.handler = handler, .ignore_incoming_id = ignore_incoming});
    CHECK(s->mw);
    s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL,
                            trail_mhd_access, s->mw, MHD_OPTION_NOTIFY_COMPLETED, trail_mhd_completed, s->mw,
                            MHD_OPTION_SOCK_ADDR,
                            (struct sockaddr *)&(struct sockaddr_in){.sin_family = AF_INET,
                                                                     .sin_addr.s_addr = htonl(INADDR_LOOPBACK)},
                            MHD_OPTION_END);
    CHECK(s->d);
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di->port;
}

static void stop(server *s) {
    MHD_stop_daemon(s->d);
    trail_mhd_free(s->mw);
    trail_shutdown();
}

typedef struct reply {
    long status;
    char request_id[160];
    char traceparent[80];
} reply;

static size_t on_header(char *b, size_t size, size_t n, void *ud) {
    reply *r = ud;
    size_t len = size * n;
    char line[256];
    snprintf(line, sizeof line, "%.*s", (int)len, b);
    line[strcspn(line, "\r\n")] = '\0';
    if (!strncasecmp(line, "X-Request-ID: ", 14)) snprintf(r->request_id, sizeof r->request_id, "%.*s", (int)sizeof r->request_id - 1, line + 14);
    if (!strncasecmp(line, "traceparent: ", 13)) snprintf(r->traceparent, sizeof r->traceparent, "%.*s", (int)sizeof r->traceparent - 1, line + 13);
    return len;
}

static size_t discard(char *b, size_t size, size_t n, void *ud) {
    (void)b, (void)ud;
    return size * n;
}

static reply get(const server *s, const char *path, const char *rid, const char *traceparent) {
    reply r = {0};
    char url[128], h1[256], h2[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", s->port, path);
    CURL *c = curl_easy_init();
    struct curl_slist *hs = NULL;
    if (rid) {
        snprintf(h1, sizeof h1, "X-Request-ID: %s", rid);
        hs = curl_slist_append(hs, h1);
    }
    if (traceparent) {
        snprintf(h2, sizeof h2, "traceparent: %s", traceparent);
        hs = curl_slist_append(hs, h2);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    CHECK_INT(curl_easy_perform(c), ==, CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(hs);
    curl_easy_cleanup(c);
    return r;
}

static char *captured_copy(void) {
    /* The access entry is logged after the response is sent: wait for it. */
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&captured_mu);
        int done = strstr(captured, "request completed") != NULL;
        pthread_mutex_unlock(&captured_mu);
        if (done) break;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    pthread_mutex_lock(&captured_mu);
    char *copy = strdup(captured);
    pthread_mutex_unlock(&captured_mu);
    return copy;
}

TEST(incoming_request_id_is_used_echoed_and_attached) {
    server s;
    start(&s, 0);
    reply r = get(&s, "/orders", "req-abc.123", NULL);
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(r.request_id, "req-abc.123");
    CHECK_INT(strlen(r.traceparent), ==, 55);
    char *log = captured_copy();
    CHECK_CONTAINS(log, "app|20|handling|req-abc.123|-1\n");
    CHECK_CONTAINS(log, "http.access|20|request completed|req-abc.123|200\n");
    free(log);
    stop(&s);
}

TEST(missing_or_hostile_id_is_replaced_by_a_uuid) {
    server s;
    start(&s, 0);
    reply r = get(&s, "/x", "evil\"id{with}bad chars", NULL);
    CHECK_INT(strlen(r.request_id), ==, 36); /* a generated UUID */
    CHECK(r.request_id[14] == '7');           /* version 7 */
    reply r2 = get(&s, "/x", NULL, NULL);
    CHECK_INT(strlen(r2.request_id), ==, 36);
    CHECK(strcmp(r.request_id, r2.request_id) != 0);
    char *log = captured_copy();
    CHECK(!strstr(log, "evil"));
    free(log);
    stop(&s);
}

TEST(traceparent_continues_the_callers_trace) {
    server s;
    start(&s, 0);
    const char *tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    reply r = get(&s, "/x", NULL, tp);
    CHECK(!strncmp(r.traceparent, "00-4bf92f3577b34da6a3ce929d0e0e4736-", 36));
    CHECK(strcmp(r.traceparent + 36, "00f067aa0ba902b7-01") != 0); /* a new span of ours */
    stop(&s);
}

TEST(server_errors_are_logged_at_error_level) {
    server s;
    start(&s, 0);
    reply r = get(&s, "/fail", "r-1", NULL);
    CHECK_INT(r.status, ==, 503);
    char *log = captured_copy();
    CHECK_CONTAINS(log, "http.access|40|request completed|r-1|503\n");
    free(log);
    stop(&s);
}

TEST(ignore_incoming_id_generates_always) {
    server s;
    start(&s, 1);
    reply r = get(&s, "/x", "req-abc.123", NULL);
    CHECK(strcmp(r.request_id, "req-abc.123") != 0);
    CHECK_INT(strlen(r.request_id), ==, 36);
    stop(&s);
}

TEST(new_rejects_null) {
    CHECK(trail_mhd_new(NULL) == NULL);
    CHECK(trail_mhd_new(&(trail_mhd_opts){0}) == NULL);
}
