/* streams.c — the stream table of a partition (id -> labels) and its
 * append-only file encoding. A stream id is a hash of its sorted labels. */
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

uint64_t st_stream_id(const trail_store_label *l, uint32_t n) {
    uint64_t h = 0x53545245414d0000ULL;
    for (uint32_t i = 0; i < n; i++) {
        size_t a = strlen(l[i].name), b = strlen(l[i].value);
        h = st_hash64(l[i].name, a, h);
        h = st_hash64(l[i].value, b, h ^ 0x3d);
    }
    return h;
}

st_stream *st_streams_find(const st_stream_table *t, uint64_t id) {
    if (!t->map_cap) return NULL;
    uint32_t mask = t->map_cap - 1;
    for (uint32_t i = (uint32_t)st_mix64(id) & mask;; i = (i + 1) & mask) {
        st_stream *s = t->map[i];
        if (!s) return NULL;
        if (s->pub.id == id) return s;
    }
}

static void map_put(st_stream **map, uint32_t cap, st_stream *s) {
    uint32_t mask = cap - 1;
    uint32_t i = (uint32_t)st_mix64(s->pub.id) & mask;
    while (map[i]) i = (i + 1) & mask;
    map[i] = s;
}

static char *dup_str(const char *s) {
    char *d = strdup(s);
    if (!d) abort();
    return d;
}

st_stream *st_streams_add(st_stream_table *t, uint64_t id, const char *category,
                          const trail_store_label *labels, uint32_t n) {
    if ((t->n + 1) * 2 > t->map_cap) {
        uint32_t cap = t->map_cap ? t->map_cap * 2 : 64;
        st_stream **m = calloc(cap, sizeof *m);
        if (!m) abort();
        for (uint32_t i = 0; i < t->n; i++) map_put(m, cap, t->v[i]);
        free(t->map);
        t->map = m;
        t->map_cap = cap;
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 32;
        t->v = realloc(t->v, t->cap * sizeof *t->v);
        if (!t->v) abort();
    }
    st_stream *s = calloc(1, sizeof *s);
    trail_store_label *l = calloc(n ? n : 1, sizeof *l);
    if (!s || !l) abort();
    for (uint32_t i = 0; i < n; i++) {
        l[i].name = dup_str(labels[i].name);
        l[i].value = dup_str(labels[i].value);
    }
    s->pub.id = id;
    s->pub.category = category;
    s->pub.labels = l;
    s->pub.nlabels = n;
    s->pub.min_ts = INT64_MAX;
    s->pub.max_ts = INT64_MIN;
    t->v[t->n++] = s;
    map_put(t->map, t->map_cap, s);
    return s;
}

void st_streams_free(st_stream_table *t) {
    for (uint32_t i = 0; i < t->n; i++) {
        st_stream *s = t->v[i];
        for (uint32_t j = 0; j < s->pub.nlabels; j++) {
            free((char *)s->pub.labels[j].name);
            free((char *)s->pub.labels[j].value);
        }
        free((void *)s->pub.labels);
        free(s);
    }
    free(t->v);
    free(t->map);
    memset(t, 0, sizeof *t);
}

/* Record: u32 payload_len, u32 crc32c(payload), payload = u64 id, u16 n,
 * n x (u16 name_len, name, u32 value_len, value). */
void st_streams_encode(st_buf *out, const st_stream *s) {
    size_t start = out->len;
    st_buf_u32(out, 0);
    st_buf_u32(out, 0);
    st_buf_u64(out, s->pub.id);
    st_buf_u16(out, (uint16_t)s->pub.nlabels);
    for (uint32_t i = 0; i < s->pub.nlabels; i++) {
        size_t a = strlen(s->pub.labels[i].name), b = strlen(s->pub.labels[i].value);
        st_buf_u16(out, (uint16_t)a);
        st_buf_put(out, s->pub.labels[i].name, a);
        st_buf_u32(out, (uint32_t)b);
        st_buf_put(out, s->pub.labels[i].value, b);
    }
    uint32_t plen = (uint32_t)(out->len - start - 8);
    st_put32(out->p + start, plen);
    st_put32(out->p + start + 4, st_crc32c(0, out->p + start + 8, plen));
}

static char *copy_n(const uint8_t *p, size_t n) {
    char *s = malloc(n + 1);
    if (!s) abort();
    memcpy(s, p, n);
    s[n] = 0;
    return s;
}

size_t st_streams_parse(st_stream_table *t, const char *category, const uint8_t *buf, size_t n) {
    size_t pos = 0;
    while (n - pos >= 8) {
        uint32_t plen = st_get32(buf + pos), crc = st_get32(buf + pos + 4);
        if (plen < 10 || plen > n - pos - 8 || st_crc32c(0, buf + pos + 8, plen) != crc) break;
        const uint8_t *p = buf + pos + 8, *end = p + plen;
        uint64_t id = st_get64(p);
        uint32_t nl = st_get16(p + 8);
        p += 10;
        if (nl > TRAIL_STORE_MAX_LABELS) break;
        trail_store_label l[TRAIL_STORE_MAX_LABELS];
        uint32_t got = 0;
        bool ok = true;
        for (; got < nl; got++) {
            if (end - p < 2) { ok = false; break; }
            size_t a = st_get16(p);
            p += 2;
            if ((size_t)(end - p) < a + 4) { ok = false; break; }
            const uint8_t *name = p;
            p += a;
            size_t b = st_get32(p);
            p += 4;
            if ((size_t)(end - p) < b) { ok = false; break; }
            l[got].name = copy_n(name, a);
            l[got].value = copy_n(p, b);
            p += b;
        }
        if (ok && !st_streams_find(t, id)) st_streams_add(t, id, category, l, nl);
        for (uint32_t i = 0; i < got; i++) {
            free((char *)l[i].name);
            free((char *)l[i].value);
        }
        if (!ok) break;
        pos += 8 + plen;
    }
    return pos;
}
