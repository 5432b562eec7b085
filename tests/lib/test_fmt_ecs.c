/* test_fmt_ecs.c — the Elastic Common Schema formatter. */
#include "fmt_check.h"
#include "test.h"
#include "trail.h"

#include <unistd.h>

#define TS_NS 1795521600123456789LL

static void set_resource(void) {
    CHECK_INT(trail_resource_set("service", "shop"), ==, 0);
    CHECK_INT(trail_resource_set("version", "1.2.3"), ==, 0);
    CHECK_INT(trail_resource_set("machine_id", "m-1"), ==, 0);
    CHECK_INT(trail_resource_set("container_id", "c-1"), ==, 0);
    CHECK_INT(trail_resource_set("region", "eu-west-1"), ==, 0);
    CHECK_INT(trail_resource_set("env", "staging"), ==, 0);
    CHECK_INT(trail_resource_set("hostname", "web-1"), ==, 0);
}

static void format_ok(trail_formatter *f, const trail_entry *e, jc_object *o) {
    trail_buf b = {0};
    CHECK_INT(trail_formatter_format(f, e, &b), ==, 0);
    if (!jc_parse_line(b.data, b.len, o)) {
        fprintf(stderr, "invalid line: %.*s\n", (int)b.len, b.data);
        CHECK(0);
    }
    CHECK(jc_keys_unique(o));
    trail_buf_free(&b);
}

static void check_raw(const jc_object *o, const char *key, const char *want) {
    const jc_member *m = jc_get(o, key);
    if (!m) fprintf(stderr, "missing key %s\n", key);
    CHECK(m != NULL);
    char got[256];
    snprintf(got, sizeof got, "%.*s", (int)m->raw_len, m->raw);
    CHECK_STR(got, want);
}

TEST(ecs_field_names_and_order) {
    set_resource();
    trail_formatter *f = trail_formatter_ecs();
    const trail_field ctx[] = {TRAIL_STR("request_id", "r-1"), TRAIL_STR("user_id", "u-7"),
                               TRAIL_STR("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736"),
                               TRAIL_STR("span_id", "00f067aa0ba902b7"), TRAIL_STR("tenant", "acme")};
    const trail_field fields[] = {TRAIL_I64("http.response.status_code", 200), TRAIL_DURATION_NS("event.duration", 1500)};
    trail_entry e = {.ts_ns = TS_NS, .level = TRAIL_WARNING, .logger = "shop.db", .msg = "slow", .msg_len = 4,
                     .file = "shop.c", .line = 12, .func = "place", .ctx = ctx, .nctx = 5,
                     .fields = fields, .nfields = 2, .tid = 4242};
    jc_object o;
    format_ok(f, &e, &o);
    const char *want[] = {"@timestamp", "log.level", "message", "ecs.version", "service.name", "service.version",
                          "service.environment", "host.id", "host.name", "container.id", "cloud.region",
                          "process.pid", "process.thread.id", "log.logger", "log.origin.file.name",
                          "log.origin.file.line", "log.origin.function", "http.request.id", "user.id",
                          "trace.id", "span.id", "tenant", "http.response.status_code", "event.duration"};
    CHECK_INT(o.n, ==, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < o.n; i++) CHECK_STR(o.m[i].key, want[i]);
    CHECK_STR(jc_get(&o, "@timestamp")->str, "2026-11-24T12:00:00.123Z");
    CHECK_STR(jc_get(&o, "log.level")->str, "warning");
    CHECK_STR(jc_get(&o, "message")->str, "slow");
    CHECK_STR(jc_get(&o, "ecs.version")->str, "8.11.0");
    CHECK_STR(jc_get(&o, "service.name")->str, "shop");
    CHECK_STR(jc_get(&o, "service.version")->str, "1.2.3");
    CHECK_STR(jc_get(&o, "service.environment")->str, "staging");
    CHECK_STR(jc_get(&o, "host.id")->str, "m-1");
    CHECK_STR(jc_get(&o, "host.name")->str, "web-1");
    CHECK_STR(jc_get(&o, "container.id")->str, "c-1");
    CHECK_STR(jc_get(&o, "cloud.region")->str, "eu-west-1");
    char pid[32];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    check_raw(&o, "process.pid", pid);
    check_raw(&o, "process.thread.id", "4242");
    CHECK_STR(jc_get(&o, "log.logger")->str, "shop.db");
    CHECK_STR(jc_get(&o, "log.origin.file.name")->str, "shop.c");
    check_raw(&o, "log.origin.file.line", "12");
    CHECK_STR(jc_get(&o, "log.origin.function")->str, "place");
    CHECK_STR(jc_get(&o, "http.request.id")->str, "r-1");
    CHECK_STR(jc_get(&o, "user.id")->str, "u-7");
    CHECK_STR(jc_get(&o, "trace.id")->str, "4bf92f3577b34da6a3ce929d0e0e4736");
    CHECK_STR(jc_get(&o, "span.id")->str, "00f067aa0ba902b7");
    CHECK_STR(jc_get(&o, "tenant")->str, "acme");
    check_raw(&o, "http.response.status_code", "200");
    check_raw(&o, "event.duration", "1500");
    jc_free(&o);
    trail_formatter_free(f);
}

TEST(ecs_collisions_and_escaping) {
    set_resource();
    trail_formatter *f = trail_formatter_ecs();
    const trail_field ctx[] = {TRAIL_STR("trace_id", "t-ctx")};
    const trail_field fields[] = {TRAIL_STR("message", "fake"), TRAIL_STR("log.level", "fake"),
                                  TRAIL_STR("trace.id", "t-call"), TRAIL_STR("@timestamp", "x")};
    const char msg[] = "line1\nline2\x00\xff";
    trail_entry e = {.ts_ns = TS_NS, .level = TRAIL_INFO, .logger = "", .msg = msg, .msg_len = sizeof msg - 1,
                     .ctx = ctx, .nctx = 1, .fields = fields, .nfields = 4};
    jc_object o;
    format_ok(f, &e, &o);
    CHECK_INT(jc_get(&o, "message")->str_len, ==, sizeof msg - 1 - 1 + 3);
    CHECK(memcmp(jc_get(&o, "message")->str, "line1\nline2\0\xef\xbf\xbd", 15) == 0);
    CHECK_STR(jc_get(&o, "log.level")->str, "info");
    CHECK_STR(jc_get(&o, "trace.id")->str, "t-ctx");
    CHECK_STR(jc_get(&o, "fields.message")->str, "fake");
    CHECK_STR(jc_get(&o, "fields.log.level")->str, "fake");
    CHECK_STR(jc_get(&o, "fields.trace.id")->str, "t-call");
    CHECK_STR(jc_get(&o, "fields.@timestamp")->str, "x");
    CHECK(jc_get(&o, "log.logger") == NULL);
    CHECK(jc_get(&o, "log.origin.file.name") == NULL);
    CHECK(jc_get(&o, "process.thread.id") == NULL);
    jc_free(&o);
    trail_formatter_free(f);
}
