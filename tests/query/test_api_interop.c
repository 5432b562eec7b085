/* Interoperability: traild's own Loki output (an independent client of the
 * push API: JSON+gzip and protobuf+snappy, labels, structured metadata)
 * ships a log file into this API; every line must arrive once, with its
 * labels, and its request_id must be queryable as structured metadata. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "mem_source.h"
#include "query.h"
#include "test.h"

#define LINES 50

static void ship(const char *encoding) {
    tq_mem *m = tq_mem_new();
    tq_source src = tq_mem_source(m);
    tq_api *api;
    char err[256];
    tq_api_config cfg = {.listen = "127.0.0.1:0"};
    CHECK_INT(tq_api_start(&cfg, &src, &api, err, sizeof err), ==, 0);

    const char *dir = test_tmpdir();
    char path[512], conf[512], yaml[2048];
    snprintf(path, sizeof path, "%s/app.jsonl", dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    for (int i = 0; i < LINES; i++) {
        time_t t = now.tv_sec - 60 + i / 10;
        struct tm tm;
        gmtime_r(&t, &tm);
        char ts[32];
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
        fprintf(f, "{\"timestamp\":\"%s.%03dZ\",\"service\":\"shop\",\"level\":\"%s\",\"message\":\"line %d\","
                   "\"request_id\":\"req-%d\"}\n", ts, i % 1000, i % 5 ? "info" : "error", i, i % 7);
    }
    fclose(f);
    snprintf(conf, sizeof conf, "%s/traild.yaml", dir);
    snprintf(yaml, sizeof yaml,
             "state_dir: %s/state\n"
             "inputs:\n"
             "  - name: app\n    category: app\n    paths: [\"%s\"]\n    parser: json\n    start_at: beginning\n"
             "outputs:\n"
             "  - type: loki\n    url: http://127.0.0.1:%u/loki/api/v1/push\n    encoding: %s\n"
             "    labels: [service, level]\n    batch_wait: 50ms\n",
             dir, path, tq_api_port(api), encoding);
    f = fopen(conf, "w");
    CHECK(f != NULL);
    fputs(yaml, f);
    fclose(f);

    pid_t pid = fork();
    if (pid == 0) {
        freopen("/dev/null", "w", stdout);
        execl(TRAILD_BIN, "traild", "--config", conf, (char *)NULL);
        _exit(127);
    }
    /* Bounded wait for every line to arrive. */
    for (int i = 0; i < 200 && tq_mem_count(m) < LINES; i++) usleep(50000);
    kill(pid, SIGTERM);
    int st;
    waitpid(pid, &st, 0);
    CHECK_INT(tq_mem_count(m), ==, LINES);

    tq_query *q;
    CHECK_INT(tq_parse("{service=\"shop\", level=\"error\"} | request_id=\"req-0\"", &q, err, sizeof err), ==, 0);
    tq_params p = {.start = 0, .end = INT64_MAX / 2, .limit = 1000};
    tq_result *r;
    CHECK_INT(tq_eval(q, &p, &src, &r, err, sizeof err), ==, 0);
    size_t n = 0, want = 0;
    for (size_t s = 0; s < r->nstreams; s++) n += r->streams[s].n;
    for (int i = 0; i < LINES; i++) want += i % 5 == 0 && i % 7 == 0;
    CHECK_INT(n, ==, want);
    CHECK(n > 0);
    tq_result_free(r);
    tq_query_free(q);
    tq_api_stop(api);
    tq_mem_free(m);
}

TEST(traild_loki_output_json_gzip) { ship("json"); }
TEST(traild_loki_output_protobuf_snappy) { ship("protobuf"); }
