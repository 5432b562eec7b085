/* loki_encode.c — see loki_encode.h. Streams are found with a small hash
 * table keyed by the label text; entries are sorted by (stream, time, input
 * order) so each stream's values are in time order (what Loki's ordering
 * rules want) and equal timestamps keep their file order. */
#include "loki_encode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libdeflate.h>
#ifdef TA_HAVE_SNAPPY
#include <snappy-c.h>
#endif

#include "render.h"

const char *const ta_loki_high_cardinality[] = {
    "request_id", "trace_id", "span_id", "user_id", "session_id", "message", "msg", "timestamp",
    "client.ip", "url.original", "user_agent.original", "event.duration", "log.offset", "pid", NULL,
};

void ta_loki_label_name(const char *src, char *out, size_t cap) {
    size_t o = 0;
    if (cap == 0) return;
    if (*src >= '0' && *src <= '9' && o + 1 < cap) out[o++] = '_';
    for (const char *p = src; *p && o + 1 < cap; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        out[o++] = ok ? c : '_';
    }
    out[o] = 0;
}

const char *ta_loki_check_labels(const ta_loki_enc *e, char *msg, size_t msglen) {
    if (e->nlabels + e->nstatic > 15) {
        snprintf(msg, msglen, "%u label names: Loki allows 15 per stream by default — keep labels few",
                 e->nlabels + e->nstatic);
        return msg;
    }
    for (uint32_t i = 0; i < e->nlabels + e->nstatic; i++) {
        const char *n = i < e->nlabels ? e->labels[i] : e->static_labels[i - e->nlabels].name;
        char s[256];
        ta_loki_label_name(n, s, sizeof s);
        for (int k = 0; ta_loki_high_cardinality[k]; k++)
            if (strcmp(n, ta_loki_high_cardinality[k]) == 0) {
                snprintf(msg, msglen,
                         "label '%s' has one value per entry or request (high cardinality): it stays in the line; "
                         "put it in structured_metadata to query it",
                         n);
                return msg;
            }
        if (!*s || (s[0] == '_' && s[1] == '_')) {
            snprintf(msg, msglen, "label name '%s' is not allowed (empty or starting with __)", n);
            return msg;
        }
    }
    return NULL;
}

/* ------------------------------------------------------------ label sets */

typedef struct lv {
    char name[128];
    const char *val;
    size_t len;
} lv;

/* Field lookup that first tries where the key was in the previous record:
 * entries of one input usually have their fields in the same order. */
static const ta_field *find_field(const ta_record *r, const char *key, uint32_t *hint) {
    if (hint && *hint < r->nfields && strcmp(r->fields[*hint].key, key) == 0) return &r->fields[*hint];
    for (uint32_t i = 0; i < r->nfields; i++)
        if (strcmp(r->fields[i].key, key) == 0) {
            if (hint) *hint = i;
            return &r->fields[i];
        }
    return NULL;
}

static const char *field_text_h(const ta_record *r, const char *key, size_t *len, uint32_t *hint) {
    const ta_field *f = find_field(r, key, hint);
    if (!f || f->kind == TA_NULL) return NULL;
    *len = f->val_len;
    return f->val;
}


static const char *source_value(const char *src, const ta_record *r, size_t *len, uint32_t *hint) {
    const ta_input_info *in = r->input;
    const char *v = NULL;
    if (strcmp(src, "category") == 0) v = in ? in->category : NULL;
    else if (strcmp(src, "input") == 0) v = in ? in->name : NULL;
    else if (strcmp(src, "level") == 0) v = r->level;
    if (v) {
        *len = strlen(v);
        return v;
    }
    for (uint32_t i = 0; in && i < in->nlabels; i++)
        if (strcmp(in->labels[i].name, src) == 0) {
            *len = strlen(in->labels[i].value);
            return in->labels[i].value;
        }
    return field_text_h(r, src, len, hint);
}

static bool same_labels(const lv *a, const lv *b, uint32_t n) {
    for (uint32_t i = 0; i < n; i++)
        if (a[i].len != b[i].len || strcmp(a[i].name, b[i].name) != 0 ||
            (a[i].val != b[i].val && memcmp(a[i].val, b[i].val, a[i].len) != 0))
            return false;
    return true;
}

static int lv_cmp(const void *a, const void *b) { return strcmp(((const lv *)a)->name, ((const lv *)b)->name); }

/* The stream's labels, sorted by name, empty values left out, one value per
 * name (configured sources win over static labels). At least one label:
 * Loki rejects a stream without any, so `category` is the fallback. */
static uint32_t label_set(const ta_loki_enc *e, const ta_record *r, lv *out, uint32_t *hints) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < e->nlabels + e->nstatic; i++) {
        const char *name, *v;
        size_t len = 0;
        if (i < e->nlabels) {
            name = e->labels[i];
            v = source_value(name, r, &len, hints ? &hints[i] : NULL);
        } else {
            name = e->static_labels[i - e->nlabels].name;
            v = e->static_labels[i - e->nlabels].value;
            len = v ? strlen(v) : 0;
        }
        if (!v || !len) continue;
        lv cand;
        ta_loki_label_name(name, cand.name, sizeof cand.name);
        cand.val = v;
        cand.len = len;
        bool dup = false;
        for (uint32_t k = 0; k < n; k++)
            if (strcmp(out[k].name, cand.name) == 0) dup = true;
        if (!dup) out[n++] = cand;
    }
    if (!n) {
        snprintf(out[0].name, sizeof out[0].name, "category");
        out[0].val = r->input && r->input->category ? r->input->category : "unknown";
        out[0].len = strlen(out[0].val);
        n = 1;
    }
    qsort(out, n, sizeof *out, lv_cmp);
    return n;
}

/* Prometheus label text {a="b", c="d"} (Loki's stream key and the protobuf
 * `labels` field); values as Go string literals. */
static void label_text(ta_buf *b, const lv *l, uint32_t n, ta_buf *tmp) {
    static const char hex[] = "0123456789abcdef";
    ta_buf_put(b, "{", 1);
    for (uint32_t i = 0; i < n; i++) {
        if (i) ta_buf_put(b, ", ", 2);
        ta_buf_put(b, l[i].name, strlen(l[i].name));
        ta_buf_put(b, "=\"", 2);
        tmp->len = 0;
        ta_utf8_sanitize(tmp, l[i].val, l[i].len);
        for (size_t k = 0; k < tmp->len; k++) {
            unsigned char c = (unsigned char)tmp->p[k];
            if (c == '"' || c == '\\') {
                char e[2] = {'\\', (char)c};
                ta_buf_put(b, e, 2);
            } else if (c == '\n') ta_buf_put(b, "\\n", 2);
            else if (c < 0x20 || c == 0x7f) {
                char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
                ta_buf_put(b, e, 4);
            } else ta_buf_put(b, &tmp->p[k], 1);
        }
        ta_buf_put(b, "\"", 1);
    }
    ta_buf_put(b, "}", 1);
}

/* ------------------------------------------------------------ grouping */

typedef struct ent {
    uint32_t stream, idx;
    int64_t ts;
} ent;

typedef struct grouping {
    ent *ents;
    char **keys;      /* per stream: label text */
    uint32_t *first;  /* per stream: an item index to re-derive its labels from */
    uint32_t nstreams;
} grouping;

static int64_t item_ts(const ta_record *r) { return r->ts_ns > 0 ? r->ts_ns : r->observed_ns; }

static int ent_cmp(const void *a, const void *b) {
    const ent *x = a, *y = b;
    if (x->stream != y->stream) return x->stream < y->stream ? -1 : 1;
    if (x->ts != y->ts) return x->ts < y->ts ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static uint64_t fnv(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static void group(const ta_loki_enc *e, const ta_loki_item *items, size_t n, grouping *g) {
    size_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    int32_t *slots = malloc(cap * sizeof *slots);
    memset(slots, 0xff, cap * sizeof *slots);
    g->ents = malloc((n ? n : 1) * sizeof *g->ents);
    g->keys = malloc((n ? n : 1) * sizeof *g->keys);
    g->first = malloc((n ? n : 1) * sizeof *g->first);
    g->nstreams = 0;
    if (!slots || !g->ents || !g->keys || !g->first) abort();
    lv ls[32], prev[32];
    uint32_t nprev = 0, prev_stream = 0, hints[32] = {0};
    ta_buf key = {0}, tmp = {0};
    bool sorted = true;
    for (size_t i = 0; i < n; i++) {
        uint32_t nl = label_set(e, items[i].rec, ls, hints);
        if (i && nl == nprev && same_labels(ls, prev, nl)) { /* the usual case: same stream as the previous entry */
            g->ents[i] = (ent){prev_stream, (uint32_t)i, item_ts(items[i].rec)};
            if (ent_cmp(&g->ents[i - 1], &g->ents[i]) > 0) sorted = false;
            continue;
        }
        memcpy(prev, ls, nl * sizeof *ls);
        nprev = nl;
        key.len = 0;
        label_text(&key, ls, nl, &tmp);
        size_t h = (size_t)fnv(key.p, key.len) & (cap - 1);
        while (slots[h] >= 0 && strcmp(g->keys[slots[h]], key.p) != 0) h = (h + 1) & (cap - 1);
        if (slots[h] < 0) {
            slots[h] = (int32_t)g->nstreams;
            g->keys[g->nstreams] = strdup(key.p);
            g->first[g->nstreams] = (uint32_t)i;
            g->nstreams++;
        }
        g->ents[i] = (ent){(uint32_t)slots[h], (uint32_t)i, item_ts(items[i].rec)};
        prev_stream = (uint32_t)slots[h];
        if (i && ent_cmp(&g->ents[i - 1], &g->ents[i]) > 0) sorted = false;
    }
    if (!sorted) qsort(g->ents, n, sizeof *g->ents, ent_cmp);
    ta_buf_free(&key);
    ta_buf_free(&tmp);
    free(slots);
}

static void group_free(grouping *g) {
    for (uint32_t i = 0; i < g->nstreams; i++) free(g->keys[i]);
    free(g->keys);
    free(g->first);
    free(g->ents);
}

static void line_of(const ta_loki_enc *e, const ta_loki_item *it, ta_buf *scratch, const char **p, size_t *n) {
    if (!e->json_line) {
        *p = it->rec->line;
        *n = it->rec->line_len;
        return;
    }
    scratch->len = 0;
    ta_render_json(scratch, it->b, it->rec);
    *p = scratch->p;
    *n = scratch->len;
}

/* ------------------------------------------------------------ JSON */

void ta_loki_encode_json(const ta_loki_enc *e, const ta_loki_item *items, size_t n, ta_buf *out) {
    grouping g;
    group(e, items, n, &g);
    ta_buf scratch = {0};
    uint32_t mhints[32] = {0};
    char num[32];
    ta_buf_put(out, "{\"streams\":[", 12);
    for (size_t i = 0; i < n;) {
        uint32_t s = g.ents[i].stream;
        if (i) ta_buf_put(out, ",", 1);
        lv ls[32];
        uint32_t nl = label_set(e, items[g.first[s]].rec, ls, NULL);
        ta_buf_put(out, "{\"stream\":{", 11);
        for (uint32_t k = 0; k < nl; k++) {
            if (k) ta_buf_put(out, ",", 1);
            ta_render_json_str(out, ls[k].name, strlen(ls[k].name));
            ta_buf_put(out, ":", 1);
            ta_render_json_str(out, ls[k].val, ls[k].len);
        }
        ta_buf_put(out, "},\"values\":[", 12);
        for (bool firstv = true; i < n && g.ents[i].stream == s; i++, firstv = false) {
            const ta_loki_item *it = &items[g.ents[i].idx];
            int nn = snprintf(num, sizeof num, "%s[\"%lld\",", firstv ? "" : ",", (long long)g.ents[i].ts);
            ta_buf_put(out, num, (size_t)nn);
            const char *lp;
            size_t ll;
            line_of(e, it, &scratch, &lp, &ll);
            ta_render_json_str(out, lp, ll);
            bool any = false;
            for (uint32_t m = 0; m < e->nmeta; m++) {
                size_t vl = 0;
                const char *v = field_text_h(it->rec, e->meta[m], &vl, m < 32 ? &mhints[m] : NULL);
                if (!v || !vl) continue;
                ta_buf_put(out, any ? "," : ",{", any ? 1 : 2);
                any = true;
                char name[128];
                ta_loki_label_name(e->meta[m], name, sizeof name);
                ta_render_json_str(out, name, strlen(name));
                ta_buf_put(out, ":", 1);
                ta_render_json_str(out, v, vl);
            }
            ta_buf_put(out, any ? "}]" : "]", any ? 2 : 1);
        }
        ta_buf_put(out, "]}", 2);
    }
    ta_buf_put(out, "]}", 2);
    ta_buf_free(&scratch);
    group_free(&g);
}

/* ------------------------------------------------------------ protobuf */

static void pb_varint(ta_buf *b, uint64_t v) {
    char t[10];
    size_t n = 0;
    do {
        t[n] = (char)(v & 0x7f);
        v >>= 7;
        if (v) t[n] |= (char)0x80;
        n++;
    } while (v);
    ta_buf_put(b, t, n);
}

static void pb_bytes(ta_buf *b, unsigned field, const char *p, size_t n) {
    pb_varint(b, (uint64_t)field << 3 | 2);
    pb_varint(b, n);
    ta_buf_put(b, p, n);
}

/* A string field whose value must be valid UTF-8. */
static void pb_string(ta_buf *b, unsigned field, const char *p, size_t n, ta_buf *tmp) {
    tmp->len = 0;
    ta_utf8_sanitize(tmp, p, n);
    pb_bytes(b, field, tmp->p ? tmp->p : "", tmp->len);
}

/* PushRequest{1: StreamAdapter{1: labels, 2: EntryAdapter{1: Timestamp{1: s, 2: ns},
 * 2: line, 3: LabelPairAdapter{1: name, 2: value}}}} — Loki's push.proto. */
void ta_loki_encode_proto(const ta_loki_enc *e, const ta_loki_item *items, size_t n, ta_buf *out) {
    grouping g;
    group(e, items, n, &g);
    ta_buf scratch = {0}, sb = {0}, eb = {0}, tb = {0}, tmp = {0}, mb = {0};
    uint32_t mhints[32] = {0};
    for (size_t i = 0; i < n;) {
        uint32_t s = g.ents[i].stream;
        sb.len = 0;
        pb_bytes(&sb, 1, g.keys[s], strlen(g.keys[s]));
        for (; i < n && g.ents[i].stream == s; i++) {
            const ta_loki_item *it = &items[g.ents[i].idx];
            int64_t ts = g.ents[i].ts;
            eb.len = tb.len = 0;
            pb_varint(&tb, 1 << 3 | 0);
            pb_varint(&tb, (uint64_t)(ts / 1000000000));
            if (ts % 1000000000) {
                pb_varint(&tb, 2 << 3 | 0);
                pb_varint(&tb, (uint64_t)(ts % 1000000000));
            }
            pb_bytes(&eb, 1, tb.p ? tb.p : "", tb.len);
            const char *lp;
            size_t ll;
            line_of(e, it, &scratch, &lp, &ll);
            pb_string(&eb, 2, lp, ll, &tmp);
            for (uint32_t m = 0; m < e->nmeta; m++) {
                size_t vl = 0;
                const char *v = field_text_h(it->rec, e->meta[m], &vl, m < 32 ? &mhints[m] : NULL);
                if (!v || !vl) continue;
                char name[128];
                ta_loki_label_name(e->meta[m], name, sizeof name);
                mb.len = 0;
                pb_bytes(&mb, 1, name, strlen(name));
                pb_string(&mb, 2, v, vl, &tmp);
                pb_bytes(&eb, 3, mb.p, mb.len);
            }
            pb_bytes(&sb, 2, eb.p, eb.len);
        }
        pb_bytes(out, 1, sb.p, sb.len);
    }
    if (!out->p) ta_buf_put(out, "", 0);
    ta_buf_free(&scratch);
    ta_buf_free(&sb);
    ta_buf_free(&eb);
    ta_buf_free(&tb);
    ta_buf_free(&tmp);
    ta_buf_free(&mb);
    group_free(&g);
}

/* ------------------------------------------------------------ compression */

/* libdeflate compresses a whole buffer in one call: at level 1 it is about
 * twice as fast as zlib's deflate level 1 and its output is smaller. The
 * compressor (its hash tables) is allocated once per output. */
struct ta_gzipper {
    struct libdeflate_compressor *c;
};

ta_gzipper *ta_gzipper_new(int level) {
    ta_gzipper *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->c = libdeflate_alloc_compressor(level);
    if (!g->c) {
        free(g);
        return NULL;
    }
    return g;
}

void ta_gzipper_free(ta_gzipper *g) {
    if (!g) return;
    libdeflate_free_compressor(g->c);
    free(g);
}

int ta_gzipper_compress(ta_gzipper *g, const char *in, size_t n, ta_buf *out) {
    size_t bound = libdeflate_gzip_compress_bound(g->c, n);
    out->len = 0;
    if (out->cap < bound + 1) {
        ta_buf_free(out);
        out->p = malloc(bound + 1);
        if (!out->p) abort();
        out->cap = bound + 1;
    }
    size_t len = libdeflate_gzip_compress(g->c, in, n, out->p, bound);
    if (!len) return -1;
    out->len = len;
    return 0;
}

int ta_gzip(const char *in, size_t n, ta_buf *out, int level) {
    ta_gzipper *g = ta_gzipper_new(level);
    if (!g) return -1;
    int r = ta_gzipper_compress(g, in, n, out);
    ta_gzipper_free(g);
    return r;
}

int ta_snappy(const char *in, size_t n, ta_buf *out) {
#ifdef TA_HAVE_SNAPPY
    size_t bound = snappy_max_compressed_length(n);
    out->len = 0;
    if (out->cap < bound + 1) {
        ta_buf_free(out);
        out->p = malloc(bound + 1);
        if (!out->p) abort();
        out->cap = bound + 1;
    }
    size_t len = bound;
    if (snappy_compress(in, n, out->p, &len) != SNAPPY_OK) return -1;
    out->len = len;
    return 0;
#else
    (void)in;
    (void)n;
    (void)out;
    return -1;
#endif
}
