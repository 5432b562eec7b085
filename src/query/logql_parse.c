/* logql_parse.c — recursive-descent parser for trail's LogQL subset.
 *
 *   query      := metric | log
 *   metric     := vecop [grouping] '(' [NUMBER ','] metric ')' [grouping]
 *               | rangefn '(' log '[' DURATION ']' ')'
 *   log        := '{' [matcher {',' matcher}] '}' {stage}
 *   matcher    := IDENT ('=' | '!=' | '=~' | '!~') STRING
 *   stage      := ('|=' | '!=' | '|~' | '!~') STRING
 *               | '|' 'json' | '|' 'logfmt' | '|' 'line_format' STRING
 *               | '|' lfilter
 *   lfilter    := land {'or' land};  land := lprim {['and' | ','] lprim}
 *   lprim      := '(' lfilter ')' | IDENT cmp (STRING | NUMBER | DURATION | BYTES)
 *   grouping   := ('by' | 'without') '(' [IDENT {',' IDENT}] ')'
 *
 * Errors stop at the first problem and name its line and column.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logql_ast.h"
#include "logql_lex.h"
#include "logql_regex.h"

typedef struct parser {
    tq_lexer lx;
    tq_token tok;
    char *err;
    size_t errlen;
    int failed;
    int depth;
    int binops;   /* binary operators so far: chains are built iteratively, not by depth */
    int lfterms;  /* label filter comparisons so far (and/or chains, same reason) */
} parser;

#define MAX_DEPTH 64

static void next(parser *p) {
    p->tok = tq_lex_next(&p->lx);
}

static void fail_at(parser *p, const tq_token *t, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail_at(parser *p, const tq_token *t, const char *fmt, ...) {
    if (p->failed) return;
    p->failed = 1;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(p->err, p->errlen, "parse error at line %d, col %d: %s", t->line, t->col, msg);
}

/* "unexpected X, expected Y" at the current token. */
static void expected(parser *p, const char *what) {
    if (p->tok.kind == TK_ERROR) {
        fail_at(p, &p->tok, "%s", p->tok.error);
        return;
    }
    char d[64];
    tq_tok_describe(&p->tok, d, sizeof d);
    fail_at(p, &p->tok, "unexpected %s, expected %s", d, what);
}

static int accept(parser *p, tq_tok_kind k) {
    if (p->tok.kind != k) return 0;
    next(p);
    return 1;
}

static int expect(parser *p, tq_tok_kind k, const char *what) {
    if (accept(p, k)) return 1;
    expected(p, what);
    return 0;
}

static int is_ident(const parser *p, const char *word) {
    return p->tok.kind == TK_IDENT && p->tok.len == strlen(word) && memcmp(p->tok.start, word, p->tok.len) == 0;
}

static char *dup_tok(const tq_token *t) {
    char *s = malloc(t->len + 1);
    if (!s) abort();
    memcpy(s, t->start, t->len);
    s[t->len] = 0;
    return s;
}

static char *dup_value(const tq_token *t) {
    char *s = malloc(t->value_len + 1);
    if (!s) abort();
    memcpy(s, t->value, t->value_len);
    s[t->value_len] = 0;
    return s;
}

static void *xcalloc(size_t n, size_t sz) {
    void *v = calloc(n ? n : 1, sz);
    if (!v) abort();
    return v;
}

static void *xrealloc(void *v, size_t sz) {
    void *r = realloc(v, sz);
    if (!r) abort();
    return r;
}

/* Label names: [a-zA-Z_][a-zA-Z0-9_]* (':' is allowed by the lexer for
 * metric names only). */
static int valid_label_name(const tq_token *t) {
    for (size_t i = 0; i < t->len; i++)
        if (t->start[i] == ':') return 0;
    return 1;
}

/* ------------------------------------------------------------ selector */

static void parse_selector(parser *p, tq_selector *sel) {
    if (!expect(p, TK_LBRACE, "'{' (a stream selector)")) return;
    if (accept(p, TK_RBRACE)) return;
    for (;;) {
        if (p->tok.kind != TK_IDENT || !valid_label_name(&p->tok)) {
            expected(p, "label name");
            return;
        }
        tq_matcher m;
        memset(&m, 0, sizeof m);
        tq_token name_tok = p->tok;
        next(p);
        switch (p->tok.kind) {
        case TK_EQ: m.op = TQ_EQ; break;
        case TK_NEQ: m.op = TQ_NEQ; break;
        case TK_RE: m.op = TQ_RE; break;
        case TK_NRE: m.op = TQ_NRE; break;
        default: expected(p, "=, !=, =~ or !~"); return;
        }
        next(p);
        if (p->tok.kind != TK_STRING) {
            expected(p, "a quoted string");
            return;
        }
        m.name = dup_tok(&name_tok);
        m.value = dup_value(&p->tok);
        if (m.op == TQ_RE || m.op == TQ_NRE) {
            char rerr[200];
            if (tq_regex_compile(&m.re, m.value, 1, rerr, sizeof rerr) < 0) {
                fail_at(p, &p->tok, "%s", rerr);
                free(m.name);
                free(m.value);
                return;
            }
        }
        sel->m = xrealloc(sel->m, (sel->n + 1) * sizeof *sel->m);
        sel->m[sel->n++] = m;
        next(p);
        if (accept(p, TK_COMMA)) continue;
        if (accept(p, TK_RBRACE)) return;
        expected(p, "',' or '}'");
        return;
    }
}

/* ------------------------------------------------------------ label filters */

static tq_label_filter *parse_lf_or(parser *p);
void tq_lf_free(tq_label_filter *f);

static tq_label_filter *parse_lf_prim(parser *p) {
    if (++p->lfterms > 256) {
        fail_at(p, &p->tok, "too many label filter terms (at most 256)");
        return NULL;
    }
    if (p->depth > MAX_DEPTH) {
        fail_at(p, &p->tok, "label filter nested too deeply");
        return NULL;
    }
    if (accept(p, TK_LPAREN)) {
        p->depth++;
        tq_label_filter *f = parse_lf_or(p);
        p->depth--;
        if (!f) return NULL;
        if (!expect(p, TK_RPAREN, "')'")) {
            tq_lf_free(f);
            return NULL;
        }
        return f;
    }
    if (p->tok.kind != TK_IDENT || !valid_label_name(&p->tok)) {
        expected(p, "label name, json, logfmt or line_format");
        return NULL;
    }
    tq_token name_tok = p->tok;
    next(p);
    tq_cmp_op op;
    switch (p->tok.kind) {
    case TK_EQ: op = TQ_CMP_EQ; break;
    case TK_NEQ: op = TQ_CMP_NEQ; break;
    case TK_RE: op = TQ_CMP_RE; break;
    case TK_NRE: op = TQ_CMP_NRE; break;
    case TK_GT: op = TQ_CMP_GT; break;
    case TK_GE: op = TQ_CMP_GE; break;
    case TK_LT: op = TQ_CMP_LT; break;
    case TK_LE: op = TQ_CMP_LE; break;
    case TK_EQEQ: op = TQ_CMP_NUM_EQ; break;
    default: expected(p, "a comparison (=, !=, =~, !~, >, >=, <, <=, ==)"); return NULL;
    }
    tq_token op_tok = p->tok;
    next(p);
    tq_label_filter *f = xcalloc(1, sizeof *f);
    f->kind = TQ_LF_CMP;
    f->op = op;
    if (p->tok.kind == TK_STRING) {
        if (op != TQ_CMP_EQ && op != TQ_CMP_NEQ && op != TQ_CMP_RE && op != TQ_CMP_NRE) {
            char d[16];
            tq_tok_describe(&op_tok, d, sizeof d);
            fail_at(p, &p->tok, "%s needs a number, duration or byte size, not a string", d);
            free(f);
            return NULL;
        }
        f->str = dup_value(&p->tok);
        if (op == TQ_CMP_RE || op == TQ_CMP_NRE) {
            char rerr[200];
            if (tq_regex_compile(&f->re, f->str, 1, rerr, sizeof rerr) < 0) {
                fail_at(p, &p->tok, "%s", rerr);
                free(f->str);
                free(f);
                return NULL;
            }
        }
    } else if (p->tok.kind == TK_MINUS || p->tok.kind == TK_NUMBER || p->tok.kind == TK_DURATION ||
               p->tok.kind == TK_BYTES) {
        double sign = 1;
        if (p->tok.kind == TK_MINUS) {
            next(p);
            sign = -1;
            if (p->tok.kind != TK_NUMBER && p->tok.kind != TK_DURATION && p->tok.kind != TK_BYTES) {
                expected(p, "a number after '-'");
                free(f);
                return NULL;
            }
        }
        p->tok.num *= sign;
        if (op == TQ_CMP_RE || op == TQ_CMP_NRE) {
            expected(p, "a quoted regex");
            free(f);
            return NULL;
        }
        f->numeric = true;
        /* Durations compare in seconds, like Loki's duration filters. */
        f->num = p->tok.kind == TK_DURATION ? p->tok.num / 1e9 : p->tok.num;
        if (op == TQ_CMP_EQ) f->op = TQ_CMP_NUM_EQ;
        if (op == TQ_CMP_NEQ) f->op = TQ_CMP_NUM_NEQ;
    } else {
        expected(p, "a quoted string or a number");
        free(f);
        return NULL;
    }
    f->name = dup_tok(&name_tok);
    next(p);
    return f;
}

void tq_lf_free(tq_label_filter *f) {
    if (!f) return;
    tq_lf_free(f->left);
    tq_lf_free(f->right);
    free(f->name);
    free(f->str);
    tq_regex_free(&f->re);
    free(f);
}

static tq_label_filter *join(tq_lf_kind k, tq_label_filter *l, tq_label_filter *r) {
    tq_label_filter *f = xcalloc(1, sizeof *f);
    f->kind = k;
    f->left = l;
    f->right = r;
    return f;
}

static tq_label_filter *parse_lf_and(parser *p) {
    tq_label_filter *l = parse_lf_prim(p);
    while (l) {
        if (is_ident(p, "and") || p->tok.kind == TK_COMMA) {
            next(p);
        } else if (p->tok.kind == TK_LPAREN || (p->tok.kind == TK_IDENT && !is_ident(p, "or"))) {
            /* Juxtaposition also means "and", as in Loki. */
        } else {
            break;
        }
        tq_label_filter *r = parse_lf_prim(p);
        if (!r) { tq_lf_free(l); return NULL; }
        l = join(TQ_LF_AND, l, r);
    }
    return l;
}

static tq_label_filter *parse_lf_or(parser *p) {
    tq_label_filter *l = parse_lf_and(p);
    while (l && is_ident(p, "or")) {
        next(p);
        tq_label_filter *r = parse_lf_and(p);
        if (!r) { tq_lf_free(l); return NULL; }
        l = join(TQ_LF_OR, l, r);
    }
    return l;
}

/* ------------------------------------------------------------ line_format */

/* Splits "text {{.name}} more {{ .other }}" into parts. Only field
 * references are supported; anything else inside {{ }} is an error. */
static int parse_template(parser *p, tq_stage *st, const char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        const char *open = NULL;
        for (size_t j = i; j + 1 < n; j++)
            if (s[j] == '{' && s[j + 1] == '{') { open = s + j; break; }
        size_t lit_end = open ? (size_t)(open - s) : n;
        if (lit_end > i) {
            st->parts = xrealloc(st->parts, (st->nparts + 1) * sizeof *st->parts);
            tq_tmpl_part *pt = &st->parts[st->nparts++];
            pt->is_label = false;
            pt->is_line = false;
            pt->len = lit_end - i;
            pt->text = xcalloc(1, pt->len + 1);
            memcpy(pt->text, s + i, pt->len);
        }
        if (!open) break;
        size_t j = lit_end + 2;
        size_t close = 0;
        for (size_t k = j; k + 1 < n; k++)
            if (s[k] == '}' && s[k + 1] == '}') { close = k; break; }
        if (!close) {
            fail_at(p, &p->tok, "line_format template: '{{' without '}}'");
            return -1;
        }
        while (j < close && s[j] == ' ') j++;
        size_t e = close;
        while (e > j && s[e - 1] == ' ') e--;
        if (e - j == 8 && memcmp(s + j, "__line__", 8) == 0) {
            st->parts = xrealloc(st->parts, (st->nparts + 1) * sizeof *st->parts);
            tq_tmpl_part *pt = &st->parts[st->nparts++];
            memset(pt, 0, sizeof *pt);
            pt->is_line = true;
            pt->text = xcalloc(1, 1);
            i = close + 2;
            continue;
        }
        if (j >= e || s[j] != '.' || e - j < 2) {
            fail_at(p, &p->tok, "line_format template: only {{.label}} and {{__line__}} references are supported");
            return -1;
        }
        for (size_t k = j + 1; k < e; k++) {
            char c = s[k];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (k > j + 1 && c >= '0' && c <= '9'))) {
                fail_at(p, &p->tok, "line_format template: only {{.label}} and {{__line__}} references are supported");
                return -1;
            }
        }
        st->parts = xrealloc(st->parts, (st->nparts + 1) * sizeof *st->parts);
        tq_tmpl_part *pt = &st->parts[st->nparts++];
        pt->is_label = true;
        pt->is_line = false;
        pt->len = e - j - 1;
        pt->text = xcalloc(1, pt->len + 1);
        memcpy(pt->text, s + j + 1, pt->len);
        i = close + 2;
    }
    return 0;
}

/* ------------------------------------------------------------ stages */

static void free_stage(tq_stage *st) {
    for (size_t i = 0; i < st->nnames; i++) free(st->names[i]);
    free(st->names);
    free(st->text);
    tq_regex_free(&st->re);
    tq_lf_free(st->lf);
    for (size_t i = 0; i < st->nparts; i++) free(st->parts[i].text);
    free(st->parts);
}

static int parse_stage(parser *p, tq_stage *st) {
    memset(st, 0, sizeof *st);
    tq_tok_kind k = p->tok.kind;
    if (k == TK_PIPE_EQ || k == TK_NEQ || k == TK_PIPE_RE || k == TK_NRE) {
        st->kind = TQ_STAGE_LINE_FILTER;
        st->line_op = k == TK_PIPE_EQ ? TQ_LINE_CONTAINS : k == TK_NEQ ? TQ_LINE_NOT_CONTAINS
                      : k == TK_PIPE_RE ? TQ_LINE_RE : TQ_LINE_NRE;
        next(p);
        if (p->tok.kind != TK_STRING) {
            expected(p, "a quoted string after the line filter");
            return -1;
        }
        st->text = dup_value(&p->tok);
        st->text_len = p->tok.value_len;
        if (st->line_op == TQ_LINE_RE || st->line_op == TQ_LINE_NRE) {
            char rerr[200];
            if (tq_regex_compile(&st->re, st->text, 0, rerr, sizeof rerr) < 0) {
                fail_at(p, &p->tok, "%s", rerr);
                return -1;
            }
        }
        next(p);
        return 0;
    }
    /* k == TK_PIPE */
    next(p);
    if (is_ident(p, "json")) {
        st->kind = TQ_STAGE_JSON;
        next(p);
        if (p->tok.kind == TK_IDENT && !is_ident(p, "and") && !is_ident(p, "or")) {
            fail_at(p, &p->tok, "json with parameters is not supported; use `| json` and label filters");
            return -1;
        }
        return 0;
    }
    if (is_ident(p, "logfmt")) {
        st->kind = TQ_STAGE_LOGFMT;
        next(p);
        return 0;
    }
    if (is_ident(p, "line_format")) {
        st->kind = TQ_STAGE_LINE_FORMAT;
        next(p);
        if (p->tok.kind != TK_STRING) {
            expected(p, "a quoted template after line_format");
            return -1;
        }
        if (parse_template(p, st, p->tok.value, p->tok.value_len) < 0) return -1;
        next(p);
        return 0;
    }
    if (is_ident(p, "drop") || is_ident(p, "keep")) {
        st->kind = is_ident(p, "drop") ? TQ_STAGE_DROP : TQ_STAGE_KEEP;
        next(p);
        for (;;) {
            if (p->tok.kind != TK_IDENT || !valid_label_name(&p->tok)) {
                expected(p, "label name");
                return -1;
            }
            st->names = xrealloc(st->names, (st->nnames + 1) * sizeof *st->names);
            st->names[st->nnames++] = dup_tok(&p->tok);
            next(p);
            if (p->tok.kind == TK_EQ || p->tok.kind == TK_NEQ || p->tok.kind == TK_RE || p->tok.kind == TK_NRE) {
                fail_at(p, &p->tok, "drop/keep with label matchers is not supported: list label names");
                return -1;
            }
            if (!accept(p, TK_COMMA)) return 0;
        }
    }
    static const char *const unsupported[] = {"regexp", "pattern", "unpack", "label_format", "unwrap",
                                              "decolorize", "distinct"};
    for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++)
        if (is_ident(p, unsupported[i])) {
            fail_at(p, &p->tok, "'%s' is not supported by trail (supported: json, logfmt, line_format, drop, keep, "
                                "label filters)",
                    unsupported[i]);
            return -1;
        }
    st->kind = TQ_STAGE_LABEL_FILTER;
    st->lf = parse_lf_or(p);
    return st->lf ? 0 : -1;
}

static void parse_log(parser *p, tq_log_expr *le) {
    parse_selector(p, &le->sel);
    while (!p->failed) {
        tq_tok_kind k = p->tok.kind;
        if (k != TK_PIPE && k != TK_PIPE_EQ && k != TK_NEQ && k != TK_PIPE_RE && k != TK_NRE) break;
        tq_stage st;
        int rc = parse_stage(p, &st);
        le->stages = xrealloc(le->stages, (le->nstages + 1) * sizeof *le->stages);
        le->stages[le->nstages++] = st;
        if (rc < 0) break;
    }
}

/* ------------------------------------------------------------ metric */

static const char *const range_fns[] = {"count_over_time", "rate", "bytes_over_time", "bytes_rate"};
static const char *const vec_ops[] = {"sum", "avg", "min", "max", "count", "topk", "bottomk"};

const char *tq_range_fn_name(tq_range_fn fn) { return range_fns[fn]; }
const char *tq_vec_op_name(tq_vec_op op) { return vec_ops[op]; }

static void free_expr(tq_expr *e);

static void parse_grouping(parser *p, tq_expr *e) {
    e->grouped = true;
    e->without = is_ident(p, "without");
    next(p);
    if (!expect(p, TK_LPAREN, "'(' after by/without")) return;
    if (accept(p, TK_RPAREN)) return;
    for (;;) {
        if (p->tok.kind != TK_IDENT || !valid_label_name(&p->tok)) {
            expected(p, "label name");
            return;
        }
        e->group = xrealloc(e->group, (e->ngroup + 1) * sizeof *e->group);
        e->group[e->ngroup++] = dup_tok(&p->tok);
        next(p);
        if (accept(p, TK_COMMA)) continue;
        expect(p, TK_RPAREN, "',' or ')'");
        return;
    }
}

static tq_expr *parse_expr(parser *p);

static tq_expr *parse_metric_fn(parser *p) {
    tq_expr *e = xcalloc(1, sizeof *e);
    for (size_t i = 0; i < sizeof range_fns / sizeof range_fns[0]; i++)
        if (is_ident(p, range_fns[i])) {
            e->kind = TQ_EXPR_RANGE;
            e->fn = (tq_range_fn)i;
            next(p);
            if (!expect(p, TK_LPAREN, "'('")) return e;
            parse_log(p, &e->log);
            if (p->failed) return e;
            if (!expect(p, TK_LBRACKET, "'[' and a range like [5m] (or a pipeline stage)")) return e;
            if (p->tok.kind != TK_DURATION) {
                expected(p, "a duration like 5m");
                return e;
            }
            if (p->tok.num < 1e6) {
                fail_at(p, &p->tok, "range must be at least 1ms");
                return e;
            }
            if (p->tok.num > 3650 * 86400e9) {
                fail_at(p, &p->tok, "range must be at most 10 years");
                return e;
            }
            e->range_ns = (int64_t)p->tok.num;
            next(p);
            if (!expect(p, TK_RBRACKET, "']'")) return e;
            expect(p, TK_RPAREN, "')'");
            return e;
        }
    for (size_t i = 0; i < sizeof vec_ops / sizeof vec_ops[0]; i++)
        if (is_ident(p, vec_ops[i])) {
            e->kind = TQ_EXPR_VECTOR;
            e->op = (tq_vec_op)i;
            next(p);
            if (is_ident(p, "by") || is_ident(p, "without")) parse_grouping(p, e);
            if (p->failed || !expect(p, TK_LPAREN, "'('")) return e;
            if (e->op == TQ_TOPK || e->op == TQ_BOTTOMK) {
                if (p->tok.kind != TK_NUMBER || !(p->tok.num >= 1 && p->tok.num <= 1e6) ||
                    p->tok.num != (double)(long)p->tok.num) {
                    expected(p, "a positive integer k");
                    return e;
                }
                e->k = (long)p->tok.num;
                next(p);
                if (!expect(p, TK_COMMA, "','")) return e;
            }
            e->inner = parse_expr(p);
            if (p->failed) return e;
            if (e->inner->kind == TQ_EXPR_NUMBER) {
                fail_at(p, &p->tok, "%s needs a vector, not a number (use vector(n))", vec_ops[i]);
                return e;
            }
            if (e->inner->kind == TQ_EXPR_LOG) {
                fail_at(p, &p->tok, "%s needs a metric expression such as count_over_time(...[5m]), not a log query",
                        vec_ops[i]);
                return e;
            }
            if (!expect(p, TK_RPAREN, "')'")) return e;
            if (is_ident(p, "by") || is_ident(p, "without")) {
                if (e->grouped) {
                    fail_at(p, &p->tok, "grouping given twice");
                    return e;
                }
                parse_grouping(p, e);
            }
            return e;
        }
    char d[64];
    tq_tok_describe(&p->tok, d, sizeof d);
    fail_at(p, &p->tok, "unknown function %s (supported: count_over_time, rate, bytes_over_time, bytes_rate, "
                        "sum, avg, min, max, count, topk, bottomk)", d);
    return e;
}

static tq_expr *parse_binary(parser *p, int minprec);

static tq_expr *number_expr(double v) {
    tq_expr *e = xcalloc(1, sizeof *e);
    e->kind = TQ_EXPR_NUMBER;
    e->num = v;
    return e;
}

static tq_expr *parse_unary(parser *p) {
    tq_expr *e;
    if (p->tok.kind == TK_NUMBER) {
        e = number_expr(p->tok.num);
        next(p);
    } else if (p->tok.kind == TK_MINUS) {
        next(p);
        if (++p->binops > 256 || p->depth > MAX_DEPTH) {
            fail_at(p, &p->tok, "too many binary operators (at most 256)");
            return xcalloc(1, sizeof(tq_expr));
        }
        p->depth++;
        tq_expr *x = parse_unary(p);
        p->depth--;
        if (x->kind == TQ_EXPR_NUMBER) {
            x->num = -x->num;
            return x;
        }
        e = xcalloc(1, sizeof *e);
        e->kind = TQ_EXPR_BINARY;
        e->bop = TQ_MUL;
        e->lhs = x;
        e->rhs = number_expr(-1);
    } else if (is_ident(p, "vector")) {
        e = xcalloc(1, sizeof *e);
        e->kind = TQ_EXPR_VECFN;
        next(p);
        if (!expect(p, TK_LPAREN, "'(' after vector")) return e;
        double sign = 1;
        if (accept(p, TK_MINUS)) sign = -1;
        if (p->tok.kind != TK_NUMBER) {
            expected(p, "a number");
            return e;
        }
        e->num = sign * p->tok.num;
        next(p);
        expect(p, TK_RPAREN, "')'");
    } else if (p->tok.kind == TK_IDENT) {
        e = parse_metric_fn(p);
    } else if (p->tok.kind == TK_LPAREN) {
        next(p);
        e = parse_binary(p, 1);
        if (!p->failed) expect(p, TK_RPAREN, "')'");
    } else {
        e = xcalloc(1, sizeof *e);
        e->kind = TQ_EXPR_LOG;
        if (p->tok.kind != TK_LBRACE) expected(p, "'{' or a function such as count_over_time");
        else parse_log(p, &e->log);
    }
    return e;
}

static int binop_prec(tq_tok_kind k) {
    switch (k) {
    case TK_PLUS: case TK_MINUS: return 1;
    case TK_STAR: case TK_SLASH: case TK_PERCENT: return 2;
    default: return 0;
    }
}

/* Precedence climbing: * / % bind tighter than + -, all left-associative. */
static tq_expr *parse_binary(parser *p, int minprec) {
    if (p->depth++ > MAX_DEPTH) {
        fail_at(p, &p->tok, "query nested too deeply");
        return xcalloc(1, sizeof(tq_expr));
    }
    tq_expr *lhs = parse_unary(p);
    int prec;
    while (!p->failed && (prec = binop_prec(p->tok.kind)) >= minprec) {
        tq_token op_tok = p->tok;
        if (++p->binops > 256) {
            fail_at(p, &op_tok, "too many binary operators (at most 256)");
            break;
        }
        tq_bin_op op = op_tok.kind == TK_PLUS ? TQ_ADD : op_tok.kind == TK_MINUS ? TQ_SUB : op_tok.kind == TK_STAR ? TQ_MUL
                       : op_tok.kind == TK_SLASH ? TQ_DIV : TQ_MOD;
        next(p);
        tq_expr *rhs = parse_binary(p, prec + 1);
        tq_expr *b = xcalloc(1, sizeof *b);
        b->kind = TQ_EXPR_BINARY;
        b->bop = op;
        b->lhs = lhs;
        b->rhs = rhs;
        lhs = b;
        if (!p->failed && (b->lhs->kind == TQ_EXPR_LOG || b->rhs->kind == TQ_EXPR_LOG)) {
            char d[16];
            tq_tok_describe(&op_tok, d, sizeof d);
            fail_at(p, &op_tok, "%s needs metric expressions or numbers on both sides, not a log query", d);
        }
    }
    p->depth--;
    return lhs;
}

static tq_expr *parse_expr(parser *p) { return parse_binary(p, 1); }

static void free_log(tq_log_expr *le) {
    for (size_t i = 0; i < le->sel.n; i++) {
        free(le->sel.m[i].name);
        free(le->sel.m[i].value);
        tq_regex_free(&le->sel.m[i].re);
    }
    free(le->sel.m);
    for (size_t i = 0; i < le->nstages; i++) free_stage(&le->stages[i]);
    free(le->stages);
}

static void free_expr(tq_expr *e) {
    if (!e) return;
    free_log(&e->log);
    for (size_t i = 0; i < e->ngroup; i++) free(e->group[i]);
    free(e->group);
    free_expr(e->inner);
    free_expr(e->lhs);
    free_expr(e->rhs);
    free(e);
}

void tq_query_free(tq_query *q) {
    if (!q) return;
    free_expr(q->root);
    free(q);
}

int tq_parse(const char *text, tq_query **out, char *err, size_t errlen) {
    char dummy[1];
    if (!err || !errlen) { err = dummy; errlen = sizeof dummy; }
    err[0] = 0;
    *out = NULL;
    if (!text) {
        snprintf(err, errlen, "parse error: empty query");
        return -EINVAL;
    }
    parser p;
    memset(&p, 0, sizeof p);
    p.err = err;
    p.errlen = errlen;
    tq_lex_init(&p.lx, text);
    next(&p);
    if (p.tok.kind == TK_EOF) {
        fail_at(&p, &p.tok, "empty query");
        tq_lex_free(&p.lx);
        return -EINVAL;
    }
    tq_expr *root = parse_expr(&p);
    if (!p.failed && p.tok.kind != TK_EOF) expected(&p, "end of query");
    tq_lex_free(&p.lx);
    if (p.failed) {
        free_expr(root);
        return -EINVAL;
    }
    tq_query *q = xcalloc(1, sizeof *q);
    q->root = root;
    *out = q;
    return 0;
}

const tq_log_expr *tq_query_log_expr(const tq_query *q) {
    const tq_expr *e = q->root;
    while (e->kind == TQ_EXPR_VECTOR || e->kind == TQ_EXPR_BINARY) e = e->kind == TQ_EXPR_VECTOR ? e->inner : e->lhs;
    return &e->log; /* empty for numbers and vector() */
}

bool tq_query_is_metric(const tq_query *q) { return q->root->kind != TQ_EXPR_LOG; }
