/* demo backend: a libmicrohttpd server wrapped by the trail_mhd middleware.
 * GET /order?item=<name> hands the job, with the request's ids, to the
 * worker process and answers 200 or 502. The middleware takes (or makes)
 * the request id, so every entry here carries the frontend's id.
 *
 *   demo_backend <port> <worker socket path> */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "trail.h"
#include "trail_mhd.h"

static const char *worker_path;
static trail_logger *lg;

/* One job, one connection: "<request_id> <traceparent> <item>\n". */
static int call_worker(const char *item, char *reply, size_t size) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", worker_path);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        int err = errno;
        if (fd >= 0) close(fd);
        return -err;
    }
    char rid[130], tp[56], job[512];
    trail_ctx_outgoing_headers(rid, sizeof rid, tp);
    int n = snprintf(job, sizeof job, "%s %s %s\n", rid, tp, item);
    ssize_t got = -1;
    if (write(fd, job, (size_t)n) == n) got = read(fd, reply, size - 1);
    int err = errno;
    close(fd);
    if (got <= 0) return got == 0 ? -ECONNRESET : -err;
    reply[got] = '\0';
    reply[strcspn(reply, "\n")] = '\0';
    return 0;
}

/* Item names are echoed into a job line: keep them to a safe alphabet. */
static int valid_item(const char *s) {
    if (!s || !*s || strlen(s) > 64) return 0;
    for (; *s; s++)
        if (!(*s == '-' || *s == '_' || (*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
            return 0;
    return 1;
}

static enum MHD_Result serve(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                             const char *version, const char *upload_data, size_t *upload_size, void **req_cls) {
    (void)cls, (void)version, (void)upload_data, (void)upload_size, (void)req_cls;
    if (strcmp(method, "GET") || strcmp(url, "/order"))
        return trail_mhd_respond_data(conn, 404, "text/plain", "not found\n", 10);
    const char *item = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "item");
    if (!valid_item(item)) {
        trail_warning(lg, "rejected order: bad item name");
        return trail_mhd_respond_data(conn, 400, "text/plain", "bad item\n", 9);
    }
    trail_info(lg, "order received", TRAIL_STR("item", item));
    char reply[300];
    int rc = call_worker(item, reply, sizeof reply);
    if (rc < 0) {
        trail_error(lg, "worker unreachable", TRAIL_ERRNO("error", -rc));
        return trail_mhd_respond_data(conn, 503, "text/plain", "worker unreachable\n", 19);
    }
    if (strncmp(reply, "ok", 2) != 0) {
        trail_error(lg, "order failed in worker", TRAIL_STR("item", item), TRAIL_STR("worker.reply", reply));
        return trail_mhd_respond_data(conn, 502, "text/plain", "order failed\n", 13);
    }
    trail_info(lg, "order confirmed", TRAIL_STR("item", item));
    return trail_mhd_respond_data(conn, 200, "text/plain", "ok\n", 3);
}

static volatile sig_atomic_t stopping;
static void on_term(int sig) { (void)sig; stopping = 1; }

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: demo_backend <port> <worker socket path>\n");
        return 2;
    }
    if (trail_init("backend") < 0) {
        fprintf(stderr, "demo_backend: %s\n", trail_last_error());
        return 1;
    }
    lg = trail_get("backend.orders");
    worker_path = argv[2];
    trail_mhd *mw = trail_mhd_new(&(trail_mhd_opts){.handler = serve});
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
                                            NULL, NULL, trail_mhd_access, mw, MHD_OPTION_NOTIFY_COMPLETED,
                                            trail_mhd_completed, mw, MHD_OPTION_SOCK_ADDR, &addr,
                                            MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
    if (!d) {
        trail_critical(lg, "cannot listen", TRAIL_STR("port", argv[1]));
        trail_shutdown();
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_term};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    trail_info(lg, "backend listening", TRAIL_STR("addr", "127.0.0.1"), TRAIL_STR("port", argv[1]));
    while (!stopping) pause();
    MHD_stop_daemon(d);
    trail_mhd_free(mw);
    trail_info(lg, "backend stopped");
    trail_shutdown();
    return 0;
}
