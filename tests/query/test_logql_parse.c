/* Parser tests: valid queries build the expected tree; invalid ones fail
 * with the exact line/column and message. */
#include <stdio.h>
#include <string.h>

#include "logql_ast.h"
#include "test.h"

static tq_query *parse_ok(const char *q) {
    tq_query *out = NULL;
    char err[256];
    int rc = tq_parse(q, &out, err, sizeof err);
    if (rc != 0) test__fail(__FILE__, __LINE__, "parse of [%s] failed: %s", q, err);
    return out;
}

/* Returns the error text of a failing parse (static buffer). */
static const char *parse_err(const char *q) {
    static char err[256];
    tq_query *out = NULL;
    int rc = tq_parse(q, &out, err, sizeof err);
    if (rc == 0) {
        tq_query_free(out);
        test__fail(__FILE__, __LINE__, "parse of [%s] should fail", q);
    }
    CHECK(out == NULL);
    return err;
}

TEST(selector_matchers) {
    tq_query *q = parse_ok("{service=\"api\", level=~\"warn|error\", env!=\"dev\", host!~`web-\\d+`}");
    CHECK(!tq_query_is_metric(q));
    const tq_log_expr *le = tq_query_log_expr(q);
    CHECK_INT(le->sel.n, ==, 4);
    CHECK_STR(le->sel.m[0].name, "service");
    CHECK_STR(le->sel.m[0].value, "api");
    CHECK_INT(le->sel.m[0].op, ==, TQ_EQ);
    CHECK_INT(le->sel.m[1].op, ==, TQ_RE);
    CHECK_INT(le->sel.m[2].op, ==, TQ_NEQ);
    CHECK_INT(le->sel.m[3].op, ==, TQ_NRE);
    CHECK_STR(le->sel.m[3].value, "web-\\d+");
    CHECK_INT(le->nstages, ==, 0);
    tq_query_free(q);
}

TEST(string_escapes) {
    tq_query *q = parse_ok("{a=\"x\\\"y\\\\z\\n\\u00e9\"}");
    CHECK_STR(tq_query_log_expr(q)->sel.m[0].value, "x\"y\\z\n\xc3\xa9");
    tq_query_free(q);
}

TEST(pipeline_stages) {
    tq_query *q = parse_ok("{app=\"x\"} |= \"GET\" != \"health\" |~ \"5\\\\d\\\\d\" !~ `bot` | json"
                           " | status >= 500 and method=\"GET\" or duration > 1.5s | line_format \"{{.method}} {{ .status }}\"");
    const tq_log_expr *le = tq_query_log_expr(q);
    CHECK_INT(le->nstages, ==, 7);
    CHECK_INT(le->stages[0].kind, ==, TQ_STAGE_LINE_FILTER);
    CHECK_INT(le->stages[0].line_op, ==, TQ_LINE_CONTAINS);
    CHECK_STR(le->stages[0].text, "GET");
    CHECK_INT(le->stages[1].line_op, ==, TQ_LINE_NOT_CONTAINS);
    CHECK_INT(le->stages[2].line_op, ==, TQ_LINE_RE);
    CHECK_STR(le->stages[2].text, "5\\d\\d");
    CHECK_INT(le->stages[3].line_op, ==, TQ_LINE_NRE);
    CHECK_INT(le->stages[4].kind, ==, TQ_STAGE_JSON);
    const tq_label_filter *f = le->stages[5].lf;
    /* and binds tighter than or */
    CHECK_INT(f->kind, ==, TQ_LF_OR);
    CHECK_INT(f->left->kind, ==, TQ_LF_AND);
    CHECK_STR(f->left->left->name, "status");
    CHECK_INT(f->left->left->op, ==, TQ_CMP_GE);
    CHECK(f->left->left->numeric);
    CHECK(f->left->left->num == 500);
    CHECK_STR(f->left->right->str, "GET");
    CHECK(f->right->num == 1.5);
    CHECK_INT(le->stages[6].kind, ==, TQ_STAGE_LINE_FORMAT);
    CHECK_INT(le->stages[6].nparts, ==, 3);
    CHECK(le->stages[6].parts[0].is_label);
    CHECK_STR(le->stages[6].parts[0].text, "method");
    CHECK_STR(le->stages[6].parts[1].text, " ");
    CHECK_STR(le->stages[6].parts[2].text, "status");
    tq_query_free(q);
}

TEST(label_filter_forms) {
    tq_query *q = parse_ok("{a=\"b\"} | logfmt | request_id=\"abc\", (x=~\"1.*\" or y!=\"2\") size > 10KB | n == 3 | m != 4");
    const tq_log_expr *le = tq_query_log_expr(q);
    CHECK_INT(le->nstages, ==, 4);
    CHECK_INT(le->stages[0].kind, ==, TQ_STAGE_LOGFMT);
    const tq_label_filter *f = le->stages[1].lf;
    CHECK_INT(f->kind, ==, TQ_LF_AND);
    CHECK_INT(f->left->kind, ==, TQ_LF_AND);
    CHECK_INT(f->left->right->kind, ==, TQ_LF_OR);
    CHECK(f->right->num == 10000);
    CHECK_INT(le->stages[2].lf->op, ==, TQ_CMP_NUM_EQ);
    CHECK_INT(le->stages[3].lf->op, ==, TQ_CMP_NUM_NEQ);
    tq_query_free(q);
}

TEST(metric_queries) {
    tq_query *q = parse_ok("sum by (level) (count_over_time({app=\"x\"} |= \"err\" [5m]))");
    CHECK(tq_query_is_metric(q));
    CHECK_INT(q->root->kind, ==, TQ_EXPR_VECTOR);
    CHECK_INT(q->root->op, ==, TQ_SUM);
    CHECK(q->root->grouped);
    CHECK(!q->root->without);
    CHECK_INT(q->root->ngroup, ==, 1);
    CHECK_STR(q->root->group[0], "level");
    CHECK_INT(q->root->inner->kind, ==, TQ_EXPR_RANGE);
    CHECK_INT(q->root->inner->fn, ==, TQ_COUNT_OVER_TIME);
    CHECK_INT(q->root->inner->range_ns, ==, 300000000000LL);
    CHECK_INT(tq_query_log_expr(q)->nstages, ==, 1);
    tq_query_free(q);

    q = parse_ok("topk(3, sum without (host, pod) (rate({a=\"b\"}[1h30m])))");
    CHECK_INT(q->root->op, ==, TQ_TOPK);
    CHECK_INT(q->root->k, ==, 3);
    CHECK(q->root->inner->without);
    CHECK_INT(q->root->inner->ngroup, ==, 2);
    CHECK_INT(q->root->inner->inner->range_ns, ==, 5400000000000LL);
    tq_query_free(q);

    q = parse_ok("max(bytes_rate({a=\"b\"}[30s])) by (a)");
    CHECK_INT(q->root->op, ==, TQ_MAX);
    CHECK(q->root->grouped);
    CHECK_INT(q->root->inner->fn, ==, TQ_BYTES_RATE);
    tq_query_free(q);

    const char *more[] = {"avg(bytes_over_time({a=\"b\"}[1m]))", "min(count_over_time({a=\"b\"}[1m]))",
                          "count(count_over_time({a=\"b\"}[1m]))", "bottomk(1, rate({a=\"b\"}[250ms]))",
                          "(count_over_time({a=\"b\"} | json | x > 1 [1d]))", "sum by () (rate({a=\"b\"}[1m]))"};
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++) tq_query_free(parse_ok(more[i]));
}

TEST(drop_and_keep) {
    tq_query *q = parse_ok("{a=\"b\"} | json | drop __error__, level | keep a, msg");
    const tq_log_expr *le = tq_query_log_expr(q);
    CHECK_INT(le->nstages, ==, 3);
    CHECK_INT(le->stages[1].kind, ==, TQ_STAGE_DROP);
    CHECK_INT(le->stages[1].nnames, ==, 2);
    CHECK_STR(le->stages[1].names[0], "__error__");
    CHECK_INT(le->stages[2].kind, ==, TQ_STAGE_KEEP);
    tq_query_free(q);
}

TEST(binary_arithmetic_and_vector) {
    tq_query *q = parse_ok("vector(1)+vector(1)");
    CHECK_INT(q->root->kind, ==, TQ_EXPR_BINARY);
    CHECK_INT(q->root->bop, ==, TQ_ADD);
    CHECK_INT(q->root->lhs->kind, ==, TQ_EXPR_VECFN);
    CHECK(q->root->rhs->num == 1);
    tq_query_free(q);
    /* * binds tighter than +, both left-associative */
    q = parse_ok("1 + 2 * 3 - 4");
    CHECK_INT(q->root->bop, ==, TQ_SUB);
    CHECK_INT(q->root->lhs->bop, ==, TQ_ADD);
    CHECK_INT(q->root->lhs->rhs->bop, ==, TQ_MUL);
    tq_query_free(q);
    q = parse_ok("sum by (a) (rate({a=\"b\"}[1m])) / sum by (a) (rate({a=~\".+\"}[1m])) * 100");
    CHECK_INT(q->root->bop, ==, TQ_MUL);
    CHECK_INT(q->root->lhs->bop, ==, TQ_DIV);
    tq_query_free(q);
    q = parse_ok("{a=\"b\"} | json | x > -1.5");
    CHECK(tq_query_log_expr(q)->stages[1].lf->num == -1.5);
    tq_query_free(q);
    q = parse_ok("-vector(2) % 3");
    CHECK_INT(q->root->bop, ==, TQ_MOD);
    tq_query_free(q);
    CHECK_STR(parse_err("{a=\"b\"} + 1"),
              "parse error at line 1, col 9: '+' needs metric expressions or numbers on both sides, not a log query");
    CHECK_STR(parse_err("sum(1)"), "parse error at line 1, col 6: sum needs a vector, not a number (use vector(n))");
    CHECK_STR(parse_err("vector(x)"), "parse error at line 1, col 8: unexpected 'x', expected a number");
}

/* Every error names the exact position of the offending token. */
TEST(error_positions) {
    CHECK_STR(parse_err("{service=\"api\",}"), "parse error at line 1, col 16: unexpected '}', expected label name");
    CHECK_STR(parse_err("{service=\"api\" level=\"x\"}"),
              "parse error at line 1, col 16: unexpected 'level', expected ',' or '}'");
    CHECK_STR(parse_err("{service=api}"), "parse error at line 1, col 10: unexpected 'api', expected a quoted string");
    CHECK_STR(parse_err("{service>\"api\"}"),
              "parse error at line 1, col 9: unexpected '>', expected =, !=, =~ or !~");
    CHECK_STR(parse_err("{a=\"b\"} |= 42"),
              "parse error at line 1, col 12: unexpected '42', expected a quoted string after the line filter");
    CHECK_STR(parse_err("{a=\"b\"}\n  | json\n  | status >= \"x\""),
              "parse error at line 3, col 15: '>=' needs a number, duration or byte size, not a string");
    CHECK_STR(parse_err("count_over_time({a=\"b\"})"),
              "parse error at line 1, col 24: unexpected ')', expected '[' and a range like [5m] (or a pipeline stage)");
    CHECK_STR(parse_err("count_over_time({a=\"b\"}[5])"),
              "parse error at line 1, col 25: unexpected '5', expected a duration like 5m");
    CHECK_STR(parse_err("sum(count_over_time({a=\"b\"}[5m])"),
              "parse error at line 1, col 33: unexpected end of query, expected ')'");
    CHECK_STR(parse_err("{a=\"b\"} extra"), "parse error at line 1, col 9: unexpected 'extra', expected end of query");
    CHECK_STR(parse_err(""), "parse error at line 1, col 1: empty query");
    CHECK_STR(parse_err("{a=\"b"), "parse error at line 1, col 4: unterminated string");
    CHECK_STR(parse_err("foo({a=\"b\"})"),
              "parse error at line 1, col 1: unknown function 'foo' (supported: count_over_time, rate, bytes_over_time, "
              "bytes_rate, sum, avg, min, max, count, topk, bottomk)");
    CHECK_STR(parse_err("topk(x, rate({a=\"b\"}[1m]))"),
              "parse error at line 1, col 6: unexpected 'x', expected a positive integer k");
    CHECK_STR(parse_err("sum({a=\"b\"})"),
              "parse error at line 1, col 12: sum needs a metric expression such as count_over_time(...[5m]), not a log query");
    CHECK_STR(parse_err("{a=~\"(\"}"), "parse error at line 1, col 5: invalid regex \"(\": Unmatched ( or \\(");
    CHECK_STR(parse_err("{a=\"b\"} | regexp \"(?P<x>.*)\""),
              "parse error at line 1, col 11: 'regexp' is not supported by trail (supported: json, logfmt, line_format, "
              "drop, keep, label filters)");
    CHECK_STR(parse_err("{a=\"b\"} | drop x=\"1\""),
              "parse error at line 1, col 17: drop/keep with label matchers is not supported: list label names");
    CHECK_STR(parse_err("{a=\"b\"} | line_format \"{{ .x | ToUpper }}\""),
              "parse error at line 1, col 23: line_format template: only {{.label}} and {{__line__}} references are supported");
    CHECK_STR(parse_err("{a=\"b\"} ! \"x\""), "parse error at line 1, col 9: unexpected '!', expected != or !~");
    CHECK_STR(parse_err("{a=\"\\q\"}"),
              "parse error at line 1, col 5: unknown escape sequence in string (use \\\\ or a `raw` string)");
}

TEST(deep_nesting_is_rejected_not_crashing) {
    char q[4096];
    size_t n = 0;
    for (int i = 0; i < 1000; i++) q[n++] = '(';
    q[n] = 0;
    CHECK_CONTAINS(parse_err(q), "nested too deeply");
    n = 0;
    n += (size_t)snprintf(q, sizeof q, "{a=\"b\"} | ");
    for (int i = 0; i < 500; i++) q[n++] = '(';
    q[n] = 0;
    CHECK_CONTAINS(parse_err(q), "nested too deeply");
}

TEST(hostile_regexes_are_rejected) {
    CHECK_STR(parse_err("{a=~\"x**\"}"),
              "parse error at line 1, col 5: invalid regex \"x**\": bad repetition operator (a quantifier on a quantifier)");
    CHECK_CONTAINS(parse_err("{a=\"b\"} |~ \"(a{900}){900}\""), "too many counted repetitions");
    CHECK_CONTAINS(parse_err("{a=\"b\"} |~ \"a{5000}\""), "bad repetition count");
    tq_query_free(parse_ok("{a=~\"x+?y{2,3}z*?\"} |~ \"\\\\*\\\\+\""));
}

TEST(long_operator_chains_are_bounded) {
    /* a left-leaning chain does not grow the parser's depth, so it has its own limit */
    char q[8192];
    size_t n = 0;
    for (int i = 0; i < 2000; i++) { q[n++] = '1'; q[n++] = '+'; }
    q[n++] = '1';
    q[n] = 0;
    CHECK_CONTAINS(parse_err(q), "too many binary operators (at most 256)");
    n = 0;
    for (int i = 0; i < 3000; i++) q[n++] = '-';
    n += (size_t)snprintf(q + n, sizeof q - n, "vector(1)");
    CHECK(strstr(parse_err(q), "parse error") != NULL);
    n = (size_t)snprintf(q, sizeof q, "{a=\"b\"} | x=\"1\"");
    for (int i = 0; i < 600 && n + 16 < sizeof q; i++) n += (size_t)snprintf(q + n, sizeof q - n, " or x=\"1\"");
    CHECK_CONTAINS(parse_err(q), "too many label filter terms (at most 256)");
}

TEST(regex_translation) {
    /* RE2 spellings that POSIX lacks are accepted. */
    tq_query_free(parse_ok("{a=~\"(?i)err.*\", b=~\"\\\\d+\", c=~\"(?:x|y)\\\\s\\\\w*?\"}"));
}
