/* logql_lex.h — LogQL tokens. The lexer keeps each token's line and column
 * so parse errors can point at the exact spot. */
#ifndef TRAIL_LOGQL_LEX_H
#define TRAIL_LOGQL_LEX_H

#include <stddef.h>

typedef enum tq_tok_kind {
    TK_EOF = 0,
    TK_ERROR,     /* a lexing error; text holds the message */
    TK_IDENT,     /* label names, keywords, function names */
    TK_STRING,    /* "..." or `...`; value holds the unescaped text */
    TK_NUMBER,    /* 500, 1.5, -3 */
    TK_DURATION,  /* 5m, 1h30m, 250ms */
    TK_BYTES,     /* 10KB, 1MiB */
    TK_LBRACE, TK_RBRACE, TK_LPAREN, TK_RPAREN, TK_LBRACKET, TK_RBRACKET, TK_COMMA,
    TK_PIPE,      /* |  */
    TK_PIPE_EQ,   /* |= */
    TK_PIPE_RE,   /* |~ */
    TK_EQ,        /* =  */
    TK_EQEQ,      /* == */
    TK_NEQ,       /* != */
    TK_RE,        /* =~ */
    TK_NRE,       /* !~ */
    TK_GT, TK_GE, TK_LT, TK_LE,
    TK_PLUS, TK_MINUS, TK_STAR, TK_SLASH, TK_PERCENT  /* binary arithmetic */
} tq_tok_kind;

typedef struct tq_token {
    tq_tok_kind kind;
    const char *start; /* in the query text */
    size_t len;
    int line, col;     /* 1-based */
    char *value;       /* TK_STRING: unescaped (malloc'd, owned by the lexer) */
    size_t value_len;
    double num;        /* TK_NUMBER; TK_DURATION in ns; TK_BYTES in bytes */
    const char *error; /* TK_ERROR: what is wrong */
} tq_token;

typedef struct tq_lexer {
    const char *src, *p;
    int line;
    const char *line_start;
    char *owned;       /* the last string value (freed on the next string) */
} tq_lexer;

void tq_lex_init(tq_lexer *lx, const char *src);
/* The next token. String values stay valid until the next TK_STRING token;
 * the parser copies what it keeps. */
tq_token tq_lex_next(tq_lexer *lx);
void tq_lex_free(tq_lexer *lx);

/* Parses a Prometheus/Loki duration ("1h30m", "250ms", "2d") into ns.
 * Returns 0 on success, -1 when the text is not a duration. */
int tq_parse_duration(const char *s, size_t n, double *ns);

/* A short description of a token for error messages ("'}'", "end of query"). */
void tq_tok_describe(const tq_token *t, char *buf, size_t len);

#endif
