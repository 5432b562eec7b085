/* timefmt.h — timestamp parsing and formatting without locale or timezone
 * state (no localtime/mktime: thread-safe and fast). */
#ifndef TRAILD_TIMEFMT_H
#define TRAILD_TIMEFMT_H
#include <stddef.h>
#include <stdint.h>

/* "2026-11-24T23:45:53.123456789Z" (always UTC, 9 fraction digits). Returns length. */
size_t ta_time_format_rfc3339(char *out, size_t cap, int64_t ns);
/* Parses RFC 3339 / ISO 8601: "2026-11-24T23:45:53Z", ".123" fractions up to
 * ns, "+01:00"/"-0700" offsets, ' ' for 'T'. Returns 0 and *ns, or -1. */
int ta_time_parse_iso(const char *s, size_t n, int64_t *ns);
/* nginx $time_local: "10/Oct/2000:13:55:36 -0700". Returns 0 or -1. */
int ta_time_parse_clf(const char *s, size_t n, int64_t *ns);
/* Days since 1970-01-01 of a proleptic Gregorian date. */
int64_t ta_days_from_civil(int64_t y, unsigned m, unsigned d);
/* Current CLOCK_REALTIME / CLOCK_MONOTONIC in ns. */
int64_t ta_now_ns(void);
int64_t ta_mono_ns(void);

#endif
