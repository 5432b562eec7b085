/* test_parsers.c — each parser on real-shaped lines and on broken ones. */
#include "agent_test_util.h"
#include "config.h"
#include "timefmt.h"

/* Default conf of a parser type, via the config loader's defaults. */
static void *default_conf(const char *parser, const char *yaml_opts, ta_config **keep) {
    char text[1024];
    snprintf(text, sizeof text,
             "inputs:\n  - name: i\n    paths: [/x]\n    parser: {type: %s%s%s}\noutputs:\n  - type: stdout\n", parser,
             yaml_opts ? ", " : "", yaml_opts ? yaml_opts : "");
    char err[512];
    CHECK_INT(ta_config_parse(text, strlen(text), "t", keep, err, sizeof err), ==, 0);
    return (*keep)->inputs[0].parser.conf;
}

TEST(time_parsing) {
    int64_t ns;
    CHECK_INT(ta_time_parse_clf("10/Oct/2000:13:55:36 -0700", 26, &ns), ==, 0);
    CHECK_INT(ns, ==, 971211336LL * 1000000000);
    CHECK_INT(ta_time_parse_iso("2000-10-10T20:55:36Z", 20, &ns), ==, 0);
    CHECK_INT(ns, ==, 971211336LL * 1000000000);
    CHECK_INT(ta_time_parse_iso("2000-10-10T22:55:36.5+02:00", 27, &ns), ==, 0);
    CHECK_INT(ns, ==, 971211336500000000LL);
    CHECK_INT(ta_time_parse_iso("2000-13-10T22:55:36Z", 20, &ns), ==, -1);
    /* Times within one minute reuse the minute's arithmetic: still exact and validated. */
    CHECK_INT(ta_time_parse_iso("2000-10-10T20:55:36Z", 20, &ns), ==, 0);
    CHECK_INT(ta_time_parse_iso("2000-10-10T20:55:59.25+01:00", 28, &ns), ==, 0);
    CHECK_INT(ns, ==, (971211336LL + 23 - 3600) * 1000000000 + 250000000);
    CHECK_INT(ta_time_parse_iso("2000-10-10T20:55:07", 19, &ns), ==, -1); /* no zone */
    CHECK_INT(ta_time_parse_iso("2000-10-10T20:55:61Z", 20, &ns), ==, -1);
    CHECK_INT(ta_time_parse_iso("2000-10-10T20:55:3xZ", 20, &ns), ==, -1);
    CHECK_INT(ta_time_parse_iso("2000-10-10T20:56:00Z", 20, &ns), ==, 0);
    CHECK_INT(ns, ==, (971211336LL + 24) * 1000000000);
    CHECK_INT(ta_time_parse_clf("10/Foo/2000:13:55:36 -0700", 26, &ns), ==, -1);
    char b[64];
    ta_time_format_rfc3339(b, sizeof b, 971211336500000000LL);
    CHECK_STR(b, "2000-10-10T20:55:36.500000000Z");
}

TEST(json_trail_line) {
    ta_arena *a = ta_arena_new();
    ta_config *c;
    int rc;
    ta_record *r = tu_parse_with("json", default_conf("json", NULL, &c),
                                 "{\"timestamp\":\"2026-11-24T10:00:00.123Z\",\"service\":\"api\",\"level\":\"WARN\","
                                 "\"message\":\"a \\\"q\\\" \\u00e9\",\"request_id\":\"r-1\",\"n\":12,\"o\":{\"x\":[1]}}",
                                 a, &rc);
    CHECK_INT(rc, ==, 0);
    CHECK_STR(r->level, "warning");
    CHECK_INT(r->severity, ==, TA_SEV_WARN);
    CHECK_STR(r->message, "a \"q\" \xc3\xa9");
    CHECK_STR(tu_field(r, "service"), "api");
    CHECK_STR(tu_field(r, "request_id"), "r-1");
    CHECK_STR(tu_field(r, "n"), "12");
    CHECK_STR(tu_field(r, "o"), "{\"x\":[1]}");
    int64_t want;
    ta_time_parse_iso("2026-11-24T10:00:00.123Z", 24, &want);
    CHECK_INT(r->ts_ns, ==, want);
    ta_config_free(c);
    ta_arena_free(a);
}

TEST(json_broken_lines_are_kept_raw) {
    const char *bad[] = {"not json", "{\"a\":}", "{\"a\":1", "{\"a\":\"\\x\"}", "[1,2]", "{\"a\":1} trailing", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ta_arena *a = ta_arena_new();
        ta_config *c;
        int rc;
        ta_record *r = tu_parse_with("json", default_conf("json", NULL, &c), bad[i], a, &rc);
        CHECK_INT(rc, <, 0);
        CHECK_INT(r->nfields, ==, 0);
        CHECK_INT(r->ts_ns, ==, 42);
        ta_config_free(c);
        ta_arena_free(a);
    }
}

TEST(json_numeric_timestamps) {
    const char *lines[] = {"{\"ts\":1700000000.25}", "{\"ts\":1700000000250}", "{\"ts\":1700000000250000000}"};
    for (int i = 0; i < 3; i++) {
        ta_arena *a = ta_arena_new();
        ta_config *c;
        int rc;
        ta_record *r = tu_parse_with("json", default_conf("json", NULL, &c), lines[i], a, &rc);
        CHECK_INT(rc, ==, 0);
        CHECK_INT(r->ts_ns, ==, 1700000000250000000LL);
        ta_config_free(c);
        ta_arena_free(a);
    }
}

TEST(nginx_combined) {
    ta_arena *a = ta_arena_new();
    ta_config *c;
    int rc;
    ta_record *r = tu_parse_with("nginx", default_conf("nginx", NULL, &c),
                                 "127.0.0.1 - frank smith [10/Oct/2000:13:55:36 -0700] \"GET /a\\x22b?x=\\xC3\\xA9 HTTP/1.1\" "
                                 "200 2326 \"http://ref/\" \"Mozilla/5.0 \\x5Cx\"",
                                 a, &rc);
    CHECK_INT(rc, ==, 0);
    CHECK_STR(tu_field(r, "client.ip"), "127.0.0.1");
    CHECK_STR(tu_field(r, "user.name"), "frank smith");
    CHECK_STR(tu_field(r, "http.request.method"), "GET");
    CHECK_STR(tu_field(r, "url.original"), "/a\"b?x=\xc3\xa9");
    CHECK_STR(tu_field(r, "http.version"), "1.1");
    CHECK_STR(tu_field(r, "http.response.status_code"), "200");
    CHECK_INT(ta_record_get(r, "http.response.status_code")->kind, ==, TA_INT);
    CHECK_STR(tu_field(r, "http.response.body.bytes"), "2326");
    CHECK_STR(tu_field(r, "http.request.referrer"), "http://ref/");
    CHECK_STR(tu_field(r, "user_agent.original"), "Mozilla/5.0 \\x");
    CHECK_INT(r->ts_ns, ==, 971211336LL * 1000000000);
    ta_config_free(c);
    ta_arena_free(a);
}

TEST(nginx_dash_user_and_extras) {
    ta_arena *a = ta_arena_new();
    ta_config *c;
    int rc;
    ta_record *r = tu_parse_with("nginx", default_conf("nginx", "extra_fields: [request_time, upstream]", &c),
                                 "::1 - - [01/Jan/2026:00:00:00 +0000] \"POST /x HTTP/2.0\" 404 0 \"-\" \"curl/8\" 0.012 \"up 1\"",
                                 a, &rc);
    CHECK_INT(rc, ==, 0);
    CHECK(tu_field(r, "user.name") == NULL);
    CHECK(tu_field(r, "http.request.referrer") == NULL);
    CHECK_STR(tu_field(r, "event.duration"), "12000000");
    CHECK_STR(tu_field(r, "upstream"), "up 1");
    ta_config_free(c);
    ta_arena_free(a);
}

TEST(nginx_garbage) {
    const char *bad[] = {"", "x", "1.2.3.4 - - [bad] \"GET / HTTP/1.1\" 200 1 \"-\" \"-\"",
                         "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1", "1.2.3.4 -"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ta_arena *a = ta_arena_new();
        ta_config *c;
        int rc;
        tu_parse_with("nginx", default_conf("nginx", NULL, &c), bad[i], a, &rc);
        CHECK_INT(rc, <, 0);
        ta_config_free(c);
        ta_arena_free(a);
    }
}

TEST(nginx_escape_json) {
    ta_arena *a = ta_arena_new();
    ta_config *c;
    int rc;
    ta_record *r = tu_parse_with(
        "nginx_json", default_conf("nginx_json", "fields: {ip: remote_addr, t: time_iso8601, dur: request_time}", &c),
        "{\"t\":\"2026-01-02T03:04:05+00:00\",\"ip\":\"10.0.0.1\",\"request\":\"GET /\\u00e9 HTTP/1.1\",\"status\":\"503\","
        "\"body_bytes_sent\":\"17\",\"dur\":\"1.500\",\"http_user_agent\":\"ua \\\"x\\\"\",\"custom\":\"c\"}",
        a, &rc);
    CHECK_INT(rc, ==, 0);
    CHECK_STR(tu_field(r, "client.ip"), "10.0.0.1");
    CHECK_STR(tu_field(r, "url.original"), "/\xc3\xa9");
    CHECK_STR(tu_field(r, "http.response.status_code"), "503");
    CHECK_INT(ta_record_get(r, "http.response.status_code")->kind, ==, TA_INT);
    CHECK_STR(tu_field(r, "event.duration"), "1500000000");
    CHECK_STR(tu_field(r, "user_agent.original"), "ua \"x\"");
    CHECK_STR(tu_field(r, "custom"), "c");
    int64_t want;
    ta_time_parse_iso("2026-01-02T03:04:05Z", 20, &want);
    CHECK_INT(r->ts_ns, ==, want);
    ta_config_free(c);
    ta_arena_free(a);
}

TEST(caddy_access) {
    ta_arena *a = ta_arena_new();
    ta_config *c;
    int rc;
    ta_record *r = tu_parse_with(
        "caddy", default_conf("caddy", NULL, &c),
        "{\"level\":\"info\",\"ts\":1700000000.5,\"logger\":\"http.log.access.log0\",\"msg\":\"handled request\","
        "\"request\":{\"remote_ip\":\"127.0.0.1\",\"remote_port\":\"5555\",\"client_ip\":\"127.0.0.1\",\"proto\":\"HTTP/1.1\","
        "\"method\":\"GET\",\"host\":\"127.0.0.1:8080\",\"uri\":\"/p?q=1\",\"headers\":{\"User-Agent\":[\"curl/7.88.1\"],"
        "\"Accept\":[\"*/*\"]}},\"bytes_read\":0,\"user_id\":\"\",\"duration\":0.000123,\"size\":2,\"status\":200,"
        "\"resp_headers\":{\"Server\":[\"Caddy\"]}}",
        a, &rc);
    CHECK_INT(rc, ==, 0);
    CHECK_INT(r->ts_ns, ==, 1700000000500000000LL);
    CHECK_STR(r->message, "handled request");
    CHECK_STR(tu_field(r, "client.ip"), "127.0.0.1");
    CHECK_STR(tu_field(r, "http.request.method"), "GET");
    CHECK_STR(tu_field(r, "url.original"), "/p?q=1");
    CHECK_STR(tu_field(r, "user_agent.original"), "curl/7.88.1");
    CHECK_STR(tu_field(r, "http.response.status_code"), "200");
    CHECK_STR(tu_field(r, "http.response.body.bytes"), "2");
    CHECK_STR(tu_field(r, "event.duration"), "123000");
    CHECK(tu_field(r, "user.name") == NULL);
    ta_config_free(c);
    ta_arena_free(a);
}

TEST(plain_leading_time) {
    ta_arena *a = ta_arena_new();
    ta_config *c;
    int rc;
    ta_record *r = tu_parse_with("plain", default_conf("plain", NULL, &c), "2026-01-02T03:04:05Z ERROR boom", a, &rc);
    CHECK_INT(rc, ==, 0);
    CHECK_STR(r->level, "error");
    CHECK(r->message == NULL);
    int64_t want;
    ta_time_parse_iso("2026-01-02T03:04:05Z", 20, &want);
    CHECK_INT(r->ts_ns, ==, want);
    r = tu_parse_with("plain", c->inputs[0].parser.conf, "just text", a, &rc);
    CHECK_INT(r->ts_ns, ==, 42);
    ta_config_free(c);
    ta_arena_free(a);
}

TEST(render_is_valid_for_any_bytes) {
    ta_buf b = {0};
    ta_render_json_str(&b, "a\"\\\n\x01\xff\xc3\xa9", 8);
    CHECK_STR(b.p, "\"a\\\"\\\\\\n\\u0001\xEF\xBF\xBD\xc3\xa9\"");
    ta_buf_free(&b);
}

/* The json parser marks keys and values that need no escaping, and the
 * renderer copies those as they are: the output must be the same JSON as
 * if every string went through the escaper. */
TEST(json_render_plain_and_escaped_members) {
    ta_arena *a = ta_arena_new();
    ta_config *c;
    int rc;
    ta_record *r = tu_parse_with("json", default_conf("json", NULL, &c),
                                 "{\"msg\":\"say \\\"hi\\\"\",\"plain\":\"v 1\",\"k\\\"q\":\"a\\nb\","
                                 "\"caf\xc3\xa9\":\"cr\xc3\xa8me\",\"bad\":\"x\xffy\",\"u\":\"\\u0041\\u0000z\",\"n\":-1.5e3}",
                                 a, &rc);
    CHECK_INT(rc, ==, 0);
    ta_buf b = {0};
    ta_render_json(&b, NULL, r);
    CHECK_CONTAINS(b.p, ",\"message\":\"say \\\"hi\\\"\",");
    CHECK_CONTAINS(b.p, ",\"plain\":\"v 1\",");
    CHECK_CONTAINS(b.p, ",\"k\\\"q\":\"a\\nb\",");
    CHECK_CONTAINS(b.p, ",\"caf\xc3\xa9\":\"cr\xc3\xa8me\",");
    CHECK_CONTAINS(b.p, ",\"bad\":\"x\xEF\xBF\xBDy\",");
    CHECK_CONTAINS(b.p, ",\"u\":\"A\\u0000z\",");
    CHECK_CONTAINS(b.p, ",\"n\":-1.5e3,");
    /* The raw line is untouched by the parser's in-place work. */
    CHECK(memchr(r->line, 0, r->line_len) == NULL);
    ta_buf_free(&b);
    ta_config_free(c);
    ta_arena_free(a);
}

/* A processor that points a marked key or value at other text (without
 * clearing the mark) still gets that text escaped: a mark is trusted only
 * while the string lies in the parser's copy of the line. */
TEST(json_plain_mark_never_outlives_its_string) {
    ta_arena *a = ta_arena_new();
    ta_config *c;
    int rc;
    ta_record *r = tu_parse_with("json", default_conf("json", NULL, &c),
                                 "{\"message\":\"m\",\"user\":\"bob\",\"role\":\"admin\"}", a, &rc);
    CHECK_INT(rc, ==, 0);
    ta_field *u = ta_record_get(r, "user"), *k = ta_record_get(r, "role");
    CHECK(u && (u->plain & TA_PLAIN_VAL));
    CHECK(k && (k->plain & TA_PLAIN_KEY));
    u->val = "x\",\"admin\":\"true";
    u->val_len = (uint32_t)strlen(u->val);
    k->key = "r\"ole";
    r->message = "new \"message\"";
    ta_buf b = {0};
    ta_render_json(&b, NULL, r);
    CHECK_CONTAINS(b.p, ",\"message\":\"new \\\"message\\\"\",");
    CHECK_CONTAINS(b.p, ",\"user\":\"x\\\",\\\"admin\\\":\\\"true\",");
    CHECK_CONTAINS(b.p, ",\"r\\\"ole\":\"admin\",");
    ta_buf_free(&b);
    ta_config_free(c);
    ta_arena_free(a);
}

/* A nested object is kept as its text, but its strings may hold any bytes:
 * the rendered entry is still valid UTF-8. */
TEST(json_nested_object_with_invalid_utf8_renders_valid) {
    ta_arena *a = ta_arena_new();
    ta_config *c;
    int rc;
    ta_record *r = tu_parse_with("json", default_conf("json", NULL, &c), "{\"message\":\"m\",\"o\":{\"k\xff\":\"v\xc1\"}}",
                                 a, &rc);
    CHECK_INT(rc, ==, 0);
    ta_buf b = {0};
    ta_render_json(&b, NULL, r);
    CHECK_CONTAINS(b.p, ",\"o\":{\"k\xEF\xBF\xBD\":\"v\xEF\xBF\xBD\"},");
    ta_buf_free(&b);
    ta_config_free(c);
    ta_arena_free(a);
}
