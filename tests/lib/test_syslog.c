/* test_syslog.c — RFC 5424 over UDP and TCP to receivers on 127.0.0.1,
 * checked field by field; newlines cannot forge a second message; TCP
 * reconnects after the server closed the connection. */
#include "handler_test_util.h"
#include "syslog_format.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

/* 2026-11-28T20:59:58.123456Z */
#define TS (1795899598LL * 1000000000LL + 123456789LL)

static int listen_on(int type, int *port) {
    int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) test__fail(__FILE__, __LINE__, "bind: %s", strerror(errno));
    if (type == SOCK_STREAM) listen(fd, 4);
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    *port = ntohs(a.sin_port);
    return fd;
}

static int wait_readable(int fd, int ms) {
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, ms) == 1;
}

/* One datagram as a string ("" after 5 s). */
static char *recv_dgram(int fd) {
    static char buf[70000];
    if (!wait_readable(fd, 5000)) return strdup("");
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    buf[n < 0 ? 0 : n] = 0;
    return strdup(buf);
}

/* One octet-counted frame from a TCP connection ("" on EOF/timeout). */
static char *recv_frame(int fd) {
    size_t len = 0;
    char c;
    for (;;) {
        if (!wait_readable(fd, 5000) || recv(fd, &c, 1, 0) != 1) return strdup("");
        if (c == ' ') break;
        if (c < '0' || c > '9') test__fail(__FILE__, __LINE__, "bad frame length byte %d", c);
        len = len * 10 + (size_t)(c - '0');
    }
    char *m = malloc(len + 1);
    size_t got = 0;
    while (got < len) {
        if (!wait_readable(fd, 5000)) break;
        ssize_t n = recv(fd, m + got, len - got, 0);
        if (n <= 0) break;
        got += (size_t)n;
    }
    m[got] = 0;
    return m;
}

typedef struct parsed {
    char pri[8], version[4], ts[40], host[300], app[60], procid[16], msgid[40];
    char sd[1024];
    char msg[4096];
} parsed;

/* Splits a message into its RFC 5424 parts; the SD may hold spaces inside
 * quoted values and escaped quotes/brackets. */
static void parse(const char *m, parsed *p) {
    memset(p, 0, sizeof *p);
    CHECK(m[0] == '<');
    const char *gt = strchr(m, '>');
    CHECK(gt != NULL);
    snprintf(p->pri, sizeof p->pri, "%.*s", (int)(gt - m - 1), m + 1);
    const char *s = gt + 1;
    char *fields[] = {p->version, p->ts, p->host, p->app, p->procid, p->msgid};
    size_t sizes[] = {sizeof p->version, sizeof p->ts, sizeof p->host, sizeof p->app, sizeof p->procid, sizeof p->msgid};
    for (int i = 0; i < 6; i++) {
        const char *sp = strchr(s, ' ');
        CHECK(sp != NULL);
        snprintf(fields[i], sizes[i], "%.*s", (int)(sp - s), s);
        s = sp + 1;
    }
    const char *sd_end;
    if (*s == '-') {
        sd_end = s + 1;
    } else {
        CHECK(*s == '[');
        int in_quotes = 0;
        const char *q = s;
        for (; *q; q++) {
            if (in_quotes && *q == '\\' && q[1]) q++;
            else if (*q == '"') in_quotes = !in_quotes;
            else if (!in_quotes && *q == ']') break;
        }
        CHECK(*q == ']');
        sd_end = q + 1;
    }
    snprintf(p->sd, sizeof p->sd, "%.*s", (int)(sd_end - s), s);
    if (*sd_end == ' ') snprintf(p->msg, sizeof p->msg, "%s", sd_end + 1);
    else CHECK(*sd_end == 0);
}

static void log_entry(trail_handler *h, const char *logger, int level, const char *msg, const trail_field *f,
                      size_t nf, const trail_field *ctx, size_t nctx) {
    trail_entry e = {0};
    e.ts_ns = TS;
    e.level = level;
    e.logger = logger;
    e.msg = msg;
    e.msg_len = strlen(msg);
    e.fields = f;
    e.nfields = nf;
    e.ctx = ctx;
    e.nctx = nctx;
    trail_buf scratch = {0};
    CHECK_INT(trail__handler_dispatch(h, &e, &scratch), ==, 1);
    trail_buf_free(&scratch);
}

static void check_full_message(const char *m) {
    parsed p;
    parse(m, &p);
    CHECK_STR(p.pri, "132"); /* local0 (16) * 8 + warning (4) */
    CHECK_STR(p.version, "1");
    CHECK_STR(p.ts, "2026-11-28T20:59:58.123456Z");
    char host[256] = {0};
    gethostname(host, sizeof host - 1);
    CHECK_STR(p.host, host[0] ? host : "-");
    CHECK_STR(p.app, "checkout");
    char pid[16];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    CHECK_STR(p.procid, pid);
    CHECK_STR(p.msgid, "shop.db");
    CHECK_STR(p.sd, "[trail@32473 request_id=\"r-1\" order_id=\"A1\" amount=\"42\" tricky=\"a\\\"b\\]c\\\\d\" ok=\"true\"]");
    CHECK_STR(p.msg, "order placed");
}

static const trail_field fields[] = {TRAIL_STR("order_id", "A1"), TRAIL_I64("amount", 42),
                                     TRAIL_STR("tricky", "a\"b]c\\d"), TRAIL_BOOL("ok", 1)};
static const trail_field ctx[] = {TRAIL_STR("request_id", "r-1")};

TEST(udp_message_field_by_field) {
    int port;
    int rx = listen_on(SOCK_DGRAM, &port);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    trail_syslog_opts o = {.transport = TRAIL_SYSLOG_UDP, .address = addr, .facility = 16, .app_name = "checkout"};
    trail_handler *h = NULL;
    CHECK_INT(trail_handler_syslog(&h, &o), ==, 0);
    log_entry(h, "shop.db", TRAIL_WARNING, "order placed", fields, 4, ctx, 1);
    CHECK_INT(trail__handler_flush(h), ==, 0);
    char *m = recv_dgram(rx);
    check_full_message(m);
    free(m);
    /* Root logger, no fields: MSGID and SD are "-"; severities map. */
    log_entry(h, "", TRAIL_SUCCESS, "done", NULL, 0, NULL, 0);
    log_entry(h, "", TRAIL_CRITICAL, "down", NULL, 0, NULL, 0);
    log_entry(h, "", TRAIL_DEBUG, "dbg", NULL, 0, NULL, 0);
    trail__handler_flush(h);
    const char *want[] = {"<133>1 ", "<130>1 ", "<135>1 "};
    const char *tail[] = {" - - done", " - - down", " - - dbg"};
    for (int i = 0; i < 3; i++) {
        m = recv_dgram(rx);
        CHECK(strncmp(m, want[i], strlen(want[i])) == 0);
        CHECK(strlen(m) > strlen(tail[i]) && !strcmp(m + strlen(m) - strlen(tail[i]), tail[i]));
        free(m);
    }
    trail_handler_release(h);
    close(rx);
}

TEST(newline_cannot_forge_a_second_message_over_udp) {
    int port;
    int rx = listen_on(SOCK_DGRAM, &port);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    trail_syslog_opts o = {.transport = TRAIL_SYSLOG_UDP, .address = addr};
    trail_handler *h = NULL;
    CHECK_INT(trail_handler_syslog(&h, &o), ==, 0);
    log_entry(h, "a", TRAIL_INFO, "hi\n<0>1 2026-01-01T00:00:00Z evil app 1 - - forged\r\x1b[31m", NULL, 0, NULL, 0);
    trail__handler_flush(h);
    char *m = recv_dgram(rx);
    CHECK(!strchr(m, '\n') && !strchr(m, '\r') && !strchr(m, '\x1b'));
    parsed p;
    parse(m, &p);
    CHECK_STR(p.pri, "14"); /* user.info: facility defaults to user */
    CHECK_STR(p.msg, "hi\\n<0>1 2026-01-01T00:00:00Z evil app 1 - - forged\\r\\x1b[31m");
    free(m);
    CHECK(!wait_readable(rx, 100)); /* nothing else arrived */
    trail_handler_release(h);
    close(rx);
}

TEST(tcp_octet_counting_and_no_forgery) {
    int port;
    int ls = listen_on(SOCK_STREAM, &port);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    trail_syslog_opts o = {.transport = TRAIL_SYSLOG_TCP, .address = addr, .facility = 16, .app_name = "checkout"};
    trail_handler *h = NULL;
    CHECK_INT(trail_handler_syslog(&h, &o), ==, 0);
    log_entry(h, "shop.db", TRAIL_WARNING, "order placed", fields, 4, ctx, 1);
    log_entry(h, "x", TRAIL_INFO, "two\n57 <14>1 2026-11-28T00:00:00Z h a 1 - - forged frame", NULL, 0, NULL, 0);
    log_entry(h, "x", TRAIL_INFO, "three", NULL, 0, NULL, 0);
    CHECK_INT(trail__handler_flush(h), ==, 0);
    CHECK(wait_readable(ls, 5000));
    int c = accept(ls, NULL, NULL);
    char *m1 = recv_frame(c), *m2 = recv_frame(c), *m3 = recv_frame(c);
    check_full_message(m1);
    parsed p;
    parse(m2, &p);
    CHECK_STR(p.msg, "two\\n57 <14>1 2026-11-28T00:00:00Z h a 1 - - forged frame");
    parse(m3, &p);
    CHECK_STR(p.msg, "three");
    CHECK(!wait_readable(c, 100)); /* exactly three frames */
    free(m1), free(m2), free(m3);
    trail_handler_release(h);
    close(c);
    close(ls);
}

TEST(tcp_reconnects_after_the_server_closed) {
    int port;
    int ls = listen_on(SOCK_STREAM, &port);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    trail_syslog_opts o = {.transport = TRAIL_SYSLOG_TCP, .address = addr};
    trail_handler *h = NULL;
    CHECK_INT(trail_handler_syslog(&h, &o), ==, 0);
    log_entry(h, "", TRAIL_INFO, "first", NULL, 0, NULL, 0);
    trail__handler_flush(h);
    int c = accept(ls, NULL, NULL);
    char *m = recv_frame(c);
    CHECK_CONTAINS(m, " first");
    free(m);
    close(c); /* the server restarts */
    usleep(20000);
    log_entry(h, "", TRAIL_INFO, "second", NULL, 0, NULL, 0);
    trail__handler_flush(h);
    CHECK(wait_readable(ls, 5000));
    c = accept(ls, NULL, NULL);
    m = recv_frame(c);
    CHECK_CONTAINS(m, " second");
    free(m);
    trail_handler_release(h);
    close(c);
    close(ls);
}

TEST(server_down_keeps_messages_until_it_is_back) {
    const char *err = ht_capture_stderr();
    int port;
    int ls = listen_on(SOCK_STREAM, &port);
    close(ls); /* nobody listens on the port now */
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    trail_syslog_opts o = {.transport = TRAIL_SYSLOG_TCP, .address = addr};
    trail_handler *h = NULL;
    uint64_t e0 = trail__stat_read(TRAIL__STAT_WRITE_ERRORS);
    CHECK_INT(trail_handler_syslog(&h, &o), ==, 0); /* not fatal: the server may come later */
    log_entry(h, "", TRAIL_INFO, "queued", NULL, 0, NULL, 0);
    CHECK(trail__handler_flush(h) < 0);
    char *rep = test_read_file(err, NULL);
    CHECK_CONTAINS(rep, "cannot connect to");
    CHECK_INT(ht_count(rep, "cannot connect"), ==, 1);
    free(rep);
    CHECK(trail__stat_read(TRAIL__STAT_WRITE_ERRORS) > e0);
    /* The server comes back on the same port. */
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        trail_handler_release(h);
        return; /* port taken meanwhile: nothing to check */
    }
    listen(fd, 4);
    log_entry(h, "", TRAIL_INFO, "later", NULL, 0, NULL, 0);
    int rc = -1;
    for (int i = 0; i < 40 && rc != 0; i++) { /* reconnects at most once a second */
        rc = trail__handler_flush(h);
        if (rc) usleep(100000);
    }
    CHECK_INT(rc, ==, 0);
    int c = accept(fd, NULL, NULL);
    char *m1 = recv_frame(c), *m2 = recv_frame(c);
    CHECK_CONTAINS(m1, " queued");
    CHECK_CONTAINS(m2, " later");
    free(m1), free(m2);
    trail_handler_release(h);
    close(c);
    close(fd);
}

TEST(unix_datagram_socket) {
    char path[1100];
    snprintf(path, sizeof path, "%s/log.sock", test_tmpdir());
    int rx = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un un = {0};
    un.sun_family = AF_UNIX;
    CHECK(strlen(path) < sizeof un.sun_path);
    memcpy(un.sun_path, path, strlen(path) + 1);
    CHECK_INT(bind(rx, (struct sockaddr *)&un, sizeof un), ==, 0);
    trail_syslog_opts o = {.transport = TRAIL_SYSLOG_UNIX, .address = path, .app_name = "app"};
    trail_handler *h = NULL;
    CHECK_INT(trail_handler_syslog(&h, &o), ==, 0);
    log_entry(h, "svc", TRAIL_ERROR, "over /dev/log", NULL, 0, NULL, 0);
    trail__handler_flush(h);
    char *m = recv_dgram(rx);
    parsed p;
    parse(m, &p);
    CHECK_STR(p.pri, "11");
    CHECK_STR(p.app, "app");
    CHECK_STR(p.msgid, "svc");
    CHECK_STR(p.msg, "over /dev/log");
    free(m);
    trail_handler_release(h);
    close(rx);
}

TEST(render_sanitises_header_fields_and_keys) {
    trail_buf b = {0};
    trail__syslog_header hd = {3, "my host", "app name that is far too long for the forty-eight char limit", 7, 0};
    trail_field f[] = {TRAIL_STR("bad key=\"]", "v\xff"), TRAIL_F64("pi", 3.5), TRAIL_NULL("n")};
    trail_entry e = {0};
    e.ts_ns = TS;
    e.level = TRAIL_INFO;
    e.logger = "a logger";
    e.msg = "m";
    e.msg_len = 1;
    e.fields = f;
    e.nfields = 3;
    CHECK_INT(trail__syslog_render(&b, &hd, &e, "m\n", 2, 100), ==, 0);
    trail_buf_put(&b, "", 1);
    CHECK_INT(strlen("app_name_that_is_far_too_long_for_the_forty-eigh"), ==, 48); /* APP-NAME limit */
    CHECK_STR(b.data, "<30>1 2026-11-28T20:59:58.123456Z my_host app_name_that_is_far_too_long_for_the_forty-eigh 7 "
                      "a_logger [trail@32473 bad_key___=\"v\xef\xbf\xbd\" pi=\"3.5\" n=\"\"] m");
    trail_buf_free(&b);
}

TEST(bad_options_are_clear_errors) {
    trail_handler *h = NULL;
    trail_syslog_opts o = {.transport = TRAIL_SYSLOG_UDP};
    CHECK_INT(trail_handler_syslog(&h, &o), ==, -EINVAL);
    CHECK_CONTAINS(trail_last_error(), "host:port");
    o.address = "no-port";
    CHECK_INT(trail_handler_syslog(&h, &o), ==, -EINVAL);
    CHECK_CONTAINS(trail_last_error(), "no-port");
    o.address = "127.0.0.1:514";
    o.facility = 24;
    CHECK_INT(trail_handler_syslog(&h, &o), ==, -EINVAL);
    CHECK_INT(trail_handler_syslog(NULL, &o), ==, -EINVAL);
}

TEST(structured_data_is_optional) {
    int port;
    int rx = listen_on(SOCK_DGRAM, &port);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    trail_syslog_opts o = {.transport = TRAIL_SYSLOG_UDP, .address = addr, .app_name = "a", .no_structured_data = 1};
    trail_handler *h = NULL;
    CHECK_INT(trail_handler_syslog(&h, &o), ==, 0);
    trail_handler_set_formatter(h, trail_formatter_json()); /* fields in the message instead */
    log_entry(h, "x", TRAIL_INFO, "order placed", fields, 4, ctx, 1);
    trail__handler_flush(h);
    char *m = recv_dgram(rx);
    parsed p;
    parse(m, &p);
    CHECK_STR(p.sd, "-");
    CHECK(p.msg[0] == '{');
    CHECK_CONTAINS(p.msg, "\"order_id\":\"A1\"");
    CHECK_CONTAINS(p.msg, "\"message\":\"order placed\"");
    free(m);
    trail_handler_release(h);
    close(rx);
}

/* /dev/log served as a stream socket: messages are NUL-terminated. */
TEST(unix_stream_socket_fallback) {
    char path[1100];
    snprintf(path, sizeof path, "%s/stream.sock", test_tmpdir());
    int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un un = {0};
    un.sun_family = AF_UNIX;
    CHECK(strlen(path) < sizeof un.sun_path);
    memcpy(un.sun_path, path, strlen(path) + 1);
    CHECK_INT(bind(ls, (struct sockaddr *)&un, sizeof un), ==, 0);
    CHECK_INT(listen(ls, 4), ==, 0);
    trail_syslog_opts o = {.transport = TRAIL_SYSLOG_UNIX, .address = path, .app_name = "app"};
    trail_handler *h = NULL;
    CHECK_INT(trail_handler_syslog(&h, &o), ==, 0);
    log_entry(h, "svc", TRAIL_INFO, "one\ntwo", NULL, 0, NULL, 0);
    log_entry(h, "svc", TRAIL_INFO, "three", NULL, 0, NULL, 0);
    CHECK_INT(trail__handler_flush(h), ==, 0);
    CHECK(wait_readable(ls, 5000));
    int c = accept(ls, NULL, NULL);
    char buf[1024];
    size_t got = 0, nuls = 0;
    while (nuls < 2 && got < sizeof buf && wait_readable(c, 5000)) {
        ssize_t n = recv(c, buf + got, sizeof buf - got, 0);
        if (n <= 0) break;
        for (ssize_t i = 0; i < n; i++) nuls += buf[got + (size_t)i] == 0;
        got += (size_t)n;
    }
    CHECK_INT(nuls, ==, 2);
    CHECK(got > 0 && buf[got - 1] == 0);
    parsed p;
    parse(buf, &p);
    CHECK_STR(p.msg, "one\\ntwo");
    parse(buf + strlen(buf) + 1, &p);
    CHECK_STR(p.msg, "three");
    CHECK_INT(strlen(buf) + 1 + strlen(buf + strlen(buf) + 1) + 1, ==, got);
    trail_handler_release(h);
    close(c);
    close(ls);
}

/* A forked child opens its own TCP connection, so the frames of parent and
 * child never interleave on one stream, and it does not resend the parent's
 * unsent messages. */
TEST(forked_child_uses_its_own_connection) {
    int port;
    int ls = listen_on(SOCK_STREAM, &port);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    trail_syslog_opts o = {.transport = TRAIL_SYSLOG_TCP, .address = addr};
    trail_handler *h = NULL;
    CHECK_INT(trail_handler_syslog(&h, &o), ==, 0);
    log_entry(h, "", TRAIL_INFO, "parent-1", NULL, 0, NULL, 0);
    CHECK_INT(trail__handler_flush(h), ==, 0);
    int c1 = accept(ls, NULL, NULL);
    log_entry(h, "", TRAIL_INFO, "unsent-at-fork", NULL, 0, NULL, 0);
    pid_t pid = fork();
    if (pid == 0) {
        log_entry(h, "", TRAIL_INFO, "child", NULL, 0, NULL, 0);
        _exit(trail__handler_flush(h) == 0 ? 0 : 1);
    }
    int st = 0;
    CHECK_INT(waitpid(pid, &st, 0), ==, pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(wait_readable(ls, 5000));
    int c2 = accept(ls, NULL, NULL);
    char *m = recv_frame(c2);
    CHECK_CONTAINS(m, " child");
    free(m);
    char x;
    CHECK(wait_readable(c2, 5000));
    CHECK_INT(recv(c2, &x, 1, 0), ==, 0); /* the child exited; nothing of the parent's came */
    CHECK_INT(trail__handler_flush(h), ==, 0);
    char *m1 = recv_frame(c1), *m2 = recv_frame(c1);
    CHECK_CONTAINS(m1, " parent-1");
    CHECK_CONTAINS(m2, " unsent-at-fork");
    free(m1), free(m2);
    trail_handler_release(h);
    close(c1), close(c2), close(ls);
}
