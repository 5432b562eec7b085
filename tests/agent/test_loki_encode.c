/* test_loki_encode.c — the Loki body encoder without HTTP: stream label
 * sets (missing fields, static labels, sanitized names, sort order),
 * structured metadata, entry order, and that the gzip body is valid gzip
 * (inflated back by zlib, which is what Loki's Go gzip reader accepts). */
#include <zlib.h>

#include "agent_test_util.h"
#include "loki_encode.h"

static ta_record *rec(ta_arena *a, const ta_input_info *in, int64_t ts, const char *level, const char *line) {
    ta_record *r = ta_arena_alloc(a, sizeof *r);
    memset(r, 0, sizeof *r);
    r->ts_ns = r->observed_ns = ts;
    r->level = level;
    r->line = line;
    r->line_len = (uint32_t)strlen(line);
    r->input = in;
    return r;
}

static void field(ta_record *r, ta_arena *a, const char *k, const char *v) {
    ta_record_add(r, a, k, v, strlen(v), TA_STR);
}

/* Encodes recs[0..n) as JSON; returns a malloc'd NUL-terminated body. */
static char *encode(const ta_loki_enc *e, ta_record **recs, size_t n) {
    ta_loki_item items[16];
    for (size_t i = 0; i < n; i++) items[i] = (ta_loki_item){NULL, recs[i]};
    ta_buf out = {0};
    ta_loki_encode_json(e, items, n, &out);
    return out.p;
}

TEST(labels_skip_missing_fields_and_sort) {
    ta_arena *a = ta_arena_new();
    static const ta_label il[] = {{"service", "shop"}};
    ta_input_info in = {.name = "in1", .category = "app", .labels = il, .nlabels = 1};
    /* A lacks host but has fields that share its first bytes; B has host, in another field order. */
    ta_record *ra = rec(a, &in, 1000, "info", "lineA");
    field(ra, a, "request_id", "r1");
    field(ra, a, "hostname", "x");
    field(ra, a, "h", "y");
    field(ra, a, "hos", "z");
    ta_record *rb = rec(a, &in, 999, "info", "lineB");
    field(rb, a, "trace_id", "t\"1");
    field(rb, a, "request_id", "");
    field(rb, a, "host", "h1");
    ta_record *rc = rec(a, &in, 998, "info", "lineC");
    field(rc, a, "request_id", "r3");
    ta_record *recs[] = {ra, rb, rc};
    static const char *labels[] = {"service", "category", "level", "host"};
    static const char *meta[] = {"request_id", "trace_id", "span_id", "user_id"};
    ta_loki_enc e = {labels, 4, NULL, 0, meta, 4, false};
    char *body = encode(&e, recs, 3);
    CHECK_STR(body, "{\"streams\":["
                    "{\"stream\":{\"category\":\"app\",\"level\":\"info\",\"service\":\"shop\"},\"values\":["
                    "[\"998\",\"lineC\",{\"request_id\":\"r3\"}],[\"1000\",\"lineA\",{\"request_id\":\"r1\"}]]},"
                    "{\"stream\":{\"category\":\"app\",\"host\":\"h1\",\"level\":\"info\",\"service\":\"shop\"},"
                    "\"values\":[[\"999\",\"lineB\",{\"trace_id\":\"t\\\"1\"}]]}]}");
    free(body);
    ta_arena_free(a);
}

TEST(label_names_sanitized_static_labels_lose_to_sources) {
    ta_arena *a = ta_arena_new();
    ta_input_info in = {.name = "in1", .category = "web"};
    ta_record *r1 = rec(a, &in, 5, NULL, "l1");
    field(r1, a, "http.request.method", "GET");
    field(r1, a, "env", "prod");
    field(r1, a, "1x", "v");
    field(r1, a, "user.id", "u7");
    ta_record *r2 = rec(a, &in, 6, NULL, "l2");
    field(r2, a, "http.request.method", "POST");
    ta_record *recs[] = {r1, r2};
    static const char *labels[] = {"http.request.method", "env", "1x"};
    static const ta_label stat[] = {{"env", "static"}, {"zone.name", "z1"}};
    static const char *meta[] = {"user.id"};
    ta_loki_enc e = {labels, 3, stat, 2, meta, 1, false};
    char *body = encode(&e, recs, 2);
    CHECK_STR(body, "{\"streams\":["
                    "{\"stream\":{\"_1x\":\"v\",\"env\":\"prod\",\"http_request_method\":\"GET\",\"zone_name\":\"z1\"},"
                    "\"values\":[[\"5\",\"l1\",{\"user_id\":\"u7\"}]]},"
                    "{\"stream\":{\"env\":\"static\",\"http_request_method\":\"POST\",\"zone_name\":\"z1\"},"
                    "\"values\":[[\"6\",\"l2\"]]}]}");
    free(body);
    /* the protobuf body carries the same stream key */
    ta_loki_item items[] = {{NULL, r1}, {NULL, r2}};
    ta_buf pb = {0};
    ta_loki_encode_proto(&e, items, 2, &pb);
    const char *key = "{env=\"static\", http_request_method=\"POST\", zone_name=\"z1\"}";
    CHECK(memmem(pb.p, pb.len, key, strlen(key)) != NULL);
    ta_buf_free(&pb);
    ta_arena_free(a);
}

TEST(no_label_falls_back_to_category) {
    ta_arena *a = ta_arena_new();
    ta_input_info in = {.name = "in1", .category = "app"};
    ta_record *r1 = rec(a, &in, 7, NULL, "x");
    ta_record *r2 = rec(a, NULL, 8, NULL, "y");
    ta_record *recs[] = {r1, r2};
    static const char *labels[] = {"host"};
    ta_loki_enc e = {labels, 1, NULL, 0, NULL, 0, false};
    char *body = encode(&e, recs, 2);
    CHECK_STR(body, "{\"streams\":[{\"stream\":{\"category\":\"app\"},\"values\":[[\"7\",\"x\"]]},"
                    "{\"stream\":{\"category\":\"unknown\"},\"values\":[[\"8\",\"y\"]]}]}");
    free(body);
    ta_arena_free(a);
}

/* Raw lines hold quotes, backslashes, control bytes and invalid UTF-8: the
 * line in the body is exactly ta_render_json_str's rendering of it. */
TEST(raw_line_escaped_like_render_json_str) {
    ta_arena *a = ta_arena_new();
    ta_input_info in = {.name = "in1", .category = "app"};
    unsigned seed = 12345;
    for (int round = 0; round < 1200; round++) {
        char line[300];
        size_t len = (size_t)(round % 7 == 0 ? 0 : 1 + (unsigned)round % 299);
        /* special bytes dense or sparse (long plain runs); in a third of the
         * rounds ASCII only, in another third one high byte at a varying place */
        unsigned every = round % 4 == 0 ? 4 : round % 4 == 1 ? 20 : round % 4 == 2 ? 90 : 1000;
        int mode = round / 4 % 3;
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            unsigned v = seed >> 16;
            static const char pick[] = "{\"k\":\"v\\ \t\n\r\x01\x1f\x7f\xc3\xa9\xe2\x82\xac\xff\xf0\x9f\x98\x80}aZ09";
            static const char ascii[] = "\"\\\t\n\r\x01\x1f\x7f{}:,";
            char c = (char)('a' + v % 26);
            if (v % every == 0) c = mode == 0 ? pick[v / every % (sizeof pick - 1)] : ascii[v / every % (sizeof ascii - 1)];
            line[i] = c;
        }
        if (mode == 2 && len > 1) { /* a valid two-byte sequence or a stray byte */
            size_t at = (size_t)round * 7 % (len - 1);
            line[at] = (char)(round % 2 ? 0xc3 : 0xe9);
            if (round % 2) line[at + 1] = (char)0xa9;
        }
        ta_record *r = rec(a, &in, 1, NULL, "");
        r->line = line;
        r->line_len = (uint32_t)len;
        ta_loki_item it = {NULL, r};
        ta_loki_enc e = {NULL, 0, NULL, 0, NULL, 0, false};
        ta_buf body = {0}, want = {0};
        ta_loki_encode_json(&e, &it, 1, &body);
        const char *head = "{\"streams\":[{\"stream\":{\"category\":\"app\"},\"values\":[[\"1\",";
        ta_buf_put(&want, head, strlen(head));
        ta_render_json_str(&want, line, len);
        ta_buf_put(&want, "]]}]}", 5);
        CHECK_INT(body.len, ==, want.len);
        CHECK(memcmp(body.p, want.p, want.len) == 0);
        ta_buf_free(&body);
        ta_buf_free(&want);
    }
    ta_arena_free(a);
}

/* Inflates a gzip member with zlib; returns 0 and the bytes in *out. */
static int gunzip(const ta_buf *z, ta_buf *out, size_t expect) {
    out->len = 0;
    ta_buf_put(out, "", 0);
    char *p = realloc(out->p, expect + 16);
    CHECK(p != NULL);
    out->p = p;
    out->cap = expect + 16;
    z_stream s;
    memset(&s, 0, sizeof s);
    if (inflateInit2(&s, 15 + 16) != Z_OK) return -1;
    s.next_in = (Bytef *)z->p;
    s.avail_in = (uInt)z->len;
    s.next_out = (Bytef *)out->p;
    s.avail_out = (uInt)out->cap;
    int r = inflate(&s, Z_FINISH);
    out->len = s.total_out;
    int rest = (int)s.avail_in; /* nothing may follow the member */
    inflateEnd(&s);
    return r == Z_STREAM_END && rest == 0 ? 0 : -1;
}

TEST(gzip_body_round_trips_through_zlib) {
    ta_gzipper *g = ta_gzipper_new(1);
    CHECK(g != NULL);
    ta_buf in = {0}, z = {0}, back = {0};
    unsigned seed = 7;
    /* empty, small, a JSON body of many similar entries, incompressible bytes;
     * the same compressor for all (state must not leak between calls) */
    size_t sizes[] = {0, 1, 100, 200000, 3000000, 70000};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        in.len = 0;
        ta_buf_put(&in, "", 0);
        for (size_t i = 0; in.len < sizes[k]; i++) {
            char piece[128];
            int n;
            if (k == 5) {
                seed = seed * 1103515245u + 12345u;
                piece[0] = (char)(seed >> 16);
                n = 1;
            } else
                n = snprintf(piece, sizeof piece, "[\"17000000%08zu\",\"{\\\"level\\\":\\\"info\\\",\\\"id\\\":%zu}\"],",
                             i, i * 7919 % 100003);
            size_t take = sizes[k] - in.len < (size_t)n ? sizes[k] - in.len : (size_t)n;
            ta_buf_put(&in, piece, take);
        }
        CHECK_INT(ta_gzipper_compress(g, in.p, in.len, &z), ==, 0);
        CHECK_INT(z.len, >=, 18);
        CHECK_INT((unsigned char)z.p[0], ==, 0x1f); /* gzip magic */
        CHECK_INT((unsigned char)z.p[1], ==, 0x8b);
        CHECK_INT(gunzip(&z, &back, in.len), ==, 0);
        CHECK_INT(back.len, ==, in.len);
        CHECK(in.len == 0 || memcmp(back.p, in.p, in.len) == 0);
        if (k == 4) CHECK_INT(z.len, <, in.len / 4); /* repetitive JSON compresses */
        /* the one-shot form gives valid gzip too */
        CHECK_INT(ta_gzip(in.p, in.len, &z, 6), ==, 0);
        CHECK_INT(gunzip(&z, &back, in.len), ==, 0);
        CHECK_INT(back.len, ==, in.len);
        CHECK(in.len == 0 || memcmp(back.p, in.p, in.len) == 0);
    }
    ta_gzipper_free(g);
    ta_buf_free(&in);
    ta_buf_free(&z);
    ta_buf_free(&back);
}

TEST(gzip_of_encoded_body_round_trips) {
    ta_arena *a = ta_arena_new();
    ta_input_info in = {.name = "in1", .category = "app"};
    ta_record *recs[16];
    for (int i = 0; i < 16; i++) {
        char *line = ta_arena_alloc(a, 64);
        snprintf(line, 64, "{\"n\":%d,\"msg\":\"caf\xc3\xa9 \\\"q\\\"\"}", i);
        recs[i] = rec(a, &in, 100 - i, i % 3 ? "info" : "error", line);
        field(recs[i], a, "request_id", i % 2 ? "r" : "s");
    }
    static const char *labels[] = {"level"};
    static const char *meta[] = {"request_id"};
    ta_loki_enc e = {labels, 1, NULL, 0, meta, 1, false};
    char *body = encode(&e, recs, 16);
    ta_gzipper *g = ta_gzipper_new(1);
    ta_buf z = {0}, back = {0};
    CHECK_INT(ta_gzipper_compress(g, body, strlen(body), &z), ==, 0);
    CHECK_INT(gunzip(&z, &back, strlen(body)), ==, 0);
    CHECK_INT(back.len, ==, strlen(body));
    CHECK(memcmp(back.p, body, back.len) == 0);
    ta_gzipper_free(g);
    ta_buf_free(&z);
    ta_buf_free(&back);
    free(body);
    ta_arena_free(a);
}
