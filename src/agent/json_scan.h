/* json_scan.h — a small validating JSON scanner for the parsers: walks the
 * members of an object without building a tree; values are raw spans. */
#ifndef TRAILD_JSON_SCAN_H
#define TRAILD_JSON_SCAN_H
#include "pipeline.h"

typedef struct ta_json_val {
    ta_kind kind;      /* TA_STR (p..p+n is the body between quotes, still escaped),
                        * TA_INT, TA_FLOAT, TA_BOOL, TA_NULL, TA_RAW (object/array text) */
    const char *p;
    size_t n;
    bool esc;          /* TA_STR: the body holds backslash escapes */
    bool high;         /* TA_STR: the body holds bytes >= 0x80 */
    bool key_esc;      /* the same two for the member's key (ta_json_object_each) */
    bool key_high;
} ta_json_val;

/* Calls fn for each member of the object in s[0..n) (leading/trailing
 * whitespace allowed). key/klen is the raw (escaped) key body. fn returns 0
 * to continue. Returns 0, or -1 when s is not one valid JSON object. */
typedef int (*ta_json_member_fn)(void *ctx, const char *key, size_t klen, const ta_json_val *v);
int ta_json_object_each(const char *s, size_t n, ta_json_member_fn fn, void *ctx);
/* Unescapes a string body into the arena (NUL-terminated). -1 on a bad escape. */
int ta_json_unescape(const char *p, size_t n, ta_arena *a, const char **out, size_t *outlen);
/* Unescapes a string body into dst (room for n bytes: escapes never expand),
 * without a terminating NUL. Returns the length written, or -1 on a bad escape. */
long ta_json_unescape_to(const char *p, size_t n, char *dst);
/* First element of an array value if it is a string ("User-Agent": ["x"]). */
int ta_json_first_string(const ta_json_val *arr, ta_json_val *out);
/* Key comparison for raw keys without escapes. */
static inline int ta_json_key_is(const char *k, size_t kl, const char *lit) {
    size_t n = 0;
    while (lit[n]) n++;
    if (n != kl) return 0;
    for (size_t i = 0; i < n; i++)
        if (k[i] != lit[i]) return 0;
    return 1;
}
/* Puts a value into the record as a field: strings unescaped, numbers as is. */
void ta_json_set_field(ta_record *r, ta_arena *a, const char *key, const ta_json_val *v);

#endif
