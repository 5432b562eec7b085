/* test_fmt_json.c — the JSON Lines formatter: order, types, collisions,
 * line integrity, huge values, static field caching. */
#include "fmt_check.h"
#include "test.h"
#include "trail.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <unistd.h>

#define TS_NS 1795521600123456789LL /* 2026-11-24T12:00:00.123456789Z */

static void set_resource(void) {
    CHECK_INT(trail_resource_set("service", "shop"), ==, 0);
    CHECK_INT(trail_resource_set("version", "1.2.3"), ==, 0);
    CHECK_INT(trail_resource_set("machine_id", "m-1"), ==, 0);
    CHECK_INT(trail_resource_set("container_id", "c-1"), ==, 0);
    CHECK_INT(trail_resource_set("region", "eu-west-1"), ==, 0);
}

static trail_entry entry(const char *msg) {
    trail_entry e = {0};
    e.ts_ns = TS_NS;
    e.level = TRAIL_INFO;
    e.logger = "";
    e.msg = msg;
    e.msg_len = msg ? strlen(msg) : 0;
    return e;
}

/* Formats e, checks the line with the independent checker, parses it. */
static void format_ok(trail_formatter *f, const trail_entry *e, jc_object *o) {
    trail_buf b = {0};
    CHECK_INT(trail_formatter_format(f, e, &b), ==, 0);
    if (!jc_parse_line(b.data, b.len, o)) {
        fprintf(stderr, "invalid line (%zu bytes): %.*s\n", b.len, (int)(b.len > 2000 ? 2000 : b.len), b.data);
        CHECK(0);
    }
    CHECK(jc_keys_unique(o));
    trail_buf_free(&b);
}

static void check_raw(const jc_object *o, const char *key, const char *want) {
    const jc_member *m = jc_get(o, key);
    if (!m) fprintf(stderr, "missing key %s\n", key);
    CHECK(m != NULL);
    char got[512];
    snprintf(got, sizeof got, "%.*s", (int)m->raw_len, m->raw);
    CHECK_STR(got, want);
}

TEST(top_level_order) {
    set_resource();
    trail_formatter *f = trail_formatter_json();
    const trail_field ctx[] = {TRAIL_STR("user_id", "u-7"), TRAIL_STR("request_id", "req-1"),
                               TRAIL_STR("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736")};
    const trail_field fields[] = {TRAIL_STR("order_id", "A-1"), TRAIL_I64("amount", 30)};
    trail_entry e = entry("order placed");
    e.logger = "shop.db";
    e.ctx = ctx;
    e.nctx = 3;
    e.fields = fields;
    e.nfields = 2;
    jc_object o;
    format_ok(f, &e, &o);
    const char *want[] = {"timestamp", "service", "level", "message", "request_id", "machine_id", "container_id",
                          "version", "region", "pid", "logger", "user_id", "trace_id", "order_id", "amount"};
    CHECK_INT(o.n, ==, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < o.n; i++) CHECK_STR(o.m[i].key, want[i]);
    CHECK_STR(jc_get(&o, "timestamp")->str, "2026-11-24T12:00:00.123Z");
    CHECK_STR(jc_get(&o, "service")->str, "shop");
    CHECK_STR(jc_get(&o, "level")->str, "info");
    CHECK_STR(jc_get(&o, "message")->str, "order placed");
    CHECK_STR(jc_get(&o, "request_id")->str, "req-1");
    CHECK_STR(jc_get(&o, "machine_id")->str, "m-1");
    CHECK_STR(jc_get(&o, "container_id")->str, "c-1");
    CHECK_STR(jc_get(&o, "version")->str, "1.2.3");
    CHECK_STR(jc_get(&o, "region")->str, "eu-west-1");
    char pid[32];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    check_raw(&o, "pid", pid);
    CHECK_STR(jc_get(&o, "logger")->str, "shop.db");
    CHECK_STR(jc_get(&o, "user_id")->str, "u-7");
    check_raw(&o, "amount", "30");
    jc_free(&o);
    trail_formatter_free(f);
}

/* raw points into the freed line: a 4-byte non-string literal here is null. */
static int is_null(const jc_member *m) { return m && !m->str && m->raw_len == 4; }

/* The ten top-level fields are always there (null when unknown), so every
 * line has one schema; only logger is left out for the root logger. */
TEST(absent_values_are_null) {
    set_resource();
    CHECK_INT(trail_resource_set("container_id", ""), ==, 0);
    trail_formatter *f = trail_formatter_json();
    trail_entry e = entry(NULL); /* NULL message: empty string */
    jc_object o;
    format_ok(f, &e, &o);
    CHECK(is_null(jc_get(&o, "request_id")));
    CHECK(is_null(jc_get(&o, "container_id")));
    CHECK(jc_get(&o, "logger") == NULL);
    CHECK_STR(jc_get(&o, "message")->str, "");
    CHECK_STR(o.m[o.n - 1].key, "pid");
    jc_free(&o);
    trail_formatter_free(f);
}

TEST(timestamps) {
    set_resource();
    trail_formatter *f = trail_formatter_json();
    struct { int64_t ns; const char *want; } cases[] = {
        {TS_NS, "2026-11-24T12:00:00.123Z"},
        {0, "1970-01-01T00:00:00.000Z"},
        {-500000000LL, "1969-12-31T23:59:59.500Z"},
        {951868799999999999LL, "2000-02-29T23:59:59.999Z"},
        {INT64_MAX, "2262-04-11T23:47:16.854Z"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        trail_entry e = entry("t");
        e.ts_ns = cases[i].ns;
        const trail_field tf[] = {TRAIL_TIME_NS("at", cases[i].ns)};
        e.fields = tf;
        e.nfields = 1;
        jc_object o;
        format_ok(f, &e, &o);
        CHECK_STR(jc_get(&o, "timestamp")->str, cases[i].want);
        CHECK_STR(jc_get(&o, "at")->str, cases[i].want);
        jc_free(&o);
    }
    trail_formatter_free(f);
}

TEST(every_type) {
    set_resource();
    trail_formatter *f = trail_formatter_json();
    static const unsigned char bytes[] = {0x00, 0xff, 0x10, 0xab};
    static const char nul_str[] = {'a', 0, 'b'};
    const trail_field fields[] = {
        TRAIL_STR("s", "caf\xc3\xa9"),
        TRAIL_STRN("sn", nul_str, 3),
        TRAIL_STR("snull", NULL),
        TRAIL_I64("imin", INT64_MIN),
        TRAIL_I64("ineg", -42),
        TRAIL_U64("umax", UINT64_MAX),
        TRAIL_F64("d1", 0.1),
        TRAIL_F64("d2", 3.0),
        TRAIL_F64("d3", -2.5e-7),
        TRAIL_F64("d4", 1e300),
        TRAIL_F64("d5", 0.1 + 0.2),
        TRAIL_F64("nan", NAN),
        TRAIL_F64("inf", INFINITY),
        TRAIL_F64("ninf", -INFINITY),
        TRAIL_BOOL("t", 1),
        TRAIL_BOOL("f", 0),
        TRAIL_NULL("n"),
        TRAIL_BYTES("bytes", bytes, sizeof bytes),
        TRAIL_ERRNO("err", ENOENT),
        TRAIL_DURATION_NS("dur", 1500000),
        TRAIL_TIME_NS("when", 0),
        TRAIL_JSON("obj", "{ \"a\" : [1, 2.5e3, true, null],\n \"b\":{\"c\":\"x\\u00e9\"} }"),
        TRAIL_JSON("bad", "{\"a\":1"),
        TRAIL_JSON("badnl", "[1,\n"),
        TRAIL_JSON("num", "-0.5"),
        TRAIL_JSON("jnull", NULL),
    };
    trail_entry e = entry("types");
    e.fields = fields;
    e.nfields = sizeof fields / sizeof fields[0];
    jc_object o;
    format_ok(f, &e, &o);
    CHECK_STR(jc_get(&o, "s")->str, "caf\xc3\xa9");
    CHECK_INT(jc_get(&o, "sn")->str_len, ==, 3);
    CHECK(memcmp(jc_get(&o, "sn")->str, nul_str, 3) == 0);
    check_raw(&o, "snull", "null");
    check_raw(&o, "imin", "-9223372036854775808");
    check_raw(&o, "ineg", "-42");
    check_raw(&o, "umax", "18446744073709551615");
    check_raw(&o, "d1", "0.1");
    check_raw(&o, "d2", "3.0");
    CHECK(strtod(jc_get(&o, "d3")->raw, NULL) == -2.5e-7);
    CHECK(strtod(jc_get(&o, "d4")->raw, NULL) == 1e300);
    CHECK(strtod(jc_get(&o, "d5")->raw, NULL) == 0.1 + 0.2);
    check_raw(&o, "nan", "\"NaN\"");
    check_raw(&o, "inf", "\"Infinity\"");
    check_raw(&o, "ninf", "\"-Infinity\"");
    check_raw(&o, "t", "true");
    check_raw(&o, "f", "false");
    check_raw(&o, "n", "null");
    check_raw(&o, "bytes", "\"00ff10ab\"");
    CHECK_CONTAINS(jc_get(&o, "err")->str, "(errno 2)");
    CHECK_CONTAINS(jc_get(&o, "err")->str, "No such file");
    check_raw(&o, "dur", "1500000");
    check_raw(&o, "when", "\"1970-01-01T00:00:00.000Z\"");
    check_raw(&o, "obj", "{\"a\":[1,2.5e3,true,null],\"b\":{\"c\":\"x\\u00e9\"}}");
    CHECK_STR(jc_get(&o, "bad")->str, "{\"a\":1");
    CHECK_STR(jc_get(&o, "badnl")->str, "[1,\n");
    check_raw(&o, "num", "-0.5");
    check_raw(&o, "jnull", "null");
    jc_free(&o);
    trail_formatter_free(f);
}

TEST(doubles_read_back_exactly) {
    set_resource();
    trail_formatter *f = trail_formatter_json();
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 3000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double d;
        if (i % 3 == 0) d = (double)(int64_t)(x % 2000001) / 1000.0 - 1000.0; /* few decimals */
        else if (i % 3 == 1) d = (double)x / 3.0e9 * (i % 2 ? 1 : -1);
        else {
            uint64_t bits = x;
            memcpy(&d, &bits, sizeof d);
            if (!isfinite(d)) continue;
        }
        const trail_field fl[] = {TRAIL_F64("d", d)};
        trail_entry e = entry("d");
        e.fields = fl;
        e.nfields = 1;
        jc_object o;
        format_ok(f, &e, &o);
        const jc_member *m = jc_get(&o, "d");
        CHECK(m->str == NULL); /* a number, not a string */
        char tmp[64];
        snprintf(tmp, sizeof tmp, "%.*s", (int)m->raw_len, m->raw);
        if (strtod(tmp, NULL) != d) fprintf(stderr, "%.17g rendered as %s\n", d, tmp);
        CHECK(strtod(tmp, NULL) == d);
        CHECK_INT(m->raw_len, <=, 24);
        jc_free(&o);
    }
    trail_formatter_free(f);
}

TEST(collisions_never_overwrite) {
    set_resource();
    trail_formatter *f = trail_formatter_json();
    const trail_field ctx[] = {TRAIL_STR("service", "evil-ctx"), TRAIL_STR("request_id", "r-1"),
                               TRAIL_STR("user_id", "u-ctx")};
    const trail_field fields[] = {
        TRAIL_STR("level", "fake"),     TRAIL_STR("message", "fake"), TRAIL_STR("timestamp", "fake"),
        TRAIL_I64("pid", -1),           TRAIL_STR("request_id", "r-2"), TRAIL_STR("user_id", "u-call"),
        TRAIL_STR("fields.level", "x"), TRAIL_STR("k", "1"),          TRAIL_STR("k", "2"),
        TRAIL_STR("logger", "fake"),    TRAIL_STR("level", "fake2"),
    };
    trail_entry e = entry("real");
    e.level = TRAIL_ERROR;
    e.ctx = ctx;
    e.nctx = 3;
    e.fields = fields;
    e.nfields = sizeof fields / sizeof fields[0];
    jc_object o;
    format_ok(f, &e, &o);
    CHECK_STR(jc_get(&o, "level")->str, "error");
    CHECK_STR(jc_get(&o, "message")->str, "real");
    CHECK_STR(jc_get(&o, "service")->str, "shop");
    CHECK_STR(jc_get(&o, "timestamp")->str, "2026-11-24T12:00:00.123Z");
    CHECK_STR(jc_get(&o, "request_id")->str, "r-1");
    CHECK_STR(jc_get(&o, "user_id")->str, "u-ctx");
    CHECK_STR(jc_get(&o, "fields.service")->str, "evil-ctx");
    CHECK_STR(jc_get(&o, "fields.level")->str, "fake");
    CHECK_STR(jc_get(&o, "fields.level.2")->str, "fake2");
    CHECK_STR(jc_get(&o, "fields.fields.level")->str, "x");
    CHECK_STR(jc_get(&o, "fields.message")->str, "fake");
    CHECK_STR(jc_get(&o, "fields.timestamp")->str, "fake");
    check_raw(&o, "fields.pid", "-1");
    CHECK_STR(jc_get(&o, "fields.request_id")->str, "r-2");
    CHECK_STR(jc_get(&o, "fields.user_id")->str, "u-call");
    CHECK_STR(jc_get(&o, "k")->str, "1");
    CHECK_STR(jc_get(&o, "fields.k")->str, "2");
    CHECK_STR(jc_get(&o, "fields.logger")->str, "fake");
    jc_free(&o);
    /* The same formatter forgets the previous entry's keys. */
    const trail_field one[] = {TRAIL_STR("k", "again")};
    e.ctx = NULL;
    e.nctx = 0;
    e.fields = one;
    e.nfields = 1;
    format_ok(f, &e, &o);
    CHECK_STR(jc_get(&o, "k")->str, "again");
    jc_free(&o);
    trail_formatter_free(f);
}

TEST(newlines_cannot_forge_a_line) {
    set_resource();
    trail_formatter *f = trail_formatter_json();
    const char *msg = "a\nb\r\n{\"level\":\"critical\",\"message\":\"forged\"}\n\xe2\x80\xa8x";
    const trail_field fields[] = {TRAIL_STR("k\n\"evil\":1", "v\n}\n{"), TRAIL_JSON("j", "{\"a\":\n1}")};
    trail_entry e = entry(msg);
    e.fields = fields;
    e.nfields = 2;
    e.logger = "lg\n";
    trail_buf b = {0};
    CHECK_INT(trail_formatter_format(f, &e, &b), ==, 0);
    CHECK(memchr(b.data, '\n', b.len - 1) == NULL);
    CHECK(memchr(b.data, '\r', b.len) == NULL);
    jc_object o;
    CHECK(jc_parse_line(b.data, b.len, &o));
    CHECK_STR(jc_get(&o, "message")->str, msg);
    CHECK_STR(jc_get(&o, "level")->str, "info");
    CHECK_STR(jc_get(&o, "k\n\"evil\":1")->str, "v\n}\n{");
    check_raw(&o, "j", "{\"a\":1}");
    jc_free(&o);
    trail_buf_free(&b);
    trail_formatter_free(f);
}

TEST(huge_and_binary_values) {
    set_resource();
    trail_formatter *f = trail_formatter_json();
    size_t n = 1 << 20;
    char *big = malloc(n), *bin = malloc(n);
    for (size_t i = 0; i < n; i++) {
        big[i] = (char)('a' + i % 26);
        bin[i] = (char)(i * 2654435761u >> 13);
    }
    const trail_field fields[] = {TRAIL_STRN("big", big, n), TRAIL_STRN("bin", bin, n), TRAIL_BYTES("raw", bin, 4096)};
    trail_entry e = entry(NULL);
    e.msg = bin;
    e.msg_len = n;
    e.fields = fields;
    e.nfields = 3;
    jc_object o;
    format_ok(f, &e, &o);
    CHECK_INT(jc_get(&o, "big")->str_len, ==, n);
    CHECK(memcmp(jc_get(&o, "big")->str, big, n) == 0);
    CHECK_INT(jc_get(&o, "raw")->str_len, ==, 8192);
    jc_free(&o);
    free(big);
    free(bin);
    trail_formatter_free(f);
}

TEST(appends_to_existing_buffer) {
    set_resource();
    trail_formatter *f = trail_formatter_json();
    trail_buf b = {0};
    trail_entry e = entry("one");
    CHECK_INT(trail_formatter_format(f, &e, &b), ==, 0);
    size_t first = b.len;
    e.msg = "two";
    CHECK_INT(trail_formatter_format(f, &e, &b), ==, 0);
    CHECK(jc_parse_line(b.data, first, NULL));
    CHECK(jc_parse_line(b.data + first, b.len - first, NULL));
    trail_buf_free(&b);
    trail_formatter_free(f);
}

TEST(static_fields_follow_changes) {
    set_resource();
    trail_formatter *f = trail_formatter_json();
    trail_entry e = entry("x");
    jc_object o;
    format_ok(f, &e, &o);
    CHECK_STR(jc_get(&o, "region")->str, "eu-west-1");
    jc_free(&o);
    CHECK_INT(trail_resource_set("region", "us-east-\"2\""), ==, 0);
    CHECK_INT(trail_resource_set("service", "billing"), ==, 0);
    format_ok(f, &e, &o);
    CHECK_STR(jc_get(&o, "region")->str, "us-east-\"2\"");
    CHECK_STR(jc_get(&o, "service")->str, "billing");
    jc_free(&o);
    trail_formatter_free(f);
}

TEST(custom_levels_and_odd_values) {
    set_resource();
    CHECK_INT(trail_level_register(5, "trace", NULL), ==, 0);
    trail_formatter *f = trail_formatter_json();
    trail_entry e = entry("x");
    e.level = 5;
    jc_object o;
    format_ok(f, &e, &o);
    CHECK_STR(jc_get(&o, "level")->str, "trace");
    jc_free(&o);
    e.level = 77;
    const trail_field nokey[] = {{.key = NULL, .type = TRAIL_T_I64, .v.i = 1}, {.key = "t", .type = 999}};
    e.fields = nokey;
    e.nfields = 2;
    format_ok(f, &e, &o);
    CHECK_STR(jc_get(&o, "level")->str, "level77");
    check_raw(&o, "", "1");
    check_raw(&o, "t", "null");
    jc_free(&o);
    trail_formatter_free(f);
}

TEST(keys_that_escape_alike_stay_unique) {
    /* Found by fuzzing: two different invalid byte keys both render as
     * U+FFFD, so uniqueness must be judged on the escaped key. */
    set_resource();
    trail_formatter *f = trail_formatter_json();
    const trail_field fields[] = {TRAIL_STR("a\xff", "1"), TRAIL_STR("a\xfe", "2"), TRAIL_STR("a\xef\xbf\xbd", "3"),
                                  TRAIL_STR("q\"", "4"), TRAIL_STR("q\"", "5")};
    trail_entry e = entry("x");
    e.fields = fields;
    e.nfields = 5;
    jc_object o;
    format_ok(f, &e, &o); /* checks unique keys */
    CHECK_STR(jc_get(&o, "a\xef\xbf\xbd")->str, "1");
    CHECK_STR(jc_get(&o, "fields.a\xef\xbf\xbd")->str, "2");
    CHECK_STR(jc_get(&o, "fields.a\xef\xbf\xbd.2")->str, "3");
    CHECK_STR(jc_get(&o, "q\"")->str, "4");
    CHECK_STR(jc_get(&o, "fields.q\"")->str, "5");
    jc_free(&o);
    trail_formatter_free(f);
}
