/* st_sort_entries (the seal's radix sort) orders entries exactly as
 * st_ent_cmp does — timestamps over small and huge spans, negative ones,
 * many equal timestamps (then stream, then line bytes) — and keeps every
 * entry. */
#include "store_impl.h"
#include "store_test_util.h"

static int cmp_ent(const void *a, const void *b) { return st_ent_cmp(a, b); }

static void check_sort(unsigned seed, size_t n, int64_t base, uint64_t span) {
    static const char *lines[] = {"a", "b", "ab", "", "zz top", "abc"};
    st_builder b = {0};
    b.entcap = n;
    b.ents = malloc(n * sizeof *b.ents);
    st_ent *want = malloc(n * sizeof *want);
    for (size_t i = 0; i < n; i++) {
        uint64_t r = ((uint64_t)rand_r(&seed) << 31) ^ (uint64_t)rand_r(&seed);
        st_ent *e = &b.ents[i];
        memset(e, 0, sizeof *e);
        e->ts = base + (int64_t)(span ? r % span : 0);
        e->stream_id = (uint64_t)(rand_r(&seed) % 3);
        e->line = lines[rand_r(&seed) % 6];
        e->line_len = (uint32_t)strlen(e->line);
        want[i] = *e;
    }
    qsort(want, n, sizeof *want, cmp_ent);
    for (int round = 0; round < 2; round++) { /* the second reuses the buffers */
        if (round) /* reversed order */
            for (size_t i = 0; i < n; i++) b.ents[i] = want[n - 1 - i];
        st_ent *got = st_sort_entries(&b, b.ents, n);
        CHECK(got == b.ents);
        for (size_t i = 0; i < n; i++) {
            CHECK_INT(got[i].ts, ==, want[i].ts);
            CHECK_INT(st_ent_cmp(&got[i], &want[i]), ==, 0);
        }
    }
    free(want);
    st_builder_free(&b);
}

TEST(radix_sort_matches_comparison_sort) {
    check_sort(1, 10, 0, 100);                      /* small: the qsort path */
    check_sort(2, 5000, 1700000000LL * SEC, 100);   /* many equal timestamps */
    check_sort(3, 5000, 1700000000LL * SEC, 3600LL * SEC);
    check_sort(4, 3000, -5000, 10000);              /* negative timestamps */
    check_sort(5, 3000, INT64_MIN / 2, UINT64_MAX / 2); /* a span of 63 bits */
    check_sort(6, 2000, 42, 0);                     /* all equal */
}
