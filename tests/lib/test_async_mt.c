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

/* A thread that keeps running across trail_shutdown + trail_setup: its old
 * ring is detached at shutdown and replaced on its next call. */
static pthread_mutex_t step_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t step_cv = PTHREAD_COND_INITIALIZER;
static int step;

static void wait_step(int want) {
    pthread_mutex_lock(&step_mu);
    while (step < want) pthread_cond_wait(&step_cv, &step_mu);
    pthread_mutex_unlock(&step_mu);
}

static void set_step(int s) {
    pthread_mutex_lock(&step_mu);
    step = s;
    pthread_cond_broadcast(&step_cv);
    pthread_mutex_unlock(&step_mu);
}

static void *long_lived(void *arg) {
    (void)arg;
    trail_info(NULL, "first session");
    set_step(1);
    wait_step(2);
    trail_info(NULL, "between sessions: dropped silently");
    set_step(3);
    wait_step(4);
    trail_info(NULL, "second session");
    set_step(5);
    return NULL;
}

TEST(thread_survives_shutdown_and_setup) {
    setup_mode(TRAIL_ASYNC);
    sink *a = sink_attach(NULL);
    pthread_t th;
    pthread_create(&th, NULL, long_lived, NULL);
    wait_step(1);
    CHECK_INT(trail_flush(5000), ==, 0);
    CHECK_INT(sink_count(a), ==, 1);
    trail_shutdown();
    set_step(2);
    wait_step(3);
    setup_mode(TRAIL_ASYNC);
    sink *b = sink_attach(NULL);
    set_step(4);
    wait_step(5);
    CHECK_INT(trail_flush(5000), ==, 0);
    CHECK_INT(sink_count(b), ==, 1);
    CHECK_STR(sink_line(b, 0), "20 |second session||ctx:|0");
    pthread_join(th, NULL);
    trail_shutdown();
}

/* Two threads take turns (each entry logged strictly after the previous
 * one, whichever thread): the output is in that global order, because a
 * pass merges the rings by timestamp. */
#define TURNS 400
static int turn;
static long order_seen[TURNS], order_n;

static void record_order(const trail_entry *e, const char *line, size_t len, void *ud) {
    (void)line;
    (void)len;
    (void)ud;
    if (order_n < TURNS) order_seen[order_n++] = (long)e->fields[0].v.i;
}

static void *take_turns(void *arg) {
    long me = (long)arg;
    for (;;) {
        pthread_mutex_lock(&step_mu);
        while (turn < TURNS && turn % 2 != me) pthread_cond_wait(&step_cv, &step_mu);
        if (turn >= TURNS) {
            pthread_mutex_unlock(&step_mu);
            return NULL;
        }
        trail_info(NULL, "turn", TRAIL_INT("seq", turn));
        turn++;
        pthread_cond_broadcast(&step_cv);
        pthread_mutex_unlock(&step_mu);
    }
}

TEST(rings_merged_by_time) {
    setup_mode(TRAIL_ASYNC);
    trail_handler *h;
    CHECK_INT(trail_handler_callback(&h, record_order, NULL), ==, 0);
    trail_logger_add_handler(NULL, h);
    trail_handler_release(h);
    pthread_t a, b;
    pthread_create(&a, NULL, take_turns, (void *)0);
    pthread_create(&b, NULL, take_turns, (void *)1);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    CHECK_INT(trail_flush(10000), ==, 0);
    CHECK_INT(order_n, ==, TURNS);
    for (long i = 0; i < TURNS; i++) CHECK_INT(order_seen[i], ==, i);
    trail_shutdown();
}
