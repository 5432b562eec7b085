/* Async path under concurrency: N threads x M entries, every entry
 * delivered exactly once and in per-thread order; rings of exited threads
 * are drained, then freed. */
#include "core_sink.h"

#define NTHREADS 4
#define PER_THREAD 20000

static int64_t next_seq[NTHREADS];
static long delivered, out_of_order;

static void check_order(const trail_entry *e, const char *line, size_t len, void *ud) {
    (void)line;
    (void)len;
    (void)ud;
    if (e->flags & TRAIL_ENTRY_INTERNAL) return;
    CHECK_INT(e->nfields, ==, 3);
    int64_t t = e->fields[0].v.i, seq = e->fields[1].v.i;
    CHECK(t >= 0 && t < NTHREADS);
    if (seq != next_seq[t]) out_of_order++;
    next_seq[t] = seq + 1;
    delivered++; /* only the backend thread runs handlers */
}

static void *producer(void *arg) {
    long t = (long)arg;
    char rid[16];
    snprintf(rid, sizeof rid, "req-%ld", t);
    trail_ctx_set("request_id", rid);
    trail_logger *lg = trail_get("mt");
    for (long i = 0; i < PER_THREAD; i++)
        trail_info(lg, "work", TRAIL_INT("t", t), TRAIL_INT("seq", i), TRAIL_STR("pad", "some text"));
    return NULL;
}

static void run(trail_formatter *fmt) {
    trail_options o = {.no_default_handlers = 1, .no_signal_handlers = 1, .ring_bytes = 64 * 1024,
                       .overflow_block_from = TRAIL_DEBUG, .block_timeout_ms = 30000};
    CHECK_INT(trail_setup(&o), ==, 0);
    trail_handler *h;
    CHECK_INT(trail_handler_callback(&h, check_order, NULL), ==, 0);
    if (fmt) trail_handler_set_formatter(h, fmt);
    trail_logger_add_handler(NULL, h);
    trail_handler_release(h);
    pthread_t th[NTHREADS];
    for (long i = 0; i < NTHREADS; i++) pthread_create(&th[i], NULL, producer, (void *)i);
    for (int i = 0; i < NTHREADS; i++) pthread_join(th[i], NULL);
    CHECK_INT(trail_flush(30000), ==, 0);
    CHECK_INT(delivered, ==, NTHREADS * PER_THREAD);
    CHECK_INT(out_of_order, ==, 0);
    for (int i = 0; i < NTHREADS; i++) CHECK_INT(next_seq[i], ==, PER_THREAD);
    trail_stats st;
    trail_stats_get(&st);
    CHECK_INT(st.dropped, ==, 0);
    CHECK_INT(st.entries_total, ==, NTHREADS * PER_THREAD);
    CHECK_INT(st.entries[1], ==, NTHREADS * PER_THREAD);
    CHECK(st.queue_high_water > 0 && st.queue_high_water <= 64 * 1024);
    /* The exited threads' rings are freed once drained. */
    CHECK_INT(trail_flush(5000), ==, 0);
    trail_stats_get(&st);
    CHECK_INT(st.threads, ==, 0);
    trail_shutdown();
}

static int tiny_format(const trail_entry *e, trail_buf *out, void *ud) {
    (void)ud;
    return trail_buf_put(out, e->msg, e->msg_len) || trail_buf_put(out, "\n", 1);
}

TEST(every_entry_once_in_order_json) { run(NULL); }
TEST(every_entry_once_in_order_custom_format) { run(trail_formatter_custom(tiny_format, NULL, NULL)); }

static void *flusher(void *arg) {
    (void)arg;
    for (int i = 0; i < 50; i++) {
        trail_info(NULL, "before flush", TRAIL_INT("i", i));
        CHECK_INT(trail_flush(10000), ==, 0);
    }
    return NULL;
}

TEST(concurrent_flushes) {
    setup_mode(TRAIL_ASYNC);
    sink *s = sink_attach(NULL);
    pthread_t th[3];
    for (int i = 0; i < 3; i++) pthread_create(&th[i], NULL, flusher, NULL);
    for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
    CHECK_INT(sink_count(s), ==, 150);
    trail_shutdown();
}

static void *config_churn(void *arg) {
    (void)arg;
    for (int i = 0; i < 200; i++) {
        char name[32];
        snprintf(name, sizeof name, "churn.%d", i % 7);
        trail_logger *lg = trail_get(name);
        trail_logger_set_level(lg, i % 2 ? TRAIL_DEBUG : 0);
        trail_logger *b = trail_with(lg, TRAIL_INT("i", i));
        trail_info(b, "bound");
        trail_logger_release(b);
    }
    return NULL;
}

TEST(config_changes_while_logging) {
    setup_mode(TRAIL_ASYNC);
    sink *s = sink_attach(NULL);
    pthread_t th[3];
    for (int i = 0; i < 3; i++) pthread_create(&th[i], NULL, config_churn, NULL);
    for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
    CHECK_INT(trail_flush(10000), ==, 0);
    CHECK_INT(sink_count(s), ==, 600);
    trail_shutdown();
}
