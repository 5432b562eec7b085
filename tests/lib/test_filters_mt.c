/* test_filters_mt.c — built-in filters shared by several threads (sync mode
 * runs them on the callers): counts stay exact, nothing races (TSan). */
#include "filter_impl.h"
#include "test.h"
#include "trail.h"

#include <pthread.h>

#define THREADS 4
#define CALLS 5000

static trail_filter *shared;
static int level_of_calls = TRAIL_INFO;

static void *run(void *arg) {
    (void)arg;
    long kept = 0;
    for (int i = 0; i < CALLS; i++) {
        trail_entry e = {0};
        e.level = level_of_calls;
        e.msg = "m";
        e.msg_len = 1;
        e.file = "f.c";
        e.line = 1;
        e.ts_ns = 1700000000000000000; /* one instant: no refill */
        kept += shared->fn(&e, shared->ud);
    }
    return (void *)kept;
}

static long run_all(void) {
    pthread_t t[THREADS];
    long total = 0;
    for (int i = 0; i < THREADS; i++) CHECK(pthread_create(&t[i], NULL, run, NULL) == 0);
    for (int i = 0; i < THREADS; i++) {
        void *k;
        pthread_join(t[i], &k);
        total += (long)k;
    }
    return total;
}

TEST(sample_exact_across_threads) {
    shared = trail_filter_sample(7, TRAIL_WARNING);
    CHECK_INT(run_all(), ==, (THREADS * CALLS + 6) / 7);
    trail_filter_free(shared);
}

TEST(rate_limit_exact_across_threads) {
    shared = trail_filter_rate_limit(1, 25);
    CHECK_INT(run_all(), ==, 25);
    trail_filter_free(shared);
}

static void *flip_env(void *arg) {
    (void)arg;
    for (int i = 0; i < 200; i++) trail_resource_set("env", i % 2 ? "local" : "production");
    return NULL;
}

TEST(env_filter_while_env_changes) {
    shared = trail_filter_env("local=DEBUG,*=WARNING");
    level_of_calls = TRAIL_ERROR; /* kept whatever the env */
    pthread_t flipper;
    CHECK(pthread_create(&flipper, NULL, flip_env, NULL) == 0);
    long kept = run_all();
    pthread_join(flipper, NULL);
    CHECK_INT(kept, ==, THREADS * CALLS);
    trail_filter_free(shared);
}
