/* Loggers: hierarchy, level inheritance, propagation, bound fields, NULL
 * and empty arguments. */
#include "core_sink.h"

TEST(hierarchy_names_and_parents) {
    setup_mode(TRAIL_SYNC);
    trail_logger *c = trail_get("shop.db.pool");
    CHECK(c != NULL);
    CHECK_STR(trail_logger_name(c), "shop.db.pool");
    CHECK(trail_get("shop.db.pool") == c);
    CHECK_STR(trail_logger_name(trail_get("shop.db")), "shop.db");
    CHECK(trail_get("shop") != trail_get("shop.db"));
    CHECK_STR(trail_logger_name(trail_root()), "");
    /* Empty components do not create odd names. */
    CHECK(trail_get("shop..db.pool.") == c);
    trail_shutdown();
}

TEST(level_inheritance) {
    setup_mode(TRAIL_SYNC);
    trail_logger *a = trail_get("a"), *abc = trail_get("a.b.c"), *ab = trail_get("a.b");
    CHECK_INT(trail_logger_level(abc), ==, TRAIL_INFO);
    trail_logger_set_level(a, TRAIL_DEBUG);
    CHECK_INT(trail_logger_level(abc), ==, TRAIL_DEBUG);
    trail_logger_set_level(ab, TRAIL_ERROR);
    CHECK_INT(trail_logger_level(abc), ==, TRAIL_ERROR);
    CHECK_INT(trail_logger_level(a), ==, TRAIL_DEBUG);
    trail_logger_set_level(ab, 0);
    CHECK_INT(trail_logger_level(abc), ==, TRAIL_DEBUG);
    /* A logger created later inherits at once. */
    CHECK_INT(trail_logger_level(trail_get("a.b.c.d")), ==, TRAIL_DEBUG);
    trail_logger_set_level(trail_root(), TRAIL_WARNING);
    CHECK_INT(trail_logger_level(trail_get("x.y")), ==, TRAIL_WARNING);
    CHECK_INT(trail_logger_level(abc), ==, TRAIL_DEBUG);
    trail_logger_set_level(trail_root(), 0); /* the root cannot inherit: back to INFO */
    CHECK_INT(trail_logger_level(trail_get("x.y")), ==, TRAIL_INFO);
    trail_shutdown();
}

static int evaluated;
static int count_eval(void) { return ++evaluated; }

TEST(below_level_evaluates_nothing) {
    setup_mode(TRAIL_SYNC);
    sink *s = sink_attach(NULL);
    trail_logger *lg = trail_get("quiet");
    trail_logger_set_level(lg, TRAIL_ERROR);
    trail_info(lg, "hidden", TRAIL_INT("n", count_eval()));
    CHECK_INT(evaluated, ==, 0);
    CHECK_INT(sink_count(s), ==, 0);
    trail_error(lg, "shown", TRAIL_INT("n", count_eval()));
    CHECK_INT(evaluated, ==, 1);
    CHECK_INT(sink_count(s), ==, 1);
    trail_shutdown();
}

TEST(propagation_to_ancestors) {
    setup_mode(TRAIL_SYNC);
    sink *root = sink_attach(NULL);
    sink *a = sink_attach(trail_get("a"));
    sink *ab = sink_attach(trail_get("a.b"));
    trail_info(trail_get("a.b.c"), "one");
    CHECK_INT(sink_count(root), ==, 1);
    CHECK_INT(sink_count(a), ==, 1);
    CHECK_INT(sink_count(ab), ==, 1);
    CHECK_STR(sink_line(root, 0), "20 a.b.c|one||ctx:|0");
    trail_logger_set_propagate(trail_get("a"), 0);
    trail_info(trail_get("a.b"), "two");
    CHECK_INT(sink_count(root), ==, 1);
    CHECK_INT(sink_count(a), ==, 2);
    CHECK_INT(sink_count(ab), ==, 2);
    trail_logger_set_propagate(trail_get("a.b"), 0);
    trail_info(trail_get("a.b"), "three");
    CHECK_INT(sink_count(a), ==, 2);
    CHECK_INT(sink_count(ab), ==, 3);
    trail_shutdown();
}

static int drop_secret(trail_entry *e, void *ud) {
    (void)ud;
    return !(e->msg_len == 6 && memcmp(e->msg, "secret", 6) == 0);
}

TEST(logger_filters_and_handler_removal) {
    setup_mode(TRAIL_SYNC);
    sink *root = sink_attach(NULL);
    trail_logger_add_filter(trail_root(), trail_filter_custom(drop_secret, NULL, NULL));
    trail_info(trail_get("x"), "secret");
    trail_info(trail_get("x"), "public");
    CHECK_INT(sink_count(root), ==, 1);
    trail_stats st;
    trail_stats_get(&st);
    CHECK_INT(st.filtered, ==, 1);
    sink *extra = sink_new();
    trail_handler *h;
    CHECK_INT(trail_handler_callback(&h, sink_fn, extra), ==, 0);
    CHECK_INT(trail_logger_add_handler(trail_get("x"), h), ==, 0);
    trail_info(trail_get("x"), "both");
    CHECK_INT(trail_logger_remove_handler(trail_get("x"), h), ==, 0);
    CHECK_INT(trail_logger_remove_handler(trail_get("x"), h), ==, -ENOENT);
    trail_info(trail_get("x"), "root only");
    trail_handler_release(h);
    CHECK_INT(sink_count(extra), ==, 1);
    CHECK_INT(sink_count(root), ==, 3);
    trail_shutdown();
}

TEST(bound_fields) {
    setup_mode(TRAIL_SYNC);
    sink *s = sink_attach(NULL);
    char job[16] = "nightly";
    trail_logger *base = trail_get("jobs");
    trail_logger *b = trail_with(base, TRAIL_STR("job", job), TRAIL_INT("shard", 3));
    CHECK(b != NULL);
    strcpy(job, "changed"); /* values were copied */
    CHECK_STR(trail_logger_name(b), "jobs");
    trail_info(b, "started", TRAIL_INT("items", 2));
    CHECK_STR(sink_line(s, 0), "20 jobs|started|items=2,job=nightly,shard=3|ctx:|0");
    /* Bound of bound keeps both sets; levels follow the base. */
    trail_logger *bb = trail_with(b, TRAIL_BOOL("retry", 1));
    trail_logger_set_level(base, TRAIL_ERROR);
    CHECK_INT(trail_logger_level(bb), ==, TRAIL_ERROR);
    trail_info(bb, "hidden");
    trail_error(bb, "failed");
    CHECK_INT(sink_count(s), ==, 2);
    CHECK_STR(sink_line(s, 1), "40 jobs|failed|job=nightly,shard=3,retry=1|ctx:|0");
    trail_logger_release(bb);
    trail_logger_release(b);
    trail_logger_release(base); /* named loggers are not released: no effect */
    trail_error(base, "still here");
    CHECK_INT(sink_count(s), ==, 3);
    trail_shutdown();
}

TEST(bound_logger_async_release) {
    setup_mode(TRAIL_ASYNC);
    sink *s = sink_attach(NULL);
    for (int i = 0; i < 50; i++) {
        trail_logger *b = trail_with(trail_get("req"), TRAIL_INT("i", i));
        trail_info(b, "x");
        trail_logger_release(b); /* the queued entry still carries the field */
    }
    CHECK_INT(trail_flush(5000), ==, 0);
    CHECK_INT(sink_count(s), ==, 50);
    CHECK_STR(sink_line(s, 49), "20 req|x|i=49|ctx:|0");
    trail_shutdown();
}

TEST(null_and_empty_arguments) {
    setup_mode(TRAIL_SYNC);
    sink *s = sink_attach(NULL);
    CHECK(trail_get(NULL) == trail_root());
    CHECK(trail_get("") == trail_root());
    trail_info(NULL, "to root", TRAIL_STR("s", NULL), TRAIL_BYTES("b", NULL, 4), TRAIL_STRN("e", "", 0));
    CHECK_STR(sink_line(s, 0), "20 |to root|s=null,b=null,e=|ctx:|0");
    trail_log_msg(NULL, TRAIL_INFO, NULL, 0, NULL, 3);
    CHECK_STR(sink_line(s, 1), "20 |(null)||ctx:|0");
    trail_logf(NULL, TRAIL_WARNING, "%s=%d", "n", 5);
    CHECK_STR(sink_line(s, 2), "30 |n=5||ctx:|0");
    trail_emit(NULL, TRAIL_INFO, NULL, NULL, 0);
    CHECK_STR(sink_line(s, 3), "20 |(null)||ctx:|0");
    trail_field nokey = {.key = NULL, .type = TRAIL_T_I64, .v.i = 1};
    trail_log_msg(NULL, TRAIL_INFO, "k", 1, &nokey, 1);
    CHECK_STR(sink_line(s, 4), "20 |k|(null)=1|ctx:|0");
    CHECK_INT(trail_logger_add_handler(NULL, NULL), ==, -EINVAL);
    CHECK(strlen(trail_last_error()) > 0);
    trail_logger *b = trail_with_fields(NULL, NULL, 0);
    CHECK(b != NULL);
    trail_info(b, "bound root");
    CHECK_INT(sink_count(s), ==, 6);
    trail_logger_release(b);
    trail_logger_release(NULL);
    trail_logger_set_level(NULL, TRAIL_ERROR);
    CHECK_INT(trail_logger_level(NULL), ==, TRAIL_ERROR);
    trail_logger_set_propagate(NULL, 0);
    trail_logger_add_filter(NULL, NULL);
    trail_shutdown();
}

TEST(setup_twice_and_shutdown_twice) {
    setup_mode(TRAIL_SYNC);
    trail_options o = {.no_default_handlers = 1};
    CHECK_INT(trail_setup(&o), ==, -EALREADY);
    trail_shutdown();
    trail_shutdown();
    /* Logging after shutdown is a no-op, and setup works again. */
    trail_info(NULL, "nobody listens");
    setup_mode(TRAIL_ASYNC);
    sink *s = sink_attach(NULL);
    trail_info(NULL, "again");
    CHECK_INT(trail_flush(5000), ==, 0);
    CHECK_INT(sink_count(s), ==, 1);
    trail_shutdown();
}
