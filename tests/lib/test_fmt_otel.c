/* test_fmt_otel.c — the OpenTelemetry log data model formatter. */
#include "fmt_check.h"
#include "render.h"
#include "test.h"
#include "trail.h"

#include <unistd.h>

#define TS_NS 1795521600123456789LL

static void set_resource(void) {
    CHECK_INT(trail_resource_set("service", "shop"), ==, 0);
    CHECK_INT(trail_resource_set("version", "1.2.3"), ==, 0);
    CHECK_INT(trail_resource_set("machine_id", "m-1"), ==, 0);
    CHECK_INT(trail_resource_set("container_id", ""), ==, 0);
    CHECK_INT(trail_resource_set("region", "eu-west-1"), ==, 0);
    CHECK_INT(trail_resource_set("env", "production"), ==, 0);
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

static char *raw(const jc_object *o, const char *key) {
    const jc_member *m = jc_get(o, key);
    if (!m) fprintf(stderr, "missing key %s\n", key);
    CHECK(m != NULL);
    static char got[1024];
    snprintf(got, sizeof got, "%.*s", (int)m->raw_len, m->raw);
    return got;
}

TEST(otel_severity_numbers) {
    CHECK_INT(trail__otel_severity(TRAIL_DEBUG), ==, 5);
    CHECK_INT(trail__otel_severity(TRAIL_INFO), ==, 9);
    CHECK_INT(trail__otel_severity(TRAIL_SUCCESS), ==, 10);
    CHECK_INT(trail__otel_severity(TRAIL_WARNING), ==, 13);
    CHECK_INT(trail__otel_severity(TRAIL_ERROR), ==, 17);
    CHECK_INT(trail__otel_severity(TRAIL_CRITICAL), ==, 21);
    CHECK_INT(trail__otel_severity(1), ==, 1);
    CHECK_INT(trail__otel_severity(9), ==, 4);
    CHECK_INT(trail__otel_severity(255), ==, 24);
    /* Monotonic and inside 1..24 for every level. */
    int prev = 0;
    for (int l = 1; l <= 255; l++) {
        int s = trail__otel_severity(l);
        CHECK(s >= prev && s >= 1 && s <= 24);
        prev = s;
    }
}

TEST(otel_record_shape) {
    set_resource();
    trail_formatter *f = trail_formatter_otel();
    const trail_field ctx[] = {TRAIL_STR("request_id", "r-1"), TRAIL_STR("trace_id", "4BF92F3577B34DA6A3CE929D0E0E4736"),
                               TRAIL_STR("span_id", "00f067aa0ba902b7")};
    const trail_field fields[] = {TRAIL_I64("amount", 30), TRAIL_STR("request_id", "dup")};
    trail_entry e = {.ts_ns = TS_NS, .level = TRAIL_SUCCESS, .logger = "shop.db", .msg = "done", .msg_len = 4,
                     .file = "shop.c", .line = 7, .func = "run", .ctx = ctx, .nctx = 3, .fields = fields,
                     .nfields = 2, .tid = 99};
    jc_object o;
    format_ok(f, &e, &o);
    const char *want[] = {"Timestamp", "TraceId", "SpanId", "SeverityText", "SeverityNumber", "Body",
                          "Resource", "InstrumentationScope", "Attributes"};
    CHECK_INT(o.n, ==, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < o.n; i++) CHECK_STR(o.m[i].key, want[i]);
    CHECK_STR(jc_get(&o, "Timestamp")->str, "1795521600123456789");
    CHECK_STR(jc_get(&o, "TraceId")->str, "4bf92f3577b34da6a3ce929d0e0e4736");
    CHECK_STR(jc_get(&o, "SpanId")->str, "00f067aa0ba902b7");
    CHECK_STR(jc_get(&o, "SeverityText")->str, "SUCCESS");
    CHECK_STR(raw(&o, "SeverityNumber"), "10");
    CHECK_STR(jc_get(&o, "Body")->str, "done");
    char want_res[512];
    snprintf(want_res, sizeof want_res,
             "{\"service.name\":\"shop\",\"service.version\":\"1.2.3\",\"deployment.environment\":\"production\","
             "\"host.id\":\"m-1\",\"host.name\":\"web-1\",\"cloud.region\":\"eu-west-1\",\"process.pid\":%d}",
             (int)getpid());
    CHECK_STR(raw(&o, "Resource"), want_res);
    CHECK_STR(raw(&o, "InstrumentationScope"), "{\"Name\":\"shop.db\"}");
    CHECK_STR(raw(&o, "Attributes"), "{\"code.filepath\":\"shop.c\",\"code.lineno\":7,\"code.function\":\"run\","
                                     "\"thread.id\":99,\"request_id\":\"r-1\",\"amount\":30,"
                                     "\"fields.request_id\":\"dup\"}");
    jc_free(&o);
    trail_formatter_free(f);
}

TEST(otel_invalid_trace_ids_stay_attributes) {
    set_resource();
    trail_formatter *f = trail_formatter_otel();
    const trail_field ctx[] = {TRAIL_STR("trace_id", "00000000000000000000000000000000"),
                               TRAIL_STR("span_id", "xyz")};
    const char msg[] = "bad \xc0\xaf\n";
    trail_entry e = {.ts_ns = -5, .level = TRAIL_CRITICAL, .logger = "", .msg = msg, .msg_len = sizeof msg - 1,
                     .ctx = ctx, .nctx = 2};
    jc_object o;
    format_ok(f, &e, &o);
    CHECK(jc_get(&o, "TraceId") == NULL);
    CHECK(jc_get(&o, "SpanId") == NULL);
    CHECK(jc_get(&o, "InstrumentationScope") == NULL);
    CHECK_STR(jc_get(&o, "Timestamp")->str, "-5");
    CHECK_STR(raw(&o, "SeverityNumber"), "21");
    CHECK_STR(jc_get(&o, "Body")->str, "bad \xef\xbf\xbd\xef\xbf\xbd\n");
    CHECK_STR(raw(&o, "Attributes"), "{\"trace_id\":\"00000000000000000000000000000000\",\"span_id\":\"xyz\"}");
    jc_free(&o);
    e.nctx = 0;
    format_ok(f, &e, &o);
    CHECK_STR(raw(&o, "Attributes"), "{}");
    jc_free(&o);
    trail_formatter_free(f);
}
