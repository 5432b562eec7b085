/* render.c — growable buffer and the record → JSON object renderer used by
 * the file/stdout outputs (and available to others). Output is always valid
 * JSON: invalid UTF-8 becomes U+FFFD, control bytes are escaped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "render.h"
#include "swar.h"
#include "timefmt.h"

void ta_buf_reserve(ta_buf *b, size_t n) {
    if (b->cap - b->len >= n + 1) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) abort();
    b->p = p;
    b->cap = cap;
}

/* The hot path of rendering: most appends are a few bytes. */
static inline void put(ta_buf *b, const void *s, size_t n) {
    if (__builtin_expect(b->cap - b->len < n + 1, 0)) ta_buf_reserve(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

void ta_buf_put(ta_buf *b, const void *s, size_t n) {
    ta_buf_reserve(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

void ta_buf_free(ta_buf *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

#define PUTS(b, lit) put((b), lit, sizeof(lit) - 1)

/* Length of a valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static int utf8_len(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    if (c < 0x80) return 1;
    if (c < 0xC2) return 0;
    int len = c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF5 ? 4 : 0;
    if (!len || (size_t)len > n) return 0;
    for (int i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    if (c == 0xE0 && s[1] < 0xA0) return 0;              /* overlong */
    if (c == 0xED && s[1] > 0x9F) return 0;              /* surrogates */
    if (c == 0xF0 && s[1] < 0x90) return 0;              /* overlong */
    if (c == 0xF4 && s[1] > 0x8F) return 0;              /* > U+10FFFF */
    return len;
}

void ta_render_json_str(ta_buf *out, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    /* Room for the worst case (every byte a \u00XX escape) once, then plain
     * stores: a JSON line holds an escape every few bytes. */
    if (out->cap - out->len < n * 6 + 3) ta_buf_reserve(out, n * 6 + 3);
    char *o = out->p + out->len;
    const unsigned char *p = (const unsigned char *)s;
    *o++ = '"';
    size_t i = 0;
    while (i < n) {
        size_t r = ta_plain_run(s + i, n - i, 0);
        memcpy(o, s + i, r);
        o += r;
        i += r;
        if (i >= n) break;
        unsigned c = p[i];
        if (c >= 0x80) {
            int l = utf8_len(p + i, n - i);
            if (l) {
                memcpy(o, s + i, (size_t)l);
                o += l;
                i += (size_t)l;
            } else { /* invalid UTF-8 byte */
                memcpy(o, "\xEF\xBF\xBD", 3);
                o += 3;
                i++;
            }
            continue;
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

static void put_key(ta_buf *out, const char *k) {
    /* Keys are short and plain: copy up to the NUL in one pass (no strlen,
     * no escape scan); one that needs escaping takes the general path. */
    if (out->cap - out->len < 64 + 4) ta_buf_reserve(out, 64 + 4);
    char *o = out->p + out->len;
    o[0] = ',';
    o[1] = '"';
    for (size_t i = 0; i < 64; i++) {
        unsigned char c = (unsigned char)k[i];
        if (!c) {
            o += 2 + i;
            *o++ = '"';
            *o++ = ':';
            *o = 0;
            out->len = (size_t)(o - out->p);
            return;
        }
        if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) break;
        o[2 + i] = (char)c;
    }
    PUTS(out, ",");
    ta_render_json_str(out, k, strlen(k));
    PUTS(out, ":");
}

/* ,"key": for a key the parser marked plain (length known, nothing to escape). */
static inline void put_plain_key(ta_buf *out, const char *k, size_t n) {
    if (__builtin_expect(out->cap - out->len < n + 5, 0)) ta_buf_reserve(out, n + 4);
    char *o = out->p + out->len;
    o[0] = ',';
    o[1] = '"';
    memcpy(o + 2, k, n);
    o[n + 2] = '"';
    o[n + 3] = ':';
    o[n + 4] = 0;
    out->len += n + 4;
}

/* "value" for a value the parser marked plain. */
static inline void put_plain_str(ta_buf *out, const char *v, size_t n) {
    if (__builtin_expect(out->cap - out->len < n + 3, 0)) ta_buf_reserve(out, n + 2);
    char *o = out->p + out->len;
    o[0] = '"';
    memcpy(o + 1, v, n);
    o[n + 1] = '"';
    o[n + 2] = 0;
    out->len += n + 2;
}

static void put_str_field(ta_buf *out, const char *k, const char *v) {
    put_key(out, k);
    ta_render_json_str(out, v, strlen(v));
}

/* "00".."99": two digits per division. */
static const char digits2[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                              "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                              "8081828384858687888990919293949596979899";

/* Decimal digits of v into the end of buf[24]; returns the start. */
static char *u64_dec(char *end, uint64_t v) {
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        end -= 2;
        memcpy(end, digits2 + 2 * r, 2);
    }
    if (v >= 10) {
        end -= 2;
        memcpy(end, digits2 + 2 * v, 2);
    } else
        *--end = (char)('0' + v);
    return end;
}

static void put_i64(ta_buf *out, int64_t v) {
    char b[24], *e = b + sizeof b, *p;
    if (v < 0) {
        p = u64_dec(e, (uint64_t)0 - (uint64_t)v);
        *--p = '-';
    } else p = u64_dec(e, (uint64_t)v);
    put(out, p, (size_t)(e - p));
}

/* RFC 3339 with ns; the date-time part is cached per second (one thread
 * renders per output, so the cache is thread-local). */
static void put_time(ta_buf *out, int64_t ns) {
    static _Thread_local int64_t cached_sec = INT64_MIN;
    static _Thread_local char cached[32];
    int64_t sec = ns >= 0 ? ns / 1000000000 : -((-ns + 999999999) / 1000000000);
    int64_t frac = ns - sec * 1000000000;
    if (sec != cached_sec) {
        char tmp[64];
        ta_time_format_rfc3339(tmp, sizeof tmp, sec * 1000000000);
        memcpy(cached, tmp, 20); /* "YYYY-MM-DDTHH:MM:SS." */
        cached_sec = sec;
    }
    put(out, cached, 20);
    char f[10];
    for (int i = 8; i > 0; i -= 2) {
        memcpy(f + i - 1, digits2 + 2 * (frac % 100), 2);
        frac /= 100;
    }
    f[0] = (char)('0' + frac);
    put(out, f, 9);
    PUTS(out, "Z");
}

/* ,"category":..,"input":..,"labels":{..}: the same for every entry of an input. */
static void put_input(ta_buf *out, const ta_input_info *in) {
    if (in->category) put_str_field(out, "category", in->category);
    if (in->name) put_str_field(out, "input", in->name);
    if (!in->nlabels) return;
    put_key(out, "labels");
    PUTS(out, "{");
    for (uint32_t i = 0; i < in->nlabels; i++) {
        if (i) PUTS(out, ",");
        const ta_label *l = &in->labels[i];
        ta_render_json_str(out, l->name, strlen(l->name));
        PUTS(out, ":");
        ta_render_json_str(out, l->value, strlen(l->value));
    }
    PUTS(out, "}");
}

/* What is the same for many entries of a batch, rendered once: the input's
 * part and the file path of the last span seen. Valid for one batch (inputs
 * and spans live at least as long as the batch). */
typedef struct render_cache {
    const ta_input_info *input;
    ta_buf input_json;
    uint32_t span;
    ta_buf span_json;
} render_cache;

static void render(ta_buf *out, const ta_batch *b, const ta_record *rec, render_cache *c) {
    PUTS(out, "{\"timestamp\":\"");
    put_time(out, rec->ts_ns);
    PUTS(out, "\",\"ts_ns\":\"");
    put_i64(out, rec->ts_ns);
    PUTS(out, "\"");
    if (rec->input && c) {
        if (c->input != rec->input) {
            c->input_json.len = 0;
            put_input(&c->input_json, rec->input);
            c->input = rec->input;
        }
        put(out, c->input_json.p, c->input_json.len);
    } else if (rec->input)
        put_input(out, rec->input);
    if (rec->level) put_str_field(out, "level", rec->level);
    PUTS(out, ",\"message\":");
    if (ta_message_plain(rec)) put_plain_str(out, rec->message, rec->message_len);
    else if (rec->message)
        ta_render_json_str(out, rec->message,
                           ta_in_own(rec, rec->message, rec->message_len) ? rec->message_len : strlen(rec->message));
    else ta_render_json_str(out, rec->line, rec->line_len);
    for (uint32_t i = 0; i < rec->nfields; i++) {
        const ta_field *f = &rec->fields[i];
        if (ta_field_plain_key(rec, f)) put_plain_key(out, f->key, f->key_len);
        else put_key(out, f->key);
        if (f->kind == TA_RAW) ta_utf8_sanitize(out, f->val, f->val_len); /* nested strings may hold any bytes */
        else if (f->kind != TA_STR) put(out, f->val, f->val_len);
        else if (ta_field_plain_val(rec, f)) put_plain_str(out, f->val, f->val_len);
        else ta_render_json_str(out, f->val, f->val_len);
    }
    if (rec->parse_error) PUTS(out, ",\"traild.parse_error\":true");
    if (b && rec->span < b->nspans && b->spans[rec->span].path) {
        if (!c) put_str_field(out, "log.file.path", b->spans[rec->span].path);
        else {
            if (c->span != rec->span || !c->span_json.len) {
                c->span_json.len = 0;
                put_str_field(&c->span_json, "log.file.path", b->spans[rec->span].path);
                c->span = rec->span;
            }
            put(out, c->span_json.p, c->span_json.len);
        }
    }
    PUTS(out, ",\"log.offset\":");
    put_i64(out, (int64_t)rec->offset);
    PUTS(out, "}");
}

void ta_render_json(ta_buf *out, const ta_batch *b, const ta_record *rec) { render(out, b, rec, NULL); }

void ta_render_batch_jsonl(ta_buf *out, const ta_batch *b, bool raw) {
    render_cache c = {0};
    for (uint32_t i = 0; i < b->nrecs; i++) {
        const ta_record *r = &b->recs[i];
        if (!raw && i + 2 < b->nrecs) ta_prefetch_record(&b->recs[i + 2], false);
        if (raw) put(out, r->line, r->line_len);
        else render(out, b, r, &c);
        PUTS(out, "\n");
    }
    ta_buf_free(&c.input_json);
    ta_buf_free(&c.span_json);
}

void ta_utf8_sanitize(ta_buf *out, const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    size_t run = 0, i = 0;
    while (i < n) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        int l = utf8_len(p + i, n - i);
        if (l) {
            i += (size_t)l;
            continue;
        }
        put(out, s + run, i - run);
        PUTS(out, "\xEF\xBF\xBD");
        run = ++i;
    }
    put(out, s + run, n - run);
}
