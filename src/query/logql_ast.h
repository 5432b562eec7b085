/* logql_ast.h — the parsed form of a LogQL query (the subset trail supports).
 *
 * A query is either a log query (a stream selector plus a pipeline of
 * stages) or a metric query (a range aggregation over a log query, possibly
 * wrapped in vector aggregations). tq_parse() builds the tree; everything in
 * it is owned by the tq_query and freed by tq_query_free(). Regexes are
 * compiled once at parse time, so a parsed query is read-only afterwards and
 * may be evaluated from several threads at once.
 */
#ifndef TRAIL_LOGQL_AST_H
#define TRAIL_LOGQL_AST_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A compiled regex with Loki's anchoring decided at compile time. */
typedef struct tq_regex {
    regex_t re;
    bool compiled;
} tq_regex;

typedef enum tq_match_op { TQ_EQ, TQ_NEQ, TQ_RE, TQ_NRE } tq_match_op;

/* One stream matcher: name op "value". */
typedef struct tq_matcher {
    char *name;
    char *value;
    tq_match_op op;
    tq_regex re; /* for TQ_RE / TQ_NRE: anchored (full match, like Loki) */
} tq_matcher;

typedef struct tq_selector {
    tq_matcher *m;
    size_t n;
} tq_selector;

/* Label filter expressions: `| status >= 500 and method="GET" or ...`. */
typedef enum tq_cmp_op {
    TQ_CMP_EQ, TQ_CMP_NEQ, TQ_CMP_RE, TQ_CMP_NRE, /* string compare / match */
    TQ_CMP_GT, TQ_CMP_GE, TQ_CMP_LT, TQ_CMP_LE, TQ_CMP_NUM_EQ, TQ_CMP_NUM_NEQ
} tq_cmp_op;

typedef enum tq_lf_kind { TQ_LF_CMP, TQ_LF_AND, TQ_LF_OR } tq_lf_kind;

typedef struct tq_label_filter {
    tq_lf_kind kind;
    /* TQ_LF_CMP */
    char *name;
    tq_cmp_op op;
    char *str;      /* string operand (=, !=, =~, !~) */
    double num;     /* numeric operand (>, >=, <, <=, ==, and = / != with a number) */
    bool numeric;   /* the operand is a number (or a duration/bytes, converted) */
    tq_regex re;
    /* TQ_LF_AND / TQ_LF_OR */
    struct tq_label_filter *left, *right;
} tq_label_filter;

typedef enum tq_line_op { TQ_LINE_CONTAINS, TQ_LINE_NOT_CONTAINS, TQ_LINE_RE, TQ_LINE_NRE } tq_line_op;

typedef enum tq_stage_kind {
    TQ_STAGE_LINE_FILTER,
    TQ_STAGE_JSON,
    TQ_STAGE_LOGFMT,
    TQ_STAGE_LABEL_FILTER,
    TQ_STAGE_LINE_FORMAT,
    TQ_STAGE_DROP,   /* | drop a, b   (remove labels) */
    TQ_STAGE_KEEP    /* | keep a, b   (remove all other labels) */
} tq_stage_kind;

/* A line_format template, split into literal text and {{.label}} refs. */
typedef struct tq_tmpl_part {
    bool is_label;
    bool is_line;   /* {{__line__}}: the current line */
    char *text; /* literal text, or the label name */
    size_t len;
} tq_tmpl_part;

typedef struct tq_stage {
    tq_stage_kind kind;
    /* line filter */
    tq_line_op line_op;
    char *text;
    size_t text_len;
    tq_regex re; /* unanchored (substring search, like Loki's |~) */
    /* label filter */
    tq_label_filter *lf;
    /* line_format */
    tq_tmpl_part *parts;
    size_t nparts;
    /* drop / keep */
    char **names;
    size_t nnames;
} tq_stage;

typedef struct tq_log_expr {
    tq_selector sel;
    tq_stage *stages;
    size_t nstages;
} tq_log_expr;

typedef enum tq_expr_kind {
    TQ_EXPR_LOG, TQ_EXPR_RANGE, TQ_EXPR_VECTOR,
    TQ_EXPR_NUMBER,  /* a scalar literal: 2, -1.5 */
    TQ_EXPR_VECFN,   /* vector(2): one series without labels */
    TQ_EXPR_BINARY   /* lhs op rhs */
} tq_expr_kind;

typedef enum tq_bin_op { TQ_ADD, TQ_SUB, TQ_MUL, TQ_DIV, TQ_MOD } tq_bin_op;

typedef enum tq_range_fn { TQ_COUNT_OVER_TIME, TQ_RATE, TQ_BYTES_OVER_TIME, TQ_BYTES_RATE } tq_range_fn;

typedef enum tq_vec_op { TQ_SUM, TQ_AVG, TQ_MIN, TQ_MAX, TQ_COUNT, TQ_TOPK, TQ_BOTTOMK } tq_vec_op;

typedef struct tq_expr {
    tq_expr_kind kind;
    /* TQ_EXPR_LOG and TQ_EXPR_RANGE: the log query */
    tq_log_expr log;
    /* TQ_EXPR_RANGE */
    tq_range_fn fn;
    int64_t range_ns;
    /* TQ_EXPR_VECTOR */
    tq_vec_op op;
    long k;                 /* topk / bottomk parameter */
    bool without;           /* grouping is `without (...)` */
    bool grouped;           /* a by/without clause was given */
    char **group;           /* label names */
    size_t ngroup;
    struct tq_expr *inner;  /* the aggregated expression (range or vector) */
    /* TQ_EXPR_NUMBER / TQ_EXPR_VECFN */
    double num;
    /* TQ_EXPR_BINARY: series match on identical label sets (one-to-one) */
    tq_bin_op bop;
    struct tq_expr *lhs, *rhs;
} tq_expr;

typedef struct tq_query {
    tq_expr *root;
} tq_query;

/* Parses `text` (NUL-terminated). On success returns 0 and sets *out. On a
 * syntax error returns -EINVAL and writes a message naming the line and
 * column ("parse error at line 1, col 14: unexpected '}', expected label
 * name") into err (errlen bytes, always NUL-terminated). */
int tq_parse(const char *text, tq_query **out, char *err, size_t errlen);
void tq_query_free(tq_query *q);

/* Names for printing and errors. */
const char *tq_range_fn_name(tq_range_fn fn);
const char *tq_vec_op_name(tq_vec_op op);

/* The log query under any metric expression (the innermost one). */
const tq_log_expr *tq_query_log_expr(const tq_query *q);
bool tq_query_is_metric(const tq_query *q);

#endif
