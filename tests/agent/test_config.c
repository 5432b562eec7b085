/* test_config.c — YAML loading: defaults for a one-file config, precise
 * errors (file:line:column and what would be valid), value units. */
#include "agent_test_util.h"
#include "config.h"

static int load(const char *text, ta_config **c, char *err, size_t errlen) {
    err[0] = 0;
    return ta_config_parse(text, strlen(text), "t.yaml", c, err, errlen);
}

TEST(minimal_config_gets_defaults) {
    ta_config *c;
    char err[512];
    CHECK_INT(load("inputs:\n  - name: app\n    paths: /var/log/app/*.jsonl\n    parser: json\n"
                   "outputs:\n  - type: stdout\n", &c, err, sizeof err), ==, 0);
    CHECK_STR(c->agent.state_dir, "/var/lib/traild");
    CHECK_INT(c->agent.batch_max_records, ==, 4096);
    CHECK_INT(c->agent.batch_max_bytes, ==, 1 << 20);
    CHECK_INT(c->agent.batch_max_wait, ==, 1000000000);
    CHECK_INT(c->agent.shutdown_timeout, ==, 10000000000LL);
    CHECK_STR(c->inputs[0].info.category, "app");
    CHECK_STR(c->inputs[0].info.name, "app");
    CHECK(c->inputs[0].parser.type == ta_parser_type_find("json"));
    CHECK_STR(c->outputs[0].name, "stdout");
    ta_config_free(c);
}

TEST(errors_name_line_and_column) {
    ta_config *c;
    char err[512];
    CHECK_INT(load("inputs:\n  - name: app\n    paths: [/x]\n    start_at: middle\noutputs:\n  - type: stdout\n", &c, err,
                   sizeof err), <, 0);
    CHECK_CONTAINS(err, "t.yaml:4:15:");
    CHECK_CONTAINS(err, "start_at: expected one of beginning|end, got 'middle'");
    CHECK_INT(load("inputs:\n  - name: app\n    pathz: [/x]\noutputs:\n  - type: stdout\n", &c, err, sizeof err), <, 0);
    CHECK_CONTAINS(err, "t.yaml:3:5: inputs[0]: unknown key 'pathz'");
    CHECK_CONTAINS(err, "paths");
    CHECK_INT(load("inputs:\n  - name: app\noutputs:\n  - type: stdout\n", &c, err, sizeof err), <, 0);
    CHECK_CONTAINS(err, "missing required key 'paths'");
    CHECK_INT(load("inputs:\n  - name: app\n    paths: [/x]\noutputs:\n  - type: kafka\n", &c, err, sizeof err), <, 0);
    CHECK_CONTAINS(err, "t.yaml:5:11: outputs[0]: unknown output type 'kafka' (known:");
    CHECK_INT(load("inputs:\n  - name: app\n    paths: [/x]\n    parser: xml\noutputs:\n  - type: stdout\n", &c, err,
                   sizeof err), <, 0);
    CHECK_CONTAINS(err, "unknown parser 'xml'");
    CHECK_INT(load("inputs: [\n", &c, err, sizeof err), <, 0);
    CHECK_CONTAINS(err, "YAML syntax error");
    CHECK_INT(load("pipeline:\n  batch_max_wait: soon\ninputs:\n  - {name: a, paths: [/x]}\noutputs:\n  - type: stdout\n",
                   &c, err, sizeof err), <, 0);
    CHECK_CONTAINS(err, "t.yaml:2:19: pipeline: batch_max_wait: expected a duration");
}

TEST(processor_and_regex_errors_are_caught_by_check) {
    ta_config *c;
    char err[512];
    CHECK_INT(load("inputs:\n  - name: a\n    paths: [/x]\n    processors:\n      - {type: drop, matches: \"([\"}\n"
                   "outputs:\n  - type: stdout\n", &c, err, sizeof err), <, 0);
    CHECK_CONTAINS(err, "t.yaml:5:9: input a: processors[0] (drop): matches: bad regular expression");
    CHECK_INT(load("inputs:\n  - name: a\n    paths: [/x]\n    multiline_start: \"(\"\noutputs:\n  - type: stdout\n", &c,
                   err, sizeof err), <, 0);
    CHECK_CONTAINS(err, "multiline_start: bad regular expression");
    CHECK_INT(load("inputs:\n  - name: a\n    paths: [/x]\n  - name: a\n    paths: [/y]\noutputs:\n  - type: stdout\n", &c,
                   err, sizeof err), <, 0);
    CHECK_CONTAINS(err, "name 'a' is already used");
}

TEST(units) {
    uint64_t sz;
    int64_t d;
    CHECK_INT(ta_parse_size("64KiB", &sz), ==, 0);
    CHECK_INT(sz, ==, 65536);
    CHECK_INT(ta_parse_size("1MB", &sz), ==, 0);
    CHECK_INT(sz, ==, 1000000);
    CHECK_INT(ta_parse_size("12", &sz), ==, 0);
    CHECK_INT(sz, ==, 12);
    CHECK_INT(ta_parse_size("1 potato", &sz), <, 0);
    CHECK_INT(ta_parse_duration("250ms", &d), ==, 0);
    CHECK_INT(d, ==, 250000000);
    CHECK_INT(ta_parse_duration("1.5s", &d), ==, 0);
    CHECK_INT(d, ==, 1500000000);
    CHECK_INT(ta_parse_duration("5", &d), <, 0); /* a unit is required */
    CHECK_INT(ta_parse_duration("0", &d), ==, 0);
}

TEST(full_config) {
    ta_config *c;
    char err[512];
    char *text = test_read_file("../../../fuzz/corpus/agent_config/full.yaml", NULL);
    if (!text) {
        const char *src = getenv("TRAIL_TEST_SRC");
        char p[512];
        snprintf(p, sizeof p, "%s/fuzz/corpus/agent_config/full.yaml", src ? src : ".");
        text = test_read_file(p, NULL);
    }
    CHECK(text != NULL);
    int r = load(text, &c, err, sizeof err);
    if (r) fprintf(stderr, "%s\n", err);
    CHECK_INT(r, ==, 0);
    CHECK_INT(c->inputs[0].nprocs, ==, 5);
    CHECK_STR(c->inputs[0].info.labels[0].name, "service");
    CHECK_INT(c->outputs[0].nprocs, ==, 1);
    free(text);
    ta_config_free(c);
}

TEST(print_options_documents_every_type) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ta_config_print_options(f);
    fclose(f);
    CHECK_CONTAINS(buf, "| `paths` |");
    CHECK_CONTAINS(buf, "### parser `nginx_json`");
    CHECK_CONTAINS(buf, "### processor `redact`");
    CHECK_CONTAINS(buf, "### output type `file`");
    CHECK_CONTAINS(buf, "| `batch_max_wait` | duration | `1s` |");
    free(buf);
}
