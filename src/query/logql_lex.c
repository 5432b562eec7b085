/* logql_lex.c — splits a LogQL query into tokens with line/column positions.
 * Strings follow Loki: "..." with Go escapes, or `...` raw. */
#include "logql_lex.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tq_lex_init(tq_lexer *lx, const char *src) {
    memset(lx, 0, sizeof *lx);
    lx->src = lx->p = lx->line_start = src;
    lx->line = 1;
}

void tq_lex_free(tq_lexer *lx) {
    free(lx->owned);
    lx->owned = NULL;
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static size_t put_utf8(char *o, unsigned cp) {
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xC0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F)); return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F)); return 4;
}

/* Units Prometheus durations accept, longest first so "ms" wins over "m". */
static const struct { const char *u; double ns; } units[] = {
    {"ms", 1e6}, {"us", 1e3}, {"µs", 1e3}, {"ns", 1},
    {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}, {"d", 86400e9}, {"w", 604800e9}, {"y", 31536000e9},
};

int tq_parse_duration(const char *s, size_t n, double *ns) {
    const char *e = s + n;
    double total = 0;
    if (n == 0) return -1;
    while (s < e) {
        if (!isdigit((unsigned char)*s)) return -1;
        double v = 0, scale = 0;
        while (s < e && (isdigit((unsigned char)*s) || *s == '.')) {
            if (*s == '.') {
                if (scale) return -1;
                scale = 1;
            } else {
                v = v * 10 + (*s - '0');
                if (scale) scale *= 10;
            }
            s++;
        }
        if (scale) v /= scale;
        size_t i, ul = 0;
        for (i = 0; i < sizeof units / sizeof units[0]; i++) {
            ul = strlen(units[i].u);
            if ((size_t)(e - s) >= ul && memcmp(s, units[i].u, ul) == 0) break;
        }
        if (i == sizeof units / sizeof units[0]) return -1;
        total += v * units[i].ns;
        s += ul;
    }
    *ns = total;
    return 0;
}

/* 10KB, 1.5MiB, 20B: Loki's humanized byte sizes. */
static int parse_bytes(const char *s, size_t n, double *out) {
    static const struct { const char *u; double m; } bu[] = {
        {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"TiB", 1099511627776.0},
        {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"kB", 1e3}, {"B", 1},
    };
    size_t i = 0;
    double v = 0, scale = 0;
    while (i < n && (isdigit((unsigned char)s[i]) || s[i] == '.')) {
        if (s[i] == '.') {
            if (scale) return -1;
            scale = 1;
        } else {
            v = v * 10 + (s[i] - '0');
            if (scale) scale *= 10;
        }
        i++;
    }
    if (i == 0) return -1;
    if (scale) v /= scale;
    for (size_t k = 0; k < sizeof bu / sizeof bu[0]; k++)
        if (n - i == strlen(bu[k].u) && memcmp(s + i, bu[k].u, n - i) == 0) {
            *out = v * bu[k].m;
            return 0;
        }
    return -1;
}

static tq_token make(tq_lexer *lx, tq_tok_kind k, const char *start, size_t len) {
    tq_token t;
    memset(&t, 0, sizeof t);
    t.kind = k;
    t.start = start;
    t.len = len;
    t.line = lx->line;
    t.col = (int)(start - lx->line_start) + 1;
    lx->p = start + len;
    return t;
}

static tq_token lex_error(tq_lexer *lx, const char *at, const char *msg) {
    tq_token t = make(lx, TK_ERROR, at, 1);
    t.error = msg;
    lx->p = at; /* stay: the parser stops at the first error anyway */
    return t;
}

static tq_token lex_string(tq_lexer *lx, const char *s) {
    char q = *s;
    const char *p = s + 1;
    size_t cap = 16, n = 0;
    char *out = malloc(cap);
    if (!out) return lex_error(lx, s, "out of memory");
    for (;;) {
        if (!*p) {
            free(out);
            return lex_error(lx, s, "unterminated string");
        }
        if (*p == q) break;
        if (n + 8 >= cap) {
            char *np = realloc(out, cap *= 2);
            if (!np) { free(out); return lex_error(lx, s, "out of memory"); }
            out = np;
        }
        if (q == '`' || *p != '\\') {
            if (*p == '\n' && q != '`') { free(out); return lex_error(lx, s, "unterminated string"); }
            out[n++] = *p++;
            continue;
        }
        const char *esc = p;
        p++;
        switch (*p) {
        case 'n': out[n++] = '\n'; p++; break;
        case 't': out[n++] = '\t'; p++; break;
        case 'r': out[n++] = '\r'; p++; break;
        case 'a': out[n++] = '\a'; p++; break;
        case 'b': out[n++] = '\b'; p++; break;
        case 'f': out[n++] = '\f'; p++; break;
        case 'v': out[n++] = '\v'; p++; break;
        case '\\': out[n++] = '\\'; p++; break;
        case '"': out[n++] = '"'; p++; break;
        case '\'': out[n++] = '\''; p++; break;
        case 'x': {
            int a = hexval(p[1]), b = a < 0 ? -1 : hexval(p[2]);
            if (a < 0 || b < 0) { free(out); return lex_error(lx, esc, "invalid \\x escape in string"); }
            out[n++] = (char)(a * 16 + b);
            p += 3;
            break;
        }
        case 'u': case 'U': {
            int digits = *p == 'u' ? 4 : 8;
            unsigned cp = 0;
            for (int i = 1; i <= digits; i++) {
                int h = hexval(p[i]);
                if (h < 0) { free(out); return lex_error(lx, esc, "invalid unicode escape in string"); }
                cp = cp * 16 + (unsigned)h;
            }
            if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
                free(out);
                return lex_error(lx, esc, "invalid unicode escape in string");
            }
            n += put_utf8(out + n, cp);
            p += digits + 1;
            break;
        }
        default:
            /* Go rejects unknown escapes; Loki users write "\." in regexes
             * inside "..." by doubling the backslash, so be equally strict. */
            free(out);
            return lex_error(lx, esc, "unknown escape sequence in string (use \\\\ or a `raw` string)");
        }
    }
    out[n] = 0;
    tq_token t = make(lx, TK_STRING, s, (size_t)(p + 1 - s));
    free(lx->owned);
    lx->owned = out;
    t.value = out;
    t.value_len = n;
    return t;
}

tq_token tq_lex_next(tq_lexer *lx) {
    const char *p = lx->p;
    for (;;) {
        if (*p == '\n') {
            lx->line++;
            lx->line_start = p + 1;
            p++;
        } else if (*p == ' ' || *p == '\t' || *p == '\r') {
            p++;
        } else if (*p == '#') { /* comment to end of line, as Loki allows */
            while (*p && *p != '\n') p++;
        } else {
            break;
        }
    }
    lx->p = p;
    char c = *p;
    if (!c) return make(lx, TK_EOF, p, 0);
    switch (c) {
    case '{': return make(lx, TK_LBRACE, p, 1);
    case '}': return make(lx, TK_RBRACE, p, 1);
    case '(': return make(lx, TK_LPAREN, p, 1);
    case ')': return make(lx, TK_RPAREN, p, 1);
    case '[': return make(lx, TK_LBRACKET, p, 1);
    case ']': return make(lx, TK_RBRACKET, p, 1);
    case ',': return make(lx, TK_COMMA, p, 1);
    case '|':
        if (p[1] == '=') return make(lx, TK_PIPE_EQ, p, 2);
        if (p[1] == '~') return make(lx, TK_PIPE_RE, p, 2);
        return make(lx, TK_PIPE, p, 1);
    case '=':
        if (p[1] == '~') return make(lx, TK_RE, p, 2);
        if (p[1] == '=') return make(lx, TK_EQEQ, p, 2);
        return make(lx, TK_EQ, p, 1);
    case '!':
        if (p[1] == '=') return make(lx, TK_NEQ, p, 2);
        if (p[1] == '~') return make(lx, TK_NRE, p, 2);
        return lex_error(lx, p, "unexpected '!', expected != or !~");
    case '>':
        if (p[1] == '=') return make(lx, TK_GE, p, 2);
        return make(lx, TK_GT, p, 1);
    case '<':
        if (p[1] == '=') return make(lx, TK_LE, p, 2);
        return make(lx, TK_LT, p, 1);
    case '+': return make(lx, TK_PLUS, p, 1);
    case '-': return make(lx, TK_MINUS, p, 1); /* negative numbers are unary minus */
    case '*': return make(lx, TK_STAR, p, 1);
    case '/': return make(lx, TK_SLASH, p, 1);
    case '%': return make(lx, TK_PERCENT, p, 1);
    case '"': case '`': return lex_string(lx, p);
    default: break;
    }
    if (isalpha((unsigned char)c) || c == '_') {
        const char *e = p;
        while (isalnum((unsigned char)*e) || *e == '_' || *e == ':') e++;
        return make(lx, TK_IDENT, p, (size_t)(e - p));
    }
    if (isdigit((unsigned char)c) || (c == '.' && isdigit((unsigned char)p[1]))) {
        const char *e = p;
        while (isalnum((unsigned char)*e) || *e == '.' || (((*e == '+' || *e == '-') && (e[-1] == 'e' || e[-1] == 'E'))))
            e++;
        /* "µs" is two bytes; include it in a duration. */
        while ((unsigned char)*e >= 0x80) e++;
        size_t n = (size_t)(e - p);
        char buf[64];
        if (n >= sizeof buf) return lex_error(lx, p, "number too long");
        memcpy(buf, p, n);
        buf[n] = 0;
        char *end;
        double v = strtod(buf, &end);
        if (*end == 0 && end != buf) {
            tq_token t = make(lx, TK_NUMBER, p, n);
            t.num = v;
            return t;
        }
        if (tq_parse_duration(p, n, &v) == 0) {
            tq_token t = make(lx, TK_DURATION, p, n);
            t.num = v;
            return t;
        }
        if (parse_bytes(p, n, &v) == 0) {
            tq_token t = make(lx, TK_BYTES, p, n);
            t.num = v;
            return t;
        }
        return lex_error(lx, p, "invalid number, duration or byte size");
    }
    if ((unsigned char)c < 0x20 || c == 0x7f) return lex_error(lx, p, "unexpected control character");
    return lex_error(lx, p, "unexpected character");
}

void tq_tok_describe(const tq_token *t, char *buf, size_t len) {
    if (t->kind == TK_EOF) {
        snprintf(buf, len, "end of query");
        return;
    }
    size_t n = t->len > 40 ? 40 : t->len;
    /* Keep the description printable: the query may contain anything. */
    char tmp[48];
    size_t j = 0;
    for (size_t i = 0; i < n && j < sizeof tmp - 1; i++) {
        unsigned char ch = (unsigned char)t->start[i];
        tmp[j++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
    }
    tmp[j] = 0;
    snprintf(buf, len, "'%s%s'", tmp, t->len > 40 ? "..." : "");
}
