/* test_filters_e2e.c — filters, redaction, request context and static fields
 * through the real logging path (async and sync): what reaches a handler's
 * formatted JSON line. */
#include "test.h"
#include "trail.h"

#include <pthread.h>

typedef struct lines {
    pthread_mutex_t mu;
    char text[1 << 16];
    size_t len;
    int n;
} lines;

static void grab(const trail_entry *e, const char *line, size_t len, void *ud) {
    (void)e;
    lines *l = ud;
    pthread_mutex_lock(&l->mu);
    if (l->len + len < sizeof l->text) {
        memcpy(l->text + l->len, line, len);
        l->len += len;
        l->text[l->len] = '\0';
    }
    l->n++;
    pthread_mutex_unlock(&l->mu);
}

static lines *setup(trail_mode mode, trail_filter *handler_filter) {
    trail_options o = {.service = "e2e", .mode = mode, .no_default_handlers = 1, .no_signal_handlers = 1};
    CHECK_INT(trail_setup(&o), ==, 0);
    static lines l = {.mu = PTHREAD_MUTEX_INITIALIZER};
    trail_handler *h;
    CHECK_INT(trail_handler_callback(&h, grab, &l), ==, 0);
    trail_handler_set_formatter(h, trail_formatter_json());
    trail_handler_set_level(h, TRAIL_DEBUG);
    if (handler_filter) trail_handler_add_filter(h, handler_filter);
    CHECK_INT(trail_logger_add_handler(NULL, h), ==, 0);
    trail_handler_release(h);
    trail_logger_set_level(NULL, TRAIL_DEBUG);
    return &l;
}

static void redaction_through_handler(trail_mode mode) {
    lines *l = setup(mode, trail_filter_redact(NULL));
    trail_ctx_set("request_id", "req-42");
    trail_ctx_set("session", "sess-secret-1");
    trail_info(NULL, "login with Bearer abcDEF1234567890xyz ok", TRAIL_STR("password", "hunter2"),
               TRAIL_STR("card", "4111 1111 1111 1111"), TRAIL_JSON("body", "{\"api_key\":\"k-secret\",\"n\":1}"),
               TRAIL_STR("user", "bob"));
    char dyn[64];
    snprintf(dyn, sizeof dyn, "dynamic AKIAIOSFODNN7EXAMPLE %d", 1);
    trail_log_msg(NULL, TRAIL_WARNING, dyn, strlen(dyn), NULL, 0);
    CHECK_INT(trail_flush(5000), ==, 0);
    const char *t = l->text;
    CHECK_INT(l->n, ==, 2);
    static const char *secrets[] = {"abcDEF1234567890xyz", "hunter2", "4111", "k-secret", "sess-secret-1", "AKIAIOSFODNN7"};
    for (size_t i = 0; i < sizeof secrets / sizeof *secrets; i++)
        if (strstr(t, secrets[i])) test__fail(__FILE__, __LINE__, "secret %s in:\n%s", secrets[i], t);
    CHECK_CONTAINS(t, "\"request_id\":\"req-42\"");
    CHECK_CONTAINS(t, "\"user\":\"bob\"");
    CHECK_CONTAINS(t, "\"password\":\"[REDACTED]\"");
    CHECK_CONTAINS(t, "Bearer [REDACTED] ok");
    CHECK_CONTAINS(t, "{\"api_key\":\"[REDACTED]\",\"n\":1}");
    CHECK_CONTAINS(t, "dynamic [REDACTED] 1");
    trail_shutdown();
}

TEST(redaction_async) { redaction_through_handler(TRAIL_ASYNC); }
TEST(redaction_sync) { redaction_through_handler(TRAIL_SYNC); }

TEST(logger_filters_and_counters) {
    lines *l = setup(TRAIL_SYNC, NULL);
    trail_logger *lg = trail_get("app.sampled");
    trail_logger_add_filter(lg, trail_filter_sample(4, TRAIL_WARNING));
    trail_stats before;
    trail_stats_get(&before);
    for (int i = 0; i < 40; i++) trail_info(lg, "tick", TRAIL_INT("i", i));
    trail_warning(lg, "always");
    CHECK_INT(trail_flush(5000), ==, 0);
    CHECK_INT(l->n, ==, 11);
    trail_stats after;
    trail_stats_get(&after);
    CHECK_INT(after.filtered - before.filtered, ==, 30);
    trail_shutdown();
}

TEST(env_filter_follows_resource) {
    setenv("TRAIL_ENV", "staging", 1);
    lines *l = setup(TRAIL_SYNC, trail_filter_env("local=DEBUG,*=INFO"));
    trail_debug(NULL, "hidden in staging");
    trail_info(NULL, "shown");
    CHECK_INT(trail_resource_set("env", "local"), ==, 0);
    trail_debug(NULL, "shown in local");
    CHECK_INT(trail_flush(5000), ==, 0);
    CHECK_INT(l->n, ==, 2);
    CHECK(!strstr(l->text, "hidden"));
    CHECK_CONTAINS(l->text, "shown in local");
    trail_shutdown();
}

TEST(rate_limit_per_call_site_e2e) {
    lines *l = setup(TRAIL_SYNC, trail_filter_rate_limit(0.001, 3));
    for (int i = 0; i < 20; i++) trail_info(NULL, "flood");
    for (int i = 0; i < 20; i++) trail_info(NULL, "other site");
    CHECK_INT(trail_flush(5000), ==, 0);
    CHECK_INT(l->n, ==, 6);
    trail_shutdown();
}

TEST(context_captured_at_the_call_with_handles) {
    lines *l = setup(TRAIL_ASYNC, NULL);
    trail_ctx *a = trail_ctx_new(), *b = trail_ctx_new();
    CHECK_INT(trail_ctx_from_headers(a, "req-a", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"), ==, 0);
    CHECK_INT(trail_ctx_from_headers(b, "req-b", NULL), ==, 0);
    /* An event loop interleaving two requests on one thread. */
    for (int i = 0; i < 3; i++) {
        trail_ctx *prev = trail_ctx_attach(a);
        trail_info(NULL, "step a", TRAIL_INT("i", i));
        trail_ctx_attach(b);
        trail_info(NULL, "step b", TRAIL_INT("i", i));
        trail_ctx_attach(prev);
    }
    trail_info(NULL, "no request");
    trail_ctx_free(a); /* freed before the backend formats: the entry carried a copy */
    trail_ctx_free(b);
    CHECK_INT(trail_flush(5000), ==, 0);
    CHECK_INT(l->n, ==, 7);
    const char *t = l->text;
    /* every "step a" line carries req-a and the incoming trace id */
    for (const char *p = strstr(t, "step a"); p; p = strstr(p + 1, "step a")) {
        const char *eol = strchr(p, '\n');
        const char *line = p;
        while (line > t && line[-1] != '\n') line--;
        char buf[2048];
        snprintf(buf, sizeof buf, "%.*s", (int)(eol - line), line);
        CHECK_CONTAINS(buf, "\"request_id\":\"req-a\"");
        CHECK_CONTAINS(buf, "0af7651916cd43dd8448eb211c80319c");
        CHECK(!strstr(buf, "req-b"));
    }
    const char *last = strstr(t, "no request");
    CHECK(last && !strstr(last, "req-"));
    trail_shutdown();
}

TEST(static_fields_in_lines) {
    setenv("TRAIL_REGION", "eu-central-1", 1);
    setenv("TRAIL_VERSION", "9.9.9", 1);
    lines *l = setup(TRAIL_SYNC, NULL);
    trail_info(NULL, "hello");
    CHECK_INT(trail_resource_set("region", "us-west-2"), ==, 0);
    trail_info(NULL, "after set");
    CHECK_INT(trail_flush(5000), ==, 0);
    const char *second = strstr(l->text, "after set");
    CHECK(second);
    CHECK_CONTAINS(l->text, "\"region\":\"eu-central-1\"");
    CHECK_CONTAINS(l->text, "\"version\":\"9.9.9\"");
    CHECK_CONTAINS(l->text, "\"service\":\"e2e\"");
    CHECK_CONTAINS(second, "\"region\":\"us-west-2\"");
    trail_shutdown();
}
