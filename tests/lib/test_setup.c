/* trail_init / trail_setup: defaults and environment overrides, errors that
 * say what to do. */
#include "core_sink.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Sends stdout to a file for the console handler's output. */
static char *stdout_path(void) {
    static char path[512];
    snprintf(path, sizeof path, "%s/stdout.txt", test_tmpdir());
    fflush(stdout);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    dup2(fd, 1);
    close(fd);
    return path;
}

static char *tmp_path(const char *name) {
    static char path[4][512];
    static int i;
    char *p = path[i++ % 4];
    snprintf(p, 512, "%s/%s", test_tmpdir(), name);
    return p;
}

TEST(init_console_defaults) {
    char *out = stdout_path();
    CHECK_INT(trail_init("svc-a"), ==, 0);
    CHECK_INT(trail_init("svc-a"), ==, -EALREADY);
    trail_info(trail_get("api"), "hello console", TRAIL_INT("n", 42));
    trail_debug(trail_get("api"), "debug is below the default level");
    CHECK_INT(trail_flush(5000), ==, 0);
    char *text = test_read_file(out, NULL);
    CHECK_CONTAINS(text, "hello console");
    CHECK_CONTAINS(text, "svc-a");
    CHECK_CONTAINS(text, "n=42");
    CHECK(!strstr(text, "debug is below"));
    trail_shutdown();
    free(text);
}

TEST(level_and_format_from_env) {
    char *out = stdout_path();
    setenv("TRAIL_LEVEL", "debug", 1);
    setenv("TRAIL_FORMAT", "json", 1);
    CHECK_INT(trail_init("svc-b"), ==, 0);
    CHECK_INT(trail_logger_level(NULL), ==, TRAIL_DEBUG);
    trail_debug(NULL, "debug now shows", TRAIL_STR("k", "v"));
    CHECK_INT(trail_flush(5000), ==, 0);
    char *text = test_read_file(out, NULL);
    CHECK_CONTAINS(text, "\"message\":\"debug now shows\"");
    CHECK_CONTAINS(text, "\"service\":\"svc-b\"");
    trail_shutdown();
    free(text);
}

TEST(bad_env_values_are_clear_errors) {
    static const char *const cases[][3] = {
        {"TRAIL_LEVEL", "loud", "TRAIL_LEVEL=loud"},
        {"TRAIL_FORMAT", "xml", "TRAIL_FORMAT=xml"},
        {"TRAIL_MODE", "maybe", "TRAIL_MODE=maybe"},
        {"TRAIL_FILE_MAX_BYTES", "lots", "TRAIL_FILE_MAX_BYTES=lots"},
        {"TRAIL_FILE_ROTATE", "weekly", "TRAIL_FILE_ROTATE=weekly"},
        {"TRAIL_FILE_KEEP", "some", "TRAIL_FILE_KEEP=some"},
    };
    setenv("TRAIL_FILE", tmp_path("x.jsonl"), 1);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        setenv(cases[i][0], cases[i][1], 1);
        CHECK_INT(trail_init("svc"), ==, -EINVAL);
        CHECK_CONTAINS(trail_last_error(), cases[i][2]);
        unsetenv(cases[i][0]);
        /* A failed setup leaves nothing behind: the next one works. */
        CHECK_INT(trail_init("svc"), ==, 0);
        trail_shutdown();
    }
}

TEST(unwritable_trail_file) {
    /* A path below a regular file can never be created, even by root. */
    char *blocker = tmp_path("plain-file");
    FILE *f = fopen(blocker, "w");
    fclose(f);
    char path[600];
    snprintf(path, sizeof path, "%s/logs/app.jsonl", blocker);
    setenv("TRAIL_FILE", path, 1);
    int rc = trail_init("svc");
    CHECK(rc < 0);
    CHECK_CONTAINS(trail_last_error(), "TRAIL_FILE=");
    CHECK_CONTAINS(trail_last_error(), path);
    CHECK(strlen(trail_strerror(rc)) > 0);
    /* Not initialised: logging is a harmless no-op. */
    trail_info(NULL, "nowhere");
    CHECK_INT(trail_flush(100), ==, 0);
    unsetenv("TRAIL_FILE");
    CHECK_INT(trail_init("svc"), ==, 0);
    trail_shutdown();
}

TEST(trail_file_gets_jsonl_and_rotates) {
    stdout_path();
    char *path = tmp_path("app.jsonl");
    setenv("TRAIL_FILE", path, 1);
    setenv("TRAIL_FILE_MAX_BYTES", "2K", 1);
    setenv("TRAIL_FILE_KEEP", "3", 1);
    setenv("TRAIL_MODE", "sync", 1);
    CHECK_INT(trail_init("svc-file"), ==, 0);
    for (int i = 0; i < 100; i++) trail_info(NULL, "to the file", TRAIL_INT("i", i));
    CHECK_INT(trail_flush(5000), ==, 0);
    char *text = test_read_file(path, NULL);
    CHECK(text != NULL);
    CHECK_CONTAINS(text, "\"service\":\"svc-file\"");
    CHECK_CONTAINS(text, "\"message\":\"to the file\"");
    CHECK_CONTAINS(text, "\"i\":99");
    /* Rotated files (named by the file handler) exist, at most 3 are kept. */
    int rotated = 0;
    DIR *d = opendir(test_tmpdir());
    struct dirent *de;
    while ((de = readdir(d)))
        if (strncmp(de->d_name, "app.", 4) == 0 && strcmp(de->d_name, "app.jsonl") != 0) rotated++;
    closedir(d);
    CHECK_INT(rotated, >=, 1);
    CHECK_INT(rotated, <=, 3);
    trail_stats s;
    trail_stats_get(&s);
    CHECK(s.rotations > 0);
    CHECK(s.bytes_written > 0);
    trail_shutdown();
    free(text);
}

TEST(default_redaction_and_opt_out) {
    char *out = stdout_path();
    for (int off = 0; off < 2; off++) {
        if (off) setenv("TRAIL_REDACT", "0", 1);
        CHECK_INT(trail_init("svc"), ==, 0);
        trail_info(NULL, "login", TRAIL_STR("password", off ? "visible-secret" : "hunter2"));
        CHECK_INT(trail_flush(5000), ==, 0);
        trail_shutdown();
    }
    char *text = test_read_file(out, NULL);
    CHECK(!strstr(text, "hunter2"));
    CHECK_CONTAINS(text, "visible-secret");
    free(text);
}

TEST(env_static_field) {
    setenv("TRAIL_ENV", "local", 1);
    trail_options o = {.service = "svc", .no_default_handlers = 1};
    CHECK_INT(trail_setup(&o), ==, 0);
    CHECK_STR(trail_resource_get()->env, "local");
    CHECK_STR(trail_resource_get()->service, "svc");
    trail_shutdown();
}

TEST(options_defaults_and_no_default_handlers) {
    trail_options o = {.no_default_handlers = 1};
    CHECK_INT(trail_setup(&o), ==, 0);
    sink *s = sink_attach(NULL);
    trail_info(NULL, "only the sink");
    CHECK_INT(trail_flush(5000), ==, 0);
    CHECK_INT(sink_count(s), ==, 1);
    trail_stats st;
    trail_stats_get(&st);
    CHECK_INT(st.threads, ==, 1);
    trail_shutdown();
    CHECK_INT(trail_setup(NULL), ==, 0); /* NULL options: defaults, console on */
    trail_shutdown();
}
