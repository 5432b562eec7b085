/* test_render.c — the shared rendering helpers: numbers, durations, errno
 * text, timestamps, raw JSON validation, key sets. */
#include "fmt_check.h"
#include "render.h"
#include "test.h"

#include <errno.h>
#include <stdint.h>

static char *raw_json(const char *in, size_t n, int *rc) {
    trail_buf b = {0};
    trail_buf_put(&b, "x", 1); /* must survive a rejection */
    *rc = trail__json_put_raw(&b, in, n);
    trail_buf_put(&b, "", 1);
    CHECK(b.data[0] == 'x');
    char *r = strdup(b.data + 1);
    trail_buf_free(&b);
    return r;
}

TEST(integers) {
    char t[32];
    t[trail__fmt_u64(t, 0)] = 0;
    CHECK_STR(t, "0");
    t[trail__fmt_u64(t, 9)] = 0;
    CHECK_STR(t, "9");
    t[trail__fmt_u64(t, 10)] = 0;
    CHECK_STR(t, "10");
    t[trail__fmt_u64(t, 1000000)] = 0;
    CHECK_STR(t, "1000000");
    t[trail__fmt_u64(t, UINT64_MAX)] = 0;
    CHECK_STR(t, "18446744073709551615");
    t[trail__fmt_i64(t, INT64_MIN)] = 0;
    CHECK_STR(t, "-9223372036854775808");
    t[trail__fmt_i64(t, -7)] = 0;
    CHECK_STR(t, "-7");
    for (uint64_t v = 1, k = 0; k < 19; k++, v *= 10) { /* every digit count, both sides of each power */
        char want[32];
        snprintf(want, sizeof want, "%llu", (unsigned long long)(v - 1));
        t[trail__fmt_u64(t, v - 1)] = 0;
        CHECK_STR(t, want);
        snprintf(want, sizeof want, "%llu", (unsigned long long)v);
        t[trail__fmt_u64(t, v)] = 0;
        CHECK_STR(t, want);
    }
}

TEST(doubles) {
    struct { double d; const char *want; } cases[] = {
        {0.0, "0.0"},       {-0.0, "-0.0"},        {1.0, "1.0"},          {0.5, "0.5"},
        {-12.25, "-12.25"}, {129.95, "129.95"},    {1e-6, "0.000001"},    {123456789012345.0, "123456789012345.0"},
        {0.1, "0.1"},       {1.0 / 3, "0.3333333333333333"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char t[40];
        t[trail__fmt_f64(t, cases[i].d)] = 0;
        CHECK_STR(t, cases[i].want);
    }
    double others[] = {1e300, -1e-300, 4.9406564584124654e-324, 1.7976931348623157e308, 0.1 + 0.2, 1e15, 1e-7};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        char t[40];
        size_t n = trail__fmt_f64(t, others[i]);
        t[n] = 0;
        CHECK(strtod(t, NULL) == others[i]);
        CHECK(strchr(t, ',') == NULL);
    }
}

TEST(durations) {
    struct { int64_t ns; const char *want; } cases[] = {
        {0, "0ns"},           {850, "850ns"},         {1000, "1us"},         {12500, "12.5us"},
        {1500000, "1.5ms"},   {999999999, "999.999999ms"}, {1000000000, "1s"}, {3000000001LL, "3.000000001s"},
        {-1500, "-1.5us"},    {INT64_MIN, "-9223372036.854775808s"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char t[40];
        t[trail__fmt_duration(t, cases[i].ns)] = 0;
        CHECK_STR(t, cases[i].want);
    }
}

TEST(errno_text) {
    char t[160];
    t[trail__fmt_errno(t, sizeof t, ENOENT)] = 0;
    CHECK_STR(t, "No such file or directory (errno 2)");
    t[trail__fmt_errno(t, sizeof t, 987654)] = 0;
    CHECK_CONTAINS(t, "(errno 987654)");
    t[trail__fmt_errno(t, 40, EACCES)] = 0; /* cut to fit, suffix kept */
    CHECK_CONTAINS(t, "(errno 13)");
    CHECK_INT(strlen(t), <, 40);
}

TEST(timestamps_and_cache) {
    trail__time_cache c = {0};
    trail_buf b = {0};
    int64_t base = 1795521600123456789LL;
    CHECK_INT(trail__put_rfc3339(&b, &c, base), ==, 0);
    CHECK_INT(trail__put_rfc3339(&b, &c, base + 500000000), ==, 0); /* same second: cached */
    CHECK_INT(trail__put_rfc3339(&b, &c, base + 900000000), ==, 0); /* next second */
    CHECK_INT(trail__put_rfc3339(&b, NULL, INT64_MIN), ==, 0); /* floor, not truncation, before 1970 */
    trail_buf_put(&b, "", 1);
    CHECK_STR(b.data, "2026-11-24T12:00:00.123Z2026-11-24T12:00:00.623Z2026-11-24T12:00:01.023Z"
                      "1677-09-21T00:12:43.145Z");
    trail_buf_free(&b);
}

TEST(raw_json_accepts_and_minifies) {
    struct { const char *in, *want; } ok[] = {
        {"0", "0"},
        {" -1.5e+10 ", "-1.5e+10"},
        {"true", "true"},
        {"null", "null"},
        {"\"a\\\"b\\u00e9\\/\"", "\"a\\\"b\\u00e9\\/\""},
        {"{ \"a\" : [ 1 , 2 ] ,\n\t\"b\" : { } }", "{\"a\":[1,2],\"b\":{}}"},
        {"[]", "[]"},
        {"\"\xe2\x80\xa8x\xe2\x80\xa9\"", "\"\\u2028x\\u2029\""},
        {"\"caf\xc3\xa9\"", "\"caf\xc3\xa9\""},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int rc;
        char *r = raw_json(ok[i].in, strlen(ok[i].in), &rc);
        CHECK_INT(rc, ==, 0);
        CHECK_STR(r, ok[i].want);
        free(r);
    }
}

TEST(raw_json_rejects) {
    const char *bad[] = {"", "   ", "01", "1.", ".5", "-", "1e", "+1", "tru", "nul", "[1,]", "{\"a\"}", "{\"a\":}",
                         "{a:1}", "[1 2]", "\"\\x\"", "\"\\u12\"", "\"a", "\"\x01\"", "\"\xff\"", "\"\xed\xa0\x80\"",
                         "1 2", "[1]]", "{}x", "NaN", "'a'"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc;
        char *r = raw_json(bad[i], strlen(bad[i]), &rc);
        if (rc != 1) fprintf(stderr, "accepted: [%s]\n", bad[i]);
        CHECK_INT(rc, ==, 1);
        CHECK_STR(r, "");
        free(r);
    }
    /* Depth: 64 levels pass, 65 do not (no unbounded recursion). */
    char deep[200];
    for (int depth = 64; depth <= 65; depth++) {
        memset(deep, '[', (size_t)depth);
        memset(deep + depth, ']', (size_t)depth);
        int rc;
        free(raw_json(deep, (size_t)depth * 2, &rc));
        CHECK_INT(rc, ==, depth <= 64 ? 0 : 1);
    }
    /* Embedded NUL inside the given length is not JSON. */
    int rc;
    free(raw_json("[1]\0", 4, &rc));
    CHECK_INT(rc, ==, 1);
}

TEST(keyset_renames) {
    static const char *const reserved[] = {"level", "message"};
    trail__keyset k;
    CHECK_INT(trail__keyset_init(&k, reserved, 2), ==, 0);
    for (int round = 0; round < 2; round++) { /* begin() forgets the previous object */
        trail__keyset_begin(&k);
        const char *want[] = {"a", "fields.level", "fields.a", "fields.level.2", "fields.fields.level", "b", "fields.a.2"};
        const char *keys[] = {"a", "level", "a", "level", "fields.level", "b", "a"};
        for (size_t i = 0; i < 7; i++) {
            const char *name;
            size_t n;
            CHECK_INT(trail__keyset_claim(&k, keys[i], strlen(keys[i]), i % 2, &name, &n), ==, 0);
            char got[64];
            snprintf(got, sizeof got, "%.*s", (int)n, name);
            CHECK_STR(got, want[i]);
        }
    }
    /* Many distinct keys: the table grows, every key stays unique. */
    trail__keyset_begin(&k);
    char keys[300][16];
    for (int i = 0; i < 300; i++) {
        snprintf(keys[i], sizeof keys[i], "k%d", i);
        const char *name;
        size_t n;
        CHECK_INT(trail__keyset_claim(&k, keys[i], strlen(keys[i]), 1, &name, &n), ==, 0);
        CHECK_INT(n, ==, strlen(keys[i]));
    }
    const char *name;
    size_t n;
    CHECK_INT(trail__keyset_claim(&k, "k299", 4, 1, &name, &n), ==, 0);
    CHECK_INT(n, ==, 11);
    CHECK(memcmp(name, "fields.k299", 11) == 0);
    trail__keyset_free(&k);
}

TEST(level_upper_follows_renames) {
    trail__level_upper *c = calloc(1, sizeof *c);
    size_t n;
    const char *s = trail__level_upper_get(c, TRAIL_SUCCESS, &n);
    CHECK_INT(n, ==, 7);
    CHECK(memcmp(s, "SUCCESS", 7) == 0);
    CHECK_INT(trail_level_register(TRAIL_SUCCESS, "done", NULL), ==, 0);
    s = trail__level_upper_get(c, TRAIL_SUCCESS, &n);
    CHECK_INT(n, ==, 4);
    CHECK(memcmp(s, "DONE", 4) == 0);
    s = trail__level_upper_get(c, 300, &n);
    CHECK_INT(n, ==, 8);
    CHECK(memcmp(s, "level300", 8) == 0);
    free(c);
}
