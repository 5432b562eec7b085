/* api_push.c — POST /loki/api/v1/push: Loki's JSON body (optionally gzip'd)
 * and its protobuf body (snappy block compressed), into the source.
 *
 * Loki's answers: 204 when everything was stored; 400 when some entries or
 * streams were invalid — the valid ones of the same request ARE stored (so
 * an agent must not retry a 400); 413 for an oversized body; 500 when the
 * store failed (the agent retries; exact duplicates are dropped on resend).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#ifdef TQ_HAVE_SNAPPY
#include <snappy-c.h>
#endif

#include "api_impl.h"
#include "logql_ast.h"
#include "tq_json.h"

#define MAX_LINE (256u * 1024u)   /* Loki's default max_line_size */
#define MAX_LABELS 15             /* Loki's default max_label_names_per_series */

typedef struct push_ctx {
    api_req *r;
    tq_arena arena;
    size_t stored, invalid;
    size_t pushed;     /* entries handed to the source (duplicates included) */
    char first_err[256];
    int store_err;
} push_ctx;

static void invalid(push_ctx *c, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void invalid(push_ctx *c, size_t n, const char *fmt, ...) {
    c->invalid += n;
    if (c->first_err[0]) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->first_err, sizeof c->first_err, fmt, ap);
    va_end(ap);
}

static int valid_label_name(const char *s) {
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_')) return 0;
    for (s++; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' || (*s >= '0' && *s <= '9'))) return 0;
    return 1;
}

/* Validates a stream's labels; 0 when fine. */
static int check_labels(push_ctx *c, const tq_label *l, size_t n, size_t nentries) {
    if (n == 0) {
        invalid(c, nentries, "error at least one label pair is required per stream");
        return -1;
    }
    if (n > MAX_LABELS) {
        invalid(c, nentries, "stream has %zu label names, limit %d (keep request ids in the line or structured "
                             "metadata, not in labels)", n, MAX_LABELS);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (!valid_label_name(l[i].name)) {
            invalid(c, nentries, "invalid label name \"%.64s\"", l[i].name);
            return -1;
        }
    return 0;
}

/* Stores the valid entries of one stream. */
static void push_stream(push_ctx *c, const tq_label *l, size_t nl, tq_entry *e, size_t n) {
    if (check_labels(c, l, nl, n) < 0) return;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (e[i].len > MAX_LINE) {
            invalid(c, 1, "max entry size '%u' bytes exceeded for stream (line of %zu bytes)", MAX_LINE, e[i].len);
            continue;
        }
        e[o++] = e[i];
    }
    if (!o) return;
    c->pushed += o;
    int rc = c->r->api->src.push(c->r->api->src.ctx, l, nl, e, o);
    if (rc < 0) {
        c->store_err = rc;
        return;
    }
    c->stored += (size_t)rc;
}

static int parse_ns(const char *s, size_t n, int64_t *out) {
    if (n == 0 || n > 19) return -1;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* ------------------------------------------------------------ JSON */

static int push_json(push_ctx *c, const char *body, size_t len, api_resp *o) {
    char err[200];
    tq_jval *root = tq_json_parse(&c->arena, body, len, 32, err, sizeof err);
    if (!root) {
        api_text(o, 400, "error parsing push request: %s", err);
        return -1;
    }
    const tq_jval *streams = tq_json_get(root, "streams");
    if (!streams || streams->type != TQ_JARR) {
        api_text(o, 400, "error parsing push request: expected {\"streams\":[...]}");
        return -1;
    }
    /* Validate the shape first, so a malformed request stores nothing. */
    for (size_t i = 0; i < streams->n; i++) {
        const tq_jval *s = &streams->kids[i];
        const tq_jval *lab = tq_json_get(s, "stream");
        const tq_jval *vals = tq_json_get(s, "values");
        if (!lab || lab->type != TQ_JOBJ || !vals || vals->type != TQ_JARR) {
            api_text(o, 400, "error parsing push request: stream %zu needs \"stream\":{...} and \"values\":[...]", i);
            return -1;
        }
        for (size_t k = 0; k < lab->n; k++)
            if (lab->kids[k].type != TQ_JSTR) {
                api_text(o, 400, "error parsing push request: stream %zu: label values must be strings", i);
                return -1;
            }
        for (size_t k = 0; k < vals->n; k++) {
            const tq_jval *v = &vals->kids[k];
            if (v->type != TQ_JARR || v->n < 2 || v->n > 3 || v->kids[0].type != TQ_JSTR || v->kids[1].type != TQ_JSTR ||
                (v->n == 3 && v->kids[2].type != TQ_JOBJ)) {
                api_text(o, 400, "error parsing push request: stream %zu value %zu: expected [\"<unix ns as a string>\", "
                                 "\"<line>\"] or with a structured metadata object", i, k);
                return -1;
            }
        }
    }
    for (size_t i = 0; i < streams->n; i++) {
        const tq_jval *s = &streams->kids[i];
        const tq_jval *lab = tq_json_get(s, "stream");
        const tq_jval *vals = tq_json_get(s, "values");
        tq_label *l = tq_arena_alloc(&c->arena, (lab->n + 1) * sizeof *l);
        for (size_t k = 0; k < lab->n; k++) l[k] = (tq_label){lab->keys[k], lab->kids[k].s};
        tq_entry *e = tq_arena_alloc(&c->arena, (vals->n + 1) * sizeof *e);
        size_t ne = 0;
        for (size_t k = 0; k < vals->n; k++) {
            const tq_jval *v = &vals->kids[k];
            tq_entry *en = &e[ne];
            memset(en, 0, sizeof *en);
            if (parse_ns(v->kids[0].s, v->kids[0].len, &en->ts) < 0) {
                invalid(c, 1, "invalid timestamp \"%.40s\": expected unix nanoseconds as a string", v->kids[0].s);
                continue;
            }
            en->line = v->kids[1].s;
            en->len = v->kids[1].len;
            if (v->n == 3) {
                const tq_jval *md = &v->kids[2];
                tq_label *m = tq_arena_alloc(&c->arena, (md->n + 1) * sizeof *m);
                size_t nm = 0;
                for (size_t x = 0; x < md->n; x++)
                    if (md->kids[x].type == TQ_JSTR) m[nm++] = (tq_label){md->keys[x], md->kids[x].s};
                en->meta = m;
                en->nmeta = nm;
            }
            ne++;
        }
        push_stream(c, l, lab->n, e, ne);
    }
    return 0;
}

/* ------------------------------------------------------------ protobuf */

typedef struct pb {
    const unsigned char *p, *e;
} pb;

static int pb_varint(pb *b, uint64_t *v) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (b->p >= b->e) return -1;
        unsigned char c = *b->p++;
        *v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) return 0;
    }
    return -1;
}

/* Next field: number, wire type, and for LEN fields the sub-buffer. */
static int pb_field(pb *b, uint32_t *num, int *wt, pb *sub, uint64_t *val) {
    uint64_t key;
    if (pb_varint(b, &key) < 0) return -1;
    *num = (uint32_t)(key >> 3);
    *wt = (int)(key & 7);
    switch (*wt) {
    case 0: return pb_varint(b, val);
    case 1: if (b->e - b->p < 8) return -1; b->p += 8; return 0;
    case 5: if (b->e - b->p < 4) return -1; b->p += 4; return 0;
    case 2: {
        uint64_t n;
        if (pb_varint(b, &n) < 0 || n > (uint64_t)(b->e - b->p)) return -1;
        sub->p = b->p;
        sub->e = b->p + n;
        b->p += n;
        return 0;
    }
    default: return -1;
    }
}

static char *pb_str(push_ctx *c, const pb *s) {
    return tq_arena_strndup(&c->arena, (const char *)s->p, (size_t)(s->e - s->p));
}

static int pb_entry(push_ctx *c, pb b, tq_entry *e) {
    memset(e, 0, sizeof *e);
    tq_label *meta = NULL;
    size_t nmeta = 0, cap = 0;
    while (b.p < b.e) {
        uint32_t num;
        int wt;
        pb sub = {0};
        uint64_t v;
        if (pb_field(&b, &num, &wt, &sub, &v) < 0) return -1;
        if (num == 1 && wt == 2) {
            int64_t sec = 0, nanos = 0;
            while (sub.p < sub.e) {
                uint32_t n2;
                int w2;
                pb s2 = {0};
                uint64_t v2 = 0;
                if (pb_field(&sub, &n2, &w2, &s2, &v2) < 0) return -1;
                if (n2 == 1 && w2 == 0) sec = (int64_t)v2;
                if (n2 == 2 && w2 == 0) nanos = (int64_t)(int32_t)v2;
            }
            e->ts = sec * 1000000000 + nanos;
        } else if (num == 2 && wt == 2) {
            e->line = (const char *)sub.p;
            e->len = (size_t)(sub.e - sub.p);
        } else if (num == 3 && wt == 2) {
            tq_label l = {"", ""};
            while (sub.p < sub.e) {
                uint32_t n2;
                int w2;
                pb s2 = {0};
                uint64_t v2;
                if (pb_field(&sub, &n2, &w2, &s2, &v2) < 0) return -1;
                if (n2 == 1 && w2 == 2) l.name = pb_str(c, &s2);
                if (n2 == 2 && w2 == 2) l.value = pb_str(c, &s2);
            }
            if (nmeta == cap) {
                cap = cap ? cap * 2 : 4;
                tq_label *nm = tq_arena_alloc(&c->arena, cap * sizeof *nm);
                if (nmeta) memcpy(nm, meta, nmeta * sizeof *nm);
                meta = nm;
            }
            meta[nmeta++] = l;
        }
    }
    e->meta = meta;
    e->nmeta = nmeta;
    return 0;
}

static int push_protobuf(push_ctx *c, const char *raw, size_t rawlen, api_resp *o) {
#ifdef TQ_HAVE_SNAPPY
    size_t ulen;
    if (snappy_uncompressed_length(raw, rawlen, &ulen) != SNAPPY_OK) {
        api_text(o, 400, "error parsing push request: body is not a snappy block (Content-Type "
                         "application/x-protobuf needs snappy block compression)");
        return -1;
    }
    if (ulen > c->r->api->cfg.max_body_bytes) {
        api_text(o, 413, "request body too large after decompression: limit is %zu bytes", c->r->api->cfg.max_body_bytes);
        return -1;
    }
    char *body = tq_arena_alloc(&c->arena, ulen + 1);
    if (snappy_uncompress(raw, rawlen, body, &ulen) != SNAPPY_OK) {
        api_text(o, 400, "error parsing push request: corrupt snappy block");
        return -1;
    }
    /* Two passes: decode everything, then store, so a malformed message
     * stores nothing. */
    typedef struct pstream { tq_label *l; size_t nl; tq_entry *e; size_t ne, cap; } pstream;
    pstream *ps = NULL;
    size_t nps = 0, pscap = 0;
    pb b = {(const unsigned char *)body, (const unsigned char *)body + ulen};
    while (b.p < b.e) {
        uint32_t num;
        int wt;
        pb sub = {0};
        uint64_t v;
        if (pb_field(&b, &num, &wt, &sub, &v) < 0) goto bad;
        if (num != 1 || wt != 2) continue;
        if (nps == pscap) {
            pscap = pscap ? pscap * 2 : 8;
            pstream *np = tq_arena_alloc(&c->arena, pscap * sizeof *np);
            if (nps) memcpy(np, ps, nps * sizeof *np);
            ps = np;
        }
        pstream *s = &ps[nps++];
        memset(s, 0, sizeof *s);
        while (sub.p < sub.e) {
            uint32_t n2;
            int w2;
            pb s2 = {0};
            uint64_t v2;
            if (pb_field(&sub, &n2, &w2, &s2, &v2) < 0) goto bad;
            if (n2 == 1 && w2 == 2) {
                char *text = pb_str(c, &s2);
                tq_query *q;
                char err[256];
                if (tq_parse(text, &q, err, sizeof err) < 0 || tq_query_is_metric(q) || tq_query_log_expr(q)->nstages) {
                    if (q) tq_query_free(q);
                    api_text(o, 400, "error parsing push request: bad stream labels \"%.100s\"", text);
                    return -1;
                }
                const tq_selector *sel = &tq_query_log_expr(q)->sel;
                s->l = tq_arena_alloc(&c->arena, (sel->n + 1) * sizeof *s->l);
                for (size_t i = 0; i < sel->n; i++) {
                    if (sel->m[i].op != TQ_EQ) {
                        tq_query_free(q);
                        api_text(o, 400, "error parsing push request: stream labels must use =");
                        return -1;
                    }
                    s->l[i].name = tq_arena_strndup(&c->arena, sel->m[i].name, strlen(sel->m[i].name));
                    s->l[i].value = tq_arena_strndup(&c->arena, sel->m[i].value, strlen(sel->m[i].value));
                }
                s->nl = sel->n;
                tq_query_free(q);
            } else if (n2 == 2 && w2 == 2) {
                if (s->ne == s->cap) {
                    s->cap = s->cap ? s->cap * 2 : 16;
                    tq_entry *ne = tq_arena_alloc(&c->arena, s->cap * sizeof *ne);
                    if (s->ne) memcpy(ne, s->e, s->ne * sizeof *ne);
                    s->e = ne;
                }
                if (pb_entry(c, s2, &s->e[s->ne]) < 0) goto bad;
                s->ne++;
            }
        }
    }
    for (size_t i = 0; i < nps; i++) push_stream(c, ps[i].l, ps[i].nl, ps[i].e, ps[i].ne);
    return 0;
bad:
    api_text(o, 400, "error parsing push request: malformed protobuf PushRequest");
    return -1;
#else
    (void)c;
    (void)raw;
    (void)rawlen;
    api_text(o, 415, "protobuf push needs snappy, which this build lacks: send JSON");
    return -1;
#endif
}

/* ------------------------------------------------------------ gzip */

static int gunzip(push_ctx *c, const char *in, size_t inlen, char **out, size_t *outlen, api_resp *o) {
    size_t limit = c->r->api->cfg.max_body_bytes;
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 32) != Z_OK) { /* gzip or zlib, auto-detected */
        api_text(o, 500, "inflate init failed");
        return -1;
    }
    tq_buf b = {0};
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)inlen;
    int rc;
    do {
        tq_buf_reserve(&b, 65536);
        z.next_out = (Bytef *)b.p + b.len;
        z.avail_out = 65536;
        rc = inflate(&z, Z_NO_FLUSH);
        b.len = 65536 - z.avail_out + b.len;
        if (b.len > limit) {
            inflateEnd(&z);
            tq_buf_free(&b);
            api_text(o, 413, "request body too large after decompression: limit is %zu bytes", limit);
            return -1;
        }
    } while (rc == Z_OK && (z.avail_in > 0 || z.avail_out == 0));
    inflateEnd(&z);
    if (rc != Z_STREAM_END) {
        tq_buf_free(&b);
        api_text(o, 400, "error parsing push request: corrupt gzip body");
        return -1;
    }
    *out = tq_arena_strndup(&c->arena, b.p, b.len);
    *outlen = b.len;
    tq_buf_free(&b);
    return 0;
}

void api_push(api_req *r, api_resp *o) {
    if (!r->api->src.push) {
        api_text(o, 405, "this API is read-only: push is disabled");
        return;
    }
    push_ctx c;
    memset(&c, 0, sizeof c);
    c.r = r;
    const char *body = r->body;
    size_t len = r->body_len;
    const char *enc = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_ENCODING);
    const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (enc && (strcasecmp(enc, "gzip") == 0 || strcasecmp(enc, "deflate") == 0)) {
        char *plain;
        if (gunzip(&c, body, len, &plain, &len, o) < 0) goto done;
        body = plain;
    } else if (enc && *enc && strcasecmp(enc, "identity") != 0 && strcasecmp(enc, "snappy") != 0) {
        api_text(o, 415, "unsupported Content-Encoding \"%.32s\": use gzip or none", enc);
        goto done;
    }
    int proto = ct ? strncasecmp(ct, "application/x-protobuf", 22) == 0 : (len && body[0] != '{');
    if (ct && !proto && strncasecmp(ct, "application/json", 16) != 0) {
        api_text(o, 415, "unsupported Content-Type \"%.64s\": use application/json or application/x-protobuf", ct);
        goto done;
    }
    if ((proto ? push_protobuf(&c, body, len, o) : push_json(&c, body, len, o)) < 0) goto done;
    /* One fsync per request, not per stream: acknowledged means durable.
     * Also when everything was a duplicate: the original may be the one of
     * a failed earlier attempt, appended but never synced. */
    if (!c.store_err && c.pushed && r->api->src.sync) c.store_err = r->api->src.sync(r->api->src.ctx);
    if (c.store_err) {
        api_text(o, 500, "storing entries failed: %s (retry: duplicates are dropped)", strerror(-c.store_err));
    } else if (c.invalid) {
        api_text(o, 400, "%zu entries rejected, %zu stored; first error: %s", c.invalid, c.stored, c.first_err);
    } else {
        o->status = 204;
        o->type = "text/plain";
    }
done:
    tq_arena_free(&c.arena);
}
