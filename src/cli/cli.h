/* cli.h — the `trail` command: shared options and the pieces main.c calls. */
#ifndef TRAIL_CLI_H
#define TRAIL_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "query.h"

typedef enum cli_output { OUT_TEXT, OUT_JSONL, OUT_RAW } cli_output;

typedef struct cli_opts {
    const char *addr;     /* API base URL (default http://127.0.0.1:3100, env TRAIL_ADDR) */
    const char *store;    /* read this store directory directly instead (env TRAIL_STORE) */
    const char *token;    /* bearer token (env TRAIL_TOKEN) */
    int64_t start, end, step;
    size_t limit;
    bool forward;
    bool follow;
    cli_output output;
    bool color;
} cli_opts;

/* A connection to data: either the HTTP API or a store opened read-only. */
typedef struct cli_backend cli_backend;

int cli_backend_open(const cli_opts *o, cli_backend **out, char *err, size_t errlen);
void cli_backend_close(cli_backend *b);
/* Runs a query (range, or instant when o->step < 0 ... see cli_query). */
int cli_run(cli_backend *b, const char *query, const tq_params *p, tq_result **out, char *err, size_t errlen);
/* Label names (name == NULL) or values; sorted, malloc'd. */
int cli_labels(cli_backend *b, const char *name, int64_t start, int64_t end, char ***out, size_t *n, char *err,
               size_t errlen);
/* Follows a log query, printing new entries until interrupted. */
int cli_tail(cli_backend *b, const char *query, const cli_opts *o, char *err, size_t errlen);

/* Output. */
typedef struct cli_line {
    int64_t ts;
    const tq_label *labels;
    size_t nlabels;
    const char *line;
    size_t len;
} cli_line;

void cli_print_entry(FILE *f, const cli_opts *o, const cli_line *e);
void cli_print_result(FILE *f, const cli_opts *o, const tq_result *r);

/* Converts a Loki JSON response (query/query_range) into a tq_result. */
int cli_result_from_loki(const char *json, size_t len, tq_result **out, char *err, size_t errlen);

#endif
