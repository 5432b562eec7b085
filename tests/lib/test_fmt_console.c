/* test_fmt_console.c — console format: layout, colour decisions, escaping. */
#include "formatter_impl.h"
#include "test.h"
#include "trail.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define TS_NS 1795521600123456789LL /* 2026-11-24T12:00:00.123Z */

static void setup(void) {
    setenv("TZ", "UTC", 1);
    tzset();
    unsetenv("NO_COLOR");
    unsetenv("TRAIL_FORCE_COLOR");
    CHECK_INT(trail_resource_set("service", "shop"), ==, 0);
}

static trail_entry entry(int level, const char *msg) {
    trail_entry e = {0};
    e.ts_ns = TS_NS;
    e.level = level;
    e.logger = "shop.db";
    e.msg = msg;
    e.msg_len = strlen(msg);
    return e;
}

/* Formats into a NUL-terminated string (caller frees). */
static char *fmt(trail_formatter *f, const trail_entry *e) {
    trail_buf b = {0};
    CHECK_INT(trail_formatter_format(f, e, &b), ==, 0);
    trail_buf_put(&b, "", 1);
    return b.data;
}

TEST(plain_layout) {
    setup();
    trail_formatter *f = trail_formatter_console(NULL);
    const trail_field ctx[] = {TRAIL_STR("request_id", "r-1")};
    const trail_field fields[] = {TRAIL_I64("amount", 30), TRAIL_STR("note", "two words"), TRAIL_STR("empty", "")};
    trail_entry e = entry(TRAIL_INFO, "order placed");
    e.ctx = ctx;
    e.nctx = 1;
    e.fields = fields;
    e.nfields = 3;
    char *s = fmt(f, &e);
    CHECK_STR(s, "12:00:00 INFO     shop order placed request_id=r-1 amount=30 note=\"two words\" empty=\"\"\n");
    free(s);
    trail_formatter_free(f);
}

TEST(without_level_with_date_and_logger) {
    setup();
    trail_console_opts o = {.color = TRAIL_COLOR_NEVER, .show_date = 1, .show_logger = 1, .show_level = 0};
    trail_formatter *f = trail_formatter_console(&o);
    trail_entry e = entry(TRAIL_INFO, "something happened");
    char *s = fmt(f, &e);
    CHECK_STR(s, "2026-11-24 12:00:00.123 shop (shop.db) something happened\n");
    free(s);
    o.show_date = 0;
    o.show_logger = 0;
    trail_formatter_free(f);
    f = trail_formatter_console(&o);
    s = fmt(f, &e);
    CHECK_STR(s, "12:00:00 shop something happened\n");
    free(s);
    trail_formatter_free(f);
}

TEST(forced_colour) {
    setup();
    trail_console_opts o = {.color = TRAIL_COLOR_ALWAYS, .show_level = 1};
    trail_formatter *f = trail_formatter_console(&o);
    const trail_field fields[] = {TRAIL_I64("n", 1)};
    trail_entry e = entry(TRAIL_SUCCESS, "job done");
    e.fields = fields;
    e.nfields = 1;
    char *s = fmt(f, &e);
    CHECK_STR(s, "\033[2m12:00:00\033[0m \033[32mSUCCESS\033[0m  shop job done\033[2m n=1\033[0m\n");
    free(s);
    e.level = TRAIL_ERROR;
    s = fmt(f, &e);
    CHECK_CONTAINS(s, "\033[31mERROR\033[0m");
    free(s);
    trail_formatter_free(f);
}

TEST(no_color_env_wins_unless_forced) {
    setup();
    setenv("NO_COLOR", "1", 1);
    trail_console_opts o = {.color = TRAIL_COLOR_ALWAYS, .show_level = 1};
    trail_formatter *f = trail_formatter_console(&o);
    trail_entry e = entry(TRAIL_WARNING, "w");
    char *s = fmt(f, &e);
    CHECK(strchr(s, '\033') == NULL);
    free(s);
    trail_formatter_free(f);
    setenv("TRAIL_FORCE_COLOR", "1", 1);
    f = trail_formatter_console(&o);
    s = fmt(f, &e);
    CHECK_CONTAINS(s, "\033[33mWARNING\033[0m");
    free(s);
    trail_formatter_free(f);
}

TEST(auto_colour_only_on_a_tty) {
    setup();
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) || unlockpt(master)) {
        fprintf(stderr, "no pty available; skipping the tty half\n");
    }
    trail_formatter *f = trail_formatter_console(NULL);
    trail_entry e = entry(TRAIL_INFO, "x");
    char *s = fmt(f, &e); /* not bound: no colour */
    CHECK(strchr(s, '\033') == NULL);
    free(s);
    int p[2];
    CHECK_INT(pipe(p), ==, 0);
    f->bind_fd(f, p[1]);
    s = fmt(f, &e);
    CHECK(strchr(s, '\033') == NULL);
    free(s);
    if (master >= 0) {
        int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
        CHECK(slave >= 0);
        setenv("TERM", "xterm", 1);
        f->bind_fd(f, slave);
        s = fmt(f, &e);
        CHECK_CONTAINS(s, "\033[36mINFO\033[0m");
        free(s);
        setenv("NO_COLOR", "yes", 1);
        f->bind_fd(f, slave);
        s = fmt(f, &e);
        CHECK(strchr(s, '\033') == NULL);
        free(s);
        unsetenv("NO_COLOR");
        setenv("TERM", "dumb", 1);
        f->bind_fd(f, slave);
        s = fmt(f, &e);
        CHECK(strchr(s, '\033') == NULL);
        free(s);
        close(slave);
        close(master);
    }
    close(p[0]);
    close(p[1]);
    trail_formatter_free(f);
}

TEST(data_cannot_forge_lines_or_colours) {
    setup();
    trail_console_opts o = {.color = TRAIL_COLOR_ALWAYS, .show_level = 1};
    trail_formatter *f = trail_formatter_console(&o);
    const char *msg = "a\033[31mred\nb\r\t\x7f\x01 \xc2\x9b" "1m \xe2\x80\xae" "evil \xe2\x80\xa8 \xff\xc3 caf\xc3\xa9 \\n";
    const trail_field fields[] = {TRAIL_STR("k", "v\033]0;title\007"), TRAIL_STR("sp ace=", "q\"b\\s"),
                                  TRAIL_STR("nl", "x\ny")};
    trail_entry e = entry(TRAIL_INFO, msg);
    e.fields = fields;
    e.nfields = 3;
    char *s = fmt(f, &e);
    /* One line, and every ESC in it is one of ours. */
    CHECK(strchr(s, '\n') == s + strlen(s) - 1);
    CHECK(strchr(s, '\r') == NULL);
    size_t ours = 0;
    for (const char *p = s; (p = strchr(p, '\033')); p++) ours++;
    CHECK_INT(ours, ==, 6); /* dim+reset on time, colour+reset on level, dim+reset on fields */
    CHECK_CONTAINS(s, " a\\x1b[31mred\\nb\\r\\t\\x7f\\x01 \\u009b1m \\u202eevil \\u2028 \\xff\\xc3 caf\xc3\xa9 \\n");
    CHECK_CONTAINS(s, " k=\"v\\x1b]0;title\\x07\"");
    CHECK_CONTAINS(s, " sp\\x20ace\\x3d=\"q\\\"b\\\\s\"");
    CHECK_CONTAINS(s, " nl=\"x\\ny\"");
    free(s);
    trail_formatter_free(f);
}

TEST(typed_values) {
    setup();
    trail_formatter *f = trail_formatter_console(NULL);
    static const unsigned char bytes[] = {0xde, 0xad};
    const trail_field fields[] = {
        TRAIL_F64("ratio", 0.25),       TRAIL_BOOL("ok", 1),          TRAIL_NULL("none"),
        TRAIL_BYTES("b", bytes, 2),     TRAIL_ERRNO("err", ENOENT),   TRAIL_DURATION_NS("took", 1500000),
        TRAIL_TIME_NS("at", 0),         TRAIL_JSON("j", "{ \"a\": 1 }"), TRAIL_U64("u", 7),
        TRAIL_DURATION_NS("fast", 850), TRAIL_DURATION_NS("slow", 3000000001LL),
    };
    trail_entry e = entry(TRAIL_DEBUG, "m");
    e.fields = fields;
    e.nfields = sizeof fields / sizeof fields[0];
    char *s = fmt(f, &e);
    CHECK_STR(s, "12:00:00 DEBUG    shop m ratio=0.25 ok=true none=null b=dead "
                 "err=\"No such file or directory (errno 2)\" took=1.5ms at=1970-01-01T00:00:00.000Z "
                 "j=\"{\\\"a\\\":1}\" u=7 fast=850ns slow=3.000000001s\n");
    free(s);
    trail_formatter_free(f);
}
