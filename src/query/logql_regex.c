/* logql_regex.c — LogQL regexes on POSIX ERE (regcomp).
 *
 * Loki uses RE2. POSIX ERE covers most of what log queries use; the common
 * RE2 spellings that ERE lacks are translated: \d \D \w \W \s \S, (?: ...)
 * groups, a leading (?i) flag, and lazy quantifiers (*? +? ??, treated as
 * greedy, which only matters for capture positions and we never capture).
 * Label matchers are anchored like Loki (full match); line filters search.
 * Why not PCRE2: only the runtime library is installed on target machines,
 * not libpcre2-dev, and the project adds no dependency it cannot build.
 */
#include "logql_regex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int grow(char **b, size_t *cap, size_t need) {
    if (need <= *cap) return 0;
    size_t nc = *cap * 2 > need ? *cap * 2 : need;
    char *nb = realloc(*b, nc);
    if (!nb) return -1;
    *b = nb;
    *cap = nc;
    return 0;
}

/* Translates src into ERE text (malloc'd). Sets *icase for a leading (?i).
 * Rejects what RE2 rejects and what makes glibc's regcomp explode in memory:
 * a quantifier on a quantifier (`a**`, `a+*`) and counted repetitions over
 * 1000 in total (glibc copies the sub-expression once per count). */
static char *translate(const char *src, int anchored, int *icase, const char **why) {
    size_t n = strlen(src), cap = n * 4 + 16, o = 0;
    char *b = malloc(cap);
    if (!b) return NULL;
    *icase = 0;
    if (strncmp(src, "(?i)", 4) == 0) {
        *icase = 1;
        src += 4;
    }
    if (anchored) {
        b[o++] = '^';
        b[o++] = '(';
    }
    int in_class = 0, last_quant = 0;
    long counted = 0;
    *why = NULL;
    if (n > 4096) { *why = "regex longer than 4096 bytes"; free(b); return NULL; }
    for (const char *p = src; *p; p++) {
        if (grow(&b, &cap, o + 32) < 0) { free(b); return NULL; }
        if (!in_class && (*p == '*' || *p == '+' || *p == '?' || *p == '{')) {
            if (*p == '{') {
                char *e;
                long lo = strtol(p + 1, &e, 10), hi = lo;
                if (e != p + 1 && *e == ',') hi = e[1] == '}' ? lo : strtol(e + 1, &e, 10);
                if (lo > 1000 || hi > 1000) { *why = "bad repetition count (max 1000)"; free(b); return NULL; }
                counted += hi > lo ? hi : lo;
                if (counted > 1000) { *why = "too many counted repetitions (max 1000 in total)"; free(b); return NULL; }
            }
            if (last_quant && !(*p == '?' && last_quant == 1)) {
                *why = "bad repetition operator (a quantifier on a quantifier)";
                free(b);
                return NULL;
            }
            last_quant = last_quant ? 2 : 1;
            if (*p == '{') {
                const char *close = strchr(p, '}');
                if (close) {
                    size_t l = (size_t)(close - p) + 1;
                    if (grow(&b, &cap, o + l + 32) < 0) { free(b); return NULL; }
                    memcpy(b + o, p, l);
                    o += l;
                    p = close;
                    if (p[1] == '?') p++; /* lazy: same as greedy for matching */
                    continue;
                }
            }
        } else {
            last_quant = 0;
        }
        if (*p == '\\' && p[1]) {
            const char *rep = NULL;
            switch (p[1]) {
            case 'd': rep = in_class ? "0-9" : "[0-9]"; break;
            case 'D': rep = in_class ? NULL : "[^0-9]"; break;
            case 'w': rep = in_class ? "A-Za-z0-9_" : "[A-Za-z0-9_]"; break;
            case 'W': rep = in_class ? NULL : "[^A-Za-z0-9_]"; break;
            case 's': rep = in_class ? "[:space:]" : "[[:space:]]"; break;
            case 'S': rep = in_class ? NULL : "[^[:space:]]"; break;
            default: break;
            }
            if (rep) {
                size_t l = strlen(rep);
                memcpy(b + o, rep, l);
                o += l;
            } else if (in_class && p[1] != ']' && p[1] != '\\') {
                /* Inside a POSIX bracket a backslash is literal: drop it. */
                b[o++] = p[1];
            } else if (in_class) {
                b[o++] = p[1] == '\\' ? '\\' : ']';
            } else {
                b[o++] = '\\';
                b[o++] = p[1];
            }
            p++;
            continue;
        }
        if (in_class) {
            if (*p == ']') in_class = 0;
            b[o++] = *p;
            continue;
        }
        if (*p == '[') {
            in_class = 1;
            b[o++] = '[';
            if (p[1] == '^') b[o++] = *++p;
            if (p[1] == ']') b[o++] = *++p;
            continue;
        }
        if (*p == '(' && p[1] == '?' && p[2] == ':') {
            b[o++] = '(';
            p += 2;
            continue;
        }
        if ((*p == '*' || *p == '+' || *p == '?') && p[1] == '?') {
            b[o++] = *p++; /* lazy: same as greedy for matching */
            last_quant = 2;
            continue;
        }
        b[o++] = *p;
    }
    if (anchored) {
        b[o++] = ')';
        b[o++] = '$';
    }
    b[o] = 0;
    return b;
}

int tq_regex_compile(tq_regex *r, const char *src, int anchored, char *err, size_t errlen) {
    int icase = 0;
    const char *why = NULL;
    char *ere = translate(src, anchored, &icase, &why);
    if (!ere) {
        snprintf(err, errlen, "invalid regex \"%.60s\": %s", src, why ? why : "out of memory");
        return -1;
    }
    int rc = regcomp(&r->re, ere, REG_EXTENDED | REG_NOSUB | (icase ? REG_ICASE : 0));
    free(ere);
    if (rc != 0) {
        char msg[128];
        regerror(rc, &r->re, msg, sizeof msg);
        snprintf(err, errlen, "invalid regex \"%.60s\": %s", src, msg);
        return -1;
    }
    r->compiled = true;
    return 0;
}

/* regexec needs a NUL-terminated subject: copy on the stack when short. */
bool tq_regex_match(const tq_regex *r, const char *s, size_t n) {
    char stack[512];
    char *buf = n < sizeof stack ? stack : malloc(n + 1);
    if (!buf) return false;
    memcpy(buf, s, n);
    buf[n] = 0;
    bool m = regexec(&r->re, buf, 0, NULL, 0) == 0;
    if (buf != stack) free(buf);
    return m;
}

void tq_regex_free(tq_regex *r) {
    if (r->compiled) regfree(&r->re);
    r->compiled = false;
}
