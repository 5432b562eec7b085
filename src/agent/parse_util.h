/* parse_util.h — small pieces shared by the parsers. */
#ifndef TRAILD_PARSE_UTIL_H
#define TRAILD_PARSE_UTIL_H
#include "json_scan.h"

/* Sets rec->level (lowercase copy) and rec->severity from a level name
 * ("INFO", "warn", "Error", "critical", "20"...). */
void ta_set_level(ta_record *r, ta_arena *a, const char *s, size_t n);
/* Timestamp from a JSON value: an ISO 8601 string, or a number of seconds
 * (or ms/us/ns, told apart by magnitude). 0 or -1. */
int ta_json_time(const ta_json_val *v, int64_t *ns);
/* Seconds as decimal text ("0.0123") → ns. 0 or -1. */
int ta_seconds_to_ns(const char *s, size_t n, int64_t *ns);
/* Splits "GET /path HTTP/1.1" into method, url.original, http.version fields. */
void ta_set_request_line(ta_record *r, ta_arena *a, const char *s, size_t n);
/* Adds an integer field if s is all digits, else a string. */
void ta_set_number(ta_record *r, ta_arena *a, const char *key, const char *s, size_t n);

#endif
