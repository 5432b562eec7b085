/* test_metrics.c — /metrics and /ready: the Prometheus text format 0.0.4
 * (HELP/TYPE before samples, label escaping, one sample per line), status
 * codes, and the real traild binary counting what it read and shipped. */
#include <ctype.h>
#include <sys/stat.h>

#include "agent.h"
#include "http_test.h"
#include "metrics_http.h"
#include "proc_util_test.h"

/* Checks every line of an exposition: "# HELP n text", "# TYPE n counter|gauge",
 * or "n{l="v",...} value" with n declared by the TYPE line before it.
 * Returns the number of samples, or -1 (and prints the bad line). */
static int validate_exposition(const char *text) {
    char typed[128] = "";
    int samples = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        if (!nl) return fprintf(stderr, "no final newline\n"), -1;
        char line[1024];
        size_t n = (size_t)(nl - p);
        if (n >= sizeof line) return -1;
        memcpy(line, p, n);
        line[n] = 0;
        p = nl + 1;
        char name[128], kind[32];
        if (strncmp(line, "# HELP ", 7) == 0) continue;
        if (strncmp(line, "# TYPE ", 7) == 0) {
            if (sscanf(line, "# TYPE %127s %31s", name, kind) != 2 ||
                (strcmp(kind, "counter") && strcmp(kind, "gauge")))
                return fprintf(stderr, "bad TYPE: %s\n", line), -1;
            snprintf(typed, sizeof typed, "%s", name);
            continue;
        }
        size_t i = 0;
        while (isalnum((unsigned char)line[i]) || line[i] == '_' || line[i] == ':') i++;
        if (i == 0 || i != strlen(typed) || strncmp(line, typed, i) != 0)
            return fprintf(stderr, "sample without its TYPE: %s\n", line), -1;
        if (line[i] == '{') { /* name="value" pairs with \\ \" \n escapes */
            i++;
            while (line[i] != '}') {
                while (isalnum((unsigned char)line[i]) || line[i] == '_') i++;
                if (line[i++] != '=' || line[i++] != '"') return fprintf(stderr, "bad label: %s\n", line), -1;
                while (line[i] && line[i] != '"') i += line[i] == '\\' ? 2 : 1;
                if (line[i++] != '"') return fprintf(stderr, "bad label: %s\n", line), -1;
                if (line[i] == ',') i++;
                else if (line[i] != '}') return fprintf(stderr, "bad label list: %s\n", line), -1;
            }
            i++;
        }
        char *end;
        if (line[i++] != ' ') return fprintf(stderr, "no value: %s\n", line), -1;
        strtod(line + i, &end);
        if (end == line + i || *end) return fprintf(stderr, "bad value: %s\n", line), -1;
        samples++;
    }
    return samples;
}

TEST(exposition_format_ready_and_status_codes) {
    ta_input_stats *in = ta_stats_input("we\"ird\\in\nput");
    atomic_store(&in->lines, 7);
    atomic_store(&in->lag_bytes, 123);
    ta_output_stats *out = ta_stats_output("loki1", "loki");
    atomic_store(&out->records, 5);
    atomic_store(&out->records_invalid, 2);
    atomic_store(&out->held, 1);
    char err[256] = "";
    CHECK(ta_metrics_start("127.0.0.1:notaport", err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "expected host:port");
    CHECK(ta_metrics_start("10.0.0.999:80", err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "not an IPv4 address");
    ta_metrics_server *m = ta_metrics_start("127.0.0.1:0", err, sizeof err);
    CHECK(m != NULL);
    int port = ta_metrics_port(m);
    CHECK_INT(port, >, 0);
    char url[128];
    ta_agent_set_ready(false);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/ready", port);
    ht_resp r = ht_request("GET", url);
    CHECK_INT(r.status, ==, 503);
    free(r.body);
    ta_agent_set_ready(true);
    r = ht_request("GET", url);
    CHECK_INT(r.status, ==, 200);
    free(r.body);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", port);
    r = ht_request("GET", url);
    CHECK_INT(r.status, ==, 200);
    CHECK_CONTAINS(r.ctype, "text/plain; version=0.0.4");
    CHECK_INT(validate_exposition(r.body), >=, 17);
    CHECK_CONTAINS(r.body, "traild_input_lines_total{input=\"we\\\"ird\\\\in\\nput\"} 7\n");
    CHECK_CONTAINS(r.body, "traild_input_lag_bytes{input=\"we\\\"ird\\\\in\\nput\"} 123\n");
    CHECK_CONTAINS(r.body, "traild_output_shipped_records_total{output=\"loki1\",type=\"loki\"} 5\n");
    CHECK_CONTAINS(r.body, "traild_output_dropped_records_total{output=\"loki1\",type=\"loki\"} 2\n");
    CHECK_CONTAINS(r.body, "traild_output_held{output=\"loki1\",type=\"loki\"} 1\n");
    CHECK_CONTAINS(r.body, "traild_ready 1\n");
    CHECK_CONTAINS(r.body, "# TYPE traild_output_retries_total counter\n");
    const char *rss = strstr(r.body, "\ntraild_process_resident_memory_bytes ");
    CHECK(rss != NULL);
    CHECK_INT(atol(rss + 38), >, 1024 * 1024);
    free(r.body);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/nope", port);
    r = ht_request("GET", url);
    CHECK_INT(r.status, ==, 404);
    free(r.body);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", port);
    r = ht_request("POST", url);
    CHECK_INT(r.status, ==, 405);
    free(r.body);
    /* a second server on the same port fails with a clear message */
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    CHECK(ta_metrics_start(listen, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "cannot listen");
    ta_metrics_stop(m);
}

/* Value of the first sample line starting with `prefix`, or -1. */
static double sample(const char *text, const char *prefix) {
    const char *p = strstr(text, prefix);
    return p ? strtod(p + strlen(prefix), NULL) : -1;
}

#ifdef TRAILD_BIN
TEST(traild_counts_what_it_reads_and_ships) {
    char d[512], path[700];
    snprintf(d, sizeof d, "%s", test_tmpdir());
    snprintf(path, sizeof path, "%s/logs", d);
    mkdir(path, 0755);
    int port = pu_free_port();
    snprintf(path, sizeof path, "%s/t.yaml", d);
    FILE *f = fopen(path, "w");
    fprintf(f, "state_dir: %s/state\nmetrics_listen: 127.0.0.1:%d\npipeline: {batch_max_wait: 10ms}\n"
               "inputs:\n  - {name: app, paths: [\"%s/logs/*.log\"], parser: json, rescan_interval: 100ms}\n"
               "outputs:\n  - {type: file, name: out1, path: %s/o.jsonl}\n",
            d, port, d, d);
    fclose(f);
    snprintf(path, sizeof path, "%s/logs/a.log", d);
    f = fopen(path, "w");
    for (int i = 0; i < 50; i++) fprintf(f, "{\"message\":\"m%d\"}\n", i);
    fclose(f);
    char log[700];
    snprintf(log, sizeof log, "%s/traild.log", d);
    snprintf(path, sizeof path, "%s/t.yaml", d);
    char *argv[] = {(char *)TRAILD_BIN, "--config", path, NULL};
    pid_t t = pu_spawn(argv, log, NULL);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", port);
    ht_resp r = {.status = -1};
    for (int i = 0; i < 100; i++) { /* until everything is shipped and the checkpoint written */
        r = ht_request("GET", url);
        if (r.status == 200 && sample(r.body, "traild_output_shipped_records_total{output=\"out1\",type=\"file\"} ") == 50 &&
            sample(r.body, "traild_checkpoint_age_seconds ") >= 0 &&
            sample(r.body, "traild_input_lag_bytes{input=\"app\"} ") == 0) /* gauges follow the commit */
            break;
        free(r.body);
        r.body = NULL;
        pu_sleep_ms(100);
    }
    snprintf(url, sizeof url, "http://127.0.0.1:%d/ready", port);
    ht_resp ready = ht_request("GET", url);
    pu_stop(t, SIGTERM);
    CHECK_INT(ready.status, ==, 200);
    free(ready.body);
    CHECK(r.body != NULL);
    CHECK_INT(validate_exposition(r.body), >, 0);
    CHECK_INT((long)sample(r.body, "traild_input_lines_total{input=\"app\"} "), ==, 50);
    CHECK_INT((long)sample(r.body, "traild_input_bytes_total{input=\"app\"} "), ==, 10 * 17 + 40 * 18); /* with newlines */
    CHECK_INT((long)sample(r.body, "traild_input_files_watched{input=\"app\"} "), ==, 1);
    CHECK_INT((long)sample(r.body, "traild_input_lag_bytes{input=\"app\"} "), ==, 0);
    CHECK_INT((long)sample(r.body, "traild_output_failed_total{output=\"out1\",type=\"file\"} "), ==, 0);
    CHECK(sample(r.body, "traild_output_last_success_timestamp_seconds{output=\"out1\",type=\"file\"} ") > 1.7e9);
    free(r.body);
}

/* SIGHUP with another metrics_listen moves /metrics there (and `off` stops it). */
TEST(reload_moves_the_metrics_listener) {
    char d[512], path[700];
    snprintf(d, sizeof d, "%s", test_tmpdir());
    snprintf(path, sizeof path, "%s/logs", d);
    mkdir(path, 0755);
    int p1 = pu_free_port(), p2 = pu_free_port();
    const char *listen[3] = {NULL, NULL, "off"};
    char l1[32], l2[32];
    snprintf(l1, sizeof l1, "127.0.0.1:%d", p1);
    snprintf(l2, sizeof l2, "127.0.0.1:%d", p2);
    listen[0] = l1;
    listen[1] = l2;
    snprintf(path, sizeof path, "%s/t.yaml", d);
    pid_t t = -1;
    for (int step = 0; step < 3; step++) {
        FILE *f = fopen(path, "w");
        fprintf(f, "state_dir: %s/state\nmetrics_listen: \"%s\"\n"
                   "inputs:\n  - {name: app, paths: [\"%s/logs/*.log\"]}\n"
                   "outputs:\n  - {type: file, path: %s/o.jsonl}\n",
                d, listen[step], d, d);
        fclose(f);
        if (step == 0) {
            char log[700];
            snprintf(log, sizeof log, "%s/traild.log", d);
            char *argv[] = {(char *)TRAILD_BIN, "--config", path, NULL};
            t = pu_spawn(argv, log, NULL);
        } else
            kill(t, SIGHUP);
        int want = step == 0 ? p1 : step == 1 ? p2 : -1, gone = step == 0 ? p2 : step == 1 ? p1 : p2;
        int code = -1;
        for (int i = 0; i < 100; i++) { /* bounded: until the listener has moved */
            code = want > 0 ? pu_http_get(want, "/ready", "t") : -1;
            if ((want < 0 || code == 200) && pu_http_get(gone, "/ready", "t") < 0) break;
            pu_sleep_ms(50);
        }
        if (want > 0) CHECK_INT(code, ==, 200);
        CHECK_INT(pu_http_get(gone, "/ready", "t"), ==, -1);
    }
    pu_stop(t, SIGTERM);
}
#endif

static bool have(const char *prog) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", prog);
    return system(cmd) == 0;
}

/* Prometheus's own linter on our exposition (when the prometheus package,
 * which ships promtool, is installed). */
TEST(promtool_accepts_the_exposition) {
    if (!have("promtool")) {
        fprintf(stderr, "  skipped: promtool not installed (Debian package prometheus)\n");
        return;
    }
    atomic_store(&ta_stats_input("lint")->lines, 3);
    ta_stats_output("lint_out", "file");
    ta_buf b = {0};
    ta_metrics_render(&b);
    char path[600], cmd[800];
    snprintf(path, sizeof path, "%s/metrics.txt", test_tmpdir());
    FILE *f = fopen(path, "w");
    fwrite(b.p, 1, b.len, f);
    fclose(f);
    ta_buf_free(&b);
    snprintf(cmd, sizeof cmd, "promtool check metrics < %s >&2", path);
    CHECK_INT(system(cmd), ==, 0);
}

/* A real Prometheus (../shared/RECIPES.md) scrapes the endpoint and answers
 * a query with our value. Bounded: ~40 s at most; skipped without it. */
TEST(real_prometheus_scrapes_metrics) {
    if (!have("prometheus")) {
        fprintf(stderr, "  skipped: prometheus not installed (Debian package prometheus)\n");
        return;
    }
    atomic_store(&ta_stats_input("prom")->lines, 42);
    char err[256];
    ta_metrics_server *m = ta_metrics_start("127.0.0.1:0", err, sizeof err);
    CHECK(m != NULL);
    const char *d = test_tmpdir();
    char yml[600], data[600], listen[64], log[600];
    int pport = pu_free_port();
    snprintf(yml, sizeof yml, "%s/prom.yml", d);
    snprintf(data, sizeof data, "--storage.tsdb.path=%s/promdata", d);
    snprintf(listen, sizeof listen, "--web.listen-address=127.0.0.1:%d", pport);
    snprintf(log, sizeof log, "%s/prometheus.log", d);
    FILE *f = fopen(yml, "w");
    fprintf(f,
            "global: {scrape_interval: 1s, scrape_timeout: 1s}\n"
            "scrape_configs:\n  - job_name: traild\n    static_configs: [{targets: ['127.0.0.1:%d']}]\n",
            ta_metrics_port(m));
    fclose(f);
    char cfgarg[700];
    snprintf(cfgarg, sizeof cfgarg, "--config.file=%s", yml);
    char *argv[] = {"prometheus", cfgarg, data, listen, NULL};
    pid_t p = pu_spawn(argv, log, NULL);
    char url[256];
    bool found = false;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/api/v1/query?query=traild_input_lines_total", pport);
    for (int i = 0; i < 80 && !found; i++) { /* until a scrape landed (first one can take ~15 s) */
        pu_sleep_ms(500);
        ht_resp r = ht_request("GET", url);
        found = r.status == 200 && strstr(r.body, "\"input\":\"prom\"") && strstr(r.body, "\"42\"");
        free(r.body);
    }
    snprintf(url, sizeof url, "http://127.0.0.1:%d/api/v1/targets", pport);
    ht_resp t = ht_request("GET", url);
    pu_stop(p, SIGTERM);
    ta_metrics_stop(m);
    if (!found) fprintf(stderr, "  targets: %.600s\n", t.body ? t.body : "");
    free(t.body);
    CHECK(found);
}
