/* timefmt.c — see timefmt.h. Civil-date arithmetic after H. Hinnant's
 * days_from_civil, so no libc timezone state is touched. */
#include "timefmt.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t ta_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t ta_mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t ta_days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

size_t ta_time_format_rfc3339(char *out, size_t cap, int64_t ns) {
    int64_t secs = ns >= 0 ? ns / 1000000000 : -((-ns + 999999999) / 1000000000);
    int64_t frac = ns - secs * 1000000000;
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t rem = secs - days * 86400;
    int y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    int n = snprintf(out, cap, "%04d-%02u-%02uT%02d:%02d:%02d.%09lldZ", y, m, d, (int)(rem / 3600),
                     (int)(rem / 60 % 60), (int)(rem % 60), (long long)frac);
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

/* Reads exactly `w` digits at *p; -1 if not digits. */
static int digits(const char *s, size_t n, size_t *p, int w) {
    int v = 0;
    if (*p + (size_t)w > n) return -1;
    for (int i = 0; i < w; i++) {
        char c = s[*p + (size_t)i];
        if (c < '0' || c > '9') return -1;
        v = v * 10 + (c - '0');
    }
    *p += (size_t)w;
    return v;
}

static int parse_offset(const char *s, size_t n, size_t *p, int64_t *off_s) {
    if (*p < n && (s[*p] == 'Z' || s[*p] == 'z')) {
        (*p)++;
        *off_s = 0;
        return 0;
    }
    if (*p >= n || (s[*p] != '+' && s[*p] != '-')) return -1;
    int sign = s[*p] == '-' ? -1 : 1;
    (*p)++;
    int hh = digits(s, n, p, 2);
    if (*p < n && s[*p] == ':') (*p)++;
    int mm = digits(s, n, p, 2);
    if (hh < 0 || mm < 0 || hh > 23 || mm > 59) return -1;
    *off_s = sign * (hh * 3600 + mm * 60);
    return 0;
}

/* Years limited to what int64 nanoseconds can hold (1678..2262). */
static int valid_date(int y, int mo, int d, int h, int mi, int se) {
    return y >= 1700 && y <= 2250 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h >= 0 && h <= 23 && mi >= 0 &&
           mi <= 59 && se >= 0 && se <= 60;
}

static int iso_rest(const char *s, size_t n, size_t p, int64_t secs, int64_t *ns);

/* "YYYY-MM-DDTHH:MM" of the last time parsed on this thread and its unix
 * seconds: the lines of a log share it for a minute, so the date and the
 * calendar arithmetic are done once a minute, not once a line. */
static _Thread_local char last_minute[16];
static _Thread_local int64_t last_minute_s = INT64_MIN;

int ta_time_parse_iso(const char *s, size_t n, int64_t *ns) {
    size_t p = 0;
    int64_t base;
    if (n > 16 && last_minute_s != INT64_MIN && memcmp(s, last_minute, 16) == 0 && s[16] == ':') {
        p = 17;
        base = last_minute_s;
        int se = digits(s, n, &p, 2);
        if (se < 0 || se > 60) return -1;
        return iso_rest(s, n, p, base + se, ns);
    }
    int y = digits(s, n, &p, 4);
    if (p >= n || s[p++] != '-') return -1;
    int mo = digits(s, n, &p, 2);
    if (p >= n || s[p++] != '-') return -1;
    int d = digits(s, n, &p, 2);
    if (p >= n || (s[p] != 'T' && s[p] != 't' && s[p] != ' ')) return -1;
    p++;
    int h = digits(s, n, &p, 2);
    if (p >= n || s[p++] != ':') return -1;
    int mi = digits(s, n, &p, 2);
    if (p >= n || s[p++] != ':') return -1;
    int se = digits(s, n, &p, 2);
    if (!valid_date(y, mo, d, h, mi, se)) return -1;
    base = ta_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60;
    if (p == 19 && s[16] == ':') {
        memcpy(last_minute, s, 16);
        last_minute_s = base;
    }
    return iso_rest(s, n, p, base + se, ns);
}

/* The fraction and zone after the seconds at s[p]; secs: the local time's
 * seconds since the epoch (before the zone offset). */
static int iso_rest(const char *s, size_t n, size_t p, int64_t secs, int64_t *ns) {
    int64_t frac = 0;
    if (p < n && (s[p] == '.' || s[p] == ',')) {
        p++;
        int nd = 0;
        while (p < n && s[p] >= '0' && s[p] <= '9') {
            if (nd < 9) {
                frac = frac * 10 + (s[p] - '0');
                nd++;
            }
            p++;
        }
        if (!nd) return -1;
        for (; nd < 9; nd++) frac *= 10;
    }
    int64_t off = 0;
    if (parse_offset(s, n, &p, &off) < 0 || p != n) return -1;
    *ns = (secs - off) * 1000000000 + frac;
    return 0;
}

int ta_time_parse_clf(const char *s, size_t n, int64_t *ns) {
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    size_t p = 0;
    int d = digits(s, n, &p, 2);
    if (p + 5 > n || s[p] != '/' || s[p + 4] != '/') return -1;
    int mo = 0;
    for (int i = 0; i < 12; i++)
        if (memcmp(s + p + 1, months + i * 3, 3) == 0) mo = i + 1;
    p += 5;
    int y = digits(s, n, &p, 4);
    if (p >= n || s[p++] != ':') return -1;
    int h = digits(s, n, &p, 2);
    if (p >= n || s[p++] != ':') return -1;
    int mi = digits(s, n, &p, 2);
    if (p >= n || s[p++] != ':') return -1;
    int se = digits(s, n, &p, 2);
    if (!valid_date(y, mo, d, h, mi, se)) return -1;
    if (p >= n || s[p++] != ' ') return -1;
    int64_t off = 0;
    if (parse_offset(s, n, &p, &off) < 0 || p != n) return -1;
    *ns = (ta_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se - off) *
          1000000000;
    return 0;
}
