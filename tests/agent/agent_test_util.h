/* agent_test_util.h — helpers for traild tests: parse one line with a
 * parser, find a field, write files. Header-only (each test is one program). */
#ifndef TRAILD_AGENT_TEST_UTIL_H
#define TRAILD_AGENT_TEST_UTIL_H

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "plugins.h"
#include "test.h"

/* Parses `line` with the named parser (default options); returns the record
 * (arena-owned) and the parse result in *rc. */
static inline ta_record *tu_parse_with(const char *parser, const void *conf, const char *line, ta_arena *a, int *rc) {
    const ta_parser_type *t = ta_parser_type_find(parser);
    CHECK(t != NULL);
    ta_parser *p = NULL;
    char err[256];
    CHECK_INT(ta_parser_new(t, conf, &p, err, sizeof err), ==, 0);
    ta_record *r = ta_arena_alloc(a, sizeof *r);
    memset(r, 0, sizeof *r);
    r->line = line;
    r->line_len = (uint32_t)strlen(line);
    r->observed_ns = 42;
    r->ts_ns = 42;
    *rc = t->parse(p, r, a);
    t->destroy(p);
    return r;
}

/* Field value as a NUL-terminated string, or NULL. */
static inline const char *tu_field(const ta_record *r, const char *key) {
    const ta_field *f = ta_record_get(r, key);
    return f ? f->val : NULL;
}

static inline void tu_write(const char *path, const char *text, int flags) {
    int fd = open(path, O_WRONLY | O_CREAT | flags, 0644);
    CHECK(fd >= 0);
    size_t n = strlen(text);
    CHECK(write(fd, text, n) == (ssize_t)n);
    close(fd);
}

#endif
