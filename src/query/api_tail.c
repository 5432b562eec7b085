/* api_tail.c — GET /loki/api/v1/tail: live entries of a log query.
 *
 * Like Loki, a client that asks for a WebSocket upgrade gets one, and each
 * text frame is {"streams":[...],"dropped_entries":null}. A plain HTTP
 * client (curl) gets the same messages as a chunked stream, one JSON object
 * per line; a blank line is a keep-alive.
 *
 * The tail polls the source every 500 ms for entries newer than the last
 * one sent (ties at the same nanosecond are remembered, so nothing is sent
 * twice). It follows entry timestamps: an entry that arrives later with a
 * timestamp older than what was already sent is not shown.
 */
#include <errno.h>
#include <openssl/sha.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "api_impl.h"

#define POLL_MS 500
#define KEEPALIVE_MS 10000
#define MAX_BATCH 1000

typedef struct tail {
    tq_api *api;
    tq_query *q;
    size_t limit;
    int64_t start;      /* first poll: from here, newest `limit` entries */
    int64_t last_ts;    /* newest timestamp sent */
    uint64_t *seen;     /* hashes of entries sent at last_ts */
    size_t nseen, seencap;
    bool first;
    tq_buf pending;     /* rendered, not yet written (chunked mode) */
    size_t pending_off;
    int idle_ms;
} tail;

static uint64_t entry_hash(const tq_stream *s, size_t k) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < s->nlabels; i++) {
        for (const char *p = s->labels[i].name; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
        for (const char *p = s->labels[i].value; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
        h = (h ^ 0xff) * 1099511628211ull;
    }
    for (size_t i = 0; i < s->lens[k]; i++) h = (h ^ (unsigned char)s->lines[k][i]) * 1099511628211ull;
    return h;
}

static bool seen_has(const tail *t, uint64_t h) {
    for (size_t i = 0; i < t->nseen; i++)
        if (t->seen[i] == h) return true;
    return false;
}

static void seen_add(tail *t, uint64_t h) {
    if (t->nseen == t->seencap) {
        t->seencap = t->seencap ? t->seencap * 2 : 16;
        t->seen = realloc(t->seen, t->seencap * sizeof *t->seen);
        if (!t->seen) abort();
    }
    t->seen[t->nseen++] = h;
}

/* Renders new entries as one tail message into out; returns entries added. */
static size_t tail_poll(tail *t, tq_buf *out) {
    tq_params p = {.end = api_now_ns() + 3600LL * 1000000000LL, .limit = t->first ? t->limit : MAX_BATCH,
                   .backward = t->first};
    p.start = t->first ? t->start : t->last_ts;
    if (p.end < p.start) return 0;
    tq_result *res;
    char err[256];
    if (tq_eval(t->q, &p, &t->api->src, &res, err, sizeof err) < 0) return 0;
    t->first = false;
    size_t added = 0;
    int64_t newest = t->last_ts;
    tq_buf msg = {0};
    tq_buf_puts(&msg, "{\"streams\":[");
    size_t nstreams = 0;
    for (size_t i = 0; i < res->nstreams; i++) {
        tq_stream *s = &res->streams[i];
        size_t shown = 0;
        for (size_t k = 0; k < s->n; k++) {
            size_t kk = p.backward ? s->n - 1 - k : k; /* send oldest first */
            if (s->ts[kk] < t->last_ts) continue;
            uint64_t h = entry_hash(s, kk);
            if (s->ts[kk] == t->last_ts && seen_has(t, h)) continue;
            if (!shown++) {
                if (nstreams++) tq_buf_putc(&msg, ',');
                tq_buf_puts(&msg, "{\"stream\":");
                api_render_labels(s->labels, s->nlabels, &msg);
                tq_buf_puts(&msg, ",\"values\":[");
            } else {
                tq_buf_putc(&msg, ',');
            }
            tq_buf_printf(&msg, "[\"%lld\",", (long long)s->ts[kk]);
            tq_buf_json_str(&msg, s->lines[kk], s->lens[kk]);
            tq_buf_putc(&msg, ']');
            if (s->ts[kk] > newest) newest = s->ts[kk];
            added++;
        }
        if (shown) tq_buf_puts(&msg, "]}");
    }
    tq_buf_puts(&msg, "],\"dropped_entries\":null}");
    if (added) {
        /* Remember what was sent at the newest timestamp. */
        if (newest != t->last_ts) t->nseen = 0;
        for (size_t i = 0; i < res->nstreams; i++) {
            tq_stream *s = &res->streams[i];
            for (size_t k = 0; k < s->n; k++)
                if (s->ts[k] == newest && !seen_has(t, entry_hash(s, k))) seen_add(t, entry_hash(s, k));
        }
        t->last_ts = newest;
        tq_buf_add(out, msg.p, msg.len);
    }
    tq_buf_free(&msg);
    tq_result_free(res);
    return added;
}

static void tail_free(void *cls) {
    tail *t = cls;
    tq_query_free(t->q);
    free(t->seen);
    tq_buf_free(&t->pending);
    free(t);
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------ chunked */

static ssize_t chunk_reader(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    tail *t = cls;
    for (;;) {
        if (atomic_load(&t->api->stopping)) return MHD_CONTENT_READER_END_OF_STREAM;
        if (t->pending_off < t->pending.len) {
            size_t n = t->pending.len - t->pending_off;
            if (n > max) n = max;
            memcpy(buf, t->pending.p + t->pending_off, n);
            t->pending_off += n;
            return (ssize_t)n;
        }
        t->pending.len = t->pending_off = 0;
        if (tail_poll(t, &t->pending)) {
            tq_buf_putc(&t->pending, '\n');
            t->idle_ms = 0;
            continue;
        }
        if (t->idle_ms >= KEEPALIVE_MS) {
            /* A keep-alive also finds out when the client has gone. */
            t->idle_ms = 0;
            buf[0] = '\n';
            return 1;
        }
        sleep_ms(POLL_MS);
        t->idle_ms += POLL_MS;
    }
}

/* ------------------------------------------------------------ websocket */

static int ws_send_all(int fd, const char *p, size_t n, tq_api *api) {
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) { p += w; n -= (size_t)w; continue; }
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            if (atomic_load(&api->stopping)) return -1;
            struct pollfd pf = {fd, POLLOUT, 0};
            poll(&pf, 1, 200);
            continue;
        }
        return -1;
    }
    return 0;
}

static int ws_frame(int fd, int opcode, const char *p, size_t n, tq_api *api) {
    unsigned char h[10];
    size_t hl = 2;
    h[0] = (unsigned char)(0x80 | opcode);
    if (n < 126) h[1] = (unsigned char)n;
    else if (n < 65536) { h[1] = 126; h[2] = (unsigned char)(n >> 8); h[3] = (unsigned char)n; hl = 4; }
    else {
        h[1] = 127;
        for (int i = 0; i < 8; i++) h[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
        hl = 10;
    }
    if (ws_send_all(fd, (const char *)h, hl, api) < 0) return -1;
    return ws_send_all(fd, p, n, api);
}

/* Reads what the client sent; returns -1 when the socket should close.
 * Only control frames matter: close ends the tail, ping gets a pong. */
static int ws_read(int fd, tq_buf *in, tq_api *api) {
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) return -1;
    if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -1;
    if (in->len + (size_t)n > 1 << 20) return -1; /* clients send control frames only */
    tq_buf_add(in, buf, (size_t)n);
    for (;;) {
        const unsigned char *p = (const unsigned char *)in->p;
        if (in->len < 2) return 0;
        uint64_t len = p[1] & 0x7f;
        size_t hl = 2;
        if (len == 126) { if (in->len < 4) return 0; len = (uint64_t)p[2] << 8 | p[3]; hl = 4; }
        else if (len == 127) {
            if (in->len < 10) return 0;
            len = 0;
            for (int i = 0; i < 8; i++) len = len << 8 | p[2 + i];
            hl = 10;
        }
        int masked = p[1] & 0x80;
        if (masked) hl += 4;
        if (len > (1 << 20)) return -1;
        if (in->len < hl + len) return 0;
        int op = p[0] & 0x0f;
        char payload[126];
        size_t pl = len < sizeof payload ? (size_t)len : sizeof payload;
        for (size_t i = 0; i < pl; i++) payload[i] = (char)(p[hl + i] ^ (masked ? p[hl - 4 + (i & 3)] : 0));
        memmove(in->p, in->p + hl + len, in->len - hl - (size_t)len);
        in->len -= hl + (size_t)len;
        if (op == 0x8) {
            ws_frame(fd, 0x8, payload, pl >= 2 ? 2 : 0, api);
            return -1;
        }
        if (op == 0x9 && ws_frame(fd, 0xA, payload, pl, api) < 0) return -1;
    }
}

static void ws_run(void *cls, struct MHD_Connection *c, void *con_cls, const char *extra, size_t extra_len,
                   MHD_socket sock, struct MHD_UpgradeResponseHandle *urh) {
    (void)c;
    (void)con_cls;
    tail *t = cls;
    tq_buf in = {0};
    if (extra_len) tq_buf_add(&in, extra, extra_len);
    tq_buf msg = {0};
    int idle = 0;
    while (!atomic_load(&t->api->stopping)) {
        msg.len = 0;
        if (tail_poll(t, &msg)) {
            if (ws_frame(sock, 0x1, msg.p, msg.len, t->api) < 0) break;
            idle = 0;
        } else if ((idle += POLL_MS) >= KEEPALIVE_MS) {
            if (ws_frame(sock, 0x9, "", 0, t->api) < 0) break;
            idle = 0;
        }
        struct pollfd pf = {sock, POLLIN, 0};
        if (poll(&pf, 1, POLL_MS) > 0 && ws_read(sock, &in, t->api) < 0) break;
    }
    tq_buf_free(&msg);
    tq_buf_free(&in);
    tail_free(t);
    MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
}

static void ws_accept_key(const char *key, char out[32]) {
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    char buf[256];
    snprintf(buf, sizeof buf, "%s%s", key, guid);
    unsigned char sha[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)buf, strlen(buf), sha);
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < 20; i += 3) {
        unsigned v = (unsigned)sha[i] << 16 | (i + 1 < 20 ? (unsigned)sha[i + 1] << 8 : 0) | (i + 2 < 20 ? sha[i + 2] : 0);
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = i + 1 < 20 ? b64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < 20 ? b64[v & 63] : '=';
    }
    out[o] = 0;
}

/* ------------------------------------------------------------ handler */

void api_tail(api_req *r, api_resp *o) {
    const char *qs = api_param(r, "query");
    if (!qs || !*qs) {
        api_text(o, 400, "query parameter is required");
        return;
    }
    tail *t = calloc(1, sizeof *t);
    if (!t) { api_text(o, 500, "out of memory"); return; }
    t->api = r->api;
    t->first = true;
    t->limit = 100;
    char err[512];
    if (tq_parse(qs, &t->q, err, sizeof err) < 0) {
        api_text(o, 400, "%s", err);
        free(t);
        return;
    }
    if (tq_query_is_metric(t->q)) {
        api_text(o, 400, "tail needs a log query, not a metric query");
        tail_free(t);
        return;
    }
    const char *s;
    if ((s = api_param(r, "limit"))) {
        long v = strtol(s, NULL, 10);
        if (v <= 0 || (size_t)v > r->api->cfg.max_query_limit) {
            api_text(o, 400, "limit must be between 1 and %zu", r->api->cfg.max_query_limit);
            tail_free(t);
            return;
        }
        t->limit = (size_t)v;
    }
    t->start = api_now_ns() - 3600LL * 1000000000LL;
    if ((s = api_param(r, "start")) && api_parse_time(s, &t->start) < 0) {
        api_text(o, 400, "invalid parameter \"start\": cannot parse \"%.64s\" as a timestamp", s);
        tail_free(t);
        return;
    }
    t->last_ts = t->start;
    const char *up = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_UPGRADE);
    const char *key = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Sec-WebSocket-Key");
    if (up && strcasecmp(up, "websocket") == 0) {
        if (!key || strlen(key) > 64) {
            api_text(o, 400, "websocket upgrade without a valid Sec-WebSocket-Key");
            tail_free(t);
            return;
        }
        char accept[32];
        ws_accept_key(key, accept);
        struct MHD_Response *resp = MHD_create_response_for_upgrade(ws_run, t);
        if (!resp) { tail_free(t); api_text(o, 500, "upgrade failed"); return; }
        MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE, "websocket");
        MHD_add_response_header(resp, "Sec-WebSocket-Accept", accept);
        o->raw = resp;
        o->status = MHD_HTTP_SWITCHING_PROTOCOLS;
        return;
    }
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 65536, chunk_reader, t, tail_free);
    if (!resp) { tail_free(t); api_text(o, 500, "out of memory"); return; }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/x-ndjson");
    o->raw = resp;
    o->status = 200;
}
