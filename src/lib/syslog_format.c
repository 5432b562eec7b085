/* syslog_format.c — renders an entry as an RFC 5424 message. Every header
 * field is sanitised (printable US-ASCII, RFC length), structured-data values
 * escape '"', '\' and ']', and the message escapes control characters, so
 * no byte an application logs can end a message or forge another. */
#include "syslog_format.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int trail__syslog_severity(int level) {
    if (level >= TRAIL_CRITICAL) return 2;
    if (level >= TRAIL_ERROR) return 3;
    if (level >= TRAIL_WARNING) return 4;
    if (level >= TRAIL_SUCCESS) return 5; /* notice */
    if (level >= TRAIL_INFO) return 6;
    return 7;
}

static int put(trail_buf *b, const char *s, size_t n) { return trail_buf_put(b, s, n); }
static int puts_(trail_buf *b, const char *s) { return put(b, s, strlen(s)); }

/* PRINTUSASCII (33..126) only, at most max chars; "-" when empty. For
 * PARAM-NAMEs (sd_name) '=', ']' and '"' are also replaced. */
static int put_token(trail_buf *b, const char *s, size_t max, int sd_name) {
    size_t n = 0;
    for (; s && s[n] && n < max; n++) {
        unsigned char c = (unsigned char)s[n];
        int ok = c >= 33 && c <= 126 && !(sd_name && (c == '=' || c == ']' || c == '"'));
        char r = ok ? (char)c : '_';
        if (put(b, &r, 1)) return -1;
    }
    return n ? 0 : put(b, "-", 1);
}

/* Length of the valid UTF-8 sequence at s (1..4), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n) {
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    size_t len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
    if (!len || len > n) return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80) return 0;
    if (len == 3 && c == 0xe0 && s[1] < 0xa0) return 0;  /* overlong */
    if (len == 3 && c == 0xed && s[1] >= 0xa0) return 0; /* surrogate */
    if (len == 4 && c == 0xf0 && s[1] < 0x90) return 0;  /* overlong */
    if (len == 4 && c == 0xf4 && s[1] >= 0x90) return 0; /* > U+10FFFF */
    return len;
}

/* Appends text as valid UTF-8 with control characters escaped; sd also
 * escapes '"', '\' and ']' (RFC 5424 PARAM-VALUE). Stops before max bytes
 * of output are reached. */
static int put_text(trail_buf *b, const char *s, size_t n, int sd, size_t max) {
    const unsigned char *p = (const unsigned char *)s;
    size_t start = b->len;
    for (size_t i = 0; i < n;) {
        char esc[8];
        const char *out = esc;
        size_t olen;
        unsigned char c = p[i];
        size_t l = utf8_len(p + i, n - i);
        if (c == '\n') out = "\\n", olen = 2, l = 1;
        else if (c == '\r') out = "\\r", olen = 2, l = 1;
        else if (c == '\t') out = "\\t", olen = 2, l = 1;
        else if (c < 0x20 || c == 0x7f) olen = (size_t)snprintf(esc, sizeof esc, "\\x%02x", c), l = 1;
        else if (sd && (c == '"' || c == '\\' || c == ']')) esc[0] = '\\', esc[1] = (char)c, olen = 2;
        else if (l == 0) out = "\xef\xbf\xbd", olen = 3, l = 1; /* U+FFFD */
        else out = (const char *)p + i, olen = l;
        if (b->len - start + olen > max) break;
        if (put(b, out, olen)) return -1;
        i += l;
    }
    return 0;
}

static int put_field_value(trail_buf *b, const trail_field *f) {
    char num[64];
    switch (f->type) {
    case TRAIL_T_STR:
    case TRAIL_T_JSON: {
        const char *s = f->v.s ? f->v.s : "";
        size_t n = f->len == TRAIL_LEN_CSTR ? strlen(s) : f->len;
        return put_text(b, s, f->v.s ? n : 0, 1, 8192);
    }
    case TRAIL_T_I64:
    case TRAIL_T_DURATION: snprintf(num, sizeof num, "%" PRId64, f->v.i); break;
    case TRAIL_T_U64: snprintf(num, sizeof num, "%" PRIu64, f->v.u); break;
    case TRAIL_T_F64: snprintf(num, sizeof num, "%.17g", f->v.d); break;
    case TRAIL_T_BOOL: snprintf(num, sizeof num, "%s", f->v.i ? "true" : "false"); break;
    case TRAIL_T_NULL: return 0;
    case TRAIL_T_ERRNO:
        snprintf(num, sizeof num, "%s (errno %d)", trail_strerror((int)f->v.i), (int)f->v.i);
        return put_text(b, num, strlen(num), 1, sizeof num);
    case TRAIL_T_TIME: {
        time_t t = (time_t)(f->v.i / 1000000000);
        struct tm tm;
        gmtime_r(&t, &tm);
        size_t k = strftime(num, sizeof num, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(num + k, sizeof num - k, ".%03dZ", (int)((f->v.i / 1000000) % 1000 + 1000) % 1000);
        break;
    }
    case TRAIL_T_BYTES: {
        static const char hex[] = "0123456789abcdef";
        const unsigned char *p = f->v.p;
        for (uint32_t i = 0; p && i < f->len && i < 4096; i++) {
            char h2[2] = {hex[p[i] >> 4], hex[p[i] & 15]};
            if (put(b, h2, 2)) return -1;
        }
        return 0;
    }
    default: return 0;
    }
    return puts_(b, num);
}

static int put_params(trail_buf *b, const trail_field *f, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (put(b, " ", 1) || put_token(b, f[i].key, 32, 1) || put(b, "=\"", 2) || put_field_value(b, &f[i]) ||
            put(b, "\"", 1))
            return -1;
    }
    return 0;
}

int trail__syslog_render(trail_buf *out, const trail__syslog_header *h, const trail_entry *e, const char *msg,
                         size_t msg_len, size_t max_msg) {
    char head[96];
    int facility = h->facility >= 0 && h->facility <= 23 ? h->facility : 1;
    int64_t ts = e->ts_ns;
    time_t secs = (time_t)(ts / 1000000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char stamp[40];
    size_t k = strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(stamp + k, sizeof stamp - k, ".%06dZ", (int)((ts / 1000) % 1000000 + 1000000) % 1000000);
    snprintf(head, sizeof head, "<%d>1 %s ", facility * 8 + trail__syslog_severity(e->level), stamp);
    if (puts_(out, head) || put_token(out, h->hostname, 255, 0) || put(out, " ", 1) ||
        put_token(out, h->app_name, 48, 0))
        return -1;
    snprintf(head, sizeof head, " %d ", h->pid);
    if (puts_(out, head) || put_token(out, e->logger, 32, 0) || put(out, " ", 1)) return -1;
    if (!h->no_sd && (e->nfields || e->nctx)) {
        if (puts_(out, "[" TRAIL_SYSLOG_SD_ID) || put_params(out, e->ctx, e->nctx) ||
            put_params(out, e->fields, e->nfields) || put(out, "]", 1))
            return -1;
    } else if (put(out, "-", 1)) {
        return -1;
    }
    while (msg_len && (msg[msg_len - 1] == '\n' || msg[msg_len - 1] == '\r')) msg_len--;
    if (!msg_len) return 0;
    if (put(out, " ", 1)) return -1;
    return put_text(out, msg, msg_len, 0, max_msg);
}
