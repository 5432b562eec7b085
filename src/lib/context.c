/* context.c — request context: a thread-local blob plus explicit handles.
 *
 * A context is kept pre-serialised in the format ctx_impl.h describes, so the
 * logging hot path copies one small blob (trail__ctx_current) instead of
 * walking a map. Each thread has its own context; event-loop code attaches an
 * explicit trail_ctx per request. All trail_ctx_* calls act on the calling
 * thread's current context: the attached handle, else the thread's own.
 *
 * A trail_ctx handle is not locked: it is used by one thread at a time (the
 * one it is attached to, or the one filling it in), which is how event loops
 * use it. */
#include "context_state.h"
#include "core_impl.h"
#include "ctx_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local struct trail_ctx own_ctx;
static _Thread_local struct trail_ctx *attached;

struct trail_ctx *trail__ctx_cur(void) { return attached ? attached : &own_ctx; }

const unsigned char *trail__ctx_current(size_t *len) {
    struct trail_ctx *c = trail__ctx_cur();
    if (len) *len = c->len;
    return c->data;
}

/* One decoded record of a blob; returns the offset of the next record or 0
 * when the blob is malformed at off. */
static size_t record_at(const unsigned char *b, size_t len, size_t off, const char **key, size_t *klen,
                        const unsigned char **val, size_t *vlen) {
    if (off + 1 > len) return 0;
    size_t kl = b[off];
    size_t p = off + 1;
    if (p + kl + 1 + 2 > len || b[p + kl] != '\0') return 0;
    size_t vl = (size_t)b[p + kl + 1] | ((size_t)b[p + kl + 2] << 8);
    size_t vp = p + kl + 3;
    if (vp + vl > len) return 0;
    *key = (const char *)b + p;
    *klen = kl;
    *val = b + vp;
    *vlen = vl;
    return vp + vl;
}

size_t trail__ctx_decode(const unsigned char *blob, size_t len, trail_field *out, size_t max) {
    size_t n = 0, off = 0;
    if (!blob || !out) return 0;
    while (off < len && n < max) {
        const char *k;
        const unsigned char *v;
        size_t kl, vl;
        size_t next = record_at(blob, len, off, &k, &kl, &v, &vl);
        if (!next) break;
        out[n].key = k;
        out[n].type = TRAIL_T_STR;
        out[n].len = (uint32_t)vl;
        out[n].v.s = (const char *)v;
        n++;
        off = next;
    }
    return n;
}

/* Finds key in c; returns 1 with the record's [start, end) offsets. */
static int find(const struct trail_ctx *c, const char *key, size_t klen, size_t *start, size_t *end,
                const unsigned char **val, size_t *vlen) {
    size_t off = 0;
    while (off < c->len) {
        const char *k;
        size_t kl;
        size_t next = record_at(c->data, c->len, off, &k, &kl, val, vlen);
        if (!next) return 0;
        if (kl == klen && memcmp(k, key, klen) == 0) {
            *start = off;
            *end = next;
            return 1;
        }
        off = next;
    }
    return 0;
}

static int check_key(const char *key, size_t *klen) {
    if (!key || !*key) return trail__error(-EINVAL, "context key is NULL or empty");
    *klen = strlen(key);
    if (*klen > 255) return trail__error(-EINVAL, "context key longer than 255 bytes");
    return 0;
}

int trail__ctx_put(struct trail_ctx *c, const char *key, const char *value, size_t vlen) {
    size_t klen = 0;
    int rc = check_key(key, &klen);
    if (rc) return rc;
    if (!value) return trail__ctx_del(c, key);
    size_t start = 0, end = 0, old_vlen;
    const unsigned char *old_val;
    int found = find(c, key, klen, &start, &end, &old_val, &old_vlen);
    size_t rec = 1 + klen + 1 + 2 + vlen;
    size_t new_len = c->len - (found ? end - start : 0) + rec;
    if (vlen > 0xffff || new_len > TRAIL_CTX_MAX_BYTES)
        return trail__error(-E2BIG,
                            "context full: setting \"%s\" (%zu bytes) would make the context %zu bytes, over "
                            "TRAIL_CTX_MAX_BYTES (%d); remove keys or shorten values",
                            key, vlen, new_len, TRAIL_CTX_MAX_BYTES);
    /* Replace in place (keeps the key's position) or append. */
    size_t at = found ? start : c->len;
    if (found) memmove(c->data + start + rec, c->data + end, c->len - end);
    unsigned char *p = c->data + at;
    *p++ = (unsigned char)klen;
    memcpy(p, key, klen);
    p += klen;
    *p++ = '\0';
    *p++ = (unsigned char)(vlen & 0xff);
    *p++ = (unsigned char)(vlen >> 8);
    memcpy(p, value, vlen);
    c->len = new_len;
    return 0;
}

int trail__ctx_del(struct trail_ctx *c, const char *key) {
    size_t klen = 0;
    int rc = check_key(key, &klen);
    if (rc) return rc;
    size_t start, end, vlen;
    const unsigned char *val;
    if (!find(c, key, klen, &start, &end, &val, &vlen)) return -ENOENT;
    memmove(c->data + start, c->data + end, c->len - end);
    c->len -= end - start;
    return 0;
}

int trail__ctx_lookup(const struct trail_ctx *c, const char *key, const char **val, size_t *vlen) {
    size_t klen = 0;
    if (!key || !*key || (klen = strlen(key)) > 255) return -EINVAL;
    size_t start, end;
    const unsigned char *v;
    if (!find(c, key, klen, &start, &end, &v, vlen)) return -ENOENT;
    *val = (const char *)v;
    return 0;
}

int trail_ctx_set(const char *key, const char *value) {
    return trail__ctx_put(trail__ctx_cur(), key, value, value ? strlen(value) : 0);
}

int trail_ctx_remove(const char *key) { return trail__ctx_del(trail__ctx_cur(), key); }

void trail_ctx_clear(void) {
    struct trail_ctx *c = trail__ctx_cur();
    c->len = 0;
    c->trace_flags = 0;
    c->has_flags = 0;
}

int trail_ctx_get(const char *key, char *buf, size_t size) {
    const char *v;
    size_t vlen;
    int rc = trail__ctx_lookup(trail__ctx_cur(), key, &v, &vlen);
    if (rc) return rc;
    /* snprintf-like: copies what fits, always NUL-terminates, returns the full length. */
    if (buf && size) {
        size_t n = vlen < size - 1 ? vlen : size - 1;
        memcpy(buf, v, n);
        buf[n] = '\0';
    }
    return (int)vlen;
}

trail_ctx *trail_ctx_new(void) { return calloc(1, sizeof(struct trail_ctx)); }

int trail_ctx_put(trail_ctx *c, const char *key, const char *value) {
    return trail__ctx_put(c ? c : trail__ctx_cur(), key, value, value ? strlen(value) : 0);
}

trail_ctx *trail_ctx_attach(trail_ctx *c) {
    trail_ctx *prev = attached;
    attached = c;
    return prev;
}

void trail_ctx_free(trail_ctx *c) {
    if (!c) return;
    if (attached == c) attached = NULL; /* never leave this thread pointing at freed memory */
    free(c);
}
