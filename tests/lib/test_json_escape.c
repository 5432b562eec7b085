/* test_json_escape.c — trail__json_escape: valid UTF-8 JSON from any bytes. */
#include "fmt_check.h"
#include "formatter_impl.h"
#include "test.h"

#include <stdint.h>

/* Escapes s[0..n) and returns a NUL-terminated malloc'd copy of the output. */
static char *esc(const char *s, size_t n, size_t *outlen) {
    trail_buf b = {0};
    CHECK_INT(trail__json_escape(&b, s, n), ==, 0);
    char *r = malloc(b.len + 1);
    if (b.len) memcpy(r, b.data, b.len);
    r[b.len] = 0;
    if (outlen) *outlen = b.len;
    trail_buf_free(&b);
    return r;
}

/* Wraps the escape of s in {"k":"..."}\n, checks it with the independent
 * validator and returns the decoded value (malloc'd). */
static char *roundtrip(const char *s, size_t n, size_t *declen) {
    trail_buf b = {0};
    trail_buf_put(&b, "{\"k\":\"", 6);
    CHECK_INT(trail__json_escape(&b, s, n), ==, 0);
    trail_buf_put(&b, "\"}\n", 3);
    jc_object o;
    if (!jc_parse_line(b.data, b.len, &o)) {
        fprintf(stderr, "invalid line: %.*s\n", (int)b.len, b.data);
        CHECK(0);
    }
    CHECK_INT(o.n, ==, 1);
    char *d = o.m[0].str;
    *declen = o.m[0].str_len;
    o.m[0].str = NULL;
    jc_free(&o);
    trail_buf_free(&b);
    return d;
}

#define FFFD "\xef\xbf\xbd"

TEST(plain_ascii_is_copied) {
    char s[300];
    for (size_t n = 0; n < sizeof s; n++) {
        for (size_t i = 0; i < n; i++) s[i] = (char)(0x20 + (i * 7) % 96); /* 0x20..0x7f */
        for (size_t i = 0; i < n; i++)
            if (s[i] == '\\' || s[i] == '"') s[i] = 'x';
        size_t on;
        char *o = esc(s, n, &on);
        CHECK_INT(on, ==, n);
        CHECK(memcmp(o, s, n) == 0);
        free(o);
    }
}

TEST(special_byte_at_every_position) {
    /* Covers the 16-byte and 8-byte scan paths and their tails. */
    const char specials[] = {'"', '\\', '\n', 0x01, 0x1f, (char)0xc3};
    for (size_t k = 0; k < sizeof specials; k++) {
        for (size_t pos = 0; pos < 40; pos++) {
            char s[41];
            memset(s, 'a', sizeof s);
            s[pos] = specials[k];
            size_t dl;
            char *d = roundtrip(s, 41, &dl);
            if (specials[k] == (char)0xc3) { /* lone lead byte followed by 'a' -> U+FFFD */
                CHECK_INT(dl, ==, 43);
                CHECK(memcmp(d + pos, FFFD, 3) == 0);
            } else {
                CHECK_INT(dl, ==, 41);
                CHECK(memcmp(d, s, 41) == 0);
            }
            free(d);
        }
    }
}

TEST(quotes_and_backslashes) {
    char *o = esc("a\"b\\c/", 6, NULL);
    CHECK_STR(o, "a\\\"b\\\\c/");
    free(o);
}

TEST(every_control_char_escaped) {
    for (int c = 0; c < 0x20; c++) {
        char in[3] = {'x', (char)c, 'y'};
        size_t on;
        char *o = esc(in, 3, &on);
        /* No raw control byte may survive. */
        for (size_t i = 0; i < on; i++) CHECK((unsigned char)o[i] >= 0x20);
        const char *want = NULL;
        char buf[16];
        switch (c) {
        case '\n': want = "x\\ny"; break;
        case '\r': want = "x\\ry"; break;
        case '\t': want = "x\\ty"; break;
        case '\b': want = "x\\by"; break;
        case '\f': want = "x\\fy"; break;
        default:
            snprintf(buf, sizeof buf, "x\\u%04xy", c);
            want = buf;
        }
        CHECK_STR(o, want);
        free(o);
        size_t dl;
        char *d = roundtrip(in, 3, &dl);
        CHECK_INT(dl, ==, 3);
        CHECK(memcmp(d, in, 3) == 0);
        free(d);
    }
}

TEST(del_and_nul) {
    const char in[] = {'a', 0, 'b', 0x7f, 0};
    size_t on;
    char *o = esc(in, sizeof in, &on);
    CHECK_INT(on, ==, 1 + 6 + 1 + 1 + 6);
    CHECK(memcmp(o, "a\\u0000b\x7f\\u0000", on) == 0);
    free(o);
}

TEST(valid_multibyte_kept) {
    const char *s = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf \xed\x9f\xbf \xee\x80\x80";
    char *o = esc(s, strlen(s), NULL);
    CHECK_STR(o, s);
    free(o);
}

TEST(line_separators_escaped) {
    char *o = esc("a\xe2\x80\xa8" "b\xe2\x80\xa9" "c", 9, NULL);
    CHECK_STR(o, "a\\u2028b\\u2029c");
    free(o);
}

struct bad_case {
    const char *in;
    size_t n;
    const char *want;
};

TEST(invalid_sequences_become_replacement_chars) {
    static const struct bad_case cases[] = {
        {"\x80", 1, FFFD},                                   /* lone continuation */
        {"\xbf\x80", 2, FFFD FFFD},
        {"\xc0\xaf", 2, FFFD FFFD},                          /* overlong '/' */
        {"\xc1\xbf", 2, FFFD FFFD},
        {"\xe0\x80\xaf", 3, FFFD FFFD FFFD},                 /* overlong, 3 bytes */
        {"\xe0\x9f\xbf", 3, FFFD FFFD FFFD},
        {"\xf0\x80\x80\xaf", 4, FFFD FFFD FFFD FFFD},        /* overlong, 4 bytes */
        {"\xf0\x8f\xbf\xbf", 4, FFFD FFFD FFFD FFFD},
        {"\xed\xa0\x80", 3, FFFD FFFD FFFD},                 /* high surrogate D800 */
        {"\xed\xbf\xbf", 3, FFFD FFFD FFFD},                 /* low surrogate DFFF */
        {"\xed\xa0\xbd\xed\xb8\x80", 6, FFFD FFFD FFFD FFFD FFFD FFFD}, /* CESU-8 pair */
        {"\xf4\x90\x80\x80", 4, FFFD FFFD FFFD FFFD},        /* > U+10FFFF */
        {"\xf5\x80\x80\x80", 4, FFFD FFFD FFFD FFFD},
        {"\xf8\x88\x80\x80\x80", 5, FFFD FFFD FFFD FFFD FFFD},
        {"\xfe\xff", 2, FFFD FFFD},
        {"\xe2\x82", 2, FFFD},                               /* truncated at end: one U+FFFD */
        {"\xe2\x82x", 3, FFFD "x"},                          /* truncated before ASCII */
        {"\xf0\x9f\x98", 3, FFFD},
        {"\xf0\x9f\x98\"", 4, FFFD "\\\""},
        {"\xf0\x9f", 2, FFFD},
        {"\xc3", 1, FFFD},
        {"\xc3\xc3\xa9", 3, FFFD "\xc3\xa9"},                /* lead interrupted by a new lead */
        {"\xe2\x28\xa1", 3, FFFD "(" FFFD},
        {"a\xffz\n", 4, "a" FFFD "z\\n"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char *o = esc(cases[k].in, cases[k].n, NULL);
        if (strcmp(o, cases[k].want) != 0) fprintf(stderr, "case %zu\n", k);
        CHECK_STR(o, cases[k].want);
        free(o);
        size_t dl;
        free(roundtrip(cases[k].in, cases[k].n, &dl));
    }
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

TEST(random_bytes_always_valid) {
    unsigned char s[512];
    for (int iter = 0; iter < 5000; iter++) {
        size_t n = next_rand() % sizeof s;
        int mostly_utf8 = iter % 3 == 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t r = next_rand();
            s[i] = mostly_utf8 ? (unsigned char)(r % 4 ? 'a' + r % 26 : 0x80 + (r >> 8) % 0x80) : (unsigned char)r;
        }
        size_t dl;
        char *d = roundtrip((const char *)s, n, &dl);
        /* Valid UTF-8 input must come back byte for byte. */
        if (jc_utf8_valid(s, n)) {
            CHECK_INT(dl, ==, n);
            CHECK(memcmp(d, s, n) == 0);
        }
        free(d);
    }
}

TEST(huge_string_across_chunks) {
    /* 300 KB of multi-byte text: chunk cuts (every 64 KiB) land inside
     * sequences and must not split them. */
    const char *pieces[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "a"};
    size_t cap = 300000, n = 0;
    char *s = malloc(cap + 4);
    for (size_t k = 0; n < cap; k++) {
        const char *p = pieces[(k * 7 + k / 3) % 4];
        memcpy(s + n, p, strlen(p));
        n += strlen(p);
    }
    size_t dl;
    char *d = roundtrip(s, n, &dl);
    CHECK_INT(dl, ==, n);
    CHECK(memcmp(d, s, n) == 0);
    free(d);
    /* Invalid bytes at the cut points still give valid output. */
    for (size_t i = 65535; i < n; i += 65536) s[i] = (char)0xe2;
    d = roundtrip(s, n, &dl);
    free(d);
    free(s);
}

TEST(null_pointer_is_empty) {
    trail_buf b = {0};
    CHECK_INT(trail__json_escape(&b, NULL, 5), ==, 0);
    CHECK_INT(b.len, ==, 0);
    trail_buf_free(&b);
}
