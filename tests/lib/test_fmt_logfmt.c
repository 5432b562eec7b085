/* test_fmt_logfmt.c — logfmt: order, quoting, key sanitising, collisions. */
#include "test.h"
#include "trail.h"

#include <errno.h>
#include <unistd.h>

#define TS_NS 1795521600123456789LL

static void set_resource(void) {
    CHECK_INT(trail_resource_set("service", "shop"), ==, 0);
    CHECK_INT(trail_resource_set("version", "1.2.3"), ==, 0);
    CHECK_INT(trail_resource_set("machine_id", "m-1"), ==, 0);
    CHECK_INT(trail_resource_set("container_id", ""), ==, 0);
    CHECK_INT(trail_resource_set("region", "eu west"), ==, 0);
}

static char *fmt(trail_formatter *f, const trail_entry *e) {
    trail_buf b = {0};
    CHECK_INT(trail_formatter_format(f, e, &b), ==, 0);
    trail_buf_put(&b, "", 1);
    return b.data;
}

TEST(logfmt_line) {
    set_resource();
    trail_formatter *f = trail_formatter_logfmt();
    const trail_field ctx[] = {TRAIL_STR("user_id", "u-7"), TRAIL_STR("request_id", "r-1")};
    const trail_field fields[] = {TRAIL_I64("amount", 30), TRAIL_F64("ratio", 0.5), TRAIL_BOOL("ok", 1),
                                  TRAIL_NULL("none"), TRAIL_DURATION_NS("took", 1500000), TRAIL_ERRNO("err", ENOENT)};
    trail_entry e = {.ts_ns = TS_NS, .level = TRAIL_INFO, .logger = "shop.db", .msg = "order placed", .msg_len = 12,
                     .ctx = ctx, .nctx = 2, .fields = fields, .nfields = 6};
    char *s = fmt(f, &e);
    char want[1024];
    snprintf(want, sizeof want,
             "time=2026-11-24T12:00:00.123Z level=info service=shop msg=\"order placed\" request_id=r-1 "
             "machine_id=m-1 version=1.2.3 region=\"eu west\" pid=%d logger=shop.db user_id=u-7 amount=30 "
             "ratio=0.5 ok=true none=null took=1.5ms err=\"No such file or directory (errno 2)\"\n",
             (int)getpid());
    CHECK_STR(s, want);
    free(s);
    trail_formatter_free(f);
}

TEST(logfmt_quoting_and_keys) {
    set_resource();
    trail_formatter *f = trail_formatter_logfmt();
    const trail_field fields[] = {TRAIL_STR("a b=c\"", "x"),    TRAIL_STR("", "empty key"), TRAIL_STR("e", ""),
                                  TRAIL_STR("q", "say \"hi\""), TRAIL_STR("nl", "1\n2"),     TRAIL_STR("eq", "a=b"),
                                  TRAIL_STR("bs", "c:\\dir"),   TRAIL_STR("u", "caf\xc3\xa9\xff"),
                                  TRAIL_STR("level", "fake"),   TRAIL_STR("msg", "fake"),    TRAIL_STR("e", "dup"),
                                  TRAIL_JSON("j", "{\"a\": [1]}")};
    trail_entry e = {.ts_ns = TS_NS, .level = TRAIL_ERROR, .logger = "", .msg = "x", .msg_len = 1,
                     .fields = fields, .nfields = sizeof fields / sizeof fields[0]};
    char *s = fmt(f, &e);
    CHECK(strchr(s, '\n') == s + strlen(s) - 1);
    CHECK_CONTAINS(s, " level=error service=shop msg=x ");
    CHECK_CONTAINS(s, " a_b_c_=x _=\"empty key\" e=\"\" q=\"say \\\"hi\\\"\" nl=\"1\\n2\" eq=\"a=b\" bs=\"c:\\\\dir\" "
                      "u=\"caf\xc3\xa9\xef\xbf\xbd\" fields.level=fake fields.msg=fake fields.e=dup "
                      "j=\"{\\\"a\\\":[1]}\"\n");
    CHECK(strstr(s, "logger=") == NULL);
    CHECK(strstr(s, "container_id=") == NULL);
    free(s);
    trail_formatter_free(f);
}
