/* test_traceparent.c — W3C trace-context vectors: valid and invalid headers,
 * new ids, formatting round trips. */
#include "test.h"
#include "trail.h"

#include <errno.h>

TEST(valid_vectors) {
    trail_traceparent tp;
    CHECK_INT(trail_traceparent_parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", &tp), ==, 0);
    CHECK_STR(tp.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    CHECK_STR(tp.span_id, "00f067aa0ba902b7");
    CHECK_INT(tp.flags, ==, 1);
    CHECK_INT(trail_traceparent_parse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", &tp), ==, 0);
    CHECK_INT(tp.flags, ==, 0);
    CHECK_INT(trail_traceparent_parse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-ff", &tp), ==, 0);
    CHECK_INT(tp.flags, ==, 255);
    CHECK_INT(trail_traceparent_parse("00-00000000000000000000000000000001-0000000000000001-09", &tp), ==, 0);
    CHECK_INT(tp.flags, ==, 9);
}

TEST(invalid_vectors) {
    static const char *bad[] = {
        NULL,
        "",
        "00",
        "00-00000000000000000000000000000000-b7ad6b7169203331-01", /* all-zero trace id */
        "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", /* all-zero parent id */
        "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", /* uppercase */
        "00-0af7651916cd43dd8448eb211c80319c-B7AD6B7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0A",
        "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", /* forbidden version */
        "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", /* only 00 is accepted */
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-", /* trailing data */
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1",
        "00-0af7651916cd43dd8448eb211c80319-b7ad6b7169203331-01",   /* short trace id */
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333-01",   /* short span id */
        "00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331_01",
        "00-0af7651916cd43dd8448eb211c8031zz-b7ad6b7169203331-01",
        " 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01 ",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b71692033\xff" "1-01",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        trail_traceparent tp;
        if (trail_traceparent_parse(bad[i], &tp) != -EINVAL) test__fail(__FILE__, __LINE__, "accepted [%s]", bad[i]);
    }
    CHECK_INT(trail_traceparent_parse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", NULL), ==, -EINVAL);
}

TEST(new_and_format_round_trip) {
    for (int i = 0; i < 1000; i++) {
        trail_traceparent a, b;
        trail_traceparent_new(&a);
        CHECK_INT(strlen(a.trace_id), ==, 32);
        CHECK_INT(strlen(a.span_id), ==, 16);
        CHECK_INT(a.flags, ==, 1);
        char s[56];
        trail_traceparent_format(&a, s);
        CHECK_INT(strlen(s), ==, 55);
        CHECK_INT(trail_traceparent_parse(s, &b), ==, 0);
        CHECK_STR(a.trace_id, b.trace_id);
        CHECK_STR(a.span_id, b.span_id);
        CHECK_INT(b.flags, ==, 1);
    }
    char s[56];
    trail_traceparent tp = {"4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", 0xab};
    trail_traceparent_format(&tp, s);
    CHECK_STR(s, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ab");
    trail_traceparent_format(NULL, s);
    CHECK_STR(s, "");
}
