/* Synchronous mode: written before the call returns, on the caller's
 * thread, re-entrant logging from a handler does not deadlock. */
#include "core_sink.h"

#include <unistd.h>

static pid_t writer_tid;
static void record_thread(const trail_entry *e, const char *line, size_t len, void *ud) {
    (void)e;
    (void)ud;
    writer_tid = gettid();
    CHECK(len > 0 && line[len - 1] == '\n');
    /* Logging from inside a handler: dropped, never re-entered or deadlocked. */
    trail_info(NULL, "from inside the handler");
}

TEST(written_before_return_on_caller_thread) {
    setup_mode(TRAIL_SYNC);
    sink *s = sink_attach(NULL);
    trail_handler *h;
    CHECK_INT(trail_handler_callback(&h, record_thread, NULL), ==, 0);
    trail_logger_add_handler(NULL, h);
    trail_handler_release(h);
    trail_warning(trail_get("sync"), "now", TRAIL_INT("n", 1));
    CHECK_INT(sink_count(s), ==, 1); /* no flush needed */
    CHECK_INT(writer_tid, ==, gettid());
    CHECK_STR(sink_line(s, 0), "30 sync|now|n=1|ctx:|0");
    CHECK_INT(trail_flush(0), ==, 0);
    trail_stats st;
    trail_stats_get(&st);
    CHECK_INT(st.entries_total, ==, 1);
    CHECK_INT(st.entries[3], ==, 1);
    CHECK_INT(st.threads, ==, 0);
    trail_shutdown();
}

TEST(mode_from_environment) {
    setenv("TRAIL_MODE", "sync", 1);
    setup_mode(TRAIL_ASYNC);
    sink *s = sink_attach(NULL);
    trail_info(NULL, "sync by env");
    CHECK_INT(sink_count(s), ==, 1);
    trail_shutdown();
    setenv("TRAIL_MODE", "sometimes", 1);
    trail_options o = {.no_default_handlers = 1};
    CHECK_INT(trail_setup(&o), ==, -EINVAL);
    CHECK_CONTAINS(trail_last_error(), "TRAIL_MODE=sometimes");
}

static void *logger_thread(void *arg) {
    for (int i = 0; i < 200; i++) trail_info(NULL, "t", TRAIL_INT("i", i), TRAIL_INT("t", (long)arg));
    return NULL;
}

TEST(sync_threads_are_serialised) {
    setup_mode(TRAIL_SYNC);
    sink *s = sink_attach(NULL);
    pthread_t t[4];
    for (long i = 0; i < 4; i++) pthread_create(&t[i], NULL, logger_thread, (void *)i);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    CHECK_INT(sink_count(s), ==, 800);
    trail_shutdown();
}
