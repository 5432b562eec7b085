/* handler_syslog.c — RFC 5424 messages to /dev/log (unix datagrams), UDP
 * (RFC 5426) or TCP with octet-counting framing (RFC 6587).
 *
 * Messages are rendered in write() and sent in flush(): one send() per
 * datagram, one write for a whole batch on TCP. A broken or refused
 * connection is closed and reopened at a later batch (at most once per
 * RECONNECT_NS); meanwhile up to PENDING_MAX bytes wait, newer messages are
 * dropped and counted. A TCP frame is either sent whole on one connection or
 * sent again whole on the next, so the receiver never sees a torn frame. */
#include "core_impl.h"
#include "fork_gen.h"
#include "handler_impl.h"
#include "syslog_format.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define DGRAM_MAX_MSG 8192          /* rsyslog's default maximum message size */
#define TCP_MAX_MSG (64 * 1024)
#define PENDING_MAX (1024u * 1024)
#define RECONNECT_NS 1000000000LL   /* at most one connection attempt a second */
#define IO_TIMEOUT_MS 1000          /* a stuck receiver delays a batch at most this long */

typedef struct syslog_handler {
    trail_handler base;
    trail_syslog_opts opts;
    char *address;
    char *app_name;                 /* NULL: the service name at write time */
    struct sockaddr_storage addr;
    socklen_t addrlen;
    int fd;
    int64_t next_connect_ns;
    trail_buf pending;              /* TCP: frames; unix/UDP: [u32 len][message]['\0']... */
    int unix_stream;                /* /dev/log is a stream socket: NUL-terminated messages */
    trail_buf msg;                  /* scratch for one message */
    int failing;
    unsigned fork_gen;              /* a forked child gets its own socket, not the parent's messages */
    unsigned long long dropped;
    char report_key[64];
} syslog_handler;

/* "host:port" or "[v6]:port" -> addr. */
static int resolve(syslog_handler *s) {
    const char *a = s->address;
    if (s->opts.transport == TRAIL_SYSLOG_UNIX) {
        struct sockaddr_un *un = (struct sockaddr_un *)&s->addr;
        if (strlen(a) >= sizeof un->sun_path) return -ENAMETOOLONG;
        un->sun_family = AF_UNIX;
        strcpy(un->sun_path, a);
        s->addrlen = (socklen_t)sizeof *un;
        return 0;
    }
    char host[256];
    const char *colon = strrchr(a, ':');
    if (!colon || colon == a || !colon[1]) return -EINVAL;
    size_t hl = (size_t)(colon - a);
    if (a[0] == '[' && hl >= 2 && a[hl - 1] == ']') a++, hl -= 2;
    if (hl >= sizeof host) return -EINVAL;
    memcpy(host, a, hl);
    host[hl] = 0;
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_socktype = s->opts.transport == TRAIL_SYSLOG_TCP ? SOCK_STREAM : SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICSERV;
    int rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc != 0 || !res) return -EINVAL;
    memcpy(&s->addr, res->ai_addr, res->ai_addrlen);
    s->addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

/* Connects with a bounded wait (the writer must not hang on a SYN). */
static int connect_socket(syslog_handler *s) {
    int type = s->opts.transport == TRAIL_SYSLOG_TCP || s->unix_stream ? SOCK_STREAM : SOCK_DGRAM;
    int fd = socket(s->addr.ss_family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -errno;
    int rc = connect(fd, (struct sockaddr *)&s->addr, s->addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
        struct pollfd p = {fd, POLLOUT, 0};
        int err = 0;
        socklen_t len = sizeof err;
        if (poll(&p, 1, IO_TIMEOUT_MS) != 1) err = ETIMEDOUT;
        else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        rc = err ? -1 : 0;
        errno = err;
    }
    if (rc != 0) {
        int err = -errno;
        close(fd);
        /* Some systems serve /dev/log as a stream socket (as glibc's syslog()
         * also allows): use it with NUL-terminated messages. */
        if (err == -EPROTOTYPE && s->opts.transport == TRAIL_SYSLOG_UNIX && !s->unix_stream) {
            s->unix_stream = 1;
            return connect_socket(s);
        }
        return err;
    }
    /* Blocking sends with a timeout from here on. */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    struct timeval tv = {IO_TIMEOUT_MS / 1000, (IO_TIMEOUT_MS % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    s->fd = fd;
    return 0;
}

static void disconnect(syslog_handler *s) {
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
}

static void on_error(syslog_handler *s, int err, const char *what) {
    trail__stat_add(TRAIL__STAT_WRITE_ERRORS, 1);
    if (!s->failing)
        trail__report_once(s->report_key,
                           "syslog %s %s: %s — retrying; up to %u KiB are kept, later messages dropped and counted",
                           what, s->address, trail_strerror(err), PENDING_MAX / 1024);
    s->failing = 1;
}

/* The peer closed the TCP connection (e.g. the server restarted): noticed
 * before sending, so the batch goes to a new connection instead of being
 * accepted by the kernel and lost. */
static int tcp_peer_closed(int fd) {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 0) != 1) return 0;
    if (p.revents & (POLLERR | POLLHUP)) return 1;
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static int ensure_connected(syslog_handler *s) {
    if (s->fd >= 0 && s->opts.transport == TRAIL_SYSLOG_TCP && tcp_peer_closed(s->fd)) disconnect(s);
    if (s->fd >= 0) return 0;
    int64_t now = trail__now_ns();
    if (now < s->next_connect_ns) return -EAGAIN;
    int rc = connect_socket(s);
    if (rc < 0) {
        s->next_connect_ns = now + RECONNECT_NS;
        on_error(s, rc, "cannot connect to");
    }
    return rc;
}

/* Start of the TCP frame that holds byte `off` of the pending buffer. */
static size_t frame_start(const trail_buf *p, size_t off) {
    size_t pos = 0;
    while (pos < p->len) {
        size_t len = 0, i = pos;
        while (i < p->len && p->data[i] != ' ') len = len * 10 + (size_t)(p->data[i++] - '0');
        size_t end = i + 1 + len;
        if (off < end) return pos;
        pos = end;
    }
    return pos;
}

static int flush_tcp(syslog_handler *s) {
    trail_buf *p = &s->pending;
    size_t off = 0;
    int rc = 0;
    while (off < p->len) {
        ssize_t n = send(s->fd, p->data + off, p->len - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            rc = n < 0 ? -errno : -EPIPE;
            break;
        }
        off += (size_t)n;
    }
    size_t done = off;
    if (rc < 0) {
        /* The connection is unusable: the frame it broke in goes again, whole. */
        done = frame_start(p, off);
        disconnect(s);
        s->next_connect_ns = 0;
        on_error(s, rc, "cannot send to");
    }
    trail__stat_add(TRAIL__STAT_BYTES, done);
    memmove(p->data, p->data + done, p->len - done);
    p->len -= done;
    return rc;
}

static int flush_dgram(syslog_handler *s) {
    trail_buf *p = &s->pending;
    size_t pos = 0;
    int rc = 0;
    while (pos < p->len) {
        uint32_t len;
        memcpy(&len, p->data + pos, sizeof len);
        const char *m = p->data + pos + sizeof len;
        ssize_t n;
        if (s->unix_stream) { /* the message and its NUL, whole */
            size_t sent = 0;
            n = 1;
            while (sent < (size_t)len + 1) {
                n = send(s->fd, m + sent, len + 1 - sent, MSG_NOSIGNAL);
                if (n > 0) sent += (size_t)n;
                else if (n < 0 && errno == EINTR) continue;
                else break;
            }
            if (n == 0) errno = EPIPE, n = -1;
        } else {
            n = send(s->fd, m, len, MSG_NOSIGNAL);
        }
        if (n < 0 && errno == EINTR && !s->unix_stream) continue;
        if (n < 0) {
            rc = -errno;
            /* The daemon restarted (/dev/log re-created) or a UDP port
             * answered "refused": reconnect and send this one again later. */
            disconnect(s);
            s->next_connect_ns = 0;
            on_error(s, rc, "cannot send to");
            break;
        }
        trail__stat_add(TRAIL__STAT_BYTES, len);
        pos += sizeof len + len + 1;
    }
    memmove(p->data, p->data + pos, p->len - pos);
    p->len -= pos;
    return rc;
}

static void check_fork(syslog_handler *s) {
    if (TRAIL_LIKELY(s->fork_gen == trail__fork_generation())) return;
    s->fork_gen = trail__fork_generation();
    s->pending.len = 0;
    disconnect(s); /* closes only the child's copy; frames never interleave on one connection */
    s->next_connect_ns = 0;
}

static int syslog_flush(trail_handler *h) {
    syslog_handler *s = (syslog_handler *)h;
    check_fork(s);
    if (!s->pending.len) return 0;
    int rc = ensure_connected(s);
    if (rc < 0) return rc;
    rc = s->opts.transport == TRAIL_SYSLOG_TCP ? flush_tcp(s) : flush_dgram(s);
    if (rc == 0 && s->failing) {
        s->failing = 0;
        trail__report_clear(s->report_key);
        if (s->dropped) {
            static const char key[] = "trail.syslog.recovered";
            trail__report_once(key, "syslog %s reachable again; %llu messages were dropped", s->address, s->dropped);
            trail__report_clear(key);
            s->dropped = 0;
        }
    }
    return rc;
}

static int syslog_write(trail_handler *h, const trail_entry *e, const char *line, size_t len) {
    syslog_handler *s = (syslog_handler *)h;
    check_fork(s);
    const trail_resource *r = trail_resource_get();
    trail__syslog_header hd = {s->opts.facility, r->hostname, s->app_name ? s->app_name : r->service, r->pid,
                               s->opts.no_structured_data};
    int tcp = s->opts.transport == TRAIL_SYSLOG_TCP;
    s->msg.len = 0;
    if (trail__syslog_render(&s->msg, &hd, e, line, len, tcp ? TCP_MAX_MSG : DGRAM_MAX_MSG) != 0) return -ENOMEM;
    char prefix[24];
    size_t plen;
    if (tcp) {
        plen = (size_t)snprintf(prefix, sizeof prefix, "%zu ", s->msg.len);
    } else {
        uint32_t n = (uint32_t)s->msg.len;
        memcpy(prefix, &n, sizeof n);
        plen = sizeof n;
    }
    if (s->pending.len && s->pending.len + plen + s->msg.len + 1 > PENDING_MAX) {
        s->dropped++;
        return 0;
    }
    size_t before = s->pending.len;
    if (trail_buf_put(&s->pending, prefix, plen) || trail_buf_put(&s->pending, s->msg.data, s->msg.len) ||
        (!tcp && trail_buf_put(&s->pending, "", 1))) {
        s->pending.len = before; /* no half record */
        s->dropped++;
        return -ENOMEM;
    }
    if (!s->failing && s->pending.len >= 256 * 1024) syslog_flush(h);
    return 0;
}

static void syslog_reopen(trail_handler *h) {
    syslog_handler *s = (syslog_handler *)h;
    disconnect(s);
    s->next_connect_ns = 0;
}

static void syslog_destroy(trail_handler *h) {
    syslog_handler *s = (syslog_handler *)h;
    disconnect(s);
    trail__report_clear(s->report_key);
    trail_buf_free(&s->pending);
    trail_buf_free(&s->msg);
    free(s->address);
    free(s->app_name);
}

static const struct trail_handler_ops syslog_ops = {
    .write = syslog_write, .flush = syslog_flush, .reopen = syslog_reopen, .destroy = syslog_destroy};

/* Default formatter: the message text only (fields go to structured data). */
static int message_only(const trail_entry *e, trail_buf *out, void *ud) {
    (void)ud;
    if (e->msg_len && trail_buf_put(out, e->msg, e->msg_len)) return -ENOMEM;
    return trail_buf_put(out, "\n", 1);
}

int trail_handler_syslog(trail_handler **out, const trail_syslog_opts *opts) {
    if (!out) return trail__error(-EINVAL, "trail_handler_syslog: out is required");
    *out = NULL;
    trail_syslog_opts o = {0};
    if (opts) o = *opts;
    if (o.transport > TRAIL_SYSLOG_TCP)
        return trail__error(-EINVAL, "trail_handler_syslog: unknown transport %d", (int)o.transport);
    if (o.facility == 0) o.facility = 1; /* 0 (kern) is not for applications: the default, user */
    if (o.facility < 0 || o.facility > 23)
        return trail__error(-EINVAL, "trail_handler_syslog: facility %d is outside 0..23", o.facility);
    if (o.transport != TRAIL_SYSLOG_UNIX && (!o.address || !*o.address))
        return trail__error(-EINVAL, "trail_handler_syslog: UDP and TCP need an address \"host:port\"");
    syslog_handler *s = (syslog_handler *)trail__handler_new(sizeof *s, &syslog_ops,
                                                             trail_formatter_custom(message_only, NULL, NULL));
    if (!s) return trail__error(-ENOMEM, "trail_handler_syslog: out of memory");
    s->fd = -1;
    s->opts = o;
    trail__fork_gen_init();
    s->fork_gen = trail__fork_generation();
    s->address = strdup(o.address && *o.address ? o.address : "/dev/log");
    s->app_name = o.app_name && *o.app_name ? strdup(o.app_name) : NULL;
    s->opts.address = NULL;
    s->opts.app_name = NULL;
    snprintf(s->report_key, sizeof s->report_key, "trail.syslog:%p", (void *)s);
    int rc = s->address ? resolve(s) : -ENOMEM;
    if (rc < 0) {
        rc = trail__error(rc, "trail_handler_syslog: bad address \"%s\" — want %s", s->address,
                          o.transport == TRAIL_SYSLOG_UNIX ? "a unix socket path" : "host:port, e.g. 127.0.0.1:514");
        trail_handler_release(&s->base);
        return rc;
    }
    /* Not fatal: the daemon may start later; the first batch retries. */
    ensure_connected(s);
    *out = &s->base;
    return 0;
}
