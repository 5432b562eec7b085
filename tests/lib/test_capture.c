/* Capture: field values copied at the call, truncation with a marker,
 * embedded NUL and newline bytes passed through intact, context attached. */
#include "core_sink.h"

#include <time.h>
#include <unistd.h>

static void setup_small(trail_mode mode, size_t max_entry) {
    trail_options o = {.mode = mode, .no_default_handlers = 1, .no_signal_handlers = 1, .max_entry_bytes = max_entry};
    CHECK_INT(trail_setup(&o), ==, 0);
}

TEST(values_are_copied_at_the_call) {
    setup_mode(TRAIL_ASYNC);
    sink *s = sink_attach(NULL);
    char buf[32];
    for (int i = 0; i < 3; i++) {
        snprintf(buf, sizeof buf, "value-%d", i);
        trail_info(NULL, "copy", TRAIL_STR("v", buf), TRAIL_I64("i", i), TRAIL_U64("u", 7), TRAIL_F64("d", 0.5),
                   TRAIL_BOOL("b", 1), TRAIL_NULL("n"));
        memset(buf, 'X', sizeof buf - 1); /* the caller reuses its buffer at once */
    }
    CHECK_INT(trail_flush(5000), ==, 0);
    CHECK_INT(sink_count(s), ==, 3);
    CHECK_STR(sink_line(s, 2), "20 |copy|v=value-2,i=2,u=7,d=0.5,b=1,n=null|ctx:|0");
    trail_shutdown();
}

TEST(embedded_nul_and_newline_intact) {
    for (int mode = 0; mode < 2; mode++) {
        setup_mode(mode ? TRAIL_SYNC : TRAIL_ASYNC);
        sink *s = sink_attach(NULL);
        static const char raw[] = "a\0b\nc";
        trail_info(NULL, "nul", TRAIL_STRN("k", raw, 5), TRAIL_BYTES("bin", raw, 5));
        trail_log_msg(NULL, TRAIL_INFO, "line1\nline2\0x", 13, NULL, 0);
        CHECK_INT(trail_flush(5000), ==, 0);
        CHECK_INT(sink_count(s), ==, 2);
        CHECK_STR(sink_line(s, 0), "20 |nul|k=a\\0b\\nc,bin=<5 bytes>|ctx:|0");
        CHECK_STR(sink_line(s, 1), "20 |line1\\nline2\\0x||ctx:|0");
        trail_shutdown();
    }
}

static void check_truncated(trail_mode mode) {
    setup_small(mode, 100);
    sink *s = sink_attach(NULL);
    char big[1000];
    memset(big, 'a', sizeof big);
    trail_info(NULL, "big", TRAIL_STRN("s", big, sizeof big), TRAIL_BYTES("b", big, sizeof big), TRAIL_INT("n", 1));
    trail_log_msg(NULL, TRAIL_INFO, big, sizeof big, NULL, 0);
    trail_info(NULL, "small", TRAIL_STRN("s", big, 100));
    CHECK_INT(trail_flush(5000), ==, 0);
    CHECK_INT(sink_count(s), ==, 3);
    const char *l0 = sink_line(s, 0);
    CHECK_CONTAINS(l0, "a\xe2\x80\xa6[truncated],b=<100 bytes>,n=1|ctx:|1");
    CHECK(strstr(l0, "s=") && strlen(strstr(l0, "s=")) < 200);
    CHECK_CONTAINS(sink_line(s, 1), "a\xe2\x80\xa6[truncated]||ctx:|1");
    CHECK_CONTAINS(sink_line(s, 2), "|0"); /* exactly at the limit: not cut */
    CHECK(!strstr(sink_line(s, 2), "truncated"));
    trail_stats st;
    trail_stats_get(&st);
    CHECK_INT(st.truncated, ==, 2);
    trail_shutdown();
}

TEST(truncation_marker_async) { check_truncated(TRAIL_ASYNC); }
TEST(truncation_marker_sync) { check_truncated(TRAIL_SYNC); }

TEST(truncation_keeps_utf8_whole) {
    setup_small(TRAIL_SYNC, 40);
    sink *s = sink_attach(NULL);
    /* 20 two-byte characters: any cut must fall between characters. */
    char text[64] = "";
    for (int i = 0; i < 20; i++) strcat(text, "\xc3\xa9");
    trail_info(NULL, "utf8", TRAIL_STR("t", text));
    trail_info(NULL, "utf8", TRAIL_STRN("t", text, 41));
    const char *l = sink_line(s, 1);
    const char *v = strstr(l, "t=") + 2;
    const char *m = strstr(v, "\xe2\x80\xa6[truncated]");
    CHECK(m != NULL);
    CHECK_INT((m - v) % 2, ==, 0);
    CHECK_INT((unsigned char)m[-1], ==, 0xa9);
    CHECK(!strstr(sink_line(s, 0), "truncated"));
    trail_shutdown();
}

TEST(record_larger_than_ring_is_cut_to_fit) {
    trail_options o = {.no_default_handlers = 1, .no_signal_handlers = 1, .ring_bytes = 4096,
                       .max_entry_bytes = 1 << 20};
    CHECK_INT(trail_setup(&o), ==, 0);
    sink *s = sink_attach(NULL);
    char *big = malloc(100000);
    memset(big, 'z', 100000);
    trail_info(NULL, "huge", TRAIL_STRN("a", big, 100000), TRAIL_STRN("b", big, 100000));
    CHECK_INT(trail_flush(5000), ==, 0);
    CHECK_INT(sink_count(s), ==, 1);
    CHECK_CONTAINS(sink_line(s, 0), "[truncated],b=z");
    CHECK_CONTAINS(sink_line(s, 0), "[truncated]|ctx:|1");
    free(big);
    trail_shutdown();
}

TEST(context_is_attached) {
    setup_mode(TRAIL_ASYNC);
    sink *s = sink_attach(NULL);
    CHECK_INT(trail_ctx_set("request_id", "req-1"), ==, 0);
    trail_info(NULL, "with ctx", TRAIL_INT("n", 1));
    trail_ctx_set("request_id", "req-2");
    trail_ctx_set("user_id", "u7");
    trail_info(NULL, "with ctx", TRAIL_INT("n", 2));
    trail_ctx_clear();
    trail_info(NULL, "no ctx");
    CHECK_INT(trail_flush(5000), ==, 0);
    CHECK_INT(sink_count(s), ==, 3);
    CHECK_STR(sink_line(s, 0), "20 |with ctx|n=1|ctx:request_id=req-1|0");
    CHECK_CONTAINS(sink_line(s, 1), "request_id=req-2");
    CHECK_CONTAINS(sink_line(s, 1), "user_id=u7");
    CHECK_STR(sink_line(s, 2), "20 |no ctx||ctx:|0");
    trail_shutdown();
}

static uint32_t seen_tid;
static int64_t seen_ts;
static void grab(const trail_entry *e, const char *line, size_t len, void *ud) {
    (void)line;
    (void)len;
    (void)ud;
    seen_tid = e->tid;
    seen_ts = e->ts_ns;
    CHECK_STR(e->file, __FILE__);
    CHECK(e->line > 0);
    CHECK_STR(e->func, "test_timestamp_tid_and_site");
}

TEST(timestamp_tid_and_site) {
    setup_mode(TRAIL_ASYNC);
    trail_handler *h;
    CHECK_INT(trail_handler_callback(&h, grab, NULL), ==, 0);
    trail_logger_add_handler(NULL, h);
    trail_handler_release(h);
    struct timespec a, b;
    clock_gettime(CLOCK_REALTIME, &a);
    trail_info(NULL, "when");
    clock_gettime(CLOCK_REALTIME, &b);
    CHECK_INT(trail_flush(5000), ==, 0);
    CHECK_INT(seen_tid, ==, gettid());
    int64_t lo = (int64_t)a.tv_sec * 1000000000 + a.tv_nsec, hi = (int64_t)b.tv_sec * 1000000000 + b.tv_nsec;
    /* The TSC conversion may be off by a few microseconds, never more. */
    CHECK_INT(seen_ts, >=, lo - 1000000);
    CHECK_INT(seen_ts, <=, hi + 1000000);
    trail_shutdown();
}

TEST(many_fields_take_the_general_path) {
    for (int mode = 0; mode < 2; mode++) {
        setup_mode(mode ? TRAIL_SYNC : TRAIL_ASYNC);
        sink *s = sink_attach_plain(NULL);
        trail_field f[2000];
        char names[20][8];
        for (int i = 0; i < 2000; i++) {
            if (i < 20) {
                snprintf(names[i], sizeof names[i], "k%d", i);
                f[i] = (trail_field){.key = names[i], .type = TRAIL_T_STR, .len = TRAIL_LEN_CSTR, .v.s = names[i]};
            } else {
                f[i] = (trail_field){.key = "n", .type = TRAIL_T_I64, .v.i = i};
            }
        }
        trail_log_msg(NULL, TRAIL_INFO, "twenty", 6, f, 20);
        trail_log_msg(NULL, TRAIL_INFO, "too many", 8, f, 2000);
        CHECK_INT(trail_flush(5000), ==, 0);
        CHECK_INT(sink_count(s), ==, 2);
        CHECK_CONTAINS(sink_line(s, 0), "k0=k0,k1=k1,");
        CHECK_CONTAINS(sink_line(s, 0), ",k19=k19|ctx:|0");
        /* At most TRAIL__REC_MAX_FIELDS (1024) fields, marked truncated. */
        const char *l = sink_line(s, 1);
        int commas = 0;
        for (const char *p = strchr(l, '|') + 1; *p; p++) commas += *p == ',';
        CHECK_INT(commas, ==, 1023);
        CHECK_CONTAINS(l, "|ctx:|1");
        trail_shutdown();
    }
}
