/* test.h — the tiny test harness. Each TEST runs in its own forked child
 * (set TEST_NOFORK=1 to run in-process under a debugger), so a crash or a
 * failed CHECK fails one case, not the program. Run one case by naming it:
 * ./lib_test_ring ring_wraps. */
#ifndef TRAIL_TEST_H
#define TRAIL_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*test_fn)(void);
void test__register(const char *name, test_fn fn);
void test__fail(const char *file, int line, const char *fmt, ...) __attribute__((noreturn, format(printf, 3, 4)));

#define TEST(name)                                                                   \
    static void test_##name(void);                                                   \
    __attribute__((constructor)) static void test__reg_##name(void) {                \
        test__register(#name, test_##name);                                          \
    }                                                                                \
    static void test_##name(void)

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) test__fail(__FILE__, __LINE__, "CHECK(%s)", #cond);             \
    } while (0)

#define CHECK_INT(a, op, b)                                                          \
    do {                                                                             \
        long long test__a = (long long)(a), test__b = (long long)(b);                \
        if (!(test__a op test__b))                                                   \
            test__fail(__FILE__, __LINE__, "%s %s %s: %lld vs %lld", #a, #op, #b,    \
                       test__a, test__b);                                            \
    } while (0)

#define CHECK_STR(a, b)                                                              \
    do {                                                                             \
        const char *test__a = (a), *test__b = (b);                                   \
        if (!test__a || !test__b || strcmp(test__a, test__b) != 0)                   \
            test__fail(__FILE__, __LINE__, "%s == %s:\n  got:  [%s]\n  want: [%s]",  \
                       #a, #b, test__a ? test__a : "(null)",                         \
                       test__b ? test__b : "(null)");                                \
    } while (0)

#define CHECK_CONTAINS(hay, needle)                                                  \
    do {                                                                             \
        const char *test__h = (hay), *test__n = (needle);                            \
        if (!test__h || !strstr(test__h, test__n))                                   \
            test__fail(__FILE__, __LINE__, "%s does not contain [%s]:\n  [%s]",      \
                       #hay, test__n, test__h ? test__h : "(null)");                 \
    } while (0)

/* A fresh temporary directory for this case (removed by the harness). */
const char *test_tmpdir(void);
/* Reads a whole file into a NUL-terminated malloc'd string (NULL if absent). */
char *test_read_file(const char *path, size_t *len);

#endif
