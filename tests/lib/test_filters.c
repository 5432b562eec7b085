/* test_filters.c — built-in filters on hand-built entries: level, env rules,
 * sampling counts, per-call-site rate limit driven by entry timestamps, the
 * chain and its "filtered" counter. */
#include "core_impl.h"
#include "ctx_impl.h"
#include "filter_impl.h"
#include "test.h"
#include "trail.h"

static trail_entry entry(int level) {
    static const char file[] = "app.c";
    trail_entry e = {0};
    e.level = level;
    e.logger = "";
    e.msg = "hello";
    e.msg_len = 5;
    e.file = file;
    e.line = 10;
    e.ts_ns = 1700000000000000000;
    return e;
}

static int run(trail_filter *f, trail_entry e) { return f->fn(&e, f->ud); }

TEST(level_filter) {
    trail_filter *f = trail_filter_level(TRAIL_WARNING);
    CHECK(f);
    CHECK_INT(run(f, entry(TRAIL_DEBUG)), ==, 0);
    CHECK_INT(run(f, entry(TRAIL_INFO)), ==, 0);
    CHECK_INT(run(f, entry(TRAIL_SUCCESS)), ==, 0);
    CHECK_INT(run(f, entry(TRAIL_WARNING)), ==, 1);
    CHECK_INT(run(f, entry(TRAIL_CRITICAL)), ==, 1);
    trail_filter_free(f);
}

TEST(env_rules_follow_the_environment) {
    trail_filter *f = trail_filter_env("local=DEBUG, staging = info ,*=WARNING");
    CHECK(f);
    CHECK_INT(trail_resource_set("env", "local"), ==, 0);
    CHECK_INT(run(f, entry(TRAIL_DEBUG)), ==, 1);
    CHECK_INT(trail_resource_set("env", "STAGING"), ==, 0); /* case-insensitive, cache refreshed */
    CHECK_INT(run(f, entry(TRAIL_DEBUG)), ==, 0);
    CHECK_INT(run(f, entry(TRAIL_INFO)), ==, 1);
    CHECK_INT(trail_resource_set("env", "production"), ==, 0);
    CHECK_INT(run(f, entry(TRAIL_INFO)), ==, 0);
    CHECK_INT(run(f, entry(TRAIL_WARNING)), ==, 1);
    trail_filter_free(f);
}

TEST(env_rules_without_fallback_keep_everything_else) {
    trail_filter *f = trail_filter_env("production=ERROR");
    CHECK(f);
    CHECK_INT(trail_resource_set("env", "dev"), ==, 0);
    CHECK_INT(run(f, entry(TRAIL_DEBUG)), ==, 1);
    CHECK_INT(trail_resource_set("env", "production"), ==, 0);
    CHECK_INT(run(f, entry(TRAIL_WARNING)), ==, 0);
    CHECK_INT(run(f, entry(TRAIL_ERROR)), ==, 1);
    trail_filter_free(f);
}

TEST(env_rules_env_var_drives_default) {
    setenv("TRAIL_ENV", "local", 1);
    trail_filter *f = trail_filter_env("local=DEBUG,*=INFO");
    CHECK_INT(run(f, entry(TRAIL_DEBUG)), ==, 1);
    trail_filter_free(f);
}

TEST(env_rules_invalid) {
    CHECK(trail_filter_env(NULL) == NULL);
    CHECK(trail_filter_env("local") == NULL);
    CHECK_CONTAINS(trail_last_error(), "bad rules");
    CHECK(trail_filter_env("local=LOUD") == NULL);
    CHECK(trail_filter_env("=DEBUG") == NULL);
    trail_filter *f = trail_filter_env(""); /* no rules: keeps all */
    CHECK(f);
    CHECK_INT(run(f, entry(TRAIL_DEBUG)), ==, 1);
    trail_filter_free(f);
}

TEST(sample_counts) {
    trail_filter *f = trail_filter_sample(10, TRAIL_WARNING);
    int kept = 0;
    for (int i = 0; i < 1000; i++) kept += run(f, entry(TRAIL_INFO));
    CHECK_INT(kept, ==, 100);
    CHECK_INT(run(f, entry(TRAIL_DEBUG)), ==, 1); /* 1001st: first of a new run of 10 */
    int warn = 0;
    for (int i = 0; i < 50; i++) warn += run(f, entry(TRAIL_WARNING));
    CHECK_INT(warn, ==, 50); /* at or above max_level: all pass */
    trail_filter_free(f);
    f = trail_filter_sample(1, TRAIL_WARNING);
    for (int i = 0; i < 10; i++) CHECK_INT(run(f, entry(TRAIL_DEBUG)), ==, 1);
    trail_filter_free(f);
    f = trail_filter_sample(0, TRAIL_WARNING);
    CHECK_INT(run(f, entry(TRAIL_DEBUG)), ==, 1);
    trail_filter_free(f);
}

TEST(rate_limit_token_bucket) {
    trail_filter *f = trail_filter_rate_limit(10, 5); /* 10/s, bursts of 5 */
    CHECK(f);
    trail_entry e = entry(TRAIL_INFO);
    int kept = 0;
    for (int i = 0; i < 100; i++) kept += f->fn(&e, f->ud); /* same instant */
    CHECK_INT(kept, ==, 5);
    e.ts_ns += 100000000; /* 100 ms later: one token */
    CHECK_INT(f->fn(&e, f->ud), ==, 1);
    CHECK_INT(f->fn(&e, f->ud), ==, 0);
    e.ts_ns += 10 * 1000000000ll; /* long pause: refills only up to the burst */
    kept = 0;
    for (int i = 0; i < 100; i++) kept += f->fn(&e, f->ud);
    CHECK_INT(kept, ==, 5);
    /* Steady 1 s of entries every 1 ms: about 10 pass. */
    kept = 0;
    for (int i = 0; i < 1000; i++) {
        e.ts_ns += 1000000;
        kept += f->fn(&e, f->ud);
    }
    CHECK(kept >= 9 && kept <= 11);
    /* A clock step back refills nothing and does not crash. */
    e.ts_ns -= 5 * 1000000000ll;
    CHECK_INT(f->fn(&e, f->ud), ==, 0);
    trail_filter_free(f);
}

TEST(rate_limit_per_call_site) {
    trail_filter *f = trail_filter_rate_limit(1, 2);
    static const char other_file[] = "other.c";
    trail_entry a = entry(TRAIL_INFO), b = entry(TRAIL_INFO), c = entry(TRAIL_INFO), d = entry(TRAIL_INFO);
    b.line = 11;
    c.file = other_file;
    d.file = NULL; /* dynamic messages share one bucket */
    int ka = 0, kb = 0, kc = 0, kd = 0;
    for (int i = 0; i < 10; i++) {
        ka += f->fn(&a, f->ud);
        kb += f->fn(&b, f->ud);
        kc += f->fn(&c, f->ud);
        kd += f->fn(&d, f->ud);
    }
    CHECK_INT(ka, ==, 2);
    CHECK_INT(kb, ==, 2);
    CHECK_INT(kc, ==, 2);
    CHECK_INT(kd, ==, 2);
    trail_filter_free(f);
    CHECK(trail_filter_rate_limit(-1, 5) == NULL);
    CHECK(trail_filter_rate_limit(0.0 / 0.0, 5) == NULL);
}

TEST(chain_counts_filtered) {
    trail_filter *chain = NULL;
    trail__filter_append(&chain, trail_filter_level(TRAIL_INFO));
    trail__filter_append(&chain, trail_filter_sample(2, TRAIL_ERROR));
    uint64_t before = trail__stat_read(TRAIL__STAT_FILTERED);
    int kept = 0;
    for (int i = 0; i < 10; i++) {
        trail_entry e = entry(i < 4 ? TRAIL_DEBUG : TRAIL_INFO);
        kept += trail__filters_run(chain, &e);
    }
    CHECK_INT(kept, ==, 3); /* 4 below level, 6 sampled 1 in 2 */
    CHECK_INT(trail__stat_read(TRAIL__STAT_FILTERED) - before, ==, 7);
    trail__filters_free(chain);
}
