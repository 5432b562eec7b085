/* render.h — rendering helpers shared by the built-in formatters (fmt_*.c).
 *
 * Append helpers return 0 or -ENOMEM. Formatters OR the results together and
 * roll the buffer back once at the end, which keeps the per-entry path free
 * of branches on every append. Nothing here calls printf on the common path. */
#ifndef TRAIL_RENDER_H
#define TRAIL_RENDER_H

#include "formatter_impl.h"

#include <stdint.h>
#include <string.h>

static inline int trail__put(trail_buf *b, const void *p, size_t n) {
    if (TRAIL_LIKELY(b->cap - b->len >= n) && n) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
        return 0;
    }
    return n ? trail_buf_put(b, p, n) : 0;
}

static inline int trail__putc(trail_buf *b, char c) {
    if (TRAIL_LIKELY(b->cap > b->len)) {
        b->data[b->len++] = c;
        return 0;
    }
    return trail_buf_put(b, &c, 1);
}

/* Appends a string literal. */
#define trail__put_lit(b, lit) trail__put((b), "" lit "", sizeof(lit) - 1)

/* Byte length of a STR/BYTES/JSON field value (resolves TRAIL_LEN_CSTR). */
static inline size_t trail__field_len(const trail_field *f) {
    if (!f->v.s) return 0;
    return f->len == TRAIL_LEN_CSTR ? strlen(f->v.s) : f->len;
}

/* Length of the valid UTF-8 sequence at s (s[0] >= 0x80), 0 when invalid;
 * *bad then gets the length of the maximal invalid subpart (>= 1).
 * Implemented in json_escape.c. */
size_t trail__utf8_seq(const unsigned char *s, size_t n, size_t *bad);

/* ------------------------------------------------------------- numbers */

/* Decimal digits into dst (room for 20/21 bytes); returns the length. */
size_t trail__fmt_u64(char *dst, uint64_t v);
size_t trail__fmt_i64(char *dst, int64_t v);
/* Shortest text that reads back as the same double ("0.1", "3.0",
 * "1e+300"); NaN and infinities as "NaN", "Infinity", "-Infinity". dst
 * needs 32 bytes. Always uses '.', whatever the locale. */
size_t trail__fmt_f64(char *dst, double d);
/* Go-style duration text: "850ns", "12.5us", "1.25ms", "3.000001s". dst
 * needs 32 bytes. */
size_t trail__fmt_duration(char *dst, int64_t ns);
/* "<strerror text> (errno N)"; thread-safe. Returns the length (< cap). */
size_t trail__fmt_errno(char *dst, size_t cap, int err);

int trail__put_u64(trail_buf *b, uint64_t v);
int trail__put_i64(trail_buf *b, int64_t v);
/* Lowercase hex of n bytes. */
int trail__put_hex(trail_buf *b, const void *p, size_t n);

/* ---------------------------------------------------------------- time */

/* Per-formatter cache of the date-and-seconds part of a timestamp, so a
 * new text is built once a second, not once per entry. */
typedef struct trail__time_cache {
    int64_t sec;
    int valid;
    uint8_t len;
    char text[24];
} trail__time_cache;

/* "2026-11-24T12:00:00.123Z" (UTC, milliseconds). Years outside 0000..9999
 * are clamped. c may be NULL (no caching). */
int trail__put_rfc3339(trail_buf *b, trail__time_cache *c, int64_t ns);
/* Console clock in local time: "12:00:00" or, with_date, "2026-11-24
 * 12:00:00.123". */
int trail__put_local_clock(trail_buf *b, trail__time_cache *c, int64_t ns, int with_date);

/* ---------------------------------------------------------------- JSON */

/* trail__json_escape with the surrounding quotes, in one reservation. */
int trail__json_escape_quoted(trail_buf *b, const char *s, size_t n);
/* "escaped string" with quotes; NULL s renders as null. */
int trail__json_put_str(trail_buf *b, const char *s, size_t n);
/* Appends raw JSON text when it is one valid JSON value (RFC 8259, UTF-8,
 * depth <= 64), minified so it cannot break the line; returns 1 and appends
 * nothing when it is not valid. */
int trail__json_put_raw(trail_buf *b, const char *s, size_t n);
/* The JSON value of a field of any trail_type (strings escaped, NaN/Inf as
 * strings, bytes as hex string, errno as "<text> (errno N)", duration as ns,
 * time as RFC 3339, raw JSON verbatim when valid or as a string otherwise,
 * unknown types as null). */
int trail__json_put_value(trail_buf *b, const trail_field *f, trail__time_cache *tc);

/* ------------------------------------------------------------ key sets */

/* The keys already used in the object being rendered, so that an extra
 * field never overwrites a top-level key nor repeats an earlier extra key.
 * Collision rule (all JSON formats and logfmt): a key that is taken becomes
 * "fields.<key>", then "fields.<key>.2", ".3", ... until it is unique. */
typedef struct trail__key {
    const char *p; /* static reserved key, or NULL: copy stored at names.data + off */
    size_t off;
    uint32_t len;
    uint32_t hash;
} trail__key;

typedef struct trail__keyset {
    trail__key *keys;
    size_t n, cap;
    size_t nreserved; /* keys[0..nreserved) are the format's own keys */
    uint64_t bloom, reserved_bloom; /* bit (hash & 63) per key: most claims skip the scan */
    trail_buf names;
    trail_buf esc; /* scratch: the escaped key being claimed */
} trail__keyset;

/* reserved: the format's own top-level keys (static strings). */
int trail__keyset_init(trail__keyset *k, const char *const *reserved, size_t nreserved);
void trail__keyset_free(trail__keyset *k);
/* Starts a new object: forgets the extra keys, keeps the reserved ones. */
static inline void trail__keyset_begin(trail__keyset *k) {
    k->n = k->nreserved;
    k->bloom = k->reserved_bloom;
    k->names.len = 0;
}
/* Takes key (len bytes) for the current object; *out, *outlen get the name
 * to write: key itself, or its "fields." rename (valid until the next call).
 * stable: key stays valid until the object is done (else it is copied). */
int trail__keyset_claim(trail__keyset *k, const char *key, size_t len, int stable, const char **out,
                        size_t *outlen);

/* [,]"key":value for an extra field under the collision rule (key NULL =
 * ""); keys are compared after escaping. */
int trail__json_put_member(trail_buf *out, trail__keyset *k, const char *key, const trail_field *f, int comma);

/* ----------------------------------------------------------- resource */

/* Copies the static fields with atomic loads (trail_resource_set may be
 * publishing a new string concurrently); NULL strings become "". */
void trail__resource_snapshot(trail_resource *out);

/* -------------------------------------------------------------- levels */

/* Upper-case level names ("INFO", "SUCCESS", custom names), cached per
 * level and refreshed when a level is renamed. */
typedef struct trail__level_upper {
    const char *src[256];
    uint8_t len[256];
    char text[256][36];
} trail__level_upper;

const char *trail__level_upper_get(trail__level_upper *c, int level, size_t *len);

/* OpenTelemetry SeverityNumber of a level (fmt_otel.c). */
int trail__otel_severity(int level);

#endif
