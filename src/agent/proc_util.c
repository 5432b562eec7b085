/* proc_util.c — see proc_util.h. */
#include "proc_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool ta_rec_value(const ta_record *r, const char *name, const char **s, size_t *n) {
    if (!strcmp(name, "message")) {
        *s = r->message ? r->message : r->line;
        *n = r->message ? strlen(r->message) : r->line_len;
        return true;
    }
    if (!strcmp(name, "level")) {
        if (!r->level) return false;
        *s = r->level;
        *n = strlen(r->level);
        return true;
    }
    if (!strcmp(name, "category")) {
        if (!r->input || !r->input->category) return false;
        *s = r->input->category;
        *n = strlen(*s);
        return true;
    }
    const ta_field *f = ta_record_get(r, name);
    if (!f) return false;
    *s = f->val;
    *n = f->val_len;
    return true;
}

int ta_level_severity(const char *name) {
    static const struct { const char *n; int s; } m[] = {
        {"trace", TA_SEV_TRACE}, {"debug", TA_SEV_DEBUG}, {"info", TA_SEV_INFO}, {"warning", TA_SEV_WARN},
        {"warn", TA_SEV_WARN}, {"error", TA_SEV_ERROR}, {"critical", TA_SEV_FATAL}, {"fatal", TA_SEV_FATAL},
    };
    for (size_t i = 0; i < sizeof m / sizeof *m; i++)
        if (!strcmp(m[i].n, name)) return m[i].s;
    return -1;
}

/* glibc expands counted repetitions into copies: "(a{1000}){1000}" takes
 * gigabytes. Keep patterns to what log filters need. */
static bool too_costly(const char *p) {
    int braces = 0;
    for (const char *s = p; *s; s++) {
        if (*s == '\\' && s[1]) {
            s++;
            continue;
        }
        if (*s == '{') {
            braces++;
            if (atoi(s + 1) > 100) return true;
            const char *comma = strchr(s, ',');
            const char *close = strchr(s, '}');
            if (comma && close && comma < close && atoi(comma + 1) > 100) return true;
        }
    }
    return braces > 2 || strlen(p) > 1024;
}

int ta_regex_compile(regex_t *re, const char *pattern, const char *what, char *err, size_t errlen) {
    if (too_costly(pattern)) {
        snprintf(err, errlen, "%s: regular expression too costly (over 1024 characters, more than 2 {n} "
                              "repetitions, or a count above 100): '%.60s'", what, pattern);
        return -EINVAL;
    }
    int r = regcomp(re, pattern, REG_EXTENDED | REG_NOSUB);
    if (r) {
        char m[128];
        regerror(r, re, m, sizeof m);
        snprintf(err, errlen, "%s: bad regular expression '%s': %s", what, pattern, m);
        return -EINVAL;
    }
    return 0;
}

bool ta_regex_match(const regex_t *re, const char *s, size_t n) {
    regmatch_t m = {.rm_so = 0, .rm_eo = (regoff_t)n};
    return regexec(re, s, 1, &m, REG_STARTEND) == 0;
}
