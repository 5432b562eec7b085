/* The fast line tokenizer of the token bloom (keyset.c: SSE2 scan, inline
 * CRC key hashes) gives exactly the keys of the byte-by-byte reference rule,
 * on random lines of every length around the 64-byte scan windows and at
 * every alignment; and every token trail_store_filter_tokens derives from a
 * substring of a line is among that line's keys (no false negatives). */
#include "store_impl.h"
#include "store_test_util.h"

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The keys of a keyset, sorted (n returned). */
static size_t keys_of(const st_keyset *k, uint64_t *out) {
    size_t n = 0;
    for (uint32_t i = 0; i < k->cap; i++)
        if (k->v[i]) out[n++] = k->v[i];
    qsort(out, n, sizeof *out, cmp_u64);
    return n;
}

static bool has_key(const st_keyset *k, uint64_t h) {
    if (!h) h = 1;
    for (uint32_t i = 0; i < k->cap; i++)
        if (k->v[i] == h) return true;
    return false;
}

/* Bytes that make tokens, separators and JSON key endings likely. */
static void random_line(unsigned *seed, char *buf, size_t n) {
    static const char alphabet[] = "aZ9\"::_-. {}\x80\xff" "0123456789abcdefXYZ";
    for (size_t i = 0; i < n; i++) {
        unsigned r = (unsigned)rand_r(seed);
        buf[i] = r % 7 == 0 ? (char)(r >> 8) : alphabet[(r >> 8) % (sizeof alphabet - 1)];
    }
}

static void check_same(const char *line, size_t n) {
    st_keyset a = {0}, b = {0};
    st_index_line_tokens(&a, line, n);
    st_index_line_tokens_ref(&b, line, n);
    CHECK_INT(a.n, ==, b.n);
    if (a.n) {
        uint64_t *ka = malloc(a.n * sizeof *ka), *kb = malloc(b.n * sizeof *kb);
        CHECK_INT(keys_of(&a, ka), ==, a.n);
        CHECK_INT(keys_of(&b, kb), ==, b.n);
        CHECK(memcmp(ka, kb, a.n * sizeof *ka) == 0);
        free(ka);
        free(kb);
    }
    st_keyset_free(&a);
    st_keyset_free(&b);
}

TEST(scan_matches_reference_on_random_lines) {
    unsigned seed = 7;
    char *buf = malloc(400);
    for (size_t n = 0; n <= 300; n++)
        for (int rep = 0; rep < 6; rep++) {
            /* lines at the end of their allocation too (ASan sees over-reads) */
            char *line = malloc(n ? n : 1);
            random_line(&seed, line, n);
            check_same(line, n);
            memcpy(buf + rep, line, n);
            check_same(buf + rep, n);
            free(line);
        }
    free(buf);
}

TEST(scan_matches_reference_on_json_lines) {
    const char *lines[] = {
        "{\"timestamp\":\"2026-11-28T21:05:35.123Z\",\"service\":\"frontend\",\"level\":\"info\","
        "\"message\":\"request received\",\"request_id\":\"0190a3b2-1c3d-7abc-8def-0123456789ab\","
        "\"machine_id\":\"4f1c2a9e8b7d4c3e9a0b1c2d3e4f5a6b\",\"pid\":1234,\"amount\":42}",
        "10.0.1.7 - - [28/Nov/2026:21:05:35 +0000] \"GET /api/orders/123 HTTP/1.1\" 200 512 \"-\" \"curl/7.88.1\"",
        "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl",
        "\"k\":", "abc\":", "abc\"", "ab", "abc", "123", "12a", "\xc3\xa9t\xc3\xa9 caf\xc3\xa9",
    };
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
        size_t n = strlen(lines[i]);
        for (size_t cut = 0; cut <= n; cut++) check_same(lines[i] + cut, n - cut);
    }
}

typedef struct probe {
    const st_keyset *k;
    int missing, seen;
} probe;

static void probe_tok(void *ctx, const char *t, size_t n) {
    probe *p = ctx;
    p->seen++;
    if (!has_key(p->k, st_key_unmixed(TRAIL_STORE_KEY_TOKEN, t, n))) p->missing++;
}

TEST(filter_tokens_of_a_substring_are_in_the_line) {
    unsigned seed = 11;
    char line[200];
    int seen = 0;
    for (int rep = 0; rep < 300; rep++) {
        size_t n = 20 + (size_t)rand_r(&seed) % 180;
        random_line(&seed, line, n);
        st_keyset k = {0};
        st_index_line_tokens(&k, line, n);
        for (int s = 0; s < 20; s++) {
            size_t a = (size_t)rand_r(&seed) % n, b = a + (size_t)rand_r(&seed) % (n - a + 1);
            probe p = {&k, 0, 0};
            trail_store_filter_tokens(line + a, b - a, probe_tok, &p);
            CHECK_INT(p.missing, ==, 0);
            seen += p.seen;
        }
        st_keyset_free(&k);
    }
    CHECK(seen > 100); /* the check above was exercised */
}
