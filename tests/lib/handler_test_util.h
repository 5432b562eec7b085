/* handler_test_util.h — helpers for the handler tests: entries, a plain
 * "message\n" formatter, files in a directory. Drives handlers directly
 * through trail__handler_dispatch / trail__handler_flush, as the core's
 * writer does. */
#ifndef TRAIL_HANDLER_TEST_UTIL_H
#define TRAIL_HANDLER_TEST_UTIL_H

#include "core_impl.h"
#include "handler_impl.h"
#include "test.h"
#include "trail.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Renders just the message and a newline. */
static int ht_plain_format(const trail_entry *e, trail_buf *out, void *ud) {
    (void)ud;
    if (trail_buf_put(out, e->msg, e->msg_len)) return -1;
    return trail_buf_put(out, "\n", 1);
}

static inline trail_formatter *ht_plain(void) { return trail_formatter_custom(ht_plain_format, NULL, NULL); }

/* One entry with message msg at unix time ts_ns (0 = now), through h. */
static inline int ht_log_at(trail_handler *h, const char *msg, int64_t ts_ns) {
    trail_entry e = {0};
    e.ts_ns = ts_ns ? ts_ns : trail__now_ns();
    e.level = TRAIL_INFO;
    e.logger = "";
    e.msg = msg;
    e.msg_len = strlen(msg);
    trail_buf scratch = {0};
    int rc = trail__handler_dispatch(h, &e, &scratch);
    trail_buf_free(&scratch);
    return rc;
}

static inline int ht_log(trail_handler *h, const char *msg) { return ht_log_at(h, msg, 0); }

/* A file handler at dir/name with the plain formatter. */
static inline trail_handler *ht_file(const char *path, const trail_file_opts *opts) {
    trail_handler *h = NULL;
    int rc = trail_handler_file(&h, path, opts);
    if (rc) test__fail(__FILE__, __LINE__, "trail_handler_file(%s): %d %s", path, rc, trail_last_error());
    trail_handler_set_formatter(h, ht_plain());
    return h;
}

static inline char *ht_path(const char *name) {
    static char buf[8][1024];
    static int i;
    char *p = buf[i++ % 8];
    snprintf(p, 1024, "%s/%s", test_tmpdir(), name);
    return p;
}

/* Sorted names of the directory's entries that start with prefix. */
typedef struct ht_names {
    char **v;
    size_t n;
} ht_names;

static int ht_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static inline ht_names ht_list(const char *dir, const char *prefix) {
    ht_names r = {0};
    DIR *d = opendir(dir);
    if (!d) return r;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, prefix, strlen(prefix)) != 0) continue;
        r.v = realloc(r.v, (r.n + 1) * sizeof *r.v);
        r.v[r.n++] = strdup(de->d_name);
    }
    closedir(d);
    if (r.n) qsort(r.v, r.n, sizeof *r.v, ht_cmp);
    return r;
}

static inline void ht_names_free(ht_names *r) {
    for (size_t i = 0; i < r->n; i++) free(r->v[i]);
    free(r->v);
    r->v = NULL;
    r->n = 0;
}

static inline size_t ht_count_lines(const char *s) {
    size_t n = 0;
    for (; s && *s; s++) n += *s == '\n';
    return n;
}

/* Sends fd 2 to a file so a test can read what was reported; returns its path. */
static inline const char *ht_capture_stderr(void) {
    const char *p = ht_path("stderr.txt");
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || dup2(fd, 2) < 0) test__fail(__FILE__, __LINE__, "cannot capture stderr");
    close(fd);
    return p;
}

static inline size_t ht_count(const char *hay, const char *needle) {
    size_t n = 0;
    for (const char *p = hay; p && (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

#endif
