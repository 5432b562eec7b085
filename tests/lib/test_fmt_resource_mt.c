/* test_fmt_resource_mt.c — formatters keep rendering valid lines while
 * another thread changes the static fields (the cached fragments are
 * rebuilt from an atomic snapshot when the resource generation moves). */
#include "fmt_check.h"
#include "test.h"
#include "trail.h"

#include <pthread.h>
#include <stdatomic.h>

static atomic_int stop;

static void *setter(void *arg) {
    (void)arg;
    static const char *names[] = {"alpha", "beta\"quoted\"", "gamma\nline"};
    for (int i = 0; i < 2000 && !atomic_load(&stop); i++) {
        trail_resource_set("service", names[i % 3]);
        trail_resource_set("region", names[(i + 1) % 3]);
    }
    return NULL;
}

TEST(static_fields_change_while_formatting) {
    CHECK_INT(trail_resource_set("service", "alpha"), ==, 0);
    trail_formatter *fs[] = {trail_formatter_json(), trail_formatter_ecs(), trail_formatter_otel()};
    pthread_t t;
    CHECK_INT(pthread_create(&t, NULL, setter, NULL), ==, 0);
    trail_entry e = {.ts_ns = 1795521600123456789LL, .level = TRAIL_INFO, .logger = "", .msg = "m", .msg_len = 1};
    trail_buf b = {0};
    for (int i = 0; i < 3000; i++) {
        b.len = 0;
        CHECK_INT(trail_formatter_format(fs[i % 3], &e, &b), ==, 0);
        jc_object o;
        CHECK(jc_parse_line(b.data, b.len, &o));
        if (i % 3 == 0) {
            const char *svc = jc_get(&o, "service")->str;
            CHECK(!strcmp(svc, "alpha") || !strcmp(svc, "beta\"quoted\"") || !strcmp(svc, "gamma\nline"));
        }
        jc_free(&o);
    }
    atomic_store(&stop, 1);
    pthread_join(t, NULL);
    /* After the last change, a new entry shows the final values. */
    b.len = 0;
    CHECK_INT(trail_resource_set("service", "final"), ==, 0);
    CHECK_INT(trail_formatter_format(fs[0], &e, &b), ==, 0);
    jc_object o;
    CHECK(jc_parse_line(b.data, b.len, &o));
    CHECK_STR(jc_get(&o, "service")->str, "final");
    jc_free(&o);
    trail_buf_free(&b);
    for (int i = 0; i < 3; i++) trail_formatter_free(fs[i]);
}
