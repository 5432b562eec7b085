/* logql_pipeline.h — runs a log query's stages on one entry: line filters,
 * json/logfmt extraction, label filters and line_format. */
#ifndef TRAIL_LOGQL_PIPELINE_H
#define TRAIL_LOGQL_PIPELINE_H

#include "logql_ast.h"
#include "tq_buf.h"
#include "tq_source.h"

typedef struct tq_plabel {
    const char *name, *value;
    size_t nlen, vlen;
    int extracted;
    int hidden;      /* structured metadata: filterable, not an output label */
} tq_plabel;

/* Per-thread scratch state, reused across entries. */
typedef struct tq_pipe {
    tq_plabel *l;
    size_t n, cap;
    tq_arena arena;      /* extracted values, formatted lines; reset per entry */
    const char *line;    /* the current line (original or line_format'ed) */
    size_t len;
} tq_pipe;

void tq_pipe_init(tq_pipe *p);
void tq_pipe_free(tq_pipe *p);
/* Runs every stage. Returns 1 when the entry is kept; then p->line/len is
 * the output line and p->l the output labels (unsorted). */
int tq_pipe_run(tq_pipe *p, const tq_log_expr *le, const tq_entry *e);
/* Sorts p->l by name and writes the Prometheus-style key {a="1", b="2"}. */
void tq_pipe_labels_key(tq_pipe *p, tq_buf *key);

/* Value of label `name` (NULL when absent). */
const tq_plabel *tq_pipe_get(const tq_pipe *p, const char *name, size_t nlen);

/* Writes labels as {a="1", b="2"} (sorted input). */
void tq_labels_key(const tq_label *l, size_t n, tq_buf *key);

#endif
