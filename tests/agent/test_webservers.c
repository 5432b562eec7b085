/* test_webservers.c — real nginx and Caddy (Debian packages) on 127.0.0.1:
 * requests produce access logs that traild ships with ECS fields; nginx is
 * rotated the logrotate way (mv + kill -USR1) in the middle. CI installs
 * both (make deps); a missing binary fails the test. */
#include "proc_util_test.h"

static char D[512];

static void write_text(const char *name, const char *fmt, ...) {
    char path[700];
    snprintf(path, sizeof path, "%s/%s", D, name);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fclose(f);
}

static pid_t start_traild(void) {
    write_text("traild.yaml",
               "state_dir: %s/state\n"
               "pipeline: {batch_max_wait: 20ms}\n"
               "inputs:\n"
               "  - name: nginx\n    category: access\n    labels: {service: web}\n"
               "    paths: [\"%s/access.log*\"]\n    parser: nginx\n    rescan_interval: 100ms\n"
               "  - name: caddy\n    category: access\n    paths: [\"%s/caddy.json*\"]\n    parser: caddy\n"
               "outputs:\n  - type: file\n    path: %s/out.jsonl\n",
               D, D, D, D);
    char cfg[700], log[700];
    snprintf(cfg, sizeof cfg, "%s/traild.yaml", D);
    snprintf(log, sizeof log, "%s/traild.log", D);
    char *argv[] = {(char *)TRAILD_BIN, "--config", cfg, NULL};
    return pu_spawn(argv, log, NULL);
}

static pid_t read_pid(const char *name) {
    char path[700];
    snprintf(path, sizeof path, "%s/%s", D, name);
    for (int i = 0; i < 50; i++) {
        char *s = test_read_file(path, NULL);
        if (s && atoi(s) > 0) {
            pid_t p = atoi(s);
            free(s);
            return p;
        }
        free(s);
        pu_sleep_ms(100);
    }
    return -1;
}

TEST(nginx_access_log_with_rotation) {
    snprintf(D, sizeof D, "%s", test_tmpdir());
    CHECK(access("/usr/sbin/nginx", X_OK) == 0); /* make deps installs nginx-light */
    int port = pu_free_port();
    write_text("nginx.conf",
               "pid %s/nginx.pid;\nerror_log %s/error.log;\nworker_processes 1;\nevents { worker_connections 64; }\n"
               "http {\n  access_log %s/access.log combined;\n  client_body_temp_path %s/body;\n"
               "  proxy_temp_path %s/proxy;\n  fastcgi_temp_path %s/fastcgi;\n  uwsgi_temp_path %s/uwsgi;\n"
               "  scgi_temp_path %s/scgi;\n  server {\n    listen 127.0.0.1:%d;\n"
               "    location / { return 200 \"ok\\n\"; }\n  }\n}\n",
               D, D, D, D, D, D, D, D, port);
    char conf[700], log[700];
    snprintf(conf, sizeof conf, "%s/nginx.conf", D);
    snprintf(log, sizeof log, "%s/nginx.out", D);
    char *argv[] = {"/usr/sbin/nginx", "-p", D, "-c", conf, "-g", "daemon off;", NULL};
    pid_t ng = pu_spawn(argv, log, NULL);
    pid_t td = start_traild();
    CHECK(pu_wait_http(port));
    for (int i = 0; i < 20; i++) {
        char path[64];
        snprintf(path, sizeof path, "/before?n=%d&q=%%22x", i);
        CHECK_INT(pu_http_get(port, path, "trail-test/1 \"quoted\""), ==, 200);
    }
    /* logrotate: mv, then USR1 makes nginx reopen its logs */
    char from[700], to[700];
    snprintf(from, sizeof from, "%s/access.log", D);
    snprintf(to, sizeof to, "%s/access.log.1", D);
    CHECK(rename(from, to) == 0);
    CHECK(pu_http_get(port, "/between", "trail-test/1") == 200); /* still into the renamed file */
    pid_t master = read_pid("nginx.pid");
    CHECK(master > 0);
    kill(master, SIGUSR1);
    for (int i = 0; i < 50 && access(from, F_OK) != 0; i++) pu_sleep_ms(100);
    for (int i = 0; i < 20; i++) {
        char path[64];
        snprintf(path, sizeof path, "/after?n=%d", i);
        CHECK_INT(pu_http_get(port, path, "trail-test/2"), ==, 200);
    }
    char out[700];
    snprintf(out, sizeof out, "%s/out.jsonl", D);
    char *got = pu_wait_file(out, "\"url.original\":\"/after?n=19\"", 1);
    CHECK(got != NULL);
    free(got);
    got = pu_wait_file(out, "\"url.original\":\"/before?n=", 20);
    CHECK(got != NULL);
    free(got);
    got = pu_wait_file(out, "\"url.original\":\"/between\"", 1);
    CHECK(got != NULL);
    pu_stop(td, SIGTERM);
    pu_stop(ng, SIGQUIT);
    /* exactly once each, with ECS fields */
    CHECK_INT(count_in(got, "\"url.original\":\"/before?n=3&q=%22x\""), ==, 1);
    CHECK_INT(count_in(got, "\"url.original\":\"/after?n=7\""), ==, 1);
    CHECK_INT(count_in(got, "\"url.original\":\"/between\""), ==, 1);
    CHECK_CONTAINS(got, "\"category\":\"access\"");
    CHECK_CONTAINS(got, "\"labels\":{\"service\":\"web\"}");
    CHECK_CONTAINS(got, "\"client.ip\":\"127.0.0.1\"");
    CHECK_CONTAINS(got, "\"http.request.method\":\"GET\"");
    CHECK_CONTAINS(got, "\"http.response.status_code\":200");
    CHECK_CONTAINS(got, "\"user_agent.original\":\"trail-test/1 \\\"quoted\\\"\""); /* \x22 undone */
    free(got);
}

TEST(caddy_access_log) {
    snprintf(D, sizeof D, "%s", test_tmpdir());
    CHECK(access("/usr/bin/caddy", X_OK) == 0); /* make deps installs caddy */
    int port = pu_free_port();
    write_text("Caddyfile", "{\n  admin off\n}\nhttp://127.0.0.1:%d {\n  log {\n    output file %s/caddy.json\n  }\n"
                            "  respond \"ok\"\n}\n", port, D);
    char conf[700], log[700], home[700], xdg1[700], xdg2[700];
    snprintf(conf, sizeof conf, "%s/Caddyfile", D);
    snprintf(log, sizeof log, "%s/caddy.out", D);
    snprintf(home, sizeof home, "HOME=%s", D);
    snprintf(xdg1, sizeof xdg1, "XDG_DATA_HOME=%s/xdg-data", D);
    snprintf(xdg2, sizeof xdg2, "XDG_CONFIG_HOME=%s/xdg-config", D);
    char *env[] = {home, xdg1, xdg2, NULL};
    char *argv[] = {"/usr/bin/caddy", "run", "--config", conf, "--adapter", "caddyfile", NULL};
    pid_t cd = pu_spawn(argv, log, env);
    pid_t td = start_traild();
    CHECK(pu_wait_http(port));
    for (int i = 0; i < 10; i++) {
        char path[64];
        snprintf(path, sizeof path, "/caddy?n=%d", i);
        CHECK_INT(pu_http_get(port, path, "trail-test/caddy"), ==, 200);
    }
    char out[700];
    snprintf(out, sizeof out, "%s/out.jsonl", D);
    char *got = pu_wait_file(out, "\"url.original\":\"/caddy?n=", 10);
    pu_stop(td, SIGTERM);
    pu_stop(cd, SIGTERM);
    CHECK(got != NULL);
    CHECK_INT(count_in(got, "\"url.original\":\"/caddy?n=9\""), ==, 1);
    CHECK_CONTAINS(got, "\"user_agent.original\":\"trail-test/caddy\"");
    CHECK_CONTAINS(got, "\"http.response.status_code\":200");
    CHECK_CONTAINS(got, "\"client.ip\":\"127.0.0.1\"");
    CHECK_CONTAINS(got, "\"event.duration\":");
    free(got);
}
