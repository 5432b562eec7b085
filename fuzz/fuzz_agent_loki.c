/* fuzz_agent_loki.c — the Loki push encoders on arbitrary lines: each input
 * line is parsed (json parser), then all of them are encoded as one push
 * request. The JSON body must be one valid JSON object whatever the bytes;
 * the protobuf body must be well-formed (every length inside its message);
 * snappy must round-trip. */
#include <snappy-c.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "config.h"
#include "json_scan.h"
#include "loki_encode.h"
#include "plugins.h"

static ta_config *cfg;
static ta_parser *parser;

static void init(void) {
    static const char text[] = "inputs:\n  - {name: a, paths: [/x], parser: json, labels: {host: h1}}\n"
                               "outputs:\n  - type: stdout\n";
    char err[512];
    if (ta_config_parse(text, sizeof text - 1, "fuzz", &cfg, err, sizeof err) != 0) abort();
    if (ta_parser_new(cfg->inputs[0].parser.type, cfg->inputs[0].parser.conf, &parser, err, sizeof err) != 0) abort();
}

/* Walks a protobuf message; nested = which field numbers hold messages. */
static int pb_ok(const unsigned char *p, const unsigned char *end, int depth) {
    while (p < end) {
        uint64_t key = 0, len = 0;
        int sh = 0;
        do {
            if (p >= end || sh > 63) return 0;
            key |= (uint64_t)(*p & 0x7f) << sh;
            sh += 7;
        } while (*p++ & 0x80);
        unsigned wt = key & 7;
        if (wt == 0) {
            while (p < end && (*p & 0x80)) p++;
            if (p++ >= end) return 0;
            continue;
        }
        if (wt != 2) return 0;
        sh = 0;
        do {
            if (p >= end || sh > 63) return 0;
            len |= (uint64_t)(*p & 0x7f) << sh;
            sh += 7;
        } while (*p++ & 0x80);
        if (len > (uint64_t)(end - p)) return 0;
        /* PushRequest.streams, StreamAdapter.entries, EntryAdapter.timestamp/metadata are messages */
        unsigned f = (unsigned)(key >> 3);
        bool msg = (depth == 0 && f == 1) || (depth == 1 && f == 2) || (depth == 2 && (f == 1 || f == 3));
        if (msg && !pb_ok(p, p + len, depth + 1)) return 0;
        p += len;
    }
    return p == end;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!cfg) init();
    ta_arena *a = ta_arena_new();
    ta_record recs[64];
    ta_loki_item items[64];
    size_t n = 0;
    const char *s = (const char *)data, *end = s + size;
    while (s < end && n < 64) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);
        ta_record *r = &recs[n];
        memset(r, 0, sizeof *r);
        r->line = s;
        r->line_len = (uint32_t)len;
        r->observed_ns = r->ts_ns = 1000 + (int64_t)n;
        r->input = &cfg->inputs[0].info;
        parser->type->parse(parser, r, a);
        items[n] = (ta_loki_item){NULL, r};
        n++;
        s += len + 1;
    }
    static const char *labels[] = {"service", "category", "level", "host", "http.request.method"};
    static const char *meta[] = {"request_id", "trace_id"};
    static const ta_label stat[] = {{"env", "fuzz"}};
    if (n == 0) { /* the output never sends an empty request */
        ta_arena_free(a);
        return 0;
    }
    ta_loki_enc e = {labels, 5, stat, 1, meta, 2, (data[0] & 1)};
    ta_buf out = {0}, z = {0};
    ta_loki_encode_json(&e, items, n, &out);
    if (ta_json_object_each(out.p, out.len, NULL, NULL) != 0) abort(); /* invalid JSON body */
    out.len = 0;
    ta_loki_encode_proto(&e, items, n, &out);
    if (!pb_ok((const unsigned char *)out.p, (const unsigned char *)out.p + out.len, 0)) abort();
    if (ta_snappy(out.p, out.len, &z) != 0) abort();
    size_t ul = 0;
    if (snappy_uncompressed_length(z.p, z.len, &ul) != SNAPPY_OK || ul != out.len) abort();
    char *back = malloc(ul + 1);
    if (snappy_uncompress(z.p, z.len, back, &ul) != SNAPPY_OK || memcmp(back, out.p, ul) != 0) abort();
    free(back);
    ta_buf_free(&out);
    ta_buf_free(&z);
    ta_arena_free(a);
    return 0;
}
