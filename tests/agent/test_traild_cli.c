/* test_traild_cli.c — the traild binary: --check-config exit codes and
 * messages, SIGTERM drains and saves positions, SIGHUP reloads keeping
 * positions, an output that is down pauses reading (bounded memory) and
 * everything arrives once it is back. */
#include <sys/stat.h>

#include "proc_util_test.h"

static char D[512];

static void put(const char *name, const char *text, const char *mode) {
    char path[700];
    snprintf(path, sizeof path, "%s/%s", D, name);
    FILE *f = fopen(path, mode);
    CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
}

static int run_check(const char *cfg_name, char *out, size_t outlen) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s --check-config %s/%s 2>&1", TRAILD_BIN, D, cfg_name);
    FILE *p = popen(cmd, "r");
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static pid_t start(const char *cfg_name) {
    char cfg[700], log[700];
    snprintf(cfg, sizeof cfg, "%s/%s", D, cfg_name);
    snprintf(log, sizeof log, "%s/traild.log", D);
    char *argv[] = {(char *)TRAILD_BIN, "--config", cfg, NULL};
    char *env[] = {"ASAN_OPTIONS=quarantine_size_mb=4:detect_leaks=1", NULL};
    return pu_spawn(argv, log, env);
}

static void config(const char *name, const char *out_extra) {
    char text[2048];
    snprintf(text, sizeof text,
             "state_dir: %s/state\npipeline: {batch_max_wait: 10ms, batch_max_records: 100}\n"
             "inputs:\n  - name: app\n    paths: [\"%s/logs/*.log\"]\n    parser: json\n    rescan_interval: 100ms\n"
             "outputs:\n  - type: file\n    path: %s/out/o.jsonl\n    retry_backoff: 10ms\n    retry_backoff_max: 200ms\n%s",
             D, D, D, out_extra ? out_extra : "");
    put(name, text, "w");
}

static void lines(int from, int to) {
    char path[700];
    snprintf(path, sizeof path, "%s/logs/a.log", D);
    FILE *f = fopen(path, "a");
    for (int i = from; i < to; i++) fprintf(f, "{\"message\":\"n=%d.\",\"pad\":\"%0100d\"}\n", i, 0);
    fclose(f);
}

static void setup(void) {
    snprintf(D, sizeof D, "%s", test_tmpdir());
    char p[700];
    snprintf(p, sizeof p, "%s/logs", D);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/out", D);
    mkdir(p, 0755);
}

static char *out_path(void) {
    static char p[700];
    snprintf(p, sizeof p, "%s/out/o.jsonl", D);
    return p;
}

TEST(check_config) {
    setup();
    config("good.yaml", NULL);
    put("bad.yaml", "inputs:\n  - name: app\n    paths: [/x]\n    parser: {type: json, time_keys: 5, nope: 1}\n"
                    "outputs:\n  - type: stdout\n", "w");
    char out[2048];
    CHECK_INT(run_check("good.yaml", out, sizeof out), ==, 0);
    CHECK_CONTAINS(out, "ok (1 input(s), 1 output(s))");
    CHECK_INT(run_check("bad.yaml", out, sizeof out), ==, 1);
    CHECK_CONTAINS(out, "bad.yaml:4:40: input app: parser json: unknown key 'nope'");
    CHECK_INT(run_check("missing.yaml", out, sizeof out), ==, 1);
    CHECK_CONTAINS(out, "cannot open config");
}

TEST(sigterm_drains_and_saves_positions) {
    setup();
    config("t.yaml", NULL);
    lines(0, 500);
    pid_t t = start("t.yaml");
    char *got = pu_wait_file(out_path(), "n=499.", 1);
    CHECK(got != NULL);
    free(got);
    kill(t, SIGTERM);
    int st;
    CHECK(waitpid(t, &st, 0) == t);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    char ck[700];
    snprintf(ck, sizeof ck, "%s/state/positions.ckpt", D);
    char *c = test_read_file(ck, NULL);
    CHECK(c != NULL);
    struct stat sb;
    char lp[700];
    snprintf(lp, sizeof lp, "%s/logs/a.log", D);
    stat(lp, &sb);
    char want[64];
    snprintf(want, sizeof want, "\t%lld\t", (long long)sb.st_size);
    CHECK_CONTAINS(c, want); /* every byte acknowledged and saved */
    free(c);
    /* restart: nothing shipped twice */
    lines(500, 510);
    t = start("t.yaml");
    got = pu_wait_file(out_path(), "n=509.", 1);
    pu_stop(t, SIGTERM);
    CHECK(got != NULL);
    CHECK_INT(count_in(got, "n=10."), ==, 1);
    CHECK_INT(count_in(got, "\"message\":\"n="), ==, 510);
    free(got);
}

TEST(sighup_reload_keeps_positions) {
    setup();
    config("t.yaml", NULL);
    lines(0, 100);
    pid_t t = start("t.yaml");
    char *got = pu_wait_file(out_path(), "n=99.", 1);
    CHECK(got != NULL);
    free(got);
    config("t.yaml", "    processors: [{type: labels, set: {reloaded: \"yes\"}}]\n");
    kill(t, SIGHUP);
    pu_sleep_ms(300);
    lines(100, 200);
    got = pu_wait_file(out_path(), "n=199.", 1);
    CHECK(got != NULL);
    free(got);
    got = pu_wait_file(out_path(), "\"reloaded\":\"yes\"", 100);
    CHECK(got != NULL);
    pu_stop(t, SIGTERM);
    CHECK_INT(count_in(got, "\"message\":\"n="), ==, 200); /* no line twice, none lost */
    CHECK_INT(count_in(got, "\"reloaded\":\"yes\""), ==, 100);
    free(got);
}

static long rss_kb(pid_t pid) {
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/status", (int)pid);
    char *s = test_read_file(p, NULL);
    const char *v = s ? strstr(s, "VmRSS:") : NULL;
    long kb = v ? atol(v + 6) : -1;
    free(s);
    return kb;
}

TEST(output_down_pauses_reading_then_resumes) {
    setup();
    config("t.yaml", NULL);
    char od[700];
    snprintf(od, sizeof od, "%s/out", D);
    rmdir(od); /* the output cannot open its file: it retries */
    pid_t t = start("t.yaml");
    lines(0, 100);
    pu_sleep_ms(500);
    long before = rss_kb(t);
    lines(100, 100000); /* ~12 MB while the output is down */
    pu_sleep_ms(1500);
    long after = rss_kb(t);
    CHECK_INT(before, >, 0);
    CHECK_INT(after - before, <, 8 * 1024); /* bounded: reading paused */
    mkdir(od, 0755);
    char *got = pu_wait_file(out_path(), "n=99999.", 1);
    pu_stop(t, SIGTERM);
    CHECK(got != NULL);
    CHECK_INT(count_in(got, "\"message\":\"n="), ==, 100000);
    free(got);
}
