/* tq_time.c — time and duration parameters as Loki reads them: unix
 * seconds (up to 10 digits), unix nanoseconds, float seconds, RFC3339; steps
 * as durations ("5m") or float seconds. Shared by the API and the CLI. */
#include "tq_time.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "logql_lex.h"

int64_t tq_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int days_from_civil(int y, unsigned m, unsigned d) {
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int)doe - 719468;
}

/* RFC3339: 2024-01-02T03:04:05.123456789Z or with +hh:mm. */
static int parse_rfc3339(const char *s, int64_t *ns) {
    int y, mo, d, h, mi, sec, n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19) return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return -1;
    const char *p = s + n;
    int64_t frac = 0;
    if (*p == '.') {
        p++;
        int digits = 0;
        while (*p >= '0' && *p <= '9') {
            if (digits < 9) { frac = frac * 10 + (*p - '0'); digits++; }
            p++;
        }
        if (!digits) return -1;
        while (digits++ < 9) frac *= 10;
    }
    int64_t off = 0;
    if (*p == 'Z' || *p == 'z') p++;
    else if (*p == '+' || *p == '-') {
        int oh, om;
        if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2) return -1;
        off = (int64_t)(oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
        p += 6;
    } else return -1;
    if (*p) return -1;
    int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    *ns = ((days * 86400 + h * 3600 + mi * 60 + sec) - off) * 1000000000 + frac;
    return 0;
}

int tq_parse_time(const char *s, int64_t *ns) {
    if (!s || !*s) return -1;
    char *end;
    if (strchr(s, '.') && !strchr(s, 'T')) {
        double v = strtod(s, &end);
        if (*end || v < 0 || v > 9.2e9) return -1;
        double sec;
        double frac = modf(v, &sec);
        *ns = (int64_t)sec * 1000000000 + (int64_t)(round(frac * 1e6) * 1e3);
        return 0;
    }
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end == 0 && errno == 0 && end != s) {
        /* Loki: up to 10 digits are seconds, more are nanoseconds. */
        if (v < 0) return -1;
        if (strlen(s) <= 10 && v > INT64_MAX / 1000000000) return -1; /* would overflow */
        if (strlen(s) <= 10) *ns = (int64_t)v * 1000000000;
        else *ns = (int64_t)v;
        return 0;
    }
    return parse_rfc3339(s, ns);
}

int tq_parse_step(const char *s, int64_t *ns) {
    if (!s || !*s) return -1;
    char *end;
    double v = strtod(s, &end);
    if (*end == 0 && end != s) {
        if (!(v > 0) || v > 1e9) return -1;
        *ns = (int64_t)(v * 1e9);
        return 0;
    }
    double d;
    if (tq_parse_duration(s, strlen(s), &d) < 0 || !(d > 0 && d < 9e18)) return -1;
    *ns = (int64_t)d;
    return 0;
}

