/* Overflow: a tiny ring and a slow handler. Drop-newest counts exactly
 * (produced = delivered + dropped) and reports "dropped N entries";
 * blocking mode loses nothing with a generous timeout. */
#include "core_sink.h"

#include <time.h>

#define PRODUCERS 2
#define PER_THREAD 3000

static long delivered[PRODUCERS], reported_drops, internal_entries;

static void slow_counter(const trail_entry *e, const char *line, size_t len, void *ud) {
    (void)line;
    (void)len;
    (void)ud;
    struct timespec ts = {0, 20000};
    nanosleep(&ts, NULL);
    if (e->flags & TRAIL_ENTRY_INTERNAL) {
        internal_entries++;
        CHECK_INT(e->nfields, ==, 1);
        CHECK_STR(e->fields[0].key, "dropped");
        char want[64];
        snprintf(want, sizeof want, "dropped %llu entries", (unsigned long long)e->fields[0].v.u);
        CHECK_INT(e->msg_len, ==, strlen(want));
        CHECK(memcmp(e->msg, want, e->msg_len) == 0);
        CHECK_INT(e->level, ==, TRAIL_WARNING);
        reported_drops += (long)e->fields[0].v.u;
        return;
    }
    delivered[e->fields[0].v.i]++;
}

static void *producer(void *arg) {
    long t = (long)arg;
    for (long i = 0; i < PER_THREAD; i++) trail_info(NULL, "burst", TRAIL_INT("t", t), TRAIL_INT("i", i));
    return NULL;
}

static void run(int block) {
    trail_options o = {.no_default_handlers = 1, .no_signal_handlers = 1, .ring_bytes = 4096,
                       .overflow_block_from = block ? TRAIL_DEBUG : TRAIL_WARNING,
                       .block_timeout_ms = block ? 60000 : 100};
    CHECK_INT(trail_setup(&o), ==, 0);
    trail_handler *h;
    CHECK_INT(trail_handler_callback(&h, slow_counter, NULL), ==, 0);
    trail_logger_add_handler(NULL, h);
    trail_handler_release(h);
    pthread_t th[PRODUCERS];
    for (long i = 0; i < PRODUCERS; i++) pthread_create(&th[i], NULL, producer, (void *)i);
    for (int i = 0; i < PRODUCERS; i++) pthread_join(th[i], NULL);
    CHECK_INT(trail_flush(60000), ==, 0);
    CHECK_INT(trail_flush(60000), ==, 0);
    trail_stats st;
    trail_stats_get(&st);
    long total = 0;
    for (int i = 0; i < PRODUCERS; i++) total += delivered[i];
    if (block) {
        CHECK_INT(total, ==, PRODUCERS * PER_THREAD);
        CHECK_INT(st.dropped, ==, 0);
        CHECK_INT(internal_entries, ==, 0);
    } else {
        CHECK_INT(total + (long)st.dropped, ==, PRODUCERS * PER_THREAD);
        CHECK_INT(reported_drops, ==, (long)st.dropped);
        CHECK(st.dropped > 0); /* 6000 entries cannot fit 4 KiB behind a 20 us/entry handler */
        CHECK(internal_entries > 0);
    }
    trail_shutdown();
}

TEST(drop_newest_counts_exactly) { run(0); }
TEST(block_loses_nothing) { run(1); }

TEST(block_times_out_then_drops_and_counts) {
    trail_options o = {.no_default_handlers = 1, .no_signal_handlers = 1, .ring_bytes = 4096,
                       .overflow_block_from = TRAIL_DEBUG, .block_timeout_ms = 1};
    CHECK_INT(trail_setup(&o), ==, 0);
    trail_handler *h;
    CHECK_INT(trail_handler_callback(&h, slow_counter, NULL), ==, 0);
    trail_logger_add_handler(NULL, h);
    trail_handler_release(h);
    producer((void *)0);
    CHECK_INT(trail_flush(60000), ==, 0);
    trail_stats st;
    trail_stats_get(&st);
    CHECK_INT(delivered[0] + (long)st.dropped, ==, PER_THREAD);
    CHECK_INT(reported_drops, ==, (long)st.dropped);
    CHECK(st.blocked > 0);
    trail_shutdown();
}

TEST(ring_memory_budget) {
    /* Room for one ring: the second thread cannot get one, drops and counts. */
    trail_options o = {.no_default_handlers = 1, .no_signal_handlers = 1, .ring_bytes = 4096,
                       .max_ring_memory = 4096};
    CHECK_INT(trail_setup(&o), ==, 0);
    sink *s = sink_attach(NULL);
    trail_info(NULL, "main thread has the ring");
    pthread_t th;
    pthread_create(&th, NULL, producer, (void *)1);
    pthread_join(th, NULL);
    CHECK_INT(trail_flush(10000), ==, 0);
    trail_stats st;
    trail_stats_get(&st);
    CHECK_INT(st.dropped, ==, PER_THREAD);
    /* The entry, then one or more "dropped N entries" adding up to 3000. */
    CHECK_STR(sink_line(s, 0), "20 |main thread has the ring||ctx:|0");
    unsigned long sum = 0;
    for (size_t i = 1; i < sink_count(s); i++) {
        unsigned long n = 0;
        CHECK_INT(sscanf(sink_line(s, i), "30 |dropped %lu entries|", &n), ==, 1);
        sum += n;
    }
    CHECK_INT(sum, ==, PER_THREAD);
    trail_shutdown();
}
