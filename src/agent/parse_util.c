/* parse_util.c — see parse_util.h. */
#include "parse_util.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "timefmt.h"

void ta_set_level(ta_record *r, ta_arena *a, const char *s, size_t n) {
    char low[16];
    if (!n || n >= sizeof low) {
        r->level = ta_arena_strndup(a, s, n);
        return;
    }
    for (size_t i = 0; i < n; i++) low[i] = (char)tolower((unsigned char)s[i]);
    low[n] = 0;
    /* Known names point at these literals (no copy; outputs can compare
     * pointers): "warn" and "err" are spelled out. */
    static const struct { const char *name, *canon; uint8_t sev; } map[] = {
        {"info", "info", TA_SEV_INFO}, {"debug", "debug", TA_SEV_DEBUG}, {"warning", "warning", TA_SEV_WARN},
        {"error", "error", TA_SEV_ERROR}, {"trace", "trace", TA_SEV_TRACE}, {"information", "information", TA_SEV_INFO},
        {"notice", "notice", TA_SEV_INFO + 1}, {"success", "success", TA_SEV_INFO + 1}, {"warn", "warning", TA_SEV_WARN},
        {"err", "error", TA_SEV_ERROR}, {"critical", "critical", TA_SEV_FATAL}, {"crit", "crit", TA_SEV_FATAL},
        {"fatal", "fatal", TA_SEV_FATAL}, {"alert", "alert", TA_SEV_FATAL + 1}, {"emerg", "emerg", TA_SEV_FATAL + 2},
        {"panic", "panic", TA_SEV_FATAL + 2},
    };
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (strcmp(low, map[i].name) == 0) {
            r->severity = map[i].sev;
            r->level = map[i].canon;
            return;
        }
    r->severity = TA_SEV_UNKNOWN;
    if (isdigit((unsigned char)low[0])) { /* libtrail numeric levels 10..50 */
        int v = atoi(low);
        r->severity = v < 20 ? TA_SEV_DEBUG : v < 30 ? TA_SEV_INFO : v < 40 ? TA_SEV_WARN : v < 50 ? TA_SEV_ERROR : TA_SEV_FATAL;
    }
    r->level = ta_arena_strndup(a, low, n);
}

int ta_seconds_to_ns(const char *s, size_t n, int64_t *ns) {
    int64_t whole = 0, frac = 0;
    size_t i = 0;
    bool neg = false;
    if (i < n && s[i] == '-') neg = true, i++;
    size_t d0 = i;
    while (i < n && isdigit((unsigned char)s[i])) {
        whole = whole * 10 + (s[i++] - '0');
        if (whole > 9000000000LL) return -1; /* beyond int64 ns (year 2255) */
    }
    if (i == d0) return -1;
    int nd = 0;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && isdigit((unsigned char)s[i])) {
            if (nd < 9) frac = frac * 10 + (s[i] - '0'), nd++;
            i++;
        }
    }
    if (i != n) return -1;
    for (; nd < 9; nd++) frac *= 10;
    *ns = (whole * 1000000000 + frac) * (neg ? -1 : 1);
    return 0;
}

int ta_json_time(const ta_json_val *v, int64_t *ns) {
    if (v->kind == TA_STR) return ta_time_parse_iso(v->p, v->n, ns);
    if (v->kind != TA_INT && v->kind != TA_FLOAT) return -1;
    char buf[64];
    if (v->n >= sizeof buf) return -1;
    memcpy(buf, v->p, v->n);
    buf[v->n] = 0;
    if (v->kind == TA_INT) {
        long long x = strtoll(buf, NULL, 10);
        if (x < 0) return -1;
        /* seconds < 9e9 <= ms < 9e12 <= us < 9e15 <= ns: each scale fits int64 ns */
        *ns = x < 9000000000LL ? x * 1000000000 : x < 9000000000000LL ? x * 1000000 : x < 9000000000000000LL ? x * 1000 : x;
        return 0;
    }
    if (memchr(buf, 'e', v->n) || memchr(buf, 'E', v->n)) {
        double d = strtod(buf, NULL);
        if (!(d >= 0 && d < 9e9)) return -1;
        *ns = (int64_t)llround(d * 1e9);
        return 0;
    }
    return ta_seconds_to_ns(buf, v->n, ns);
}

void ta_set_number(ta_record *r, ta_arena *a, const char *key, const char *s, size_t n) {
    bool digits = n > 0 && n < 19 && (n == 1 || s[0] != '0'); /* JSON numbers have no leading zero */
    for (size_t i = 0; i < n && digits; i++) digits = isdigit((unsigned char)s[i]);
    ta_record_set(r, a, key, s, n, digits ? TA_INT : TA_STR);
}

void ta_set_request_line(ta_record *r, ta_arena *a, const char *s, size_t n) {
    const char *sp1 = memchr(s, ' ', n);
    if (!sp1) {
        if (n) ta_record_set(r, a, "url.original", s, n, TA_STR);
        return;
    }
    ta_record_set(r, a, "http.request.method", s, (size_t)(sp1 - s), TA_STR);
    const char *rest = sp1 + 1;
    size_t rn = n - (size_t)(rest - s);
    const char *sp2 = NULL;
    for (size_t i = rn; i-- > 0;)
        if (rest[i] == ' ') {
            sp2 = rest + i;
            break;
        }
    if (sp2 && rn - (size_t)(sp2 - rest) > 5 && memcmp(sp2 + 1, "HTTP/", 5) == 0) {
        ta_record_set(r, a, "url.original", rest, (size_t)(sp2 - rest), TA_STR);
        ta_record_set(r, a, "http.version", sp2 + 6, rn - (size_t)(sp2 - rest) - 6, TA_STR);
    } else {
        ta_record_set(r, a, "url.original", rest, rn, TA_STR);
    }
}
