/* loki_receiver.c — see loki_receiver.h. Its own small JSON parser,
 * protobuf reader and label-text parser: it shares no code with the
 * encoder it checks. */
#include "loki_receiver.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/* ------------------------------------------------------------ storage */

typedef struct stream {
    char *labels;
    int64_t head;       /* newest timestamp accepted */
} stream;

typedef struct stored {
    uint32_t stream;
    int64_t ts;
    uint64_t line_hash;
    uint32_t line_len;
    char *line;         /* keep_lines only */
    char *meta;
} stored;

struct lr_server {
    lr_conf c;
    struct MHD_Daemon *d;
    int port;
    pthread_mutex_t mu;
    lr_stats st;
    stream *streams;
    size_t nstreams, cstreams;
    stored *ents;
    size_t nents, cents;
    int64_t *set;       /* open addressing: index into ents, -1 empty */
    size_t setcap;
    int fail_status, fail_count, fail_pct, fail_pct_status, invalid_pct;
    char **refused;     /* lines of refused entries (keep_lines) */
    size_t nrefused, crefused;
    unsigned seed;
    int stall_ms, stall_count, stall_pct;
};

static uint64_t h64(const void *p, size_t n, uint64_t h) {
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 1099511628211ull;
    return h;
}

static uint64_t key_hash(uint32_t stream, int64_t ts, uint64_t lh) {
    uint64_t h = h64(&stream, sizeof stream, 1469598103934665603ull);
    h = h64(&ts, sizeof ts, h);
    return h64(&lh, sizeof lh, h);
}

static void set_grow(lr_server *s) {
    size_t ncap = s->setcap ? s->setcap * 2 : 1024;
    int64_t *ns = malloc(ncap * sizeof *ns);
    if (!ns) abort();
    memset(ns, 0xff, ncap * sizeof *ns);
    for (size_t i = 0; i < s->nents; i++) {
        size_t h = key_hash(s->ents[i].stream, s->ents[i].ts, s->ents[i].line_hash) & (ncap - 1);
        while (ns[h] >= 0) h = (h + 1) & (ncap - 1);
        ns[h] = (int64_t)i;
    }
    free(s->set);
    s->set = ns;
    s->setcap = ncap;
}

/* The stored entry equal to (stream, ts, line), or -1. */
static int64_t find_dup(lr_server *s, uint32_t stream, int64_t ts, uint64_t lh, size_t len) {
    if (!s->setcap) return -1;
    size_t h = key_hash(stream, ts, lh) & (s->setcap - 1);
    for (; s->set[h] >= 0; h = (h + 1) & (s->setcap - 1)) {
        stored *e = &s->ents[s->set[h]];
        if (e->stream == stream && e->ts == ts && e->line_hash == lh && e->line_len == len) return s->set[h];
    }
    return -1;
}

static uint32_t stream_of(lr_server *s, const char *labels) {
    for (size_t i = 0; i < s->nstreams; i++)
        if (strcmp(s->streams[i].labels, labels) == 0) return (uint32_t)i;
    if (s->nstreams == s->cstreams) {
        s->cstreams = s->cstreams ? s->cstreams * 2 : 16;
        s->streams = realloc(s->streams, s->cstreams * sizeof *s->streams);
        if (!s->streams) abort();
    }
    s->streams[s->nstreams] = (stream){strdup(labels), INT64_MIN};
    s->st.streams++;
    return (uint32_t)s->nstreams++;
}

/* ------------------------------------------------------------ labels */

typedef struct label {
    char *name, *value;
} label;

typedef struct req {        /* what one push request holds, decoded */
    char *err;              /* whole-request error (400) */
    int nstreams;
    struct rstream {
        label *labels;
        int nlabels;
        struct rentry {
            int64_t ts;
            char *line;
            size_t line_len;
            label *meta;
            int nmeta;
        } *ents;
        int nents;
    } *streams;
} req;

static void req_free(req *r) {
    for (int i = 0; i < r->nstreams; i++) {
        struct rstream *s = &r->streams[i];
        for (int k = 0; k < s->nlabels; k++) free(s->labels[k].name), free(s->labels[k].value);
        for (int k = 0; k < s->nents; k++) {
            free(s->ents[k].line);
            for (int m = 0; m < s->ents[k].nmeta; m++) free(s->ents[k].meta[m].name), free(s->ents[k].meta[m].value);
            free(s->ents[k].meta);
        }
        free(s->labels);
        free(s->ents);
    }
    free(r->streams);
    free(r->err);
}

static struct rstream *new_stream(req *r) {
    r->streams = realloc(r->streams, (size_t)(r->nstreams + 1) * sizeof *r->streams);
    if (!r->streams) abort();
    struct rstream *s = &r->streams[r->nstreams++];
    memset(s, 0, sizeof *s);
    return s;
}

static struct rentry *new_entry(struct rstream *s) {
    s->ents = realloc(s->ents, (size_t)(s->nents + 1) * sizeof *s->ents);
    if (!s->ents) abort();
    struct rentry *e = &s->ents[s->nents++];
    memset(e, 0, sizeof *e);
    return e;
}

static void add_label(label **v, int *n, const char *name, size_t nl, const char *val, size_t vl) {
    *v = realloc(*v, (size_t)(*n + 1) * sizeof **v);
    if (!*v) abort();
    (*v)[*n].name = strndup(name, nl);
    (*v)[*n].value = malloc(vl + 1);
    memcpy((*v)[*n].value, val, vl);
    (*v)[*n].value[vl] = 0;
    (*n)++;
}

static int label_cmp(const void *a, const void *b) { return strcmp(((const label *)a)->name, ((const label *)b)->name); }

/* Loki's label rules for one stream; NULL if fine. */
static const char *check_labels(label *l, int n) {
    if (n == 0) return "error at least one label pair is required per stream";
    if (n > 15) return "entry has too many labels";
    qsort(l, (size_t)n, sizeof *l, label_cmp);
    for (int i = 0; i < n; i++) {
        const char *p = l[i].name;
        if (!*p || (*p >= '0' && *p <= '9')) return "invalid label name";
        for (; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
                return "invalid label name";
        if (l[i].name[0] == '_' && l[i].name[1] == '_') return "label name starting with __ is reserved";
        if (strlen(l[i].name) > 1024) return "label name too long";
        if (strlen(l[i].value) > 2048) return "label value too long";
        if (i && strcmp(l[i].name, l[i - 1].name) == 0) return "duplicate label name";
    }
    return NULL;
}

static void canonical(label *l, int n, char *out, size_t cap) {
    size_t o = 0;
    o += (size_t)snprintf(out + o, cap - o, "{");
    for (int i = 0; i < n && o < cap; i++) {
        o += (size_t)snprintf(out + o, cap - o, "%s%s=\"", i ? ", " : "", l[i].name);
        for (const char *p = l[i].value; *p && o + 3 < cap; p++) {
            if (*p == '"' || *p == '\\') out[o++] = '\\';
            out[o++] = *p;
        }
        if (o < cap) o += (size_t)snprintf(out + o, cap - o, "\"");
    }
    if (o < cap) snprintf(out + o, cap - o, "}");
}

/* Prometheus label text {a="b", c="d\"x"} as Loki's protobuf `labels`. */
static int parse_label_text(const char *s, size_t n, label **v, int *nl) {
    size_t i = 0;
#define WS() while (i < n && (s[i] == ' ' || s[i] == '\t')) i++
    WS();
    if (i >= n || s[i++] != '{') return -1;
    WS();
    if (i < n && s[i] == '}') return 0;
    for (;;) {
        WS();
        size_t ns = i;
        while (i < n && s[i] != '=' && s[i] != ' ') i++;
        size_t ne = i;
        WS();
        if (i >= n || s[i++] != '=') return -1;
        WS();
        if (i >= n || s[i++] != '"') return -1;
        char *val = malloc(n + 1);
        size_t vl = 0;
        while (i < n && s[i] != '"') {
            if (s[i] == '\\' && i + 1 < n) {
                i++;
                char c = s[i];
                if (c == 'n') c = '\n';
                else if (c == 't') c = '\t';
                else if (c == 'x' && i + 2 < n) {
                    char hx[3] = {s[i + 1], s[i + 2], 0};
                    c = (char)strtol(hx, NULL, 16);
                    i += 2;
                }
                val[vl++] = c;
                i++;
            } else val[vl++] = s[i++];
        }
        if (i >= n) return free(val), -1;
        i++;
        add_label(v, nl, s + ns, ne - ns, val, vl);
        free(val);
        WS();
        if (i < n && s[i] == ',') {
            i++;
            continue;
        }
        if (i < n && s[i] == '}') return 0;
        return -1;
    }
#undef WS
}

/* ------------------------------------------------------------ JSON */

typedef struct jp {
    const char *s;
    size_t n, i;
    const char *err;
} jp;

static void jws(jp *p) {
    while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\n' || p->s[p->i] == '\t' || p->s[p->i] == '\r'))
        p->i++;
}

static int jlit(jp *p, char c) {
    jws(p);
    if (p->i < p->n && p->s[p->i] == c) {
        p->i++;
        return 1;
    }
    return 0;
}

static void put_utf8(char *o, size_t *l, unsigned cp) {
    if (cp < 0x80) o[(*l)++] = (char)cp;
    else if (cp < 0x800) o[(*l)++] = (char)(0xC0 | cp >> 6), o[(*l)++] = (char)(0x80 | (cp & 63));
    else if (cp < 0x10000)
        o[(*l)++] = (char)(0xE0 | cp >> 12), o[(*l)++] = (char)(0x80 | (cp >> 6 & 63)), o[(*l)++] = (char)(0x80 | (cp & 63));
    else
        o[(*l)++] = (char)(0xF0 | cp >> 18), o[(*l)++] = (char)(0x80 | (cp >> 12 & 63)),
        o[(*l)++] = (char)(0x80 | (cp >> 6 & 63)), o[(*l)++] = (char)(0x80 | (cp & 63));
}

/* A JSON string (unescaped, malloc'd) or NULL with p->err. */
static char *jstr(jp *p, size_t *len) {
    jws(p);
    if (p->i >= p->n || p->s[p->i] != '"') return p->err = "expected a string", NULL;
    p->i++;
    size_t j = p->i; /* size the copy by the escaped length (never shorter than the result) */
    while (j < p->n && p->s[j] != '"') j += p->s[j] == '\\' ? 2 : 1;
    char *o = malloc((j < p->n ? j : p->n) - p->i + 1);
    size_t l = 0;
    while (p->i < p->n && p->s[p->i] != '"') {
        unsigned char c = (unsigned char)p->s[p->i++];
        if (c < 0x20) return free(o), p->err = "control character in string", NULL;
        if (c != '\\') {
            o[l++] = (char)c;
            continue;
        }
        if (p->i >= p->n) break;
        char e = p->s[p->i++];
        switch (e) {
        case 'n': o[l++] = '\n'; break;
        case 't': o[l++] = '\t'; break;
        case 'r': o[l++] = '\r'; break;
        case 'b': o[l++] = '\b'; break;
        case 'f': o[l++] = '\f'; break;
        case '/': case '\\': case '"': o[l++] = e; break;
        case 'u': {
            if (p->i + 4 > p->n) return free(o), p->err = "bad \\u escape", NULL;
            char hx[5] = {0};
            memcpy(hx, p->s + p->i, 4);
            unsigned cp = (unsigned)strtoul(hx, NULL, 16);
            p->i += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && p->i + 6 <= p->n && p->s[p->i] == '\\' && p->s[p->i + 1] == 'u') {
                memcpy(hx, p->s + p->i + 2, 4);
                unsigned lo = (unsigned)strtoul(hx, NULL, 16);
                if (lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    p->i += 6;
                }
            }
            put_utf8(o, &l, cp);
            break;
        }
        default: return free(o), p->err = "bad escape", NULL;
        }
    }
    if (p->i >= p->n) return free(o), p->err = "unterminated string", NULL;
    p->i++;
    o[l] = 0;
    *len = l;
    return o;
}

/* {"k":"v",...} of strings into labels. */
static int jstrmap(jp *p, label **v, int *n) {
    if (!jlit(p, '{')) return p->err = "expected an object", -1;
    if (jlit(p, '}')) return 0;
    do {
        size_t kl, vl;
        char *k = jstr(p, &kl);
        if (!k) return -1;
        if (!jlit(p, ':')) return free(k), p->err = "expected :", -1;
        char *val = jstr(p, &vl);
        if (!val) return free(k), p->err = "label and metadata values must be strings", -1;
        add_label(v, n, k, kl, val, vl);
        free(k);
        free(val);
    } while (jlit(p, ','));
    return jlit(p, '}') ? 0 : (p->err = "expected }", -1);
}

static int parse_json(const char *s, size_t n, req *r) {
    jp p = {s, n, 0, NULL};
#define FAIL(msg) do { if (!p.err) p.err = msg; goto fail; } while (0)
    if (!jlit(&p, '{')) FAIL("expected an object");
    size_t kl;
    char *k = jstr(&p, &kl);
    if (!k || strcmp(k, "streams") != 0 || !jlit(&p, ':')) {
        free(k);
        FAIL("expected \"streams\"");
    }
    free(k);
    if (!jlit(&p, '[')) FAIL("streams: expected an array");
    if (!jlit(&p, ']')) {
        do {
            struct rstream *st = new_stream(r);
            if (!jlit(&p, '{')) FAIL("stream: expected an object");
            do {
                char *key = jstr(&p, &kl);
                if (!key || !jlit(&p, ':')) {
                    free(key);
                    FAIL("stream: expected a key");
                }
                if (strcmp(key, "stream") == 0) {
                    free(key);
                    if (jstrmap(&p, &st->labels, &st->nlabels) < 0) goto fail;
                } else if (strcmp(key, "values") == 0) {
                    free(key);
                    if (!jlit(&p, '[')) FAIL("values: expected an array");
                    if (jlit(&p, ']')) continue;
                    do {
                        if (!jlit(&p, '[')) FAIL("value: expected [ts, line]");
                        struct rentry *e = new_entry(st);
                        size_t tl;
                        char *ts = jstr(&p, &tl);
                        if (!ts) {
                            p.err = NULL;
                            FAIL("timestamp must be a string of unix nanoseconds");
                        }
                        char *end;
                        e->ts = strtoll(ts, &end, 10);
                        bool bad = tl == 0 || *end;
                        free(ts);
                        if (bad) FAIL("timestamp must be a string of unix nanoseconds");
                        if (!jlit(&p, ',')) FAIL("value: expected a line");
                        if (!(e->line = jstr(&p, &e->line_len))) goto fail;
                        if (jlit(&p, ',') && jstrmap(&p, &e->meta, &e->nmeta) < 0) goto fail;
                        if (!jlit(&p, ']')) FAIL("value: expected ]");
                    } while (jlit(&p, ','));
                    if (!jlit(&p, ']')) FAIL("values: expected ]");
                } else {
                    free(key);
                    FAIL("stream: unknown key");
                }
            } while (jlit(&p, ','));
            if (!jlit(&p, '}')) FAIL("stream: expected }");
        } while (jlit(&p, ','));
        if (!jlit(&p, ']')) FAIL("streams: expected ]");
    }
    if (!jlit(&p, '}')) FAIL("expected }");
    jws(&p);
    if (p.i != p.n) FAIL("trailing bytes");
    return 0;
fail:
    r->err = strdup(p.err ? p.err : "bad JSON");
    return -1;
#undef FAIL
}

/* ------------------------------------------------------------ protobuf */

typedef struct pb {
    const unsigned char *p, *end;
} pb;

static int pb_varint(pb *b, uint64_t *v) {
    *v = 0;
    for (int sh = 0; sh < 64 && b->p < b->end; sh += 7) {
        unsigned char c = *b->p++;
        *v |= (uint64_t)(c & 0x7f) << sh;
        if (!(c & 0x80)) return 0;
    }
    return -1;
}

/* Next field: number, wire type, and for LEN its bytes. Skips varints' values into *v. */
static int pb_field(pb *b, unsigned *num, unsigned *wt, pb *sub, uint64_t *v) {
    uint64_t key;
    if (pb_varint(b, &key) < 0) return -1;
    *num = (unsigned)(key >> 3);
    *wt = (unsigned)(key & 7);
    if (*wt == 0) return pb_varint(b, v);
    if (*wt == 2) {
        uint64_t len;
        if (pb_varint(b, &len) < 0 || len > (uint64_t)(b->end - b->p)) return -1;
        sub->p = b->p;
        sub->end = b->p + len;
        b->p += len;
        return 0;
    }
    if (*wt == 1 && b->end - b->p >= 8) return b->p += 8, 0;
    if (*wt == 5 && b->end - b->p >= 4) return b->p += 4, 0;
    return -1;
}

static int parse_proto(const unsigned char *s, size_t n, req *r) {
    pb top = {s, s + n}, sb, eb, x, y;
    unsigned num, wt;
    uint64_t v;
    while (top.p < top.end) {
        if (pb_field(&top, &num, &wt, &sb, &v) < 0) goto bad;
        if (num != 1 || wt != 2) continue;
        struct rstream *st = new_stream(r);
        while (sb.p < sb.end) {
            if (pb_field(&sb, &num, &wt, &eb, &v) < 0) goto bad;
            if (num == 1 && wt == 2) {
                if (parse_label_text((const char *)eb.p, (size_t)(eb.end - eb.p), &st->labels, &st->nlabels) < 0) {
                    r->err = strdup("error parsing labels");
                    return -1;
                }
            } else if (num == 2 && wt == 2) {
                struct rentry *e = new_entry(st);
                while (eb.p < eb.end) {
                    if (pb_field(&eb, &num, &wt, &x, &v) < 0) goto bad;
                    if (num == 1 && wt == 2) { /* google.protobuf.Timestamp */
                        int64_t sec = 0, nanos = 0;
                        while (x.p < x.end) {
                            if (pb_field(&x, &num, &wt, &y, &v) < 0) goto bad;
                            if (num == 1 && wt == 0) sec = (int64_t)v;
                            if (num == 2 && wt == 0) nanos = (int64_t)v;
                        }
                        e->ts = sec * 1000000000 + nanos;
                    } else if (num == 2 && wt == 2) {
                        e->line_len = (size_t)(x.end - x.p);
                        e->line = malloc(e->line_len + 1);
                        memcpy(e->line, x.p, e->line_len);
                        e->line[e->line_len] = 0;
                    } else if (num == 3 && wt == 2) {
                        const unsigned char *nm = NULL, *vl = NULL;
                        size_t nl = 0, vll = 0;
                        while (x.p < x.end) {
                            if (pb_field(&x, &num, &wt, &y, &v) < 0) goto bad;
                            if (num == 1 && wt == 2) nm = y.p, nl = (size_t)(y.end - y.p);
                            if (num == 2 && wt == 2) vl = y.p, vll = (size_t)(y.end - y.p);
                        }
                        if (nm) add_label(&e->meta, &e->nmeta, (const char *)nm, nl, vl ? (const char *)vl : "", vll);
                    }
                }
                if (!e->line) e->line = strdup("");
            }
        }
    }
    return 0;
bad:
    r->err = strdup("error parsing protobuf push request");
    return -1;
}

/* ------------------------------------------------------------ ingest */

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static char *meta_text(label *m, int n) {
    if (n > 0) qsort(m, (size_t)n, sizeof *m, label_cmp);
    size_t cap = 1;
    for (int i = 0; i < n; i++) cap += strlen(m[i].name) + strlen(m[i].value) + 2;
    char *o = malloc(cap);
    size_t l = 0;
    o[0] = 0;
    for (int i = 0; i < n; i++) l += (size_t)sprintf(o + l, "%s%s=%s", i ? ";" : "", m[i].name, m[i].value);
    return o;
}

/* Keeps a refused entry's line for lr_each_refused (under the lock). */
static void refuse(lr_server *s, struct rentry *e) {
    if (!s->c.keep_lines) return;
    if (s->nrefused == s->crefused) {
        s->crefused = s->crefused ? s->crefused * 2 : 256;
        s->refused = realloc(s->refused, s->crefused * sizeof *s->refused);
        if (!s->refused) abort();
    }
    s->refused[s->nrefused] = malloc(e->line_len + 1);
    memcpy(s->refused[s->nrefused], e->line, e->line_len);
    s->refused[s->nrefused++][e->line_len] = 0;
}

/* Applies Loki's rules to a decoded request; returns entries ignored and
 * fills why with the first reason. Called under the lock. */
static uint64_t ingest(lr_server *s, req *r, const char *tenant, char *why, size_t whylen) {
    uint64_t ignored = 0;
    size_t wl = 0;
    int64_t now = now_ns();
    for (int i = 0; i < r->nstreams; i++) {
        struct rstream *st = &r->streams[i];
        const char *lerr = check_labels(st->labels, st->nlabels);
        if (lerr) {
            ignored += (uint64_t)st->nents;
            for (int k = 0; k < st->nents; k++) refuse(s, &st->ents[k]);
            if (wl < whylen)
                wl += (size_t)snprintf(why + wl, whylen - wl, "%s, total ignored: %d out of %d\n", lerr, st->nents,
                                       st->nents);
            continue;
        }
        uint64_t stream_ignored = 0;
        const char *first_reason = NULL;
        int64_t first_ts = 0;
        char key[8192];
        canonical(st->labels, st->nlabels, key, sizeof key);
        uint32_t sid = stream_of(s, key);
        stream *sm = &s->streams[sid];
        for (int k = 0; k < st->nents; k++) {
            struct rentry *e = &st->ents[k];
            const char *reason = NULL;
            if (s->c.max_line && e->line_len > s->c.max_line) reason = "line too long";
            else if (s->c.max_age_ns && e->ts < now - s->c.max_age_ns) reason = "entry too old (reject_old_samples)";
            else if (e->ts > now + 600000000000LL) reason = "entry too far in the future";
            else if (sm->head != INT64_MIN && e->ts < sm->head - s->c.window_ns)
                reason = s->c.window_ns ? "entry too far behind" : "entry out of order";
            if (reason) {
                ignored++;
                stream_ignored++;
                refuse(s, e);
                if (!first_reason) first_reason = reason, first_ts = e->ts;
                continue;
            }
            uint64_t lh = h64(e->line, e->line_len, 1469598103934665603ull);
            if (find_dup(s, sid, e->ts, lh, e->line_len) >= 0) {
                s->st.duplicates++;
                continue;
            }
            if (s->nents == s->cents) {
                s->cents = s->cents ? s->cents * 2 : 1024;
                s->ents = realloc(s->ents, s->cents * sizeof *s->ents);
                if (!s->ents) abort();
            }
            if ((s->nents + 1) * 2 > s->setcap) set_grow(s);
            stored *d = &s->ents[s->nents];
            *d = (stored){sid, e->ts, lh, (uint32_t)e->line_len, NULL, NULL};
            if (s->c.keep_lines) {
                d->line = e->line;
                e->line = NULL;
                d->meta = meta_text(e->meta, e->nmeta);
            }
            size_t h = key_hash(sid, e->ts, lh) & (s->setcap - 1);
            while (s->set[h] >= 0) h = (h + 1) & (s->setcap - 1);
            s->set[h] = (int64_t)s->nents++;
            if (e->ts > sm->head) sm->head = e->ts;
            s->st.accepted++;
        }
        /* Loki's ingester message, one per stream with refused entries */
        if (stream_ignored && wl < whylen)
            wl += (size_t)snprintf(why + wl, whylen - wl,
                                   "entry with timestamp %lld ignored, reason: '%s',\nuser '%s', total ignored: %llu "
                                   "out of %d for stream: %.200s\n",
                                   (long long)first_ts, first_reason, tenant ? tenant : "fake",
                                   (unsigned long long)stream_ignored, st->nents, key);
    }
    return ignored;
}

/* ------------------------------------------------------------ HTTP */

typedef struct conn {
    char *body;
    size_t len, cap;
} conn;

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *text) {
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static int gunzip(const char *in, size_t n, char **out, size_t *outlen) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 32) != Z_OK) return -1;
    size_t cap = n * 4 + 1024, len = 0;
    char *o = malloc(cap);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    int r;
    do {
        if (cap - len < 65536) o = realloc(o, cap *= 2);
        z.next_out = (Bytef *)o + len;
        z.avail_out = (uInt)(cap - len);
        r = inflate(&z, Z_NO_FLUSH);
        len = cap - z.avail_out;
    } while (r == Z_OK);
    inflateEnd(&z);
    if (r != Z_STREAM_END) return free(o), -1;
    *out = o;
    *outlen = len;
    return 0;
}

static bool roll(lr_server *s, int pct) { return pct > 0 && (int)(rand_r(&s->seed) % 100) < pct; }

static enum MHD_Result push(lr_server *s, struct MHD_Connection *c, conn *cn) {
    const char *ce = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Encoding");
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    const char *org = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Scope-OrgID");
    int stall = 0, forced = 0;
    pthread_mutex_lock(&s->mu);
    s->st.requests++;
    s->st.bytes += cn->len;
    if (s->stall_count > 0) s->stall_count--, stall = s->stall_ms;
    else if (s->stall_count < 0 && roll(s, s->stall_pct)) stall = s->stall_ms;
    if (s->fail_count > 0) s->fail_count--, forced = s->fail_status;
    else if (roll(s, s->fail_pct)) forced = s->fail_pct_status;
    else if (roll(s, s->invalid_pct)) forced = 400;
    pthread_mutex_unlock(&s->mu);
    if (stall) usleep((useconds_t)stall * 1000);
    unsigned status = 204;
    char msg[4096] = "";
    if (s->c.tenant && (!org || strcmp(org, s->c.tenant) != 0)) {
        status = 401;
        snprintf(msg, sizeof msg, "no org id\n");
    } else if (ce && *ce && strcmp(ce, "gzip") != 0) {
        status = 415;
        snprintf(msg, sizeof msg, "unsupported Content-Encoding %s\n", ce);
    }
    char *plain = NULL;
    size_t plen = 0;
    req r = {0};
    bool proto = ct && strncmp(ct, "application/x-protobuf", 22) == 0;
    if (status == 204) {
        if (ce && strcmp(ce, "gzip") == 0) {
            if (gunzip(cn->body, cn->len, &plain, &plen) < 0) status = 400, snprintf(msg, sizeof msg, "bad gzip\n");
        } else if (proto) {
            size_t ul;
            if (snappy_uncompressed_length(cn->body, cn->len, &ul) != SNAPPY_OK || !(plain = malloc(ul + 1)) ||
                snappy_uncompress(cn->body, cn->len, plain, &ul) != SNAPPY_OK)
                status = 400, snprintf(msg, sizeof msg, "bad snappy block\n");
            plen = ul;
        } else if (ct && strncmp(ct, "application/json", 16) != 0) {
            status = 415;
            snprintf(msg, sizeof msg, "unsupported Content-Type %s\n", ct);
        }
    }
    const char *body = plain ? plain : cn->body;
    size_t blen = plain ? plen : cn->len;
    if (status == 204 && (proto ? parse_proto((const unsigned char *)body, blen, &r) : parse_json(body, blen, &r)) < 0) {
        status = 400;
        snprintf(msg, sizeof msg, "error parsing push request: %s\n", r.err);
    }
    pthread_mutex_lock(&s->mu);
    if (ce && strcmp(ce, "gzip") == 0) s->st.gzip_requests++;
    if (proto) s->st.proto_requests++;
    if (status == 204 && forced) {
        status = (unsigned)forced;
        uint64_t total = 0;
        for (int i = 0; i < r.nstreams; i++) total += (uint64_t)r.streams[i].nents;
        if (forced == 400) {
            snprintf(msg, sizeof msg, "forced: every entry invalid, total ignored: %llu out of %llu\n",
                     (unsigned long long)total, (unsigned long long)total);
            s->st.rejected += total;
            for (int i = 0; i < r.nstreams; i++)
                for (int k = 0; k < r.streams[i].nents; k++) refuse(s, &r.streams[i].ents[k]);
        } else snprintf(msg, sizeof msg, "forced failure %d\n", forced);
    } else if (status == 204) {
        uint64_t ign = ingest(s, &r, org, msg, sizeof msg);
        if (ign) {
            status = 400;
            s->st.rejected += ign;
        }
    } else s->st.bad_requests++;
    if (status < 600) s->st.status[status]++;
    pthread_mutex_unlock(&s->mu);
    req_free(&r);
    free(plain);
    return answer(c, status, msg);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    (void)version;
    lr_server *s = cls;
    if (!*con_cls) {
        conn *cn = calloc(1, sizeof *cn);
        *con_cls = cn;
        return MHD_YES;
    }
    conn *cn = *con_cls;
    if (*upload_size) {
        if (cn->len + *upload_size + 1 > cn->cap) {
            cn->cap = (cn->len + *upload_size + 1) * 2;
            cn->body = realloc(cn->body, cn->cap);
        }
        memcpy(cn->body + cn->len, upload, *upload_size);
        cn->len += *upload_size;
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "GET") == 0 && strcmp(url, "/ready") == 0) return answer(c, 200, "ready\n");
    if (strcmp(method, "GET") == 0 && strcmp(url, "/stats") == 0) {
        lr_stats st = lr_get_stats(s);
        char t[512];
        snprintf(t, sizeof t,
                 "requests %llu accepted %llu duplicates %llu rejected %llu bad_requests %llu streams %llu bytes %llu "
                 "s204 %llu s400 %llu s429 %llu s500 %llu\n",
                 (unsigned long long)st.requests, (unsigned long long)st.accepted, (unsigned long long)st.duplicates,
                 (unsigned long long)st.rejected, (unsigned long long)st.bad_requests, (unsigned long long)st.streams,
                 (unsigned long long)st.bytes, (unsigned long long)st.status[204], (unsigned long long)st.status[400],
                 (unsigned long long)st.status[429], (unsigned long long)st.status[500]);
        return answer(c, 200, t);
    }
    if (strcmp(url, "/loki/api/v1/push") != 0) return answer(c, 404, "404 page not found\n");
    if (strcmp(method, "POST") != 0) return answer(c, 405, "method not allowed\n");
    if (!cn->body) cn->body = calloc(1, 1);
    return push(s, c, cn);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t) {
    (void)cls, (void)c, (void)t;
    conn *cn = *con_cls;
    if (cn) free(cn->body);
    free(cn);
    *con_cls = NULL;
}

lr_server *lr_start(const lr_conf *c) {
    lr_server *s = calloc(1, sizeof *s);
    s->c = *c;
    if (!s->c.max_line) s->c.max_line = 256 * 1024;
    pthread_mutex_init(&s->mu, NULL);
    s->seed = 1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)c->port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL, handle, s,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, completed, s,
                            MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    if (!s->d) {
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : c->port;
    return s;
}

int lr_port(const lr_server *s) { return s->port; }

void lr_stop(lr_server *s) {
    if (!s) return;
    MHD_stop_daemon(s->d);
    for (size_t i = 0; i < s->nstreams; i++) free(s->streams[i].labels);
    for (size_t i = 0; i < s->nents; i++) free(s->ents[i].line), free(s->ents[i].meta);
    for (size_t i = 0; i < s->nrefused; i++) free(s->refused[i]);
    free(s->refused);
    free(s->streams);
    free(s->ents);
    free(s->set);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

void lr_fail_next(lr_server *s, int status, int count) {
    pthread_mutex_lock(&s->mu);
    s->fail_status = status;
    s->fail_count = count;
    pthread_mutex_unlock(&s->mu);
}

void lr_fail_percent(lr_server *s, int status, int percent, unsigned seed) {
    pthread_mutex_lock(&s->mu);
    s->fail_pct_status = status;
    s->fail_pct = percent;
    s->seed = seed;
    pthread_mutex_unlock(&s->mu);
}

void lr_invalid_percent(lr_server *s, int percent) {
    pthread_mutex_lock(&s->mu);
    s->invalid_pct = percent;
    pthread_mutex_unlock(&s->mu);
}

void lr_each_refused(lr_server *s, void (*fn)(void *ctx, const char *line), void *ctx) {
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->nrefused; i++) fn(ctx, s->refused[i]);
    pthread_mutex_unlock(&s->mu);
}

void lr_stall(lr_server *s, int ms, int count, int percent) {
    pthread_mutex_lock(&s->mu);
    s->stall_ms = ms;
    s->stall_count = count;
    s->stall_pct = percent;
    pthread_mutex_unlock(&s->mu);
}

lr_stats lr_get_stats(lr_server *s) {
    pthread_mutex_lock(&s->mu);
    lr_stats st = s->st;
    pthread_mutex_unlock(&s->mu);
    return st;
}

void lr_each(lr_server *s, void (*fn)(void *ctx, const lr_entry *e), void *ctx) {
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->nents; i++) {
        stored *d = &s->ents[i];
        lr_entry e = {s->streams[d->stream].labels, d->ts, d->line ? d->line : "", d->line_len, d->meta ? d->meta : ""};
        fn(ctx, &e);
    }
    pthread_mutex_unlock(&s->mu);
}
