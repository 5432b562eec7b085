/* `trail` CLI tests: a temporary store with entries of one request spread
 * over three services and two categories; the binary must find and order
 * them, print readable text and valid JSONL, list labels, and report errors
 * with a non-zero exit. Also runs against the HTTP API (--addr). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "api.h"
#include "store.h"
#include "store_source.h"
#include "test.h"
#include "tq_json.h"

static int64_t NOW;
static char dir[512];

static void make_store(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    NOW = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    snprintf(dir, sizeof dir, "%s/store", test_tmpdir());
    trail_store_config cfg = {.dir = dir, .flags = TRAIL_STORE_NO_FSYNC};
    trail_store *st;
    char err[256];
    if (trail_store_open(&cfg, &st, err, sizeof err) < 0) test__fail(__FILE__, __LINE__, "open: %s", err);
    static const struct { const char *cat, *svc, *lvl, *msg, *rid; int ago_ms; } E[] = {
        {"app", "frontend", "info", "calling backend", "req-7f3a", 900},
        {"app", "backend", "info", "job queued", "req-7f3a", 800},
        {"app", "worker", "error", "job failed: disk full", "req-7f3a", 700},
        {"app", "backend", "warning", "job failed upstream", "req-7f3a", 600},
        {"app", "frontend", "info", "other request", "req-0000", 500},
        {"app", "worker", "info", "noise", "req-1111", 400},
    };
    for (size_t i = 0; i < sizeof E / sizeof E[0]; i++) {
        char line[512];
        snprintf(line, sizeof line, "{\"timestamp\":\"x\",\"service\":\"%s\",\"level\":\"%s\",\"message\":\"%s\","
                                    "\"request_id\":\"%s\",\"attempt\":1}", E[i].svc, E[i].lvl, E[i].msg, E[i].rid);
        trail_store_label l[2] = {{"service", E[i].svc}, {"level", E[i].lvl}};
        trail_store_entry e = {.category = E[i].cat, .labels = l, .nlabels = 2,
                               .ts_ns = NOW - (int64_t)E[i].ago_ms * 1000000, .line = line,
                               .line_len = (uint32_t)strlen(line)};
        CHECK_INT(trail_store_append(st, &e, 1, NULL), ==, 0);
    }
    /* An access log line that mentions the id in a header field only. */
    const char *acc = "{\"client.ip\":\"127.0.0.1\",\"url.original\":\"/job\",\"http.response.status_code\":502,"
                      "\"http.request.header.x_request_id\":\"req-7f3a\"}";
    trail_store_label al[1] = {{"service", "nginx"}};
    trail_store_entry ae = {.category = "access", .labels = al, .nlabels = 1, .ts_ns = NOW - 550 * 1000000LL,
                            .line = acc, .line_len = (uint32_t)strlen(acc)};
    CHECK_INT(trail_store_append(st, &ae, 1, NULL), ==, 0);
    CHECK_INT(trail_store_sync(st), ==, 0);
    trail_store_close(st);
}

/* Runs the CLI; returns its exit status and stdout (malloc'd). */
static int run(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int run(char **out, const char *fmt, ...) {
    char args[4096], cmd[8192], path[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(path, sizeof path, "%s/out.txt", test_tmpdir());
    snprintf(cmd, sizeof cmd, "NO_COLOR=1 %s %s > %s 2>&1", TRAIL_CLI_BIN, args, path);
    int st = system(cmd);
    *out = test_read_file(path, NULL);
    if (!*out) *out = strdup("");
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(story_orders_every_service_and_category) {
    make_store();
    char *out;
    CHECK_INT(run(&out, "story req-7f3a --store %s", dir), ==, 0);
    /* Four app entries + the access entry, oldest first. */
    const char *order[] = {"calling backend", "job queued", "job failed: disk full", "job failed upstream", "502"};
    const char *p = out;
    for (size_t i = 0; i < 5; i++) {
        const char *q = strstr(p, order[i]);
        if (!q) test__fail(__FILE__, __LINE__, "missing or out of order [%s] in:\n%s", order[i], out);
        p = q;
    }
    CHECK(strstr(out, "other request") == NULL);
    CHECK(strstr(out, "noise") == NULL);
    CHECK_CONTAINS(out, "worker     error    job failed: disk full");
    CHECK_CONTAINS(out, "attempt=1");
    CHECK(strstr(out, "\033[") == NULL); /* NO_COLOR */
    free(out);
    CHECK_INT(run(&out, "story req-nope --store %s", dir), ==, 1);
    CHECK_CONTAINS(out, "no entries with request id req-nope");
    free(out);
}

TEST(query_text_jsonl_and_metrics) {
    make_store();
    char *out;
    CHECK_INT(run(&out, "query '{service=\"worker\"} | json | level=\"error\"' --store %s --output jsonl", dir), ==, 0);
    /* one valid JSON object per line */
    size_t lines = 0;
    for (char *l = strtok(out, "\n"); l; l = strtok(NULL, "\n")) {
        tq_arena a = {0};
        const tq_jval *v = tq_json_parse(&a, l, strlen(l), 16, NULL, 0);
        CHECK(v != NULL);
        CHECK(tq_json_get(v, "ts") != NULL);
        CHECK_CONTAINS(tq_json_get(v, "line")->s, "disk full");
        tq_arena_free(&a);
        lines++;
    }
    CHECK_INT(lines, ==, 1);
    free(out);

    CHECK_INT(run(&out, "query 'sum by (service) (count_over_time({category=\"app\"}[1h]))' --store %s --step 1m",
                  dir), ==, 0);
    CHECK_CONTAINS(out, "{service=\"backend\"} 2");
    CHECK_CONTAINS(out, "{service=\"frontend\"} 2");
    CHECK_CONTAINS(out, "{service=\"worker\"} 2");
    free(out);

    CHECK_INT(run(&out, "query '{service=\"worker\"' --store %s", dir), ==, 2);
    CHECK_CONTAINS(out, "trail: parse error at line 1, col 18: unexpected end of query, expected ',' or '}'");
    free(out);
    CHECK_INT(run(&out, "bogus --store %s", dir), ==, 2);
    CHECK_CONTAINS(out, "unknown command");
    free(out);
    CHECK_INT(run(&out, "query '{a=\"b\"}' --store %s/missing-dir", dir), ==, 2);
    CHECK_CONTAINS(out, "cannot open store");
    free(out);
}

TEST(labels_and_values) {
    make_store();
    char *out;
    CHECK_INT(run(&out, "labels --store %s", dir), ==, 0);
    CHECK_STR(out, "category\nlevel\nservice\n");
    free(out);
    CHECK_INT(run(&out, "labels service --store %s", dir), ==, 0);
    CHECK_STR(out, "backend\nfrontend\nnginx\nworker\n");
    free(out);
}

TEST(over_the_http_api) {
    make_store();
    trail_store_config cfg = {.dir = dir, .flags = TRAIL_STORE_NO_FSYNC};
    trail_store *st;
    char err[256];
    CHECK_INT(trail_store_open(&cfg, &st, err, sizeof err), ==, 0);
    tq_source src = tq_store_source(st, NULL);
    tq_api *api;
    tq_api_config acfg = {.listen = "127.0.0.1:0"};
    CHECK_INT(tq_api_start(&acfg, &src, &api, err, sizeof err), ==, 0);
    char *out;
    int rc = run(&out, "story req-7f3a --addr http://127.0.0.1:%u", tq_api_port(api));
    if (rc != 0) test__fail(__FILE__, __LINE__, "exit %d:\n%s", rc, out);
    const char *a = strstr(out, "calling backend"), *b = strstr(out, "job failed: disk full");
    CHECK(a && b && a < b);
    CHECK_CONTAINS(out, "502");
    free(out);
    CHECK_INT(run(&out, "query '{service=\"frontend\"}' --limit 1 --output raw --addr http://127.0.0.1:%u",
                  tq_api_port(api)), ==, 0);
    CHECK_CONTAINS(out, "other request"); /* newest first, limit 1 */
    CHECK(strstr(out, "calling backend") == NULL);
    free(out);
    CHECK_INT(run(&out, "query '{a=\"b\"' --addr http://127.0.0.1:%u", tq_api_port(api)), ==, 2);
    CHECK_CONTAINS(out, "answered 400: parse error at line 1, col 7");
    free(out);
    tq_api_stop(api);
    tq_store_source_free(&src);
    trail_store_close(st);
    CHECK_INT(run(&out, "labels --addr http://127.0.0.1:1"), ==, 2);
    CHECK_CONTAINS(out, "cannot reach http://127.0.0.1:1");
    free(out);
}

TEST(tail_recent_and_follow) {
    make_store();
    char *out;
    /* without -f: the newest entries of the query, oldest first, then exit */
    CHECK_INT(run(&out, "tail '{service=\"worker\"}' --store %s --no-color", dir), ==, 0);
    const char *a = strstr(out, "job failed: disk full"), *b = strstr(out, "noise");
    CHECK(a && b && a < b);
    CHECK(strstr(out, "calling backend") == NULL);
    free(out);

    /* -f over the API: bounded by `timeout`; what is there gets printed */
    trail_store_config cfg = {.dir = dir, .flags = TRAIL_STORE_NO_FSYNC};
    trail_store *st;
    char err[256];
    CHECK_INT(trail_store_open(&cfg, &st, err, sizeof err), ==, 0);
    tq_source src = tq_store_source(st, NULL);
    tq_api *api;
    tq_api_config acfg = {.listen = "127.0.0.1:0"};
    CHECK_INT(tq_api_start(&acfg, &src, &api, err, sizeof err), ==, 0);
    char cmd[1024], path[600];
    snprintf(path, sizeof path, "%s/tail.txt", test_tmpdir());
    snprintf(cmd, sizeof cmd, "NO_COLOR=1 timeout -s INT 3 %s tail -f '{service=\"backend\"}' --addr http://127.0.0.1:%u > %s 2>&1",
             TRAIL_CLI_BIN, tq_api_port(api), path);
    int rc = system(cmd);
    (void)rc;
    out = test_read_file(path, NULL);
    CHECK(out != NULL);
    CHECK_CONTAINS(out, "job queued");
    CHECK_CONTAINS(out, "job failed upstream");
    free(out);
    tq_api_stop(api);
    tq_store_source_free(&src);
    trail_store_close(st);
}
