/* test_processors.c — filter/drop, redaction, labels, rename, shape. */
#include "agent_test_util.h"
#include "config.h"

/* Builds the processors of a one-input config "processors: [<yaml>]". */
static ta_config *cfg;
static ta_processor *procs[8];
static uint32_t nprocs;

static void setup(const char *procs_yaml) {
    char text[2048], err[512];
    snprintf(text, sizeof text, "inputs:\n  - name: a\n    paths: [/x]\n    processors: %s\noutputs:\n  - type: stdout\n",
             procs_yaml);
    int r = ta_config_parse(text, strlen(text), "t", &cfg, err, sizeof err);
    if (r) fprintf(stderr, "%s\n", err);
    CHECK_INT(r, ==, 0);
    nprocs = cfg->inputs[0].nprocs;
    for (uint32_t i = 0; i < nprocs; i++)
        CHECK_INT(ta_processor_new(cfg->inputs[0].procs[i].type, cfg->inputs[0].procs[i].conf, &procs[i], err, sizeof err),
                  ==, 0);
}

static int run(ta_record *r, ta_arena *a) {
    for (uint32_t i = 0; i < nprocs; i++)
        if (procs[i]->type->process(procs[i], r, a) == TA_DROP) return TA_DROP;
    return TA_KEEP;
}

static ta_record *rec(ta_arena *a, const char *json) {
    int rc;
    char text[] = "inputs:\n  - {name: a, paths: [/x], parser: json}\noutputs:\n  - type: stdout\n";
    ta_config *c;
    char err[256];
    CHECK_INT(ta_config_parse(text, strlen(text), "t", &c, err, sizeof err), ==, 0);
    ta_record *r = tu_parse_with("json", c->inputs[0].parser.conf, ta_arena_strndup(a, json, strlen(json)), a, &rc);
    CHECK_INT(rc, ==, 0);
    ta_config_free(c); /* the parser copied what it needed into the arena */
    return r;
}

TEST(level_filter_keeps_unknown_levels) {
    setup("[{type: filter, min_level: warning}]");
    ta_arena *a = ta_arena_new();
    CHECK_INT(run(rec(a, "{\"level\":\"info\",\"message\":\"x\"}"), a), ==, TA_DROP);
    CHECK_INT(run(rec(a, "{\"level\":\"error\",\"message\":\"x\"}"), a), ==, TA_KEEP);
    CHECK_INT(run(rec(a, "{\"message\":\"no level\"}"), a), ==, TA_KEEP);
    ta_arena_free(a);
}

TEST(drop_rule_on_field) {
    setup("[{type: drop, field: path, matches: \"^/health\"}]");
    ta_arena *a = ta_arena_new();
    CHECK_INT(run(rec(a, "{\"path\":\"/healthz\"}"), a), ==, TA_DROP);
    CHECK_INT(run(rec(a, "{\"path\":\"/api\"}"), a), ==, TA_KEEP);
    CHECK_INT(run(rec(a, "{\"other\":1}"), a), ==, TA_KEEP);
    ta_arena_free(a);
}

TEST(filter_equals) {
    setup("[{type: filter, field: service, equals: api}]");
    ta_arena *a = ta_arena_new();
    CHECK_INT(run(rec(a, "{\"service\":\"api\"}"), a), ==, TA_KEEP);
    CHECK_INT(run(rec(a, "{\"service\":\"apix\"}"), a), ==, TA_DROP);
    ta_arena_free(a);
}

TEST(redaction) {
    /* libtrail's rules (test_redact_same.c compares the two): e-mails are
     * opt-in, a bearer token keeps its "Bearer " prefix. */
    setup("[{type: redact}]");
    ta_arena *a = ta_arena_new();
    ta_record *r = rec(a, "{\"message\":\"mail bob@example.com card 4111 1111 1111 1111 ok\",\"password\":\"hunter2\","
                          "\"hdr\":\"Bearer abcdefghijklmnop\",\"n\":\"4111111111111112\",\"jwt\":\"eyJhbGciOi.eyJzdWIi.sig_x\","
                          "\"DB_PASSWORD\":\"pw\"}");
    CHECK_INT(run(r, a), ==, TA_KEEP);
    CHECK_STR(r->message, "mail bob@example.com card [REDACTED] ok");
    CHECK_STR(tu_field(r, "password"), "[REDACTED]");
    CHECK_STR(tu_field(r, "DB_PASSWORD"), "[REDACTED]"); /* substring, any case */
    CHECK_STR(tu_field(r, "hdr"), "Bearer [REDACTED]");
    CHECK_STR(tu_field(r, "n"), "4111111111111112"); /* fails Luhn: not a card */
    CHECK_STR(tu_field(r, "jwt"), "[REDACTED]");
    char line[512];
    snprintf(line, sizeof line, "%.*s", (int)r->line_len, r->line);
    CHECK(!strstr(line, "4111 1111 1111 1111")); /* the raw line is masked too */
    CHECK(!strstr(line, "hunter2"));
    ta_arena_free(a);
}

TEST(redaction_email_on_request) {
    setup("[{type: redact, shapes: [email]}]");
    ta_arena *a = ta_arena_new();
    ta_record *r = rec(a, "{\"message\":\"mail bob@example.com\"}");
    CHECK_INT(run(r, a), ==, TA_KEEP);
    CHECK_STR(r->message, "mail [REDACTED]");
    ta_arena_free(a);
}

TEST(labels_rename_shape) {
    setup("[{type: labels, set: {env: prod}}, {type: rename, fields: {svc: service}}, {type: shape, format: ecs}]");
    ta_arena *a = ta_arena_new();
    ta_record *r = rec(a, "{\"svc\":\"api\",\"request_id\":\"r1\",\"level\":\"info\"}");
    CHECK_INT(run(r, a), ==, TA_KEEP);
    CHECK_STR(tu_field(r, "env"), "prod");
    CHECK_STR(tu_field(r, "service.name"), "api");
    CHECK_STR(tu_field(r, "transaction.id"), "r1");
    CHECK_STR(tu_field(r, "ecs.version"), "8.11");
    ta_arena_free(a);
}

TEST(shape_otel) {
    setup("[{type: shape, format: otel}]");
    ta_arena *a = ta_arena_new();
    ta_record *r = rec(a, "{\"service\":\"api\",\"trace_id\":\"abc\",\"level\":\"error\"}");
    CHECK_INT(run(r, a), ==, TA_KEEP);
    CHECK_STR(tu_field(r, "service.name"), "api");
    CHECK_STR(tu_field(r, "trace_id"), "abc");
    CHECK_STR(tu_field(r, "severity_number"), "17");
    ta_arena_free(a);
}

/* Every field key stays findable after the processors that add, rename or
 * reshape fields: the record's key filter (key_bloom) must cover them all. */
TEST(key_filter_covers_every_key_after_processors) {
    setup("[{type: labels, set: {env: prod, team: core}}, {type: rename, fields: {svc: service, rid: request_id}},"
          " {type: shape, format: ecs}]");
    ta_arena *a = ta_arena_new();
    ta_record *r = rec(a, "{\"svc\":\"api\",\"rid\":\"r1\",\"host\":\"h\",\"trace.id\":\"t\",\"level\":\"info\"}");
    CHECK(r->key_bloom != 0);
    CHECK_INT(run(r, a), ==, TA_KEEP);
    for (uint32_t i = 0; i < r->nfields; i++) {
        CHECK(ta_record_may_have(r, r->fields[i].key, strlen(r->fields[i].key)));
        CHECK(ta_record_get(r, r->fields[i].key) == &r->fields[i]);
    }
    CHECK_STR(tu_field(r, "host.name"), "h");
    CHECK(tu_field(r, "no.such.key") == NULL);
    ta_arena_free(a);
}
