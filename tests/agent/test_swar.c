/* test_swar.c — the scanner under the JSON parser and renderer
 * (swar.h: SSE2 16 bytes at a time, then 8-byte SWAR, then bytes) against a
 * byte-by-byte reference on random buffers of every length and density. */
#include <stdlib.h>

#include "swar.h"
#include "test.h"

static size_t reference(const char *p, size_t n, int high_ok) {
    size_t i = 0;
    for (; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '"' || c == '\\' || c < 0x20 || (!high_ok && c >= 0x80)) break;
    }
    return i;
}

TEST(plain_run_matches_byte_by_byte_reference) {
    unsigned seed = 12345;
    char buf[80];
    long mismatches = 0;
    for (long t = 0; t < 300000; t++) {
        size_t n = (size_t)(rand_r(&seed) % 70);
        int density = rand_r(&seed) % 40 + 1; /* 1 in density bytes is arbitrary, the rest letters */
        for (size_t i = 0; i < n; i++)
            buf[i] = rand_r(&seed) % density == 0 ? (char)(rand_r(&seed) % 256) : (char)('a' + rand_r(&seed) % 26);
        for (int high_ok = 0; high_ok < 2; high_ok++)
            if (ta_plain_run(buf, n, high_ok) != reference(buf, n, high_ok) && mismatches++ < 3)
                fprintf(stderr, "  n=%zu high_ok=%d: %zu vs %zu\n", n, high_ok, ta_plain_run(buf, n, high_ok),
                        reference(buf, n, high_ok));
    }
    CHECK_INT(mismatches, ==, 0);
    /* every special byte at every position of a 40-byte run */
    static const unsigned char specials[] = {'"', '\\', 0x00, 0x1f, 0x0a, 0x80, 0xff};
    for (size_t k = 0; k < sizeof specials; k++)
        for (size_t pos = 0; pos < 40; pos++) {
            for (size_t i = 0; i < 40; i++) buf[i] = 'x';
            buf[pos] = (char)specials[k];
            for (int high_ok = 0; high_ok < 2; high_ok++)
                CHECK_INT(ta_plain_run(buf, 40, high_ok), ==, reference(buf, 40, high_ok));
        }
}
