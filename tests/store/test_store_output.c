/* traild's "store" output: a config with `type: store` creates it; lines
 * pushed through the real pipeline (JSON parser) are acknowledged and then
 * readable from the store with labels (input labels, category, level) and
 * request ids indexed; the same batch pushed again (a re-send after a
 * crash) is stored once; a bad retention value is a clear config error. */
#include <errno.h>

#include "config.h"
#include "out_store.h"
#include "pipeline_impl.h"
#include "plugins.h"
#include "store_test_util.h"
#include "timefmt.h"

static ta_output *make_output(const char *yaml, ta_config **keep, char *err, size_t errlen, int *r) {
    char text[1024];
    snprintf(text, sizeof text, "inputs:\n  - {name: a, paths: [/x], parser: {type: json}}\noutputs:\n  - %s\n", yaml);
    CHECK_INT(ta_config_parse(text, strlen(text), "t", keep, err, errlen), ==, 0);
    ta_output_cfg *oc = &(*keep)->outputs[0];
    ta_output *o = NULL;
    *r = oc->type->create(oc->conf, &o, err, errlen);
    if (*r) return NULL;
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

static void push(ta_output *o, ta_config *cfg, int n) {
    ta_out_slot slot = {.out = o};
    ta_pipeline_conf pc = {.batch_max_records = 16, .max_inflight = 100};
    ta_pipeline *p = ta_pipeline_new(&pc, &slot, 1);
    ta_label labels[1] = {{"service", "shop"}};
    ta_input_info info = {.name = "a", .category = "app", .labels = labels, .nlabels = 1};
    ta_parser *parser = NULL;
    char err[256];
    CHECK_INT(ta_parser_new(ta_parser_type_find("json"), cfg->inputs[0].parser.conf, &parser, err, sizeof err), ==, 0);
    ta_emit_src src = {.source = 1, .info = &info, .path = "/x", .commit = on_commit, .parser = parser};
    for (int i = 0; i < n; i++) {
        char line[256];
        int len = snprintf(line, sizeof line,
                           "{\"timestamp\":\"2026-11-28T10:00:%02d.%03dZ\",\"level\":\"%s\",\"message\":\"step %d\","
                           "\"request_id\":\"req-%d\"}",
                           i / 1000 % 60, i % 1000, i % 10 ? "info" : "error", i, i / 5);
        ta_pipeline_emit(p, &src, line, (size_t)len, (uint64_t)i * 300, (uint64_t)i * 300 + 300, ta_now_ns());
    }
    ta_pipeline_drain(p, ta_mono_ns() + 20000000000LL);
    ta_pipeline_free(p);
    parser->type->destroy(parser);
}

TEST(store_output_end_to_end) {
    ta_config *c;
    char yaml[512], err[512] = "";
    int r;
    snprintf(yaml, sizeof yaml, "{type: store, name: st, dir: %s/st, fsync: false, retention: {app: 0}}", test_tmpdir());
    ta_output *o = make_output(yaml, &c, err, sizeof err, &r);
    CHECK(o != NULL);
    commits = 0;
    push(o, c, 200);
    CHECK(commits > 0);
    push(o, c, 200); /* re-sent: duplicates dropped */
    trail_store *s = ta_store_acquire(NULL);
    CHECK(s != NULL);
    trail_store_stats st;
    trail_store_get_stats(s, &st);
    CHECK_INT(st.entries, ==, 200);
    CHECK_INT(st.duplicates, ==, 200);
    char **v;
    size_t n;
    CHECK_INT(trail_store_label_values(s, "level", 0, 0, &v, &n), ==, 0);
    CHECK_INT(n, ==, 2);
    CHECK_STR(v[0], "error");
    trail_store_strings_free(v, n);
    CHECK_INT(trail_store_label_values(s, "service", 0, 0, &v, &n), ==, 0);
    CHECK_INT(n, ==, 1);
    CHECK_STR(v[0], "shop");
    trail_store_strings_free(v, n);
    trail_store_key k = {TRAIL_STORE_KEY_REQUEST_ID, "req-7", 5};
    trail_store_query q = {.keys = &k, .nkeys = 1};
    gotlist g = ts_collect(s, &q);
    CHECK_INT(g.n, ==, 5);
    CHECK_CONTAINS(g.v[0].line, "\"message\":\"step 35\"");
    CHECK_STR(g.v[0].cat, "app");
    /* the parsed timestamp is the entry's time */
    CHECK_INT(g.v[0].ts, ==, 1795860000LL * SEC + 35 * 1000000LL); /* 2026-11-28T10:00:00.035Z */
    ts_free(&g);
    ta_store_release(s);
    o->type->drain(o, ta_mono_ns() + 1000000000);
    o->type->destroy(o);
    CHECK(ta_store_acquire(NULL) == NULL); /* closed with its last user */
    ta_config_free(c);
}

TEST(bad_retention_is_a_config_error) {
    ta_config *c;
    char yaml[512], err[512] = "";
    int r;
    snprintf(yaml, sizeof yaml, "{type: store, name: st, dir: %s/st2, retention: {access: forever-ish}}", test_tmpdir());
    CHECK(make_output(yaml, &c, err, sizeof err, &r) == NULL);
    CHECK_INT(r, ==, -EINVAL);
    CHECK_CONTAINS(err, "retention.access");
    ta_config_free(c);
}
