/* test_outputs.c — the file output through the worker: retries with
 * back-off until delivered, "invalid" answers are final and counted, a
 * drain deadline abandons what cannot be delivered. */
#include <pthread.h>

#include "agent_test_util.h"
#include "arena.h"
#include "config.h"
#include "output_worker.h"
#include "pipeline_impl.h"
#include "timefmt.h"

static ta_output *make_output(const char *yaml, ta_config **keep) {
    char text[1024], err[512];
    snprintf(text, sizeof text, "inputs:\n  - {name: a, paths: [/x]}\noutputs:\n  - %s\n", yaml);
    int r = ta_config_parse(text, strlen(text), "t", keep, err, sizeof err);
    if (r) fprintf(stderr, "%s\n", err);
    CHECK_INT(r, ==, 0);
    ta_output_cfg *oc = &(*keep)->outputs[0];
    ta_output *o;
    CHECK_INT(oc->type->create(oc->conf, &o, err, sizeof err), ==, 0);
    o->type = oc->type;
    o->name = oc->name;
    o->stats = ta_stats_output(oc->name, oc->type->name);
    return o;
}

static int commits;
static void on_commit(void *ctx, const ta_span *s) {
    (void)ctx;
    (void)s;
    commits++;
}

/* Emits n lines through a pipeline into output o and waits for the acks. */
static void push(ta_output *o, int n, int64_t wait_ns) {
    ta_out_slot slot = {.out = o};
    ta_pipeline_conf pc = {.batch_max_records = 2, .max_inflight = 100};
    ta_pipeline *p = ta_pipeline_new(&pc, &slot, 1);
    ta_input_info info = {.name = "a", .category = "app"};
    ta_emit_src src = {.source = 1, .info = &info, .path = "/x", .commit = on_commit};
    for (int i = 0; i < n; i++) {
        char line[32];
        int len = snprintf(line, sizeof line, "line %d", i);
        ta_pipeline_emit(p, &src, line, (size_t)len, (uint64_t)i * 10, (uint64_t)i * 10 + 10, 1);
    }
    ta_pipeline_drain(p, ta_mono_ns() + wait_ns);
    ta_pipeline_free(p);
}

TEST(retries_until_delivered) {
    ta_config *c;
    char yaml[512];
    snprintf(yaml, sizeof yaml, "{type: file, name: f1, path: %s/o.jsonl, format: raw, fault_fail_percent: 60, "
                                "retry_backoff: 1ms, retry_backoff_max: 4ms}", test_tmpdir());
    ta_output *o = make_output(yaml, &c);
    commits = 0;
    push(o, 40, 20000000000LL);
    o->type->destroy(o);
    char path[600];
    snprintf(path, sizeof path, "%s/o.jsonl", test_tmpdir());
    char *got = test_read_file(path, NULL);
    CHECK(got != NULL);
    for (int i = 0; i < 40; i++) {
        char want[32];
        snprintf(want, sizeof want, "line %d\n", i);
        CHECK(strstr(got, want) != NULL);
    }
    ta_output_stats *st = ta_stats_output("f1", "file");
    CHECK_INT(atomic_load(&st->records), ==, 40);
    CHECK_INT(atomic_load(&st->retries), >, 0);
    CHECK_INT(commits, ==, 20);
    free(got);
    ta_config_free(c);
}

TEST(invalid_is_final_and_counted) {
    ta_config *c;
    char yaml[512];
    snprintf(yaml, sizeof yaml, "{type: file, name: f2, path: %s/o.jsonl, fault_invalid_percent: 100}", test_tmpdir());
    ta_output *o = make_output(yaml, &c);
    commits = 0;
    push(o, 10, 5000000000LL);
    o->type->destroy(o);
    ta_output_stats *st = ta_stats_output("f2", "file");
    CHECK_INT(atomic_load(&st->records_invalid), ==, 10);
    CHECK_INT(atomic_load(&st->retries), ==, 0);
    CHECK_INT(commits, ==, 5); /* positions still advance: never retried forever */
    ta_config_free(c);
}

TEST(drain_deadline_abandons_without_committing) {
    ta_config *c;
    char yaml[512];
    snprintf(yaml, sizeof yaml, "{type: file, name: f3, path: %s/o.jsonl, fault_fail_percent: 100, retry_backoff: 1ms}",
             test_tmpdir());
    ta_output *o = make_output(yaml, &c);
    commits = 0;
    int64_t t0 = ta_mono_ns();
    push(o, 6, 300000000LL);
    CHECK_INT(ta_mono_ns() - t0, <, 10000000000LL); /* bounded, whatever the output does */
    o->type->destroy(o);
    CHECK_INT(commits, ==, 0);
    ta_config_free(c);
}

TEST(backoff_grows_with_jitter_and_cap) {
    for (int attempt = 1; attempt < 40; attempt++) {
        int64_t d = ta_backoff_ns(attempt, 100, 10000);
        CHECK_INT(d, >=, 50);
        CHECK_INT(d, <=, 10000);
    }
    int64_t maxseen = 0;
    for (int i = 0; i < 200; i++) {
        int64_t d = ta_backoff_ns(10, 100, 10000);
        if (d > maxseen) maxseen = d;
    }
    CHECK_INT(maxseen, >, 5000);
}
