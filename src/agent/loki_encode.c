/* loki_encode.c — see loki_encode.h. Streams are found with a small hash
 * table keyed by the label text; entries are sorted by (stream, time, input
 * order) so each stream's values are in time order (what Loki's ordering
 * rules want) and equal timestamps keep their file order. */
#include "loki_encode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libdeflate.h>
#ifdef TA_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif
#ifdef TA_HAVE_SNAPPY
#include <snappy-c.h>
#endif

#include "quote_blocks.h"
#include "render.h"
#include "swar.h"

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

/* What one encode call works from, derived once from the configuration
 * (not per entry): sanitized label names, which sources are keywords, the
 * order labels sort in, metadata names already rendered as JSON keys. */
enum { SRC_FIELD, SRC_CATEGORY, SRC_INPUT, SRC_LEVEL, SRC_STATIC };

typedef struct cand {
    const char *src;          /* configured source / static label name */
    size_t src_len;
    uint64_t src_bit;         /* ta_key_bit(src) */
    const char *name;         /* sanitized label name; equal names share one pointer */
    size_t name_len;
    uint8_t kind;             /* SRC_* */
    const char *sval;         /* SRC_STATIC: the value */
    size_t slen;
    const ta_input_info *in;  /* input the cached lookup below is for */
    int32_t in_label;         /* index of src in in->labels, or -1 */
    uint32_t hint;            /* field index where src was last found */
    const char *last_v;       /* the last keyword/input-label value and its length: */
    size_t last_len;          /* mostly the same string (live all request long) */
} cand;

typedef struct plan {
    cand *c;            /* labels then static labels, configuration order */
    uint32_t nc;
    uint32_t *order;    /* candidates sorted by (name, index): equal names adjacent */
    char *names;        /* storage of the sanitized names */
    ta_buf meta_keys;   /* per metadata name: its JSON string and ':' */
    size_t *meta_off;   /* nmeta + 1 offsets into meta_keys */
    char (*meta_names)[128]; /* sanitized metadata names (protobuf) */
    uint32_t *meta_hint;
    size_t *meta_len;   /* strlen of each configured metadata field name */
    uint64_t *meta_bit; /* and its ta_key_bit */
} plan;

static void plan_init(plan *pl, const ta_loki_enc *e) {
    memset(pl, 0, sizeof *pl);
    uint32_t nc = e->nlabels + e->nstatic;
    pl->nc = nc;
    pl->c = calloc(nc ? nc : 1, sizeof *pl->c);
    pl->order = malloc((nc ? nc : 1) * sizeof *pl->order);
    pl->names = malloc((nc ? nc : 1) * 128);
    pl->meta_off = malloc((e->nmeta + 1) * sizeof *pl->meta_off);
    pl->meta_names = malloc((e->nmeta ? e->nmeta : 1) * sizeof *pl->meta_names);
    pl->meta_hint = calloc(e->nmeta ? e->nmeta : 1, sizeof *pl->meta_hint);
    pl->meta_len = malloc((e->nmeta ? e->nmeta : 1) * sizeof *pl->meta_len);
    pl->meta_bit = malloc((e->nmeta ? e->nmeta : 1) * sizeof *pl->meta_bit);
    if (!pl->c || !pl->order || !pl->names || !pl->meta_off || !pl->meta_names || !pl->meta_hint || !pl->meta_len ||
        !pl->meta_bit)
        abort();
    for (uint32_t i = 0; i < nc; i++) {
        cand *c = &pl->c[i];
        char *nm = pl->names + (size_t)i * 128;
        if (i < e->nlabels) {
            c->src = e->labels[i];
            c->kind = strcmp(c->src, "category") == 0 ? SRC_CATEGORY
                      : strcmp(c->src, "input") == 0  ? SRC_INPUT
                      : strcmp(c->src, "level") == 0  ? SRC_LEVEL
                                                      : SRC_FIELD;
        } else {
            c->src = e->static_labels[i - e->nlabels].name;
            c->kind = SRC_STATIC;
            c->sval = e->static_labels[i - e->nlabels].value;
            c->slen = c->sval ? strlen(c->sval) : 0;
        }
        c->src_len = strlen(c->src);
        c->src_bit = ta_key_bit(c->src, c->src_len);
        ta_loki_label_name(c->src, nm, 128);
        c->name = nm;
        c->name_len = strlen(nm);
        for (uint32_t k = 0; k < i; k++)
            if (strcmp(pl->c[k].name, nm) == 0) {
                c->name = pl->c[k].name;
                break;
            }
        c->in_label = -1;
        /* insertion sort by (name, index): a handful of labels */
        uint32_t j = i;
        while (j && strcmp(pl->c[pl->order[j - 1]].name, nm) > 0) {
            pl->order[j] = pl->order[j - 1];
            j--;
        }
        pl->order[j] = i;
    }
    for (uint32_t m = 0; m < e->nmeta; m++) {
        pl->meta_len[m] = strlen(e->meta[m]);
        pl->meta_bit[m] = ta_key_bit(e->meta[m], pl->meta_len[m]);
        ta_loki_label_name(e->meta[m], pl->meta_names[m], sizeof pl->meta_names[m]);
        pl->meta_off[m] = pl->meta_keys.len;
        ta_render_json_str(&pl->meta_keys, pl->meta_names[m], strlen(pl->meta_names[m]));
        ta_buf_put(&pl->meta_keys, ":", 1);
    }
    pl->meta_off[e->nmeta] = pl->meta_keys.len;
}

static void plan_free(plan *pl) {
    free(pl->c);
    free(pl->order);
    free(pl->names);
    ta_buf_free(&pl->meta_keys);
    free(pl->meta_off);
    free(pl->meta_names);
    free(pl->meta_hint);
    free(pl->meta_len);
    free(pl->meta_bit);
}

typedef struct lv {
    const char *name;
    size_t name_len;
    const char *val;
    size_t len;
} lv;

/* f's key is key (klen bytes): first byte, then the parser's known length
 * where it has one, else strcmp. */
static bool key_is(const ta_record *r, const ta_field *f, const char *key, size_t klen) {
    if (f->key[0] != key[0]) return false;
    if (ta_field_plain_key(r, f)) return f->key_len == klen && memcmp(f->key, key, klen) == 0;
    return strcmp(f->key, key) == 0;
}

/* Field lookup: the record's key filter answers most misses (trace_id, host)
 * without reading the fields; then where the key was in the previous record
 * (entries of one input usually have their fields in the same order). */
static const ta_field *find_field(const ta_record *r, const char *key, size_t klen, uint64_t bit, uint32_t *hint) {
    if (r->key_bloom && !(r->key_bloom & bit)) return NULL; /* most entries lack most of the keys asked */
    if (hint && *hint < r->nfields && key_is(r, &r->fields[*hint], key, klen)) return &r->fields[*hint];
    for (uint32_t i = 0; i < r->nfields; i++)
        if (key_is(r, &r->fields[i], key, klen)) {
            if (hint) *hint = i;
            return &r->fields[i];
        }
    return NULL;
}

static const char *field_text_h(const ta_record *r, const char *key, size_t klen, uint64_t bit, size_t *len,
                                uint32_t *hint) {
    const ta_field *f = find_field(r, key, klen, bit, hint);
    if (!f || f->kind == TA_NULL) return NULL;
    *len = f->val_len;
    return f->val;
}

/* v with its length in *len, taken once while c sees the same string. */
static const char *cached_len(cand *c, const char *v, size_t *len) {
    if (v != c->last_v) {
        c->last_v = v;
        c->last_len = strlen(v);
    }
    *len = c->last_len;
    return v;
}

/* A label source's value for r: the keyword (category, input, level), else
 * the input's static label of that name, else the entry's field. */
static const char *source_value(cand *c, const ta_record *r, size_t *len, bool use_hint) {
    const ta_input_info *in = r->input;
    const char *v = NULL;
    if (c->kind == SRC_CATEGORY) v = in ? in->category : NULL;
    else if (c->kind == SRC_INPUT) v = in ? in->name : NULL;
    else if (c->kind == SRC_LEVEL) v = r->level;
    if (v) return cached_len(c, v, len);
    if (in != c->in) { /* records of one input share its info: look the name up once */
        c->in = in;
        c->in_label = -1;
        for (uint32_t i = 0; in && i < in->nlabels; i++)
            if (strcmp(in->labels[i].name, c->src) == 0) {
                c->in_label = (int32_t)i;
                break;
            }
    }
    if (c->in_label >= 0) return cached_len(c, in->labels[c->in_label].value, len);
    return field_text_h(r, c->src, c->src_len, c->src_bit, len, use_hint ? &c->hint : NULL);
}

static bool same_labels(const lv *a, const lv *b, uint32_t n) {
    for (uint32_t i = 0; i < n; i++)
        if (a[i].len != b[i].len || a[i].name != b[i].name ||
            (a[i].val != b[i].val && memcmp(a[i].val, b[i].val, a[i].len) != 0))
            return false;
    return true;
}

/* The stream's labels, sorted by name, empty values left out, one value per
 * name (the first configured with a value wins: sources before static
 * labels). At least one label: Loki rejects a stream without any, so
 * `category` is the fallback. out has room for pl->nc (at least 1). */
static uint32_t label_set(plan *pl, const ta_record *r, lv *out, bool use_hint) {
    const char *vals[64];
    size_t lens[64];
    const char **v = pl->nc <= 64 ? vals : malloc(pl->nc * sizeof *v);
    size_t *vl = pl->nc <= 64 ? lens : malloc(pl->nc * sizeof *vl);
    if (!v || !vl) abort();
    for (uint32_t i = 0; i < pl->nc; i++) { /* every source, in order (lookups keep their hints current) */
        cand *c = &pl->c[i];
        vl[i] = 0;
        if (c->kind == SRC_STATIC) {
            v[i] = c->sval;
            vl[i] = c->slen;
        } else v[i] = source_value(c, r, &vl[i], use_hint);
    }
    uint32_t n = 0;
    const char *last = NULL;
    for (uint32_t k = 0; k < pl->nc; k++) { /* sorted; of equal names the lowest index comes first */
        uint32_t i = pl->order[k];
        const cand *c = &pl->c[i];
        if (!v[i] || !vl[i] || c->name == last) continue;
        last = c->name;
        out[n++] = (lv){c->name, c->name_len, v[i], vl[i]};
    }
    if (v != vals) free(v);
    if (vl != lens) free(vl);
    if (!n) {
        out[0].name = "category";
        out[0].name_len = 8;
        out[0].val = r->input && r->input->category ? r->input->category : "unknown";
        out[0].len = strlen(out[0].val);
        n = 1;
    }
    return n;
}

/* Prometheus label text {a="b", c="d"} (Loki's stream key and the protobuf
 * `labels` field); values as Go string literals. */
static void label_text(ta_buf *b, const lv *l, uint32_t n, ta_buf *tmp) {
    static const char hex[] = "0123456789abcdef";
    ta_buf_put(b, "{", 1);
    for (uint32_t i = 0; i < n; i++) {
        if (i) ta_buf_put(b, ", ", 2);
        ta_buf_put(b, l[i].name, l[i].name_len);
        ta_buf_put(b, "=\"", 2);
        tmp->len = 0;
        ta_utf8_sanitize(tmp, l[i].val, l[i].len);
        size_t run = 0; /* start of the bytes not yet copied: copied in runs */
        for (size_t k = 0; k < tmp->len; k++) {
            unsigned char c = (unsigned char)tmp->p[k];
            if (c != '"' && c != '\\' && c >= 0x20 && c != 0x7f) continue;
            ta_buf_put(b, tmp->p + run, k - run);
            run = k + 1;
            if (c == '"' || c == '\\') {
                char e[2] = {'\\', (char)c};
                ta_buf_put(b, e, 2);
            } else if (c == '\n') ta_buf_put(b, "\\n", 2);
            else {
                char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
                ta_buf_put(b, e, 4);
            }
        }
        ta_buf_put(b, tmp->p + run, tmp->len - run);
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

static lv *lv_array(const plan *pl) {
    lv *a = malloc((pl->nc ? pl->nc : 1) * sizeof *a);
    if (!a) abort();
    return a;
}

static void group(plan *pl, const ta_loki_item *items, size_t n, grouping *g) {
    size_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    int32_t *slots = malloc(cap * sizeof *slots);
    memset(slots, 0xff, cap * sizeof *slots);
    g->ents = malloc((n ? n : 1) * sizeof *g->ents);
    g->keys = malloc((n ? n : 1) * sizeof *g->keys);
    g->first = malloc((n ? n : 1) * sizeof *g->first);
    g->nstreams = 0;
    if (!slots || !g->ents || !g->keys || !g->first) abort();
    lv *ls = lv_array(pl), *prev = lv_array(pl);
    uint32_t nprev = 0, prev_stream = 0;
    ta_buf key = {0}, tmp = {0};
    bool sorted = true;
    for (size_t i = 0; i < n; i++) {
        if (i + 2 < n) ta_prefetch_record(items[i + 2].rec, false);
        uint32_t nl = label_set(pl, items[i].rec, ls, true);
        if (i && nl == nprev && same_labels(ls, prev, nl)) { /* the usual case: same stream as the previous entry */
            g->ents[i] = (ent){prev_stream, (uint32_t)i, item_ts(items[i].rec)};
            if (ent_cmp(&g->ents[i - 1], &g->ents[i]) > 0) sorted = false;
            continue;
        }
        lv *t = prev; /* ls becomes prev: swap instead of copying */
        prev = ls;
        ls = t;
        nprev = nl;
        key.len = 0;
        label_text(&key, prev, nl, &tmp);
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
    free(ls);
    free(prev);
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

/* Structured metadata value m of r (NULL if absent or empty). The hint is
 * kept for the first 32 names only, as before. */
static const char *meta_value(plan *pl, const ta_loki_enc *e, uint32_t m, const ta_record *r, size_t *vl) {
    *vl = 0;
    const char *v = field_text_h(r, e->meta[m], pl->meta_len[m], pl->meta_bit[m], vl, m < 32 ? &pl->meta_hint[m] : NULL);
    return v && *vl ? v : NULL;
}

/* ------------------------------------------------------------ JSON */

/* Exactly ta_render_json_str(out, s, n), faster for the ASCII text a log
 * line mostly is: a JSON line has a quote every few bytes, so instead of
 * copying each run between escapes with memcpy, every 16-byte block is
 * stored whole and the output advanced to the first byte that needs
 * escaping. At the first byte >= 0x80 (UTF-8 to validate) the rest goes to
 * ta_render_json_str. */
static void json_str(ta_buf *out, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    ta_buf_reserve(out, n * 6 + 2); /* + the NUL: room for n * 6 + 3 */
    char *o = out->p + out->len;
    *o++ = '"';
    size_t i = 0;
    for (;;) {
        unsigned c;
        size_t used;
        o += ta_quote_blocks(s + i, n - i, o, &used); /* room: 2 (n - i) + 16 <= 6 (n - i) when n - i >= 16 */
        i += used;
#ifdef __SSE2__
        while (i + 16 <= n) { /* room: o + 16 <= start + 1 + 6 * i + 16 <= start + 6 * n + 3 */
            __m128i v = ta_sse_load(s + i);
            _mm_storeu_si128((__m128i *)(void *)o, v);
            unsigned mask = ta_sse_quotes(v) | ta_sse_controls(v) | ta_sse_high(v);
            if (!mask) {
                o += 16;
                i += 16;
                continue;
            }
            unsigned k = (unsigned)__builtin_ctz(mask);
            o += k;
            i += k;
            break;
        }
#endif
        for (; i < n; i++, o++) { /* the tail (or everything without SSE2) */
            c = (unsigned char)s[i];
            if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
            *o = (char)c;
        }
        if (i >= n) break;
        c = (unsigned char)s[i];
        if (c >= 0x80) { /* drop the last byte written: ta_render_json_str's opening quote replaces it */
            size_t at = (size_t)(o - out->p) - 1;
            char last = out->p[at];
            out->len = at;
            ta_render_json_str(out, s + i, n - i); /* may move out->p */
            out->p[at] = last;
            return;
        }
        *o++ = '\\';
        switch (c) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        default:
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
        i++;
    }
    *o++ = '"';
    out->len = (size_t)(o - out->p);
    *o = 0;
}


/* `,["<ts>",` (without the comma for the first value): %lld without printf. */
static void put_ts(ta_buf *out, bool first, int64_t ts) {
    char t[32];
    char *e = t + sizeof t, *p = e;
    *--p = ',';
    *--p = '"';
    uint64_t u = ts < 0 ? (uint64_t)0 - (uint64_t)ts : (uint64_t)ts;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (ts < 0) *--p = '-';
    *--p = '"';
    *--p = '[';
    if (!first) *--p = ',';
    ta_buf_put(out, p, (size_t)(e - p));
}

void ta_loki_encode_json(const ta_loki_enc *e, const ta_loki_item *items, size_t n, ta_buf *out) {
    plan pl;
    plan_init(&pl, e);
    grouping g;
    group(&pl, items, n, &g);
    ta_buf scratch = {0};
    lv *ls = lv_array(&pl);
    ta_buf_put(out, "{\"streams\":[", 12);
    for (size_t i = 0; i < n;) {
        uint32_t s = g.ents[i].stream;
        if (i) ta_buf_put(out, ",", 1);
        uint32_t nl = label_set(&pl, items[g.first[s]].rec, ls, false);
        ta_buf_put(out, "{\"stream\":{", 11);
        for (uint32_t k = 0; k < nl; k++) {
            if (k) ta_buf_put(out, ",", 1);
            json_str(out, ls[k].name, ls[k].name_len);
            ta_buf_put(out, ":", 1);
            json_str(out, ls[k].val, ls[k].len);
        }
        ta_buf_put(out, "},\"values\":[", 12);
        for (bool firstv = true; i < n && g.ents[i].stream == s; i++, firstv = false) {
            const ta_loki_item *it = &items[g.ents[i].idx];
            if (i + 2 < n) ta_prefetch_record(items[g.ents[i + 2].idx].rec, !e->json_line);
            put_ts(out, firstv, g.ents[i].ts);
            const char *lp;
            size_t ll;
            line_of(e, it, &scratch, &lp, &ll);
            json_str(out, lp, ll);
            bool any = false;
            for (uint32_t m = 0; m < e->nmeta; m++) {
                size_t vl;
                const char *v = meta_value(&pl, e, m, it->rec, &vl);
                if (!v) continue;
                ta_buf_put(out, any ? "," : ",{", any ? 1 : 2);
                any = true;
                ta_buf_put(out, pl.meta_keys.p + pl.meta_off[m], pl.meta_off[m + 1] - pl.meta_off[m]);
                json_str(out, v, vl);
            }
            ta_buf_put(out, any ? "}]" : "]", any ? 2 : 1);
        }
        ta_buf_put(out, "]}", 2);
    }
    ta_buf_put(out, "]}", 2);
    free(ls);
    ta_buf_free(&scratch);
    group_free(&g);
    plan_free(&pl);
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
    plan pl;
    plan_init(&pl, e);
    grouping g;
    group(&pl, items, n, &g);
    ta_buf scratch = {0}, sb = {0}, eb = {0}, tb = {0}, tmp = {0}, mb = {0};
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
                size_t vl;
                const char *v = meta_value(&pl, e, m, it->rec, &vl);
                if (!v) continue;
                mb.len = 0;
                pb_bytes(&mb, 1, pl.meta_names[m], strlen(pl.meta_names[m]));
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
    plan_free(&pl);
}

/* ------------------------------------------------------------ compression */

/* gzip at the fast levels with ISA-L's igzip where it is installed (about
 * 2.5 times less CPU than libdeflate level 1 for the same size of output on
 * JSON bodies), else and at higher levels with libdeflate, which compresses
 * a whole buffer in one call (at level 1 about twice as fast as zlib's
 * level 1, same size). The state (hash tables) is allocated once per output. */
struct ta_gzipper {
    struct libdeflate_compressor *c;
#ifdef TA_HAVE_ISAL
    struct isal_zstream *z; /* NULL unless igzip is used */
    uint8_t *lbuf;
#endif
};

ta_gzipper *ta_gzipper_new(int level) {
    ta_gzipper *g = calloc(1, sizeof *g);
    if (!g) return NULL;
#ifdef TA_HAVE_ISAL
    if (level <= 2) {
        g->z = malloc(sizeof *g->z);
        g->lbuf = malloc(ISAL_DEF_LVL1_DEFAULT);
        if (g->z && g->lbuf) return g;
        ta_gzipper_free(g);
        return NULL;
    }
#endif
    g->c = libdeflate_alloc_compressor(level);
    if (!g->c) {
        free(g);
        return NULL;
    }
    return g;
}

void ta_gzipper_free(ta_gzipper *g) {
    if (!g) return;
    if (g->c) libdeflate_free_compressor(g->c);
#ifdef TA_HAVE_ISAL
    free(g->z);
    free(g->lbuf);
#endif
    free(g);
}

static void reserve(ta_buf *out, size_t cap) {
    if (out->cap >= cap) return;
    char *p = realloc(out->p, cap);
    if (!p) abort();
    out->p = p;
    out->cap = cap;
}

#ifdef TA_HAVE_ISAL
static int igzip(ta_gzipper *g, const char *in, size_t n, ta_buf *out) {
    struct isal_zstream *z = g->z;
    isal_deflate_init(z);
    z->gzip_flag = IGZIP_GZIP;
    z->level = 1;
    z->level_buf = g->lbuf;
    z->level_buf_size = ISAL_DEF_LVL1_DEFAULT;
    z->end_of_stream = 1;
    z->flush = NO_FLUSH;
    z->next_in = (uint8_t *)(uintptr_t)in;
    z->avail_in = (uint32_t)n;
    out->len = 0;
    reserve(out, n / 4 + 4096); /* JSON bodies shrink 3 to 15 times; grown when not */
    for (;;) {
        z->next_out = (uint8_t *)out->p + z->total_out;
        z->avail_out = (uint32_t)(out->cap - 1 - z->total_out);
        if (isal_deflate(z) != COMP_OK) return -1;
        if (z->internal_state.state == ZSTATE_END) break;
        if (z->avail_out) return -1; /* not finished yet room left: should not happen */
        reserve(out, out->cap * 2);
    }
    out->len = z->total_out;
    out->p[out->len] = 0;
#if defined(__x86_64__) && defined(__GNUC__)
    /* igzip's AVX-512 code may leave the upper vector halves in use; the
     * SSE code that runs next (JSON escaping) would then pay a penalty on
     * every instruction. */
    if (__builtin_cpu_supports("avx")) __asm__ volatile("vzeroupper");
#endif
    return 0;
}
#endif

int ta_gzipper_compress(ta_gzipper *g, const char *in, size_t n, ta_buf *out) {
#ifdef TA_HAVE_ISAL
    if (g->z && n <= UINT32_MAX / 2) return igzip(g, in, n, out);
    if (!g->c && !(g->c = libdeflate_alloc_compressor(1))) return -1; /* > 2 GiB: beyond igzip's counters */
#endif
    size_t bound = libdeflate_gzip_compress_bound(g->c, n);
    out->len = 0;
    reserve(out, bound + 1);
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
