/* render.c — growable buffer and the record → JSON object renderer used by
 * the file/stdout outputs (and available to others). Output is always valid
 * JSON: invalid UTF-8 becomes U+FFFD, control bytes are escaped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pipeline.h"
#include "timefmt.h"

void ta_buf_put(ta_buf *b, const void *s, size_t n) {
    if (b->cap - b->len < n + 1) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) abort();
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

void ta_buf_free(ta_buf *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

#define PUTS(b, lit) ta_buf_put((b), lit, sizeof(lit) - 1)

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
    const unsigned char *p = (const unsigned char *)s;
    PUTS(out, "\"");
    size_t run = 0; /* start of the pending run of plain bytes */
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0x80) {
            int l = utf8_len(p + i, n - i);
            if (l) {
                i += (size_t)l;
                continue;
            }
        }
        ta_buf_put(out, s + run, i - run);
        if (c == '"') PUTS(out, "\\\"");
        else if (c == '\\') PUTS(out, "\\\\");
        else if (c == '\n') PUTS(out, "\\n");
        else if (c == '\r') PUTS(out, "\\r");
        else if (c == '\t') PUTS(out, "\\t");
        else if (c < 0x20) {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            ta_buf_put(out, e, 6);
        } else PUTS(out, "\xEF\xBF\xBD"); /* invalid UTF-8 byte */
        i++;
        run = i;
    }
    ta_buf_put(out, s + run, n - run);
    PUTS(out, "\"");
}

static void put_key(ta_buf *out, const char *k) {
    PUTS(out, ",");
    ta_render_json_str(out, k, strlen(k));
    PUTS(out, ":");
}

static void put_str_field(ta_buf *out, const char *k, const char *v) {
    put_key(out, k);
    ta_render_json_str(out, v, strlen(v));
}

void ta_render_json(ta_buf *out, const ta_batch *b, const ta_record *rec) {
    char tmp[64];
    PUTS(out, "{\"timestamp\":\"");
    size_t n = ta_time_format_rfc3339(tmp, sizeof tmp, rec->ts_ns);
    ta_buf_put(out, tmp, n);
    n = (size_t)snprintf(tmp, sizeof tmp, "\",\"ts_ns\":\"%lld\"", (long long)rec->ts_ns);
    ta_buf_put(out, tmp, n);
    if (rec->input) {
        if (rec->input->category) put_str_field(out, "category", rec->input->category);
        if (rec->input->name) put_str_field(out, "input", rec->input->name);
        if (rec->input->nlabels) {
            put_key(out, "labels");
            PUTS(out, "{");
            for (uint32_t i = 0; i < rec->input->nlabels; i++) {
                if (i) PUTS(out, ",");
                const ta_label *l = &rec->input->labels[i];
                ta_render_json_str(out, l->name, strlen(l->name));
                PUTS(out, ":");
                ta_render_json_str(out, l->value, strlen(l->value));
            }
            PUTS(out, "}");
        }
    }
    if (rec->level) put_str_field(out, "level", rec->level);
    put_key(out, "message");
    if (rec->message) ta_render_json_str(out, rec->message, strlen(rec->message));
    else ta_render_json_str(out, rec->line, rec->line_len);
    for (uint32_t i = 0; i < rec->nfields; i++) {
        const ta_field *f = &rec->fields[i];
        put_key(out, f->key);
        if (f->kind == TA_STR) ta_render_json_str(out, f->val, f->val_len);
        else ta_buf_put(out, f->val, f->val_len);
    }
    if (rec->parse_error) PUTS(out, ",\"traild.parse_error\":true");
    if (b && rec->span < b->nspans && b->spans[rec->span].path)
        put_str_field(out, "log.file.path", b->spans[rec->span].path);
    n = (size_t)snprintf(tmp, sizeof tmp, ",\"log.offset\":%llu}", (unsigned long long)rec->offset);
    ta_buf_put(out, tmp, n);
}

void ta_render_batch_jsonl(ta_buf *out, const ta_batch *b, bool raw) {
    for (uint32_t i = 0; i < b->nrecs; i++) {
        const ta_record *r = &b->recs[i];
        if (raw) ta_buf_put(out, r->line, r->line_len);
        else ta_render_json(out, b, r);
        ta_buf_put(out, "\n", 1);
    }
}
