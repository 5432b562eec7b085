/* tokens.c — the query-side rule for which tokens a substring filter
 * implies (the indexing side is index_tokens in block.c: keep the two
 * rules in step), and a small JSON string field finder for
 * request_id/user_id/trace_id extraction. */
#include <string.h>

#include "store_impl.h"

#define MIN_TOKEN 3

static inline bool tok_byte(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

size_t trail_store_filter_tokens(const char *s, size_t n, trail_store_token_fn fn, void *ctx) {
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    size_t count = 0;
    while (p < end) {
        while (p < end && !tok_byte(*p)) p++;
        const unsigned char *t = p;
        bool digits_only = true;
        for (; p < end && tok_byte(*p); p++) digits_only &= *p >= '0' && *p <= '9';
        /* bounded on both sides by a non-token byte of s itself, and not
         * possibly a JSON key (followed by `"` then `:` or the end of s) */
        bool maybe_key = p < end && *p == '"' && (end - p < 2 || p[1] == ':');
        if (t > (const unsigned char *)s && p < end && p - t >= MIN_TOKEN && !maybe_key && !digits_only) {
            if (fn) fn(ctx, (const char *)t, (size_t)(p - t));
            count++;
        }
    }
    return count;
}

bool st_json_find_str(const char *line, size_t n, const char *name, const char **v, size_t *vlen) {
    char key[72];
    size_t nl = strlen(name);
    if (nl + 2 > sizeof key) return false;
    key[0] = '"';
    memcpy(key + 1, name, nl);
    key[nl + 1] = '"';
    const char *p = line, *end = line + n;
    while (p < end) {
        const char *q = memmem(p, (size_t)(end - p), key, nl + 2);
        if (!q) return false;
        p = q + nl + 2;
        if (q > line && q[-1] == '\\') continue; /* inside a string */
        const char *r = p;
        while (r < end && (*r == ' ' || *r == '\t')) r++;
        if (r >= end || *r != ':') continue;
        r++;
        while (r < end && (*r == ' ' || *r == '\t')) r++;
        if (r >= end || *r != '"') continue;
        const char *b = ++r;
        while (r < end && *r != '"') r += *r == '\\' ? 2 : 1;
        if (r >= end) return false;
        *v = b;
        *vlen = (size_t)(r - b);
        return true;
    }
    return false;
}
